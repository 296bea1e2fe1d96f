"""Provenance records: what made a figure or a JSON result.

Every figure sidecar and JSON result carries :func:`provenance`: the vaetheory version, the git
commit of the source tree when it is a checkout and whether that tree had uncommitted changes, the
command line, the seed (null when nothing random was drawn) and the parameters, and the machine it
ran on: the versions of Python, numpy, scipy, sympy, matplotlib (and torch when it is loaded), the
platform, the CPU model, the thread count and the BLAS libraries numpy (and torch) use, with the
kernel OpenBLAS chose. Versions are read with :mod:`importlib.metadata`, so recording them imports
none of those packages. No timestamp is recorded, so the same command and seed on the same machine
and source tree give byte-identical records.
"""

from __future__ import annotations

import functools
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from vaetheory import __version__

#: the packages whose versions every record carries (torch only when it is loaded)
LIBRARIES = ("numpy", "scipy", "sympy", "matplotlib")
#: environment variables that change how many threads or which BLAS kernel a run uses
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "MKL_ENABLE_INSTRUCTIONS",
)

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _git(root: Path, *args: str) -> subprocess.CompletedProcess | None:
    if not (root / ".git").exists():
        return None
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None


def commit_of(root: Path) -> str | None:
    """The commit hash of the git checkout at ``root``, or ``None`` when it is not one."""
    out = _git(Path(root), "rev-parse", "HEAD")
    commit = out.stdout.strip() if out is not None else ""
    return commit if out is not None and out.returncode == 0 and commit else None


def dirty_of(root: Path) -> bool | None:
    """Whether the checkout at ``root`` has uncommitted changes to tracked files (untracked files
    do not count); ``None`` when ``root`` is not a git checkout or git cannot tell."""
    out = _git(Path(root), "status", "--porcelain", "--untracked-files=no")
    if out is None or out.returncode != 0:
        return None
    return bool(out.stdout.strip())


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit hash of the checkout vaetheory is imported from, or ``None``."""
    return commit_of(_SOURCE_ROOT)


@functools.lru_cache(maxsize=1)
def git_dirty() -> bool | None:
    """Whether the checkout vaetheory is imported from had uncommitted changes (when first asked in
    this process), or ``None`` for an installed package."""
    return dirty_of(_SOURCE_ROOT)


def library_versions() -> dict[str, str | None]:
    """``{name: version}`` for :data:`LIBRARIES` from the installed metadata (``None`` if absent).

    Read once per process (the metadata lookups cost milliseconds, and every ``train()`` records
    them); each call returns a fresh dict."""
    return dict(_installed_versions())


@functools.lru_cache(maxsize=1)
def _installed_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=1)
def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS), or ``None``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor", "cpu model") and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or None


def blas_info() -> list[dict[str, Any]]:
    """The BLAS/OpenMP libraries loaded in this process (numpy's, torch's once it is loaded), as
    threadpoolctl sees them: API, version, threads and, for OpenBLAS, the kernel it chose
    (``architecture``, e.g. ``Haswell``). Empty when threadpoolctl is not installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "num_threads", "architecture", "threading_layer")
    try:
        pools = threadpool_info()
    except Exception:  # threadpoolctl inspects native libraries; never let that break a record
        return []
    return [{k: pool[k] for k in keep if k in pool} for pool in pools]


def thread_count(blas: list[dict[str, Any]] | None = None) -> int:
    """The threads the computation runs on: torch's intra-op threads when torch is loaded, else
    the BLAS library's, else the CPUs this process may use."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return int(torch.get_num_threads())
    for pool in blas if blas is not None else blas_info():
        if pool.get("user_api") == "blas" and pool.get("num_threads"):
            return int(pool["num_threads"])
    return available_cpus()


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def command_line() -> str:
    """The command that is running, as a shell-quoted string."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("/vaetheory", "\\vaetheory", "vaetheory")):
        argv[0] = "vaetheory"
    return " ".join(shlex.quote(a) for a in argv)


def provenance(
    *,
    seed: int | None = None,
    parameters: dict[str, Any] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """A JSON-ready record of what produced a result.

    Keys: ``vaetheory_version``, ``git_commit`` (or null), ``git_dirty`` (uncommitted changes to
    tracked files; null outside a checkout), ``command``, ``seed`` (null when nothing random was
    drawn), ``parameters``, ``python``, ``numpy``, ``scipy``, ``sympy``, ``matplotlib`` (versions,
    null if not installed), ``torch`` (only if torch is already imported), ``platform``,
    ``machine``, ``cpu`` (the CPU model, or null), ``cpu_count`` (CPUs available to the process),
    ``threads`` (see :func:`thread_count`), ``blas`` (see :func:`blas_info`) and
    ``thread_environment`` (the set variables among :data:`THREAD_VARIABLES`).
    """
    blas = blas_info()
    record: dict[str, Any] = {
        "vaetheory_version": __version__,
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "command": command if command is not None else command_line(),
        "seed": seed,
        "parameters": dict(parameters or {}),
        "python": platform.python_version(),
        **library_versions(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        record["torch"] = torch.__version__
    record.update(
        platform=platform.platform(),
        machine=platform.machine(),
        cpu=cpu_model(),
        cpu_count=available_cpus(),
        threads=thread_count(blas),
        blas=blas,
        thread_environment={k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
    )
    return record
