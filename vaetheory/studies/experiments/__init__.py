"""Experiments of issue 15: training runs that show the blow-up and the floors, against the theory.

``EXPERIMENTS`` maps each name to its module; every module defines ``NAME``, ``Settings`` with
``DEFAULT``, ``QUICK`` and ``TINY`` (the tests' sizes) and
``run(out_dir, *, settings=None, quick=False, seed=0, resume=False, overwrite=False, progress=True,
data=..., device="cpu")``, which trains, evaluates, writes ``DIR/results.json``, ``DIR/runs/<name>.json`` and
``DIR/summary.md`` and returns the results (with ``details`` and ``verdicts``). Figures are drawn
by :mod:`vaetheory.figures.experiments` (the library draws nothing). The command line is
``vaetheory experiment NAME --out DIR``.

Built: ``unbounded-training`` and ``floors``. Not yet built (issue 15): ``mechanisms``,
``gamma-to-zero``, ``collapse``, ``sigma-vae``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: experiment name -> module (under vaetheory.studies.experiments)
EXPERIMENTS: dict[str, str] = {
    "unbounded-training": "unbounded_training",
    "floors": "floors",
}

DESCRIPTIONS: dict[str, str] = {
    "unbounded-training": (
        "learned variance (several Adam rates) vs floors on a small dequantised digits set, raw digits for "
        "contrast: whole-set training and held-out log-likelihood at log-spaced steps"
    ),
    "floors": (
        "clamp, softclip, softplus and gaussian_nll floors over a log grid of xi: held-out log-likelihood, "
        "largest training log p(x) against the bound, smallest unfloored variance"
    ),
}


def get_experiment(name: str) -> ModuleType:
    """The module of experiment ``name`` (a ``ValueError`` naming the experiments otherwise)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; experiments are: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"vaetheory.studies.experiments.{EXPERIMENTS[name]}")


def run_experiment(name: str, out_dir, **kwargs):
    """Run experiment ``name`` into ``out_dir`` (keyword arguments of the module's ``run``)."""
    return get_experiment(name).run(out_dir, **kwargs)


__all__ = ["DESCRIPTIONS", "EXPERIMENTS", "get_experiment", "run_experiment"]
