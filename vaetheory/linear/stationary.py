r"""All stationary points of the pPCA likelihood (Tipping & Bishop 1999, section 3.2).

theory section 3. Every stationary point of :math:`\log L(W,\sigma^2)` (with :math:`\mu=\bar x`)
has the form :math:`W = U_K(L_K - \sigma^2 I)^{1/2}R` padded with zero columns, where :math:`K` is
any set of :math:`k\le q` eigenvector indices ("retained"), and the noise variance is the mean of
the :math:`d-k` discarded eigenvalues,

.. math:: \sigma^2_K = \frac{1}{d-k}\sum_{j\notin K} l_j,

provided every retained :math:`l_j > \sigma^2_K` (otherwise that column would be imaginary; at
equality it is zero, i.e. the same point with a smaller :math:`K`). Its log-likelihood per point is
:math:`-\frac12[d\log 2\pi + \sum_{j\in K}\log l_j + (d-k)\log\sigma^2_K + d]`. The global maximum is
:math:`K=\{1..q\}` (the discarded eigenvalues are the smallest); all the others are saddle points.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from vaetheory._validation import check_int
from vaetheory.linear._checks import check_latent_size
from vaetheory.linear.moments import SampleMoments, active_mask, discarded_mean
from vaetheory.linear.ppca import as_moments, eigenbasis_log_likelihood
from vaetheory.results import Result

#: the most subsets :func:`stationary_points` enumerates
MAX_SUBSETS = 20000


@dataclass(frozen=True)
class StationaryPoint(Result):
    r"""One stationary point: retained eigen-directions (1-based), :math:`\sigma^2_K`, log-likelihood.

    ``W`` is the ``(d, q)`` loading :math:`U_K(L_K-\sigma^2_K I)^{1/2}` followed by zero columns.
    ``is_maximum``: the retained set is the top ``q`` eigenvalues (the global maximum).
    """

    retained: tuple[int, ...]
    noise_variance: float
    log_likelihood_per_point: float
    is_maximum: bool
    W: np.ndarray


def stationary_point(data_or_moments, q, retained) -> StationaryPoint:
    r"""The stationary point that keeps the eigen-directions ``retained`` (1-based, ``len <= q``).

    Raises ``ValueError`` if some retained :math:`l_j \le \sigma^2_K` (no stationary point then).
    """
    moments = as_moments(data_or_moments)
    d = moments.dim
    q = check_latent_size(q, d)
    idx = sorted({check_int("retained", j, low=1, high=d) for j in retained})
    if len(idx) > q:
        raise ValueError(f"retained must hold at most q = {q} directions; got {len(idx)}")
    point = _point(moments, q, tuple(idx))
    if point is None:
        raise ValueError(
            f"retained = {tuple(idx)} gives no stationary point: some retained eigenvalue is not above "
            "the mean of the discarded ones"
        )
    return point


def _point(moments: SampleMoments, q: int, retained: tuple[int, ...]) -> StationaryPoint | None:
    lam = moments.eigenvalues
    d = lam.size
    k = len(retained)
    keep = np.zeros(d, dtype=bool)
    keep[[j - 1 for j in retained]] = True
    sigma2 = discarded_mean(lam, keep)
    if sigma2 <= 0.0 or not np.all(active_mask(lam[keep], sigma2)):
        return None
    # the eigenbasis log-likelihood with c_j = l_j on K and sigma^2_K elsewhere (K listed first)
    loglik = eigenbasis_log_likelihood(np.concatenate([lam[keep], lam[~keep]]), lam[keep], sigma2)
    W = np.zeros((d, q))
    W[:, :k] = moments.eigenvectors[:, keep] * np.sqrt(lam[keep] - sigma2)
    return StationaryPoint(
        retained=retained,
        noise_variance=sigma2,
        log_likelihood_per_point=float(loglik),
        is_maximum=retained == tuple(range(1, q + 1)),
        W=W,
    )


def stationary_points(data_or_moments, q) -> list[StationaryPoint]:
    r"""Every stationary point of the pPCA likelihood for latent size ``q``, best first.

    Enumerates every retained set :math:`K` of size :math:`0..q` among the ``d`` eigenvectors and
    keeps those with every retained :math:`l_j > \sigma^2_K` (module docstring). The number of sets,
    :math:`\sum_{k\le q}\binom dk`, must stay below :data:`MAX_SUBSETS` (small ``d``).
    """
    moments = as_moments(data_or_moments)
    d = moments.dim
    q = check_latent_size(q, d)
    count = sum(math.comb(d, k) for k in range(q + 1))
    if count > MAX_SUBSETS:
        raise ValueError(
            f"q = {q} with d = {d} gives {count} eigenvector subsets, more than {MAX_SUBSETS}; "
            "use stationary_point for chosen subsets"
        )
    points = []
    for k in range(q + 1):
        for subset in itertools.combinations(range(1, d + 1), k):
            point = _point(moments, q, subset)
            if point is not None:
                points.append(point)
    return sorted(points, key=lambda p: -p.log_likelihood_per_point)
