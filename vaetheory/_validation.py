"""Argument validation at the door.

Public functions call these once, before any arithmetic, and internals trust their inputs.
Every error is a :class:`ValueError` that names the argument and the accepted range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a finite float, or raise naming ``name``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real number; got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return out


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float that is > 0 (or >= 0 with ``allow_zero``)."""
    rng = f"{name} >= 0" if allow_zero else f"{name} > 0"
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real number with {rng}; got {value!r}") from None
    ok = math.isfinite(out) and (out >= 0 if allow_zero else out > 0)
    if not ok:
        raise ValueError(f"{name} must be a finite real number with {rng}; got {value!r}")
    return out


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]`` (either end may be open-ended)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer; got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]; got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise list the accepted names."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_finite_array(
    name: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    min_rows: int | None = None,
) -> np.ndarray:
    """Return ``value`` as a float64 array, checking finiteness, ``ndim``, ``shape``, rows.

    ``shape`` entries of ``None`` match any size.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers; got {type(value).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}; got {arr.shape}")
    if min_rows is not None and (arr.ndim == 0 or arr.shape[0] < min_rows):
        rows = 0 if arr.ndim == 0 else arr.shape[0]
        raise ValueError(f"{name} must have at least {min_rows} rows (points); got {rows}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(
            f"{name} must contain only finite values (no NaN or inf); first non-finite entry at index {where}"
        )
    return arr


def check_positive_array(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    """A finite float64 array whose entries are all > 0 (variances, floors)."""
    arr = check_finite_array(name, value, ndim=ndim)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 everywhere; smallest entry is {arr.min()!r}")
    return arr


def available_memory_bytes() -> int | None:
    """The memory available to a new allocation (Linux ``MemAvailable``; else physical memory), or None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(name: str, n_bytes: float, what: str) -> None:
    """Refuse, before allocating, an estimated ``n_bytes`` that exceeds the available memory.

    ``name`` is the argument that sets the size and ``what`` says what would be allocated.
    """
    available = available_memory_bytes()
    if available is not None and n_bytes > available:
        raise ValueError(
            f"{name} asks for {what}: about {n_bytes / 2**30:.3g} GiB, more than the "
            f"{available / 2**30:.3g} GiB of memory available; choose a smaller size"
        )
