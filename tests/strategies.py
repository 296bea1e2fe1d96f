"""Hypothesis strategies and budgets shared by every test module (build them once, here)."""

from __future__ import annotations

from hypothesis import strategies as st

#: set by ``tests/conftest.py`` from ``--thorough`` / ``VAETHEORY_THOROUGH=1``
THOROUGH = False


def budget(ci: int, thorough: int) -> int:
    """``ci`` under the default profile, ``thorough`` under ``--thorough`` (examples, steps...)."""
    return thorough if THOROUGH else ci


def reals(low: float = -5.0, high: float = 5.0) -> st.SearchStrategy[float]:
    """Finite float64 reals in ``[low, high]``."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def positives(low: float = 1e-3, high: float = 10.0) -> st.SearchStrategy[float]:
    """Positive float64 numbers in ``[low, high]`` (variances, floors, standard deviations)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min=False)


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Positive numbers spread evenly in log scale between ``low`` and ``high``."""
    import math

    # clip: exp(log(high)) can round one ulp above high
    return st.floats(math.log(low), math.log(high)).map(lambda u: min(max(math.exp(u), low), high))


seeds = st.integers(0, 2**31 - 1)
