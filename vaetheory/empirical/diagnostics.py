r"""Collapse metrics (one audited place) and a monitor for any PyTorch VAE training loop.

Metrics, for an encoder :math:`q(z\mid x)=\mathcal N(m(x),\operatorname{diag}s^2(x))` over data
:math:`x_1..x_n` (the empirical distribution, so covariances use :math:`1/n`):

* :func:`active_units` (Burda, Grosse & Salakhutdinov 2016, arXiv:1509.00519, section 5.2):
  :math:`A_u=\operatorname{Cov}_x\big(\mathbb E_{q(u\mid x)}[u]\big)=\frac1n\sum_i(m_u(x_i)-\bar m_u)^2`;
  unit :math:`u` is active if :math:`A_u>0.01`.
* :func:`kl_per_dimension`: :math:`\frac1n\sum_i\mathrm{KL}(q(z_u\mid x_i)\,\|\,\mathcal N(0,1))
  =\frac1n\sum_i\tfrac12(m_u^2+s_u^2-1-\log s_u^2)`.
* :func:`mutual_information`:
  :math:`I_q(x;z)=\frac1n\sum_i\mathbb E_{q(z\mid x_i)}[\log q(z\mid x_i)-\log q(z)]`,
  :math:`q(z)=\frac1n\sum_j q(z\mid x_j)` the aggregate posterior (Hoffman & Johnson 2016, "ELBO
  surgery"); equal to :math:`\overline{\mathrm{KL}}(q(z\mid x)\|p(z))-\mathrm{KL}(q(z)\|p(z))`,
  at most :math:`\log n`.

On the linear VAE at its optimum (theory section 3) with eigenvalues :math:`l_j` of the data
covariance and noise variance :math:`\sigma^2`: direction :math:`j` has :math:`A_j=1-\sigma^2/l_j`
and :math:`\mathrm{KL}_j=\tfrac12\log(l_j/\sigma^2)` if :math:`l_j>\sigma^2`, and 0 for both if
collapsed; the aggregate posterior is :math:`\mathcal N(0,I)` for Gaussian data, so
:math:`I=\sum_j\mathrm{KL}_j` (the tests check all three).

:class:`VarianceMonitor` warns when decoder variances collapse towards zero or a point's
log-likelihood passes the bound :math:`-\tfrac d2\log(2\pi\xi)` implied by a floor, naming the point.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch.distributions import Normal, kl_divergence

from vaetheory._validation import check_int, check_positive
from vaetheory.densities import variance_floor_bound
from vaetheory.results import Result

#: Burda et al. (2016)'s activity threshold
ACTIVE_UNIT_THRESHOLD = 0.01


@dataclass(frozen=True)
class ActiveUnits(Result):
    """Per-dimension activity :math:`A_u`, which units are active (:math:`A_u>` threshold) and how many."""

    activity: tuple[float, ...]
    active: tuple[bool, ...]
    count: int
    threshold: float


def _encode(model, x):
    from vaetheory.empirical.estimators import as_data_tensor

    x = as_data_tensor(x, model)
    with torch.no_grad():
        return model.encode(x)


def active_units(model, x, threshold: float = ACTIVE_UNIT_THRESHOLD) -> ActiveUnits:
    """Burda et al.'s active units: :math:`A_u=\\frac1n\\sum_i(m_u(x_i)-\\bar m_u)^2 > ` ``threshold``."""
    threshold = check_positive("threshold", threshold, allow_zero=True)
    mean, _ = _encode(model, x)
    activity = mean.double().var(dim=0, unbiased=False).tolist()
    active = tuple(a > threshold for a in activity)
    return ActiveUnits(activity=tuple(activity), active=active, count=int(sum(active)), threshold=threshold)


def kl_per_dimension(model, x) -> torch.Tensor:
    """Mean over points of :math:`\\mathrm{KL}(q(z_u\\mid x)\\|\\mathcal N(0,1))` per unit, ``[q]`` (nats).

    Each term is ``torch.distributions.kl_divergence`` of two Normals.
    """
    mean, variance = _encode(model, x)
    q = Normal(mean, variance.sqrt())
    p = Normal(torch.zeros_like(mean), torch.ones_like(mean))
    return kl_divergence(q, p).mean(dim=0)


def mutual_information(model, x, *, n_samples: int = 10, seed: int = 0, chunk_size: int = 256) -> float:
    r"""Monte Carlo :math:`I_q(x;z)` in nats (module docstring), ``n_samples`` draws per point.

    :math:`\log q(z)=\operatorname{logsumexp}_j\log q(z\mid x_j)-\log n`, computed over all n
    points in chunks; cost :math:`O(n^2\,S\,q)`.
    """
    n_samples = check_int("n_samples", n_samples, low=1)
    generator = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    mean, variance = _encode(model, x)
    mean, std = mean.double(), variance.double().sqrt()
    n = mean.shape[0]
    all_q = Normal(mean[None, :, :], std[None, :, :])  # [1, n, q] components of q(z)
    total = 0.0
    with torch.no_grad():
        for start in range(0, n, chunk_size):
            m, s = mean[start : start + chunk_size], std[start : start + chunk_size]
            z = m + s * torch.randn((n_samples, *m.shape), generator=generator, dtype=m.dtype)  # [S, c, q]
            log_q_own = Normal(m, s).log_prob(z).sum(-1)  # [S, c]
            comp = all_q.log_prob(z.reshape(-1, 1, z.shape[-1])).sum(-1)  # [S*c, n]
            log_q_agg = (torch.logsumexp(comp, dim=1) - math.log(n)).reshape(log_q_own.shape)
            total += float((log_q_own - log_q_agg).sum())
    return total / (n * n_samples)


# -- the monitor -------------------------------------------------------------------------------


class VarianceCollapseWarning(UserWarning):
    """A decoder variance fell below the monitor's collapse threshold."""


class BoundExceededWarning(UserWarning):
    """A point's log-likelihood passed the bound implied by the stated variance floor."""


@dataclass(frozen=True)
class MonitorEvent(Result):
    """One finding of :class:`VarianceMonitor`: ``kind`` is ``"collapse"`` or ``"bound"``."""

    step: int
    kind: str
    point: int
    value: float
    threshold: float
    message: str


class VarianceMonitor:
    r"""Attach to any PyTorch VAE training loop: call :meth:`check` with the decoder variances.

    Parameters
    ----------
    floor_variance:
        the floor :math:`\xi` (a VARIANCE) your model is supposed to respect; with it the monitor
        checks per-point log-likelihoods against :math:`-\tfrac d2\log(2\pi\xi)` (theory section 2).
    collapse_variance:
        warn when any decoder VARIANCE is below this (default :math:`10^{-5}`).
    warn:
        emit ``warnings.warn`` (:class:`VarianceCollapseWarning`, :class:`BoundExceededWarning`);
        the findings are also kept in :attr:`events`.

    Example::

        monitor = VarianceMonitor(floor_variance=1e-3)
        ...
        mu, var = decoder(z)
        monitor.check(step, var, point_loglik=elbo_per_point, point_index=batch_index)
    """

    def __init__(
        self, *, floor_variance: float | None = None, collapse_variance: float = 1e-5, warn: bool = True
    ):
        self.floor_variance = (
            None if floor_variance is None else check_positive("floor_variance", floor_variance)
        )
        self.collapse_variance = check_positive("collapse_variance", collapse_variance)
        self.warn = bool(warn)
        self.events: list[MonitorEvent] = []

    def check(self, step: int, variance, point_loglik=None, point_index=None) -> list[MonitorEvent]:
        """Check one step. ``variance``: ``[n, d]`` or ``[S, n, d]`` decoder VARIANCES (rows are points);
        ``point_loglik``: ``[n]`` per-point log-likelihood estimates (nats); ``point_index``: ``[n]``
        the training indices of the rows (default ``0..n-1``). Returns this step's new events."""
        step = check_int("step", step)
        var = torch.as_tensor(variance).detach().double()
        if var.dim() == 1:
            var = var[None]
        if var.dim() == 3:
            var = var.amin(dim=0)
        if var.dim() != 2:
            raise ValueError(
                f"variance must have shape [n, d] or [S, n, d]; got {tuple(torch.as_tensor(variance).shape)}"
            )
        n, d = var.shape
        index = (
            np.arange(n)
            if point_index is None
            else np.asarray(torch.as_tensor(point_index).cpu()).reshape(-1)
        )
        if index.shape[0] != n:
            raise ValueError(
                f"point_index must have {n} entries (one per row of variance); got {index.shape[0]}"
            )
        found: list[MonitorEvent] = []
        per_point = var.amin(dim=1)
        i = int(torch.argmin(torch.nan_to_num(per_point, nan=-math.inf)))
        v = float(per_point[i])
        if not (v >= self.collapse_variance):
            found.append(
                MonitorEvent(
                    step=step,
                    kind="collapse",
                    point=int(index[i]),
                    value=v,
                    threshold=self.collapse_variance,
                    message=(
                        f"step {step}: decoder variance {v:.3g} < {self.collapse_variance:.3g} at training "
                        f"point {int(index[i])}: the variance is collapsing (unbounded likelihood, "
                        "theory section 2); "
                        "consider a variance floor"
                    ),
                )
            )
        if point_loglik is not None and self.floor_variance is not None:
            ll = torch.as_tensor(point_loglik).detach().double().reshape(-1)
            if ll.shape[0] != n:
                raise ValueError(f"point_loglik must have {n} entries; got {ll.shape[0]}")
            bound = variance_floor_bound(d, self.floor_variance)
            j = int(torch.argmax(torch.nan_to_num(ll, nan=math.inf)))
            value = float(ll[j])
            if not (value <= bound):
                found.append(
                    MonitorEvent(
                        step=step,
                        kind="bound",
                        point=int(index[j]),
                        value=value,
                        threshold=bound,
                        message=(
                            f"step {step}: log-likelihood {value:.6g} of training point {int(index[j])} "
                            f"exceeds -(d/2) log(2 pi xi) = {bound:.6g} (d = {d}, "
                            f"xi = {self.floor_variance:g}): the floor "
                            "is not in effect (or it bounds only the value used in the loss)"
                        ),
                    )
                )
        for event in found:
            if self.warn:
                category = VarianceCollapseWarning if event.kind == "collapse" else BoundExceededWarning
                warnings.warn(event.message, category, stacklevel=2)
        self.events.extend(found)
        return found
