r"""Sample moments of a data matrix: the mean and the eigendecomposition of the scatter matrix.

theory section 3: :math:`S = \frac1n\sum_i (x_i-\bar x)(x_i-\bar x)^\top` (maximum-likelihood
convention, 1/n) with eigenvalues :math:`l_1\ge\dots\ge l_d` and eigenvectors :math:`U`. Every
closed form of the linear module (pPCA optimum, stationary points, linear-VAE optimum, variants,
degenerate paths) is a function of these, so they are computed once, here: the scatter in row
chunks (never an ``n x d`` centred copy), then one symmetric eigendecomposition
(``scipy.linalg.eigh``) of the ``d x d`` scatter.

The decisions every closed form shares are written once, here, and used everywhere:

* the numerical rank (:func:`rank_tolerance`): an eigenvalue counts as nonzero iff it exceeds
  :math:`\tau = \max(n, d)\,\epsilon\,l_1` (``numpy.linalg.matrix_rank``'s rule, relative to the
  largest eigenvalue, so scale-free; ``max(n, d)`` rather than ``d`` because forming :math:`S` sums
  ``n`` products per entry). Eigenvalues at or below :math:`\tau` are stored as exactly 0;
* :math:`\sigma^2_{ML}(q)` (:func:`ml_noise_variance`): the mean of the discarded eigenvalues, 0
  when the data are degenerate (:func:`is_degenerate`: :math:`\mathrm{rank}(S)\le q`);
* the collapse rule (:func:`active_mask`): direction ``j`` is active iff :math:`l_j > t` for the
  threshold :math:`t = \beta\sigma^2` (a numerically zero :math:`l_j` is never active).

The scatter is formed from the centred data divided by a power of two near their largest
absolute deviation (exact in binary) and scaled back, so data of any magnitude whose eigenvalues
float64 can hold give the same rank and the same relative eigenvalues; data whose largest
eigenvalue lies outside :data:`EIGENVALUE_RANGE` are refused with a ``ValueError`` (rescale
them, e.g. ``--scale unit``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from vaetheory.linear._checks import check_data
from vaetheory.results import Result

#: rows per chunk when forming scatter matrices and per-point quantities
CHUNK_ROWS = 8192
#: accepted range of the largest scatter eigenvalue l_1 (a variance). Inside it every nonzero
#: eigenvalue (at least tau = max(n, d) eps l_1) is a normal float64, and the per-point squared
#: norms (about n d l_1 at most) stay finite, so the closed forms keep their full relative precision.
EIGENVALUE_RANGE = (1e-290, 1e290)


def row_chunks(n: int, size: int = CHUNK_ROWS):
    """Slices covering ``range(n)`` in blocks of ``size`` rows."""
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


@dataclass(frozen=True)
class SampleMoments(Result):
    r"""Mean, scatter eigenvalues (descending) and eigenvectors (columns) of a data matrix.

    Attributes
    ----------
    mean : (d,) sample mean :math:`\bar x`.
    eigenvalues : (d,) eigenvalues :math:`l_1\ge\dots\ge l_d\ge 0` of :math:`S` (1/n convention;
        those at or below ``tolerance``, round-off negatives included, are stored as 0).
    eigenvectors : (d, d) orthonormal eigenvectors :math:`U`, column ``j`` for ``eigenvalues[j]``.
    n_points : n.
    rank : numerical rank of :math:`S`: the number of eigenvalues above ``tolerance``.
    tolerance : :math:`\tau = \max(n, d)\,\epsilon\,l_1` (:func:`rank_tolerance`).
    """

    mean: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n_points: int
    rank: int
    tolerance: float = 0.0

    @property
    def dim(self) -> int:
        """Data dimension d."""
        return int(self.mean.shape[0])

    @property
    def total_variance(self) -> float:
        r""":math:`\operatorname{tr} S = \sum_j l_j`."""
        return float(np.sum(self.eigenvalues))

    def ml_noise_variance(self, q: int) -> float:
        r""":math:`\sigma^2_{ML}(q)`, the mean of the discarded eigenvalues (:func:`ml_noise_variance`)."""
        return ml_noise_variance(self.eigenvalues, q)

    def is_degenerate(self, q: int) -> bool:
        r""":math:`\mathrm{rank}(S)\le q` (:func:`is_degenerate`)."""
        return is_degenerate(self.rank, q)

    def active(self, q: int, threshold: float) -> np.ndarray:
        """``(q,)`` bool: which top-``q`` directions are active at ``threshold`` (:func:`active_mask`)."""
        return active_mask(self.eigenvalues[:q], threshold)

    def to_dict(self):  # eigenvectors are large and not JSON material
        return {
            "n_points": self.n_points,
            "dim": self.dim,
            "rank": self.rank,
            "rank_tolerance": self.tolerance,
            "eigenvalues": self.eigenvalues.tolist(),
            "total_variance": self.total_variance,
        }


def scatter_matrix(data: np.ndarray, mean: np.ndarray, scale: float = 1.0) -> np.ndarray:
    r""":math:`\frac1n\sum_i (y_i y_i^\top)`, :math:`y_i = (x_i-\mu)/c`, accumulated in row chunks (float64).

    ``scale`` :math:`c` (default 1) keeps the squares representable for data of any magnitude.
    """
    n, d = data.shape
    scatter = np.zeros((d, d))
    for rows in row_chunks(n):
        centred = (data[rows] - mean) / scale
        scatter += centred.T @ centred
    scatter /= n
    return 0.5 * (scatter + scatter.T)


def rank_tolerance(largest_eigenvalue: float, n_points: int, dim: int) -> float:
    r"""The rank tolerance :math:`\tau = \max(n, d)\,\epsilon\,l_1`: eigenvalues at or below it are zero.

    ``numpy.linalg.matrix_rank``'s default rule (size times machine epsilon times the largest
    singular value of the ``d x d`` matrix :math:`S`), with ``max(n, d)`` for the ``n`` products
    summed into each entry of :math:`S`. Relative to :math:`l_1`, so the decision is scale-free.
    """
    eps = float(np.finfo(np.float64).eps)
    return max(int(n_points), int(dim)) * eps * max(float(largest_eigenvalue), 0.0)


def numerical_rank(eigenvalues: np.ndarray, n_points: int) -> int:
    """The number of eigenvalues above :func:`rank_tolerance` (eigenvalues in descending order)."""
    if eigenvalues.size == 0 or float(eigenvalues[0]) <= 0.0:
        return 0
    tol = rank_tolerance(float(eigenvalues[0]), n_points, eigenvalues.size)
    return int(np.sum(eigenvalues > tol))


def is_degenerate(rank: int, q: int) -> bool:
    r"""The degeneracy rule: :math:`\mathrm{rank}(S)\le q` gives :math:`\sigma^2_{ML}=0` and an
    unbounded likelihood (theory section 3; :mod:`vaetheory.linear.degenerate`)."""
    return int(rank) <= int(q)


def discarded_mean(eigenvalues, retained) -> float:
    r"""The noise variance of a stationary point: the mean of the eigenvalues NOT in ``retained``.

    ``retained`` is a boolean mask over the eigenvalues (or an int ``q``: the top ``q`` retained).
    :math:`\sigma^2_K = \frac{1}{d-k}\sum_{j\notin K} l_j` (Tipping & Bishop 1999, section 3.2).
    Numerically zero eigenvalues are stored as exact zeros, so this is exactly 0 when every
    discarded eigenvalue is.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if isinstance(retained, (int, np.integer)):
        return float(np.mean(lam[int(retained) :]))
    return float(np.mean(lam[~np.asarray(retained, dtype=bool)]))


def ml_noise_variance(eigenvalues, q: int) -> float:
    r""":math:`\sigma^2_{ML} = \frac{1}{d-q}\sum_{j>q} l_j` (Tipping & Bishop 1999, eq. (8));
    exactly 0 for degenerate data (every discarded eigenvalue numerically zero)."""
    return discarded_mean(eigenvalues, int(q))


def active_mask(eigenvalues, threshold) -> np.ndarray:
    r"""The collapse rule: direction ``j`` is active iff :math:`l_j > t` (elementwise, broadcasting).

    :math:`t = \beta\sigma^2` for the beta-VAE at a fixed decoder VARIANCE :math:`\sigma^2`
    (Lucas et al. 2019; theory section 3), :math:`\sigma^2_{ML}` when it is learned; otherwise the
    column of :math:`W^*` is 0 and :math:`q(z_j|x)` is the prior. Pass eigenvalues from
    :class:`SampleMoments`, whose numerically zero values are exact zeros (never active).
    """
    return np.asarray(eigenvalues, dtype=np.float64) > np.asarray(threshold, dtype=np.float64)


def _check_eigenvalue_range(largest_scaled: float, scale: float, name: str) -> None:
    """Refuse data whose largest eigenvalue ``largest_scaled * scale**2`` lies outside the range."""
    if largest_scaled <= 0.0:  # constant data: rank 0, nothing to represent
        return
    low, high = EIGENVALUE_RANGE
    log10_largest = math.log10(largest_scaled) + 2.0 * math.log10(scale)
    if not (math.log10(low) <= log10_largest <= math.log10(high)):
        raise ValueError(
            f"{name}: the largest eigenvalue of the covariance is about 1e{log10_largest:+.0f}, outside "
            f"the range [{low:g}, {high:g}] in which float64 holds every eigenvalue and squared norm at "
            "full precision; rescale the data (e.g. --scale unit or --scale standardize)"
        )


def sample_moments(data, *, name: str = "data") -> SampleMoments:
    """The :class:`SampleMoments` of a finite ``(n, d)`` data matrix (``n >= 2``, ``d >= 2``).

    The scatter is formed from the centred data divided by a power of two near their largest
    absolute deviation, so the
    rank decision and the relative eigenvalues do not depend on the data's scale; eigenvalues are
    scaled back (module docstring; refused outside :data:`EIGENVALUE_RANGE`).
    """
    X = check_data(data, name)
    n, d = X.shape
    mean = X.mean(axis=0)
    if not np.all(np.isfinite(mean)):  # the sum of n values near float64's maximum overflowed
        top = float(np.max(np.abs(X)))
        mean = (X / top).mean(axis=0) * top
    # scale by the power of two nearest the largest deviation (exact in binary, so data whose
    # squares fit are unchanged to the last bit): |x - mean| is finite, its square may not be
    spread = max(float(np.max(np.abs(X[rows] - mean))) for rows in row_chunks(n))
    if not math.isfinite(spread):
        raise ValueError(f"{name}: the deviations from the mean overflow float64; rescale the data")
    scale = math.ldexp(1.0, math.frexp(spread)[1]) if spread > 0.0 else 1.0
    values, vectors = scipy.linalg.eigh(scatter_matrix(X, mean, scale), check_finite=False)
    order = np.argsort(values)[::-1]
    values = values[order]
    vectors = vectors[:, order]
    rank = numerical_rank(values, n)
    tol_scaled = rank_tolerance(float(values[0]), n, d)
    values = np.where(values > tol_scaled, values, 0.0)
    _check_eigenvalue_range(float(values[0]), scale, name)
    values = values * scale * scale
    return SampleMoments(
        mean=mean,
        eigenvalues=values,
        eigenvectors=vectors,
        n_points=n,
        rank=rank,
        tolerance=tol_scaled * scale * scale,
    )
