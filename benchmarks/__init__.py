"""What vaetheory costs, measured against the route a user would take without it, in the same run.

Each benchmark module defines ``run(smoke: bool) -> list[Row]``; every row is one vaetheory route
against a baseline measured in the same process in the same run, reported as the median of
interleaved repeats and as a ratio (see :mod:`benchmarks._harness`). ``python -m benchmarks`` runs
them all; ``--smoke`` runs each at a tiny size to check that it executes.

Benchmarks are not tests: the test suite runs only the smoke mode, and never checks a timing.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
import traceback
from typing import Any

from vaetheory.results import Result

#: benchmark name -> module under ``benchmarks`` (run in this order)
BENCHMARKS: dict[str, str] = {
    "symbolic": "benchmarks.bench_symbolic",
    "ppca": "benchmarks.bench_ppca",
    "linear_vae": "benchmarks.bench_linear_vae",
    "training": "benchmarks.bench_training",
    "iwae": "benchmarks.bench_iwae",
    "sweep": "benchmarks.bench_sweep",
    "sweeps": "benchmarks.bench_sweeps",
    "device": "benchmarks.bench_device",
    "quadrature": "benchmarks.bench_quadrature",
}


@dataclasses.dataclass(frozen=True)
class BenchmarkResults(Result):
    """A whole run: the mode, the machine, the rows, and any benchmark that raised (with its error)."""

    mode: str
    machine: dict[str, Any]
    rows: tuple[dict[str, Any], ...]
    errors: tuple[dict[str, str], ...]
    provenance: dict[str, Any]


def run_all(*, smoke: bool, only: list[str] | None = None, threads: int | None = None) -> BenchmarkResults:
    """Run the benchmarks named in ``only`` (default: all) and collect their rows.

    A benchmark that raises is recorded in ``errors`` with its traceback and the others still run.
    ``threads`` sets ``torch.set_num_threads`` for the run (smoke mode defaults to 1).
    """
    import torch

    from benchmarks._harness import load_average, log, machine
    from vaetheory.provenance import provenance

    torch.set_flush_denormal(True)
    if threads is None and smoke:  # a smoke run checks that code runs; one thread avoids OpenMP stalls
        threads = 1
    if threads is not None:
        torch.set_num_threads(threads)
    info = machine()
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for name, module_name in BENCHMARKS.items():
        if only is not None and name not in only:
            continue
        log(f"{name}: running ({'smoke' if smoke else 'full'})")
        start = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            for row in module.run(smoke=smoke):
                rows.append(row.to_dict())
                log(f"{name}: {row.name}: ratio {row.ratio:.3g} ({row.ratio_meaning})")
        except Exception as exc:  # a benchmark's failure is reported, and the others still run
            log(f"{name}: FAILED: {exc!r}")
            errors.append({"benchmark": name, "error": repr(exc), "traceback": traceback.format_exc()})
        log(f"{name}: done in {time.perf_counter() - start:.1f} s")
    info["load_average_end"] = load_average()
    return BenchmarkResults(
        mode="smoke" if smoke else "full",
        machine=info,
        rows=tuple(rows),
        errors=tuple(errors),
        provenance=provenance(parameters={"smoke": smoke, "only": only, "threads": threads}),
    )
