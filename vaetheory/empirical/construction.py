r"""The explicit blow-up: a real decoder and a parameter sequence along which log p(data) -> +infinity.

theory section 2 (derived; Mattei & Frellsen 2018, arXiv:1802.04826). Latent :math:`z\in\mathbb R`,
prior :math:`\mathcal N(0,1)`, a data set :math:`x_1,\dots,x_n\in\mathbb R^d`. The decoder is the
:class:`~vaetheory.empirical.model.GaussianVAE` decoder with ONE tanh hidden unit
(Kingma & Welling's appendix C.2 architecture), with parameters at sequence index :math:`k`

.. math:: h=\tanh(kz),\qquad \mu(z)=x_1,\qquad
          \log\sigma_k^2(z) = -\tfrac k2 - \tfrac k2 h = -\tfrac k2\,(1+\tanh(kz)),

so :math:`\sigma^2\to e^{-k}` for :math:`z>0` and :math:`\to1` for :math:`z<0`. Then

.. math:: \log p_k(x_1) = \tfrac{dk}2 - \tfrac d2\log 2\pi - \log 2 + o(1),

about :math:`k/2` nats per dimension per unit of k, while every other point keeps a bounded
density (:math:`p_k(x_i)\to\tfrac12\mathcal N(x_i;x_1,I)`): the data set's log-likelihood goes to
:math:`+\infty`. With a floor :math:`\xi` (the policy's floor, default the clamp) the same sequence
plateaus under :math:`-\tfrac d2\log(2\pi\xi)` per point (near :math:`-\tfrac d2\log(2\pi\xi)-\log2`).
Every log-likelihood here is exact (quadrature, :func:`~vaetheory.empirical.estimators.exact_log_marginal`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vaetheory._validation import check_finite_array, check_int, check_positive
from vaetheory.densities import LOG_2PI, variance_floor_bound
from vaetheory.empirical.estimators import exact_log_marginal
from vaetheory.empirical.model import VAEConfig, build_model
from vaetheory.empirical.policies import check_floor_method
from vaetheory.results import Result

#: the theory's growth rate of log p(x_1) per data dimension per unit of k
THEORY_RATE_PER_DIMENSION = 0.5
DEFAULT_KS = tuple(range(0, 31))
DEFAULT_FLOORS = (1e-2, 1e-3, 1e-4)


def construction_data(n_points: int = 5) -> np.ndarray:
    """The first ``n_points`` of scikit-learn's digits scaled to [0, 1] (distinct points, d = 64)."""
    from vaetheory.datasets import load_digits

    n_points = check_int("n_points", n_points, low=1, high=1797)
    return load_digits(scale="unit")[:n_points]


def construction_model(
    anchor,
    k: float,
    *,
    floor_variance: float | None = None,
    floor_method: str = "clamp",
    seed: int = 0,
):
    r"""The decoder at index ``k``: :math:`\mu(z)=` ``anchor``, :math:`\log\sigma^2=-\tfrac k2(1+\tanh kz)`.

    A :class:`~vaetheory.empirical.model.GaussianVAE` (latent 1, one tanh hidden unit); policy
    ``learned`` without ``floor_variance``, else ``floor`` with ``floor_method`` (for ``softplus``
    the head output is the softplus argument, so the variance is
    :math:`\operatorname{softplus}(\ell)+\xi`, still :math:`\to\xi` for :math:`z>0`). The encoder
    is a seeded random network; it plays no part in :math:`\log p(x)`.
    """
    anchor = check_finite_array("anchor", anchor, ndim=1)
    k = float(check_positive("k", k, allow_zero=True))
    d = anchor.shape[0]
    if floor_variance is None:
        config = VAEConfig(data_dim=d, latent_dim=1, hidden=(1,), variance="learned")
    else:
        check_floor_method(floor_method)
        config = VAEConfig(
            data_dim=d,
            latent_dim=1,
            hidden=(1,),
            variance="floor",
            floor_variance=check_positive("floor_variance", floor_variance),
            floor_method=floor_method,
        )
    model = build_model(config, seed).double()
    hidden = model.decoder_trunk[0]
    with torch.no_grad():
        hidden.weight.fill_(k)
        hidden.bias.zero_()
        model.decoder_mean.weight.zero_()
        model.decoder_mean.bias.copy_(torch.as_tensor(anchor))
        model.decoder_raw_variance.weight.fill_(-k / 2)
        model.decoder_raw_variance.bias.fill_(-k / 2)
    return model


@dataclass(frozen=True)
class BlowupRun(Result):
    """One sequence (unfloored: ``floor`` None) of exact log-likelihoods along the construction.

    ``loglik[j]``: log p of the exploding point at ``ks[j]`` (nats); ``others_max_loglik[j]``: the
    largest log p among the other points; ``total_loglik[j]``: the data set's log-likelihood.
    ``bound``: :math:`-\\tfrac d2\\log(2\\pi\\xi)` per point, None without a floor.
    """

    floor: float | None
    floor_method: str | None
    bound: float | None
    dim: int
    loglik: tuple[float, ...]
    others_max_loglik: tuple[float, ...]
    total_loglik: tuple[float, ...]


@dataclass(frozen=True)
class BlowupResult(Result):
    """The construction's runs, the measured growth rate, and what the theory says."""

    ks: tuple[float, ...]
    point: int
    n_points: int
    dim: int
    runs: tuple[BlowupRun, ...]
    measured_rate_per_dimension: float
    theory_rate_per_dimension: float
    asymptote_unfloored: tuple[float, ...]
    formula: str
    reference: str
    provenance: dict


def measured_rate(ks, loglik, dim: int) -> float:
    """Least-squares slope of log p(x_1) against k over the last half of the sequence, divided by d."""
    ks = np.asarray(ks, dtype=np.float64)
    y = np.asarray(loglik, dtype=np.float64)
    half = len(ks) // 2
    if len(ks) - half < 2:
        raise ValueError("ks must hold at least 3 values to measure a rate")
    slope = np.polyfit(ks[half:], y[half:], 1)[0]
    return float(slope / dim)


def blowup_sequence(
    data=None,
    ks=DEFAULT_KS,
    floors=DEFAULT_FLOORS,
    *,
    point: int = 0,
    floor_method: str = "clamp",
    n_panels: int = 400,
) -> BlowupResult:
    r"""Exact log-likelihoods along the construction, unfloored and for each floor (a VARIANCE).

    ``data`` defaults to :func:`construction_data`; the decoder mean sits on ``data[point]``.
    Returns the per-point log p of that point, the best other point and the data set's total for
    each k, the bound of each floor, and the measured rate against the theory's
    :math:`\tfrac12` nat per dimension per unit of k (asymptote
    :math:`\tfrac{dk}2-\tfrac d2\log2\pi-\log2`).
    """
    from vaetheory.provenance import provenance

    data = construction_data() if data is None else check_finite_array("data", data, ndim=2, min_rows=1)
    n, d = data.shape
    point = check_int("point", point, low=0, high=n - 1)
    ks = tuple(float(check_positive("k", k, allow_zero=True)) for k in ks)
    if len(ks) < 3:
        raise ValueError(f"ks must hold at least 3 values; got {len(ks)}")
    floors = tuple(check_positive("floor", f) for f in floors)
    check_floor_method(floor_method)
    others = [i for i in range(n) if i != point]
    runs = []
    for floor in (None, *floors):
        per_k = []
        for k in ks:
            model = construction_model(data[point], k, floor_variance=floor, floor_method=floor_method)
            per_k.append(exact_log_marginal(model, data, n_panels=n_panels).numpy())
        per_k = np.asarray(per_k)
        runs.append(
            BlowupRun(
                floor=floor,
                floor_method=None if floor is None else floor_method,
                bound=None if floor is None else variance_floor_bound(d, floor),
                dim=d,
                loglik=tuple(per_k[:, point].tolist()),
                others_max_loglik=tuple(per_k[:, others].max(axis=1).tolist()) if others else (),
                total_loglik=tuple(per_k.sum(axis=1).tolist()),
            )
        )
    asymptote = tuple(d * k / 2 - d / 2 * LOG_2PI - np.log(2.0) for k in ks)
    return BlowupResult(
        ks=ks,
        point=point,
        n_points=n,
        dim=d,
        runs=tuple(runs),
        measured_rate_per_dimension=measured_rate(ks, runs[0].loglik, d),
        theory_rate_per_dimension=THEORY_RATE_PER_DIMENSION,
        asymptote_unfloored=asymptote,
        formula="log sigma_k^2(z) = -(k/2)(1 + tanh(k z)), mu(z) = x_1; floor bound -(d/2) log(2 pi xi)",
        reference="Mattei & Frellsen (2018), arXiv:1802.04826; theory section 2",
        provenance=provenance(
            seed=None,  # no random numbers: every value is an exact quadrature of a fixed decoder
            parameters={
                "ks": ks,
                "floors": floors,
                "point": point,
                "floor_method": floor_method,
                "n_points": n,
                "dim": d,
                "n_panels": n_panels,
            },
        ),
    )
