r"""The shared float64 formulas: each written once, reused by every module.

* :func:`gaussian_logpdf` -- :math:`\log \mathcal N(x;\mu,\sigma^2)`.
* :func:`kl_gaussian_standard` -- :math:`\mathrm{KL}(\mathcal N(m,s^2)\,\|\,\mathcal N(0,1))`.
* :func:`variance_floor_bound` -- the likelihood bound implied by a variance floor
  (theory section 2; Mattei & Frellsen 2018).

The torch code uses ``torch.distributions`` for the same densities, and the test suite checks
the two against each other and against ``scipy.stats``.
"""

from __future__ import annotations

import math

import numpy as np

from vaetheory._validation import (
    check_finite_array,
    check_int,
    check_positive,
    check_positive_array,
    check_real,
)

LOG_2PI = math.log(2.0 * math.pi)


def gaussian_logpdf(x, mean, variance) -> np.ndarray:
    r"""Elementwise :math:`\log\mathcal N(x;\mu,v) = -\tfrac12\log(2\pi v) - (x-\mu)^2/(2v)`.

    Float64, broadcasting like numpy. ``variance`` is a variance (not a standard deviation), finite
    and > 0 everywhere; ``x`` and ``mean`` finite. Anything else is a ``ValueError`` naming it (never
    a NaN).
    """
    x = check_finite_array("x", x)
    mean = check_finite_array("mean", mean)
    variance = check_positive_array("variance", variance)
    return -0.5 * (LOG_2PI + np.log(variance)) - 0.5 * (x - mean) ** 2 / variance


def kl_gaussian_standard(mean, variance) -> np.ndarray:
    r"""Elementwise :math:`\mathrm{KL}(\mathcal N(m,s^2)\|\mathcal N(0,1)) = \tfrac12(m^2+s^2-1-\log s^2)`.

    ``variance`` is :math:`s^2`, finite and > 0 everywhere; ``mean`` finite (``ValueError``
    otherwise). Sum over the last axis for a diagonal Gaussian.
    """
    mean = check_finite_array("mean", mean)
    variance = check_positive_array("variance", variance)
    return 0.5 * (mean**2 + variance - 1.0 - np.log(variance))


def variance_floor_bound(dim: int, floor_variance: float, n_points: int = 1) -> float:
    r"""Upper bound on the Gaussian log-likelihood when every decoder variance is :math:`\ge\xi`.

    If every eigenvalue of :math:`\Sigma(z)` is at least :math:`\xi` then
    :math:`\mathcal N(x;\mu,\Sigma)\le(2\pi\xi)^{-d/2}` for every :math:`z`, hence for the marginal
    and the ELBO too, and

    .. math:: \sum_{i=1}^n \log p(x_i) \le -\frac{n d}{2}\log(2\pi\xi).

    theory section 2; Mattei & Frellsen (2018), arXiv:1802.04826. ``floor_variance`` is a floor
    on the VARIANCE; for a floor on the standard deviation pass ``std_floor**2``
    (see :func:`std_floor_to_variance`).
    """
    dim = check_int("dim", dim, low=1)
    n_points = check_int("n_points", n_points, low=1)
    xi = check_positive("floor_variance", floor_variance)
    return -0.5 * n_points * dim * (LOG_2PI + math.log(xi))


#: the variance floors float64 represents as normal numbers: [smallest normal, largest finite]
VARIANCE_FLOOR_RANGE = (float(np.finfo(np.float64).tiny), float(np.finfo(np.float64).max))


def std_floor_to_variance(std_floor: float, *, name: str = "std_floor") -> float:
    """A floor on the standard deviation, as the equivalent floor on the variance (std^2).

    The square must be a normal float64 number: ``std_floor`` in about [1.5e-154, 1.3e154]
    (:data:`VARIANCE_FLOOR_RANGE`); outside it a ``ValueError`` names ``name`` and the range.
    """
    s = check_positive(name, std_floor)
    low, high = (math.sqrt(v) for v in VARIANCE_FLOOR_RANGE)
    if not (low <= s <= high):
        raise ValueError(
            f"{name} must lie in [{low:.3g}, {high:.3g}] (a std floor whose square, the variance floor, "
            f"float64 holds as a normal number); got {std_floor!r}"
        )
    return s * s


def log_std_floor_to_variance(log_std_floor: float, *, name: str = "log_std_floor") -> float:
    """A floor on the log standard deviation, as the variance floor exp(2 log_std).

    ``log_std_floor`` must lie in [-354.1, 354.8], where exp(2 log_std) is a normal float64 number
    (:data:`VARIANCE_FLOOR_RANGE`); outside it a ``ValueError`` names ``name`` and the range.
    """
    v = check_real(name, log_std_floor)
    low, high = (0.5 * math.log(b) for b in VARIANCE_FLOOR_RANGE)
    if not (low <= v <= high):
        raise ValueError(
            f"{name} must lie in [{low:.4g}, {high:.4g}] (a log std floor whose variance floor "
            f"exp(2 log std) float64 holds as a normal number); got {log_std_floor!r}"
        )
    return math.exp(2.0 * v)
