r"""Sample moments of a data matrix: the mean and the eigendecomposition of the scatter matrix.

theory section 3: :math:`S = \frac1n\sum_i (x_i-\bar x)(x_i-\bar x)^\top` (maximum-likelihood
convention, 1/n) with eigenvalues :math:`l_1\ge\dots\ge l_d` and eigenvectors :math:`U`. Every
closed form of the linear module (pPCA optimum, stationary points, linear-VAE optimum, variants,
degenerate paths) is a function of these, so they are computed once, here: the scatter in row
chunks (never an ``n x d`` centred copy), then one symmetric eigendecomposition
(``scipy.linalg.eigh``) of the ``d x d`` scatter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from vaetheory.linear._checks import check_data
from vaetheory.results import Result

#: rows per chunk when forming scatter matrices and per-point quantities
CHUNK_ROWS = 8192


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
        round-off negatives clipped to 0).
    eigenvectors : (d, d) orthonormal eigenvectors :math:`U`, column ``j`` for ``eigenvalues[j]``.
    n_points : n.
    rank : numerical rank of :math:`S`: eigenvalues above
        :math:`\max(n, d)\,\epsilon\,l_1` count as nonzero.
    """

    mean: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n_points: int
    rank: int

    @property
    def dim(self) -> int:
        """Data dimension d."""
        return int(self.mean.shape[0])

    @property
    def total_variance(self) -> float:
        r""":math:`\operatorname{tr} S = \sum_j l_j`."""
        return float(np.sum(self.eigenvalues))

    def to_dict(self):  # eigenvectors are large and not JSON material
        return {
            "n_points": self.n_points,
            "dim": self.dim,
            "rank": self.rank,
            "eigenvalues": self.eigenvalues.tolist(),
            "total_variance": self.total_variance,
        }


def scatter_matrix(data: np.ndarray, mean: np.ndarray) -> np.ndarray:
    r""":math:`\frac1n\sum_i (x_i-\mu)(x_i-\mu)^\top` accumulated in row chunks (float64)."""
    n, d = data.shape
    scatter = np.zeros((d, d))
    for rows in row_chunks(n):
        centred = data[rows] - mean
        scatter += centred.T @ centred
    scatter /= n
    return 0.5 * (scatter + scatter.T)


def numerical_rank(eigenvalues: np.ndarray, n_points: int) -> int:
    """Eigenvalues above ``max(n, d) * eps * l_1`` (the ``numpy.linalg.matrix_rank`` rule on S)."""
    top = float(eigenvalues[0]) if eigenvalues.size else 0.0
    if top <= 0.0:
        return 0
    tol = max(n_points, eigenvalues.size) * np.finfo(np.float64).eps * top
    return int(np.sum(eigenvalues > tol))


def sample_moments(data) -> SampleMoments:
    """The :class:`SampleMoments` of a finite ``(n, d)`` data matrix (``n >= 2``, ``d >= 2``)."""
    X = check_data(data)
    n = X.shape[0]
    mean = X.mean(axis=0)
    values, vectors = scipy.linalg.eigh(scatter_matrix(X, mean), check_finite=False)
    order = np.argsort(values)[::-1]
    values = np.clip(values[order], 0.0, None)
    vectors = vectors[:, order]
    return SampleMoments(
        mean=mean,
        eigenvalues=values,
        eigenvectors=vectors,
        n_points=n,
        rank=numerical_rank(values, n),
    )
