"""What every benchmark shares: paired timing, rows, and the machine they ran on.

A benchmark compares one vaetheory route against the route a user would take without it, both
measured in the same process in the same run. :func:`paired_times` interleaves the two (ours,
baseline, ours, baseline, ...) so a load change on a shared machine hits both alike, and every row
reports the median of the repeats with all the samples kept in the JSON.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

#: the file a full run writes its rows to (the smoke mode never writes here)
RESULTS_JSON = "results.json"
RESULTS_MD = "results.md"


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One measured quantity: a label saying what ran, the median of the samples, its unit."""

    label: str
    median: float
    unit: str
    samples: tuple[float, ...]

    @classmethod
    def of(cls, label: str, samples: list[float] | tuple[float, ...], unit: str) -> Measurement:
        if not samples:
            raise ValueError(f"measurement {label!r} has no samples")
        return cls(label=label, median=float(statistics.median(samples)), unit=unit, samples=tuple(samples))


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of the results table: vaetheory's route against a baseline, and their ratio.

    ``ratio`` is defined by ``ratio_meaning`` (for example "baseline time / vaetheory time:
    speed-up"); ``goal`` states the target in words and ``goal_met`` whether the ratio meets it
    (``None`` when the row has no goal).
    """

    benchmark: str
    name: str
    ours: Measurement
    baseline: Measurement
    ratio: float
    ratio_meaning: str
    goal: str | None = None
    goal_met: bool | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from vaetheory.results import to_jsonable

        return to_jsonable(dataclasses.asdict(self))


def speedup_row(benchmark: str, name: str, ours: Measurement, baseline: Measurement, **kw: Any) -> Row:
    """A row whose ratio is baseline / ours for times (> 1: vaetheory's route is faster)."""
    return Row(
        benchmark=benchmark,
        name=name,
        ours=ours,
        baseline=baseline,
        ratio=baseline.median / ours.median,
        ratio_meaning="baseline time / our time (speed-up, > 1 is faster)",
        **kw,
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call of ``fn`` (``time.perf_counter``) and its return value."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def paired_times(
    ours: Callable[[], Any], baseline: Callable[[], Any], repeats: int, *, warmup: int = 1
) -> tuple[list[float], list[float]]:
    """Interleaved wall times of ``ours`` and ``baseline`` (after ``warmup`` untimed calls of each).

    The order alternates (ours first on even repeats, baseline first on odd ones), so neither side
    always runs right after the other's cache-warming or right before a load spike.
    """
    t_ours, t_base = interleaved_times([ours, baseline], repeats, warmup=warmup)
    return t_ours, t_base


def interleaved_times(fns: list[Callable[[], Any]], repeats: int, *, warmup: int = 1) -> list[list[float]]:
    """Wall times of each of ``fns`` per repeat, their order reversed on every other repeat."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    for r in range(repeats):
        for i in order if r % 2 == 0 else order[::-1]:
            times[i].append(timed(fns[i])[0])
    return times


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else :func:`platform.processor`."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or ``None`` where the OS has none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine() -> dict[str, Any]:
    """The machine and software a run measured: CPU, cores, library versions, threads, load."""
    from importlib.metadata import version

    import numpy as np
    import torch

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        mem_kib = int(
            next(
                line for line in open("/proc/meminfo", encoding="utf-8") if line.startswith("MemTotal")
            ).split()[1]
        )
        memory_gib = round(mem_kib / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        memory_gib = None
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": memory_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": version("scipy"),
        "sympy": version("sympy"),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "omp_wait_policy_env": os.environ.get("OMP_WAIT_POLICY"),
        "torch_flush_denormal": "on (torch.set_flush_denormal(True), set by the benchmarks)",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_start": load_average(),
    }


def python_subprocess_time(args: list[str], *, env: dict[str, str] | None = None) -> float:
    """Wall time of a fresh process ``args`` (run to completion, output discarded); raises on failure."""
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return elapsed


def log(message: str) -> None:
    """A progress line on stderr (benchmarks take minutes; say what runs)."""
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


def slowdown_row(benchmark: str, name: str, ours: Measurement, baseline: Measurement, **kw: Any) -> Row:
    """A row whose ratio is ours / baseline (for times: how many baselines our route costs)."""
    return Row(
        benchmark=benchmark,
        name=name,
        ours=ours,
        baseline=baseline,
        ratio=ours.median / baseline.median,
        ratio_meaning="our time / baseline time",
        **kw,
    )
