r"""The linear VAE (Lucas, Tucker, Grosse & Norouzi 2019): closed-form ELBO and its global optimum.

theory section 3. Decoder :math:`p(x|z)=\mathcal N(Wz+\mu,\sigma^2 I)`, encoder
:math:`q(z|x)=\mathcal N(V(x-\mu), D)` with :math:`D` diagonal (encoder VARIANCES), prior
:math:`\mathcal N(0,I_q)`. With :math:`y=x-\mu`, :math:`m = Vy`, the (beta-weighted) ELBO is

.. math:: \mathrm{ELBO}_\beta(x) = \sum_{k=1}^d \log\mathcal N(y_k; (Wm)_k, \sigma^2)
          - \frac{\operatorname{tr}(W D W^\top)}{2\sigma^2}
          - \beta\sum_j \mathrm{KL}\big(\mathcal N(m_j, D_j)\,\|\,\mathcal N(0,1)\big),

i.e. :math:`-\frac d2\log(2\pi\sigma^2) - [\|y-WVy\|^2+\operatorname{tr}(WDW^\top)]/(2\sigma^2)
- \frac\beta2\sum_j[(Vy)_j^2 + D_j - 1 - \log D_j]`; ``beta = 1`` is the ELBO. The Gaussian
log-density and KL are :func:`vaetheory.densities.gaussian_logpdf` and
:func:`~vaetheory.densities.kl_gaussian_standard`.

Global optimum at noise variance :math:`t` (:math:`t=\sigma^2_{ML}` when :math:`\sigma^2` is learned):
:math:`W^* = U_q(L_q - tI)_+^{1/2}`, :math:`M = W^{*\top}W^* + tI`, :math:`V^* = M^{-1}W^{*\top}`,
:math:`D^* = tM^{-1}`, and there ELBO = pPCA log-likelihood. A rotation :math:`W^*R` keeps the pPCA
likelihood but lowers the diagonal-:math:`D` ELBO unless :math:`R` is a signed permutation.

Reference: J. Lucas, G. Tucker, R. Grosse, M. Norouzi, "Don't Blame the ELBO! A Linear VAE
Perspective on Posterior Collapse", NeurIPS 2019, arXiv:1911.02469.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vaetheory.densities import gaussian_logpdf, kl_gaussian_standard
from vaetheory.linear._checks import (
    check_beta,
    check_data,
    check_encoder,
    check_latent_size,
    check_loading,
    check_mean,
    check_noise_variance,
)
from vaetheory.linear.moments import SampleMoments, row_chunks
from vaetheory.linear.ppca import as_moments, eigenbasis_log_likelihood, loading_at, profile_log_likelihood
from vaetheory.results import Result


def linear_vae_elbo_samples(data, W, V, D, noise_variance, mean, *, beta: float = 1.0) -> np.ndarray:
    r"""Per-point closed-form (beta-)ELBO of the linear VAE (nats); module docstring for the formula.

    Parameters
    ----------
    data : (n, d); W : (d, q) decoder weight; V : (q, d) encoder weight; D : (q,) encoder
    VARIANCES > 0; noise_variance : decoder VARIANCE :math:`\sigma^2 > 0`; mean : (d,) :math:`\mu`;
    beta : KL weight > 0 (1 gives the ELBO).

    theory section 3; Lucas et al. (2019), arXiv:1911.02469.
    """
    X = check_data(data)
    d = X.shape[1]
    W = check_loading(W, d)
    q = W.shape[1]
    V, D = check_encoder(V, D, d, q)
    sigma2 = check_noise_variance(noise_variance)
    mean = check_mean(mean, d)
    beta = check_beta(beta)
    trace_term = float(np.sum(D * np.sum(W * W, axis=0))) / (2.0 * sigma2)  # tr(W D W^T) / (2 sigma^2)
    out = np.empty(X.shape[0])
    for rows in row_chunks(X.shape[0]):
        y = X[rows] - mean
        m = y @ V.T
        reconstruction = np.sum(gaussian_logpdf(y, m @ W.T, sigma2), axis=1) - trace_term
        out[rows] = reconstruction - beta * np.sum(kl_gaussian_standard(m, D[None, :]), axis=1)
    return out


def linear_vae_elbo(data, W, V, D, noise_variance, mean, *, beta: float = 1.0) -> float:
    """Mean over points of :func:`linear_vae_elbo_samples` (nats per point)."""
    return float(np.mean(linear_vae_elbo_samples(data, W, V, D, noise_variance, mean, beta=beta)))


def optimal_diagonal_encoder(W, noise_variance) -> tuple[np.ndarray, np.ndarray]:
    r"""The best encoder with diagonal :math:`D` for a given decoder :math:`(W,\sigma^2)`.

    The ELBO separates: the mean terms give :math:`V = M^{-1}W^\top`,
    :math:`M = W^\top W + \sigma^2 I` (the exact posterior mean), the variance terms
    :math:`\|w_j\|^2 D_j/(2\sigma^2) + \frac12(D_j - \log D_j)` give
    :math:`D_j = \sigma^2/(\sigma^2 + \|w_j\|^2)`. When :math:`W^\top W` is diagonal, :math:`D` is
    the exact posterior covariance :math:`\sigma^2 M^{-1}` and the ELBO equals the pPCA
    log-likelihood; otherwise the gap is :math:`\mathrm{KL}(q\|p(z|x)) > 0`. theory section 3.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or not np.all(np.isfinite(W)):
        raise ValueError(f"W must be a finite 2-D (d, q) array; got shape {np.shape(W)}")
    sigma2 = check_noise_variance(noise_variance)
    q = W.shape[1]
    capacitance = W.T @ W + sigma2 * np.eye(q)
    V = np.linalg.solve(capacitance, W.T)
    D = sigma2 / (sigma2 + np.sum(W * W, axis=0))
    return V, D


@dataclass(frozen=True)
class LinearVAEOptimum(Result):
    r"""The global optimum of the linear (beta-)VAE ELBO at a decoder noise variance.

    Attributes
    ----------
    q, beta : latent size and KL weight.
    noise_variance : decoder VARIANCE :math:`\sigma^2` (learned: :math:`\sigma^2_{ML}`; or fixed).
    effective_variance : :math:`t=\beta\sigma^2`, the collapse threshold.
    W, V, D, mean : the optimum :math:`W^*=U_q(L_q-tI)_+^{1/2}`, :math:`V^*=M^{-1}W^{*\top}`,
        :math:`D^*=tM^{-1}` (diagonal, stored as a vector), :math:`\mu=\bar x`.
    eigenvalues : (q,) :math:`l_1..l_q`.
    active : (q,) bool, :math:`l_j > t` (else column ``j`` of :math:`W^*` is 0 and
        :math:`q(z_j|x)` is the prior: posterior collapse).
    elbo_per_point : the optimal (beta-)ELBO per point,
        :math:`\beta\,g(t) + \frac{\beta d}{2}\log(2\pi t) - \frac d2\log(2\pi\sigma^2)` with
        :math:`g` the profile log-likelihood (:func:`~vaetheory.linear.ppca.profile_log_likelihood`).
    log_likelihood_per_point : the pPCA log-likelihood of :math:`(W^*,\sigma^2,\mu)`.
    """

    q: int
    beta: float
    noise_variance: float
    effective_variance: float
    W: np.ndarray
    V: np.ndarray
    D: np.ndarray
    mean: np.ndarray
    eigenvalues: np.ndarray
    active: np.ndarray
    elbo_per_point: float
    log_likelihood_per_point: float

    @property
    def active_directions(self) -> list[int]:
        """1-based indices j (eigenvalue order) of the active latent directions."""
        return [int(j) + 1 for j in np.flatnonzero(self.active)]

    @property
    def collapsed_directions(self) -> list[int]:
        """1-based indices j <= q of the collapsed latent directions (l_j <= beta sigma^2)."""
        return [int(j) + 1 for j in np.flatnonzero(~self.active)]

    def to_dict(self):
        out = super().to_dict()
        out["active_directions"] = self.active_directions
        out["collapsed_directions"] = self.collapsed_directions
        return out


def optimum_at(moments: SampleMoments, q: int, noise_variance: float, beta: float = 1.0) -> LinearVAEOptimum:
    r"""The closed-form optimum of :math:`\mathrm{ELBO}_\beta` at a fixed decoder VARIANCE (trusts inputs).

    :math:`\mathrm{ELBO}_\beta(W,V,D;\sigma^2) = \beta\,\mathrm{ELBO}(W,V,D;\beta\sigma^2)
    + \frac{\beta d}{2}\log(2\pi\beta\sigma^2) - \frac d2\log(2\pi\sigma^2)` (theory section 3),
    so the optimum is the linear-VAE optimum at :math:`t = \beta\sigma^2`.
    """
    d = moments.dim
    t = beta * noise_variance
    W = loading_at(moments, q, t)
    lam = moments.eigenvalues[:q]
    kept = np.maximum(lam, t)  # diagonal of M = W^T W + t I
    V = W.T / kept[:, None]
    D = t / kept
    active = moments.active(q, t)
    g = profile_log_likelihood(moments.eigenvalues, q, t)
    elbo = beta * g + 0.5 * beta * d * math.log(2 * math.pi * t)
    elbo -= 0.5 * d * math.log(2 * math.pi * noise_variance)
    # pPCA likelihood of (W*, sigma^2): C has eigenvalues (l_j - t)_+ + sigma^2 on U_q, sigma^2 elsewhere
    model_variances = np.maximum(lam - t, 0.0) + noise_variance
    loglik = eigenbasis_log_likelihood(moments.eigenvalues, model_variances, noise_variance)
    return LinearVAEOptimum(
        q=q,
        beta=float(beta),
        noise_variance=float(noise_variance),
        effective_variance=float(t),
        W=W,
        V=V,
        D=D,
        mean=moments.mean,
        eigenvalues=lam.copy(),
        active=active,
        elbo_per_point=float(elbo),
        log_likelihood_per_point=float(loglik),
    )


def linear_vae_optimum(data_or_moments, q) -> LinearVAEOptimum:
    r"""The global optimum of the linear-VAE ELBO with the decoder variance learned.

    :math:`\sigma^2 = \sigma^2_{ML}`, :math:`W^* = W_{ML}` with :math:`R=I`, :math:`V^*=M^{-1}W^{*\top}`,
    :math:`D^* = \sigma^2 M^{-1}`; there ELBO = the maximum pPCA log-likelihood (Lucas et al. 2019;
    theory section 3). Raises ``ValueError`` for degenerate data (:math:`\mathrm{rank}(S)\le q`),
    where no optimum exists (see :mod:`vaetheory.linear.degenerate`).
    """
    moments = as_moments(data_or_moments)
    q = check_latent_size(q, moments.dim)
    if moments.is_degenerate(q):
        raise ValueError(
            f"q = {q} is at least rank(S) = {moments.rank}: sigma^2_ML = 0 and the ELBO is unbounded "
            "(no optimum); see vaetheory.linear.degenerate.degenerate_path"
        )
    return optimum_at(moments, q, moments.ml_noise_variance(q))


def rotated_elbo(data, optimum: LinearVAEOptimum, rotation) -> float:
    r"""The best diagonal-:math:`D` ELBO per point after rotating the decoder, :math:`W = W^*R`.

    The pPCA likelihood depends on :math:`W` only through :math:`WW^\top`, so it is unchanged; the
    ELBO with the best diagonal encoder (:func:`optimal_diagonal_encoder`) is lower unless
    :math:`R^\top\mathrm{diag}(l_j-\sigma^2)R` stays diagonal (a signed permutation when the
    :math:`l_j` are distinct). theory section 3; Lucas et al. (2019).
    """
    q = optimum.q
    R = np.asarray(rotation, dtype=np.float64)
    if R.shape != (q, q) or not np.all(np.isfinite(R)):
        raise ValueError(f"rotation must be a finite ({q}, {q}) array; got shape {R.shape}")
    if not np.allclose(R.T @ R, np.eye(q), atol=1e-10):
        raise ValueError("rotation must be orthogonal (R^T R = I)")
    W = optimum.W @ R
    V, D = optimal_diagonal_encoder(W, optimum.noise_variance)
    return linear_vae_elbo(data, W, V, D, optimum.noise_variance, optimum.mean, beta=optimum.beta)
