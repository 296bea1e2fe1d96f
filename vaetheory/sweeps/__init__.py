"""Sweeps: a grid of training runs described in YAML, run locally or on Ray, resumable, one table.

* :mod:`~vaetheory.sweeps.spec`: the SPEC file (``base``, ``grid``, ``zip``, ``exclude``, optionally
  ``experiment``), validated and expanded into named runs before anything runs.
* :mod:`~vaetheory.sweeps.execute`: one group of runs of one architecture trained stacked
  (``train_sweep``) or one at a time (``train``, with per-run checkpoints), each in its run directory.
* :mod:`~vaetheory.sweeps.engine`: the driver (locked sweep directory, skip finished runs, progress
  with the time left on stderr, ``results.jsonl`` and ``results.csv``) and the ``local`` engine.
* :mod:`~vaetheory.sweeps.ray_engine`: the ``ray`` engine (``import ray`` only when used).
* :mod:`~vaetheory.sweeps.figures`: an experiment SPEC's figures (``experiment: NAME``), each point's
  and the mean over seeds, drawn from ``results.jsonl`` alone.

Importing this package imports neither torch nor ray; they are imported when a sweep runs.
"""

from __future__ import annotations

from vaetheory.sweeps.engine import (
    RESULTS_CSV,
    RESULTS_JSONL,
    SweepOutcome,
    collect_rows,
    plan_groups,
    run_sweep,
    write_results,
)
from vaetheory.sweeps.execute import RUN_RECORD, execute_group
from vaetheory.sweeps.spec import OPTIONS, RunSpec, SweepSpec, load_spec, parse_spec

__all__ = [
    "OPTIONS",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "RUN_RECORD",
    "RunSpec",
    "SweepOutcome",
    "SweepSpec",
    "collect_rows",
    "execute_group",
    "load_spec",
    "parse_spec",
    "plan_groups",
    "run_sweep",
    "write_results",
]
