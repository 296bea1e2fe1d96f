r"""Probabilistic PCA (Tipping & Bishop 1999): maximum likelihood and the exact log-likelihood.

theory section 3. Model :math:`x = Wz + \mu + \epsilon`, :math:`z\sim\mathcal N(0, I_q)`,
:math:`\epsilon\sim\mathcal N(0,\sigma^2 I_d)`, so :math:`x\sim\mathcal N(\mu, C)` with
:math:`C = WW^\top + \sigma^2 I`. Here ``noise_variance`` is the VARIANCE :math:`\sigma^2`.

The log-density uses the structure of :math:`C` (never a ``d x d`` inverse or determinant): with
the ``q x q`` capacitance matrix :math:`M = W^\top W + \sigma^2 I_q`,

* determinant lemma: :math:`\log|C| = (d-q)\log\sigma^2 + \log|M|`,
* Woodbury: :math:`C^{-1} = \sigma^{-2}(I - W M^{-1} W^\top)`,

so :math:`\log\mathcal N(x;\mu,C) = -\tfrac12[d\log 2\pi + (d-q)\log\sigma^2 + \log|M|
+ \sigma^{-2}(\|y\|^2 - (W^\top y)^\top M^{-1} W^\top y)]`, :math:`y = x-\mu`: cost
:math:`O(ndq)`. :func:`ppca_log_likelihood` is the mean of :func:`ppca_log_likelihood_samples`,
so the two can never disagree.

Reference: M. E. Tipping and C. M. Bishop, "Probabilistic principal component analysis",
JRSS-B 61(3), 611-622, 1999.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from vaetheory.densities import LOG_2PI
from vaetheory.linear._checks import (
    check_data,
    check_latent_size,
    check_loading,
    check_mean,
    check_noise_variance,
)
from vaetheory.linear.moments import SampleMoments, ml_noise_variance, row_chunks, sample_moments
from vaetheory.results import Result


def ppca_log_likelihood_samples(data, W, noise_variance, mean) -> np.ndarray:
    r"""Per-point pPCA log-likelihood :math:`\log\mathcal N(x_i;\mu, WW^\top+\sigma^2 I)` (nats).

    Parameters
    ----------
    data : (n, d) data matrix, rows are points.
    W : (d, q) loading matrix, ``1 <= q <= d - 1`` (zero columns allowed).
    noise_variance : :math:`\sigma^2 > 0`, the noise VARIANCE.
    mean : (d,) :math:`\mu`.

    Determinant lemma and Woodbury identity with the capacitance :math:`M = W^\top W+\sigma^2 I_q`
    (module docstring); theory section 3; Tipping & Bishop (1999), eq. (4) and appendix.
    """
    X = check_data(data)
    d = X.shape[1]
    W = check_loading(W, d)
    sigma2 = check_noise_variance(noise_variance)
    mean = check_mean(mean, d)
    q = W.shape[1]
    capacitance = W.T @ W + sigma2 * np.eye(q)
    chol = scipy.linalg.cho_factor(capacitance, lower=True, check_finite=False)
    log_det_c = (d - q) * math.log(sigma2) + 2.0 * float(np.sum(np.log(np.diag(chol[0]))))
    out = np.empty(X.shape[0])
    for rows in row_chunks(X.shape[0]):
        y = X[rows] - mean
        proj = y @ W
        solved = scipy.linalg.cho_solve(chol, proj.T, check_finite=False).T  # M^{-1} W^T y
        quad = np.einsum("ij,ij->i", y, y) - np.einsum("ij,ij->i", proj, solved)
        out[rows] = -0.5 * (d * LOG_2PI + log_det_c + quad / sigma2)
    return out


def ppca_log_likelihood(data, W, noise_variance, mean) -> float:
    """Mean over points of :func:`ppca_log_likelihood_samples` (nats per point)."""
    return float(np.mean(ppca_log_likelihood_samples(data, W, noise_variance, mean)))


def eigenbasis_log_likelihood(eigenvalues, model_variances, noise_variance: float) -> float:
    r"""Per-point pPCA log-likelihood (mean :math:`\bar x`) of a model whose covariance shares the
    eigenvectors of :math:`S`: :math:`C = U\,\mathrm{diag}(c_1..c_q,\sigma^2..\sigma^2)\,U^\top`.

    .. math:: -\tfrac12\Big[d\log 2\pi + \sum_{j\le q}\big(\log c_j + l_j/c_j\big)
              + \sum_{j>q}\big(\log\sigma^2 + l_j/\sigma^2\big)\Big]

    (:math:`-\tfrac12[d\log 2\pi + \log|C| + \operatorname{tr}(C^{-1}S)]`, theory section 3).
    ``model_variances`` are :math:`c_1..c_q`; trusts its inputs.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    c = np.asarray(model_variances, dtype=np.float64)
    q = c.size
    t = float(noise_variance)
    tail = lam[q:]
    total = np.sum(np.log(c) + lam[:q] / c) + tail.size * math.log(t) + np.sum(tail) / t
    return float(-0.5 * (lam.size * LOG_2PI + total))


def profile_log_likelihood(eigenvalues, q: int, noise_variance: float) -> float:
    r"""Per-point pPCA log-likelihood maximised over :math:`W` (and :math:`\mu`) at a fixed
    noise variance :math:`t=\sigma^2`.

    .. math:: g(t) = -\tfrac12\Big[d\log 2\pi + \sum_{j\le q}\big(\log c_j + l_j/c_j\big)
              + \sum_{j>q}\big(\log t + l_j/t\big)\Big],\quad c_j=\max(l_j,t),

    attained at :math:`W = U_q\,\mathrm{diag}((l_j-t)_+)^{1/2}`, :math:`\mu=\bar x` (Tipping &
    Bishop 1999, section 3.2, with :math:`\sigma^2` held fixed). At :math:`t=\sigma^2_{ML}` this is
    :math:`\max\log L/n`. theory section 3. Trusts its inputs (eigenvalues descending, ``t > 0``).
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return eigenbasis_log_likelihood(lam, np.maximum(lam[:q], noise_variance), noise_variance)


def max_log_likelihood(eigenvalues, q: int) -> float:
    r"""The maximum per-point pPCA log-likelihood from the eigenvalues (theory section 3):
    :math:`-\tfrac12[d\log 2\pi + \sum_{j\le q}\log l_j + (d-q)\log\sigma^2_{ML} + d]`;
    ``inf`` when :math:`\sigma^2_{ML}=0` (degenerate data). It is :func:`eigenbasis_log_likelihood`
    with :math:`c_j = l_j` and :math:`\sigma^2 = \sigma^2_{ML}`
    (then :math:`\sum_{j>q}l_j/\sigma^2 = d-q`)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    sigma2 = ml_noise_variance(lam, q)
    if sigma2 <= 0.0:
        return math.inf
    return eigenbasis_log_likelihood(lam, lam[:q], sigma2)


def loading_at(moments: SampleMoments, q: int, noise_variance: float) -> np.ndarray:
    r""":math:`W = U_q\,\mathrm{diag}\big((l_j - t)_+\big)^{1/2}` for the top ``q`` eigenvectors at
    noise variance :math:`t`: the maximiser of the likelihood (and of the linear-VAE ELBO) at fixed
    :math:`t`, with columns of directions :math:`l_j \le t` equal to 0 (collapsed)."""
    lam = moments.eigenvalues[:q]
    scale = np.where(moments.active(q, noise_variance), np.sqrt(np.abs(lam - noise_variance)), 0.0)
    return moments.eigenvectors[:, :q] * scale


def as_moments(data_or_moments) -> SampleMoments:
    """``SampleMoments`` passed through; anything else is treated as a data matrix."""
    if isinstance(data_or_moments, SampleMoments):
        return data_or_moments
    return sample_moments(data_or_moments)


@dataclass(frozen=True)
class PPCAFit(Result):
    r"""The pPCA maximum-likelihood estimate for latent size ``q`` (Tipping & Bishop 1999).

    Attributes
    ----------
    q : latent size.
    W : (d, q) :math:`W_{ML} = U_q (L_q - \sigma^2_{ML} I)^{1/2}` (rotation :math:`R = I`).
    noise_variance : :math:`\sigma^2_{ML} = \frac1{d-q}\sum_{j>q} l_j` (0 for degenerate data).
    mean : (d,) the sample mean.
    log_likelihood_per_point : maximum of the mean log-likelihood (1/n covariance), ``inf`` when
        degenerate.
    degenerate : True when :math:`\mathrm{rank}(S)\le q`: then :math:`\sigma^2_{ML}=0` and the
        likelihood is unbounded (see :mod:`vaetheory.linear.degenerate`).
    rank : numerical rank of :math:`S`.
    """

    q: int
    W: np.ndarray
    noise_variance: float
    mean: np.ndarray
    log_likelihood_per_point: float
    degenerate: bool
    rank: int

    def score_samples(self, data) -> np.ndarray:
        """Per-point log-likelihood of ``data`` under this fit (:func:`ppca_log_likelihood_samples`)."""
        if self.degenerate:
            raise ValueError(
                f"the fit is degenerate (rank(S) = {self.rank} <= q = {self.q}): noise_variance = 0 "
                "and the density is singular; score a path point from vaetheory.linear.degenerate instead"
            )
        return ppca_log_likelihood_samples(data, self.W, self.noise_variance, self.mean)

    def score(self, data) -> float:
        """Mean of :meth:`score_samples` (nats per point)."""
        return float(np.mean(self.score_samples(data)))

    def covariance(self) -> np.ndarray:
        r"""The model covariance :math:`C = WW^\top + \sigma^2 I` (``d x d``; for checks, not for scoring)."""
        return self.W @ self.W.T + self.noise_variance * np.eye(self.W.shape[0])


def ppca_mle(data_or_moments, q) -> PPCAFit:
    r"""pPCA maximum likelihood for latent size ``q`` from a data matrix or its :class:`SampleMoments`.

    .. math:: W_{ML} = U_q (L_q - \sigma^2_{ML} I)^{1/2},\quad
              \sigma^2_{ML} = \frac{1}{d-q}\sum_{j>q} l_j,\quad \mu_{ML} = \bar x.

    theory section 3; Tipping & Bishop (1999), eqs. (7)-(8). Pass :class:`SampleMoments` (from
    :func:`~vaetheory.linear.moments.sample_moments`) to fit several ``q`` from one
    eigendecomposition. If :math:`\mathrm{rank}(S)\le q` the fit is marked ``degenerate`` with
    :math:`\sigma^2_{ML}=0`, :math:`W = U_q L_q^{1/2}` and an infinite log-likelihood.
    """
    moments = as_moments(data_or_moments)
    q = check_latent_size(q, moments.dim)
    degenerate = moments.is_degenerate(q)
    sigma2 = moments.ml_noise_variance(q)  # exactly 0 when degenerate (numerical zeros stored as 0)
    return PPCAFit(
        q=q,
        W=loading_at(moments, q, sigma2),
        noise_variance=sigma2,
        mean=moments.mean,
        log_likelihood_per_point=math.inf if degenerate else max_log_likelihood(moments.eigenvalues, q),
        degenerate=degenerate,
        rank=moments.rank,
    )
