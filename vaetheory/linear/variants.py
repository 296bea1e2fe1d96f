r"""Variants of the linear VAE: fixed decoder variance, beta-VAE, a floor on the variance, and the
split of the total variance between latent and noise.

theory section 3 (posterior collapse, beta-VAE, variance split) and section 2 (the floor).

* Fixed :math:`\sigma^2`: the optimum is :math:`W^* = U_q(L_q-\sigma^2 I)_+^{1/2}`; direction
  :math:`j\le q` is active iff :math:`l_j > \sigma^2` (Lucas et al. 2019).
* beta-VAE, :math:`E_q\log p(x|z) - \beta\,\mathrm{KL}`: :math:`\mathrm{ELBO}_\beta(\sigma^2) =
  \beta\,\mathrm{ELBO}(\beta\sigma^2) + \mathrm{const}`, so direction :math:`j` collapses iff
  :math:`l_j \le \beta\sigma^2`: a small :math:`\beta` and a small fixed :math:`\sigma^2` act alike
  (the thesis chapter's observation, the thesis chapter, section 5.3.4).
* Floor :math:`\sigma^2\ge\xi` on the VARIANCE: the profile likelihood is unimodal in
  :math:`\sigma^2` with its peak at :math:`\sigma^2_{ML}`, so the constrained optimum is
  :math:`\max(\xi, \sigma^2_{ML})`; the floor binds iff :math:`\xi > \sigma^2_{ML}`.
* Variance split (the thesis chapter, section 5.5): at the optimum the latent part carries
  :math:`\sum_{j\le q}(l_j-t)_+` and the noise :math:`d\,\sigma^2` of the model's total variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaetheory._validation import check_positive
from vaetheory.densities import variance_floor_bound
from vaetheory.linear._checks import check_beta, check_latent_size, check_noise_variance
from vaetheory.linear.linear_vae import LinearVAEOptimum, optimum_at
from vaetheory.linear.ppca import as_moments
from vaetheory.results import Result


def fixed_variance_optimum(data_or_moments, q, noise_variance) -> LinearVAEOptimum:
    r"""The linear-VAE optimum with the decoder VARIANCE held at :math:`\sigma^2`.

    :math:`W^* = U_q(L_q-\sigma^2 I)_+^{1/2}`; active directions :math:`l_j > \sigma^2`, the others
    have a zero column and :math:`q(z_j|x)` equal to the prior. theory section 3; Lucas et al.
    (2019), arXiv:1911.02469.
    """
    moments = as_moments(data_or_moments)
    q = check_latent_size(q, moments.dim)
    return optimum_at(moments, q, check_noise_variance(noise_variance))


def beta_vae_optimum(data_or_moments, q, beta, noise_variance) -> LinearVAEOptimum:
    r"""The optimum of :math:`\mathrm{ELBO}_\beta = E_q\log p(x|z) - \beta\,\mathrm{KL}(q\|p)` at a
    fixed decoder VARIANCE :math:`\sigma^2`.

    :math:`\mathrm{ELBO}_\beta(W,V,D;\sigma^2) = \beta\,\mathrm{ELBO}(W,V,D;\beta\sigma^2) +
    \frac{\beta d}2\log(2\pi\beta\sigma^2) - \frac d2\log(2\pi\sigma^2)`, so the optimum is the
    linear-VAE optimum at :math:`t=\beta\sigma^2`: direction :math:`j` collapses iff
    :math:`l_j\le\beta\sigma^2`. theory section 3.
    """
    moments = as_moments(data_or_moments)
    q = check_latent_size(q, moments.dim)
    return optimum_at(moments, q, check_noise_variance(noise_variance), check_beta(beta))


@dataclass(frozen=True)
class FlooredOptimum(Result):
    r"""The pPCA / linear-VAE optimum under a floor :math:`\sigma^2\ge\xi` on the decoder VARIANCE.

    ``optimum`` is the linear-VAE optimum at :math:`\sigma^2 = \max(\xi,\sigma^2_{ML})`; ``binds``
    is :math:`\xi > \sigma^2_{ML}`; ``bound_per_point`` is :math:`-\frac d2\log(2\pi\xi)`
    (:func:`vaetheory.densities.variance_floor_bound`), which the likelihood never exceeds.
    """

    floor_variance: float
    unconstrained_noise_variance: float
    binds: bool
    bound_per_point: float
    optimum: LinearVAEOptimum


def floored_optimum(data_or_moments, q, floor_variance) -> FlooredOptimum:
    r"""The optimum of the pPCA likelihood (= linear-VAE ELBO) under :math:`\sigma^2\ge\xi`.

    The profile log-likelihood :math:`g(\sigma^2)` has derivative
    :math:`-\frac{1}{2\sigma^4}\sum_{j\in A}(\sigma^2 - l_j)`, :math:`A=\{j>q\}\cup\{j\le q: l_j<\sigma^2\}`,
    which changes sign once, at :math:`\sigma^2_{ML}` (derived), so the constrained optimum is
    :math:`\max(\xi,\sigma^2_{ML})`. For degenerate data (:math:`\sigma^2_{ML}=0`) the floor
    always binds and makes the optimum finite. theory sections 2 and 3.
    """
    moments = as_moments(data_or_moments)
    q = check_latent_size(q, moments.dim)
    xi = check_positive("floor_variance", floor_variance)
    sigma2_ml = moments.ml_noise_variance(q)  # 0 for degenerate data
    sigma2 = max(xi, sigma2_ml)
    return FlooredOptimum(
        floor_variance=xi,
        unconstrained_noise_variance=sigma2_ml,
        binds=xi > sigma2_ml,
        bound_per_point=variance_floor_bound(moments.dim, xi),
        optimum=optimum_at(moments, q, sigma2),
    )


@dataclass(frozen=True)
class VarianceSplit(Result):
    r"""How the model splits the total variance between the latent part and the noise.

    ``latent_variance`` :math:`=\operatorname{tr}(WW^\top)=\sum_{j\le q}(l_j-t)_+`,
    ``noise_variance_total`` :math:`= d\,\sigma^2`, ``model_total`` :math:`=\operatorname{tr}C` (their
    sum), ``data_total`` :math:`=\operatorname{tr}S`. At the pPCA optimum model_total = data_total.
    """

    q: int
    noise_variance: float
    latent_variance: float
    noise_variance_total: float
    model_total: float
    data_total: float

    @property
    def latent_fraction(self) -> float:
        """Share of the model's total variance carried by the latent part."""
        return self.latent_variance / self.model_total


def variance_split(data_or_moments, q, noise_variance=None) -> VarianceSplit:
    r"""The latent/noise split of the total variance (the thesis chapter, section 5.5; theory section 3).

    With ``noise_variance=None`` the split at the pPCA optimum: latent
    :math:`\sum_{j\le q}(l_j-\sigma^2_{ML})` and noise :math:`d\,\sigma^2_{ML}`, summing to
    :math:`\operatorname{tr}S`. With a fixed :math:`\sigma^2`, the split of the fixed-variance optimum
    (latent :math:`\sum_{j\le q}(l_j-\sigma^2)_+`); it no longer sums to :math:`\operatorname{tr}S`.
    Degenerate data give :math:`\sigma^2_{ML}=0`: all variance is latent.
    """
    moments = as_moments(data_or_moments)
    q = check_latent_size(q, moments.dim)
    if noise_variance is None:
        sigma2 = moments.ml_noise_variance(q)  # 0 for degenerate data
    else:
        sigma2 = check_noise_variance(noise_variance)
    lam = moments.eigenvalues[:q]
    latent = float(np.sum(np.where(moments.active(q, sigma2), lam - sigma2, 0.0)))
    noise = moments.dim * sigma2
    return VarianceSplit(
        q=q,
        noise_variance=sigma2,
        latent_variance=latent,
        noise_variance_total=noise,
        model_total=latent + noise,
        data_total=moments.total_variance,
    )


def collapse_threshold(noise_variance, beta=1.0) -> float:
    r"""The collapse threshold :math:`\beta\sigma^2`: direction j is active iff
    :math:`l_j > \beta\sigma^2`."""
    return check_beta(beta) * check_noise_variance(noise_variance)


__all__ = [
    "FlooredOptimum",
    "VarianceSplit",
    "beta_vae_optimum",
    "collapse_threshold",
    "fixed_variance_optimum",
    "floored_optimum",
    "variance_split",
]
