r"""One summary per latent size: what ``vaetheory linear`` prints (pPCA optimum, ELBO, collapse).

Each :class:`LatentSizeSummary` is computed from the data's :class:`SampleMoments` with the closed
forms of :mod:`~vaetheory.linear.ppca`, :mod:`~vaetheory.linear.linear_vae` and
:mod:`~vaetheory.linear.variants` (theory section 3). ``loglik_per_point`` is the mean pPCA
log-likelihood with the maximum-likelihood (1/n) covariance; ``elbo_per_point`` is the linear-VAE
ELBO at its closed-form optimum (equal to it). A beta / fixed-variance variant reports the
collapse threshold :math:`\beta\sigma^2` and which of the ``q`` directions stay active.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vaetheory._validation import check_positive
from vaetheory.linear._checks import check_beta, check_data, check_latent_size, check_noise_variance
from vaetheory.linear.linear_vae import linear_vae_elbo, linear_vae_optimum
from vaetheory.linear.moments import SampleMoments, sample_moments
from vaetheory.linear.ppca import ppca_mle
from vaetheory.linear.variants import beta_vae_optimum, floored_optimum, variance_split
from vaetheory.results import Result


@dataclass(frozen=True)
class LatentSizeSummary(Result):
    """The closed-form facts for one latent size ``q`` (see the module docstring)."""

    q: int
    sigma2: float
    loglik_per_point: float
    elbo_per_point: float
    active_directions: list[int]
    collapsed_directions: list[int]
    n_active: int
    degenerate: bool
    rank: int
    eigenvalues: list[float]
    latent_variance: float
    noise_variance_total: float
    total_variance: float
    variants: list[dict[str, Any]] = field(default_factory=list)
    floors: list[dict[str, Any]] = field(default_factory=list)


def _elbo_at_optimum(X: np.ndarray, moments: SampleMoments, q: int) -> float:
    opt = linear_vae_optimum(moments, q)
    return linear_vae_elbo(X, opt.W, opt.V, opt.D, opt.noise_variance, opt.mean)


def _variant(moments: SampleMoments, q: int, beta: float, sigma2: float, learned: bool) -> dict[str, Any]:
    opt = beta_vae_optimum(moments, q, beta, sigma2)
    return {
        "beta": beta,
        "sigma2": sigma2,
        "sigma2_source": "sigma2_ML of this q" if learned else "fixed (--sigma2)",
        "threshold": opt.effective_variance,
        "active_directions": opt.active_directions,
        "collapsed_directions": opt.collapsed_directions,
        "elbo_per_point": opt.elbo_per_point,
        "loglik_per_point": opt.log_likelihood_per_point,
    }


def summarize_latent_sizes(
    data,
    latent_sizes,
    *,
    betas=None,
    noise_variances=None,
    floor_variances=None,
    name: str = "data",
) -> list[LatentSizeSummary]:
    r"""A :class:`LatentSizeSummary` for each ``q`` in ``latent_sizes``.

    ``betas`` and ``noise_variances`` (fixed decoder VARIANCES) give one variant per pair; a beta
    without a fixed variance uses :math:`\sigma^2_{ML}` of that ``q`` (skipped for degenerate data,
    where it is 0); a fixed variance without a beta uses :math:`\beta=1`. ``floor_variances`` give
    the optimum under :math:`\sigma^2\ge\xi` (:func:`~vaetheory.linear.variants.floored_optimum`).
    ``name`` names the data in error messages.
    """
    betas = [check_beta(b) for b in (betas or [])]
    fixed = [check_noise_variance(s, name="sigma2") for s in (noise_variances or [])]
    floors = [check_positive("floor", f) for f in (floor_variances or [])]
    X = check_data(data, name)
    moments = sample_moments(X, name=name)
    out = []
    for q in latent_sizes:
        q = check_latent_size(q, moments.dim)
        fit = ppca_mle(moments, q)
        split = variance_split(moments, q)
        variants = []
        if fixed:
            variants = [_variant(moments, q, b, s, False) for s in fixed for b in (betas or [1.0])]
        elif betas and not fit.degenerate:
            variants = [_variant(moments, q, b, fit.noise_variance, True) for b in betas]
        floor_rows = []
        for xi in floors:
            fl = floored_optimum(moments, q, xi)
            floor_rows.append(
                {
                    "floor": xi,
                    "sigma2": fl.optimum.noise_variance,
                    "binds": fl.binds,
                    "loglik_per_point": fl.optimum.log_likelihood_per_point,
                    "bound_per_point": fl.bound_per_point,
                    "active_directions": fl.optimum.active_directions,
                    "collapsed_directions": fl.optimum.collapsed_directions,
                }
            )
        active = [int(j) + 1 for j in np.flatnonzero(moments.active(q, fit.noise_variance))]
        out.append(
            LatentSizeSummary(
                q=q,
                sigma2=fit.noise_variance,
                loglik_per_point=fit.log_likelihood_per_point,
                elbo_per_point=math.inf if fit.degenerate else _elbo_at_optimum(X, moments, q),
                active_directions=active,
                collapsed_directions=[j for j in range(1, q + 1) if j not in active],
                n_active=len(active),
                degenerate=fit.degenerate,
                rank=fit.rank,
                eigenvalues=[float(v) for v in np.asarray(moments.eigenvalues[:q])],
                latent_variance=split.latent_variance,
                noise_variance_total=split.noise_variance_total,
                total_variance=split.data_total,
                variants=variants,
                floors=floor_rows,
            )
        )
    return out
