r"""Decoder-variance policies and variance floors, each named and each with the bound it implies.

A Gaussian decoder :math:`p(x\mid z)=\mathcal N(\mu(z),\operatorname{diag}\sigma^2(z))` whose
variance is learned without a floor has an unbounded likelihood (Mattei & Frellsen 2018,
arXiv:1802.04826; theory section 2). A floor :math:`\sigma^2_j(z)\ge\xi` (a floor on the
VARIANCE) bounds every density value, :math:`\mathcal N(x;\mu,\sigma^2)\le(2\pi\xi)^{-d/2}`, hence

.. math:: \log p(x) \le -\frac d2 \log(2\pi\xi) \quad\text{per point}

(:func:`vaetheory.densities.variance_floor_bound`). Practitioners floor the variance in different
ways, and the ways differ in what they bound: the VALUE used in the likelihood, the GRADIENT that
trains the variance, or both. Every method here takes the decoder head's raw output :math:`\ell`
(the log variance, except for ``softplus`` where it is the softplus argument) and a floor
:math:`\xi` on the variance:

``clamp``
    :math:`\sigma^2=\max(e^{\ell},\xi)`. Bounds the value; the gradient below the floor is zero
    (a clamped unit gets no signal and can stay stuck there).
``softclip``
    the sigma-VAE's soft clip of the log STANDARD DEVIATION (Rybkin et al. 2021,
    arXiv:2006.13202, ``softclip(log_sigma, -6)``):
    :math:`\log\sigma = \log\sqrt\xi + \operatorname{softplus}(\ell/2-\log\sqrt\xi)`, so
    :math:`\sigma^2>\xi` strictly. Their default :math:`\log\sigma\ge-6` is the VARIANCE floor
    :math:`\xi=e^{-12}\approx 6.1\times10^{-6}`. Bounds value and gradient (smooth, never flat).
``softplus``
    :math:`\sigma^2=\operatorname{softplus}(\ell)+\xi`. Bounds value and gradient (smooth).
``gaussian_nll``
    the clamp of ``torch.nn.GaussianNLLLoss`` (default ``eps=1e-6``): its source does
    ``var = var.clone(); with torch.no_grad(): var.clamp_(min=eps)``, so the VALUE is clamped but
    the gradient passes through as if unclamped (straight-through). The likelihood it reports is
    bounded by the same formula, but the gradient keeps pushing the underlying variance below
    ``eps``: the parameter is not bounded, only the number computed from it. Here it is written out
    explicitly as
    :math:`\sigma^2=\operatorname{sg}[\max(e^{\ell},\xi)]+(e^{\ell}-\operatorname{sg}[e^{\ell}])`
    (sg: stop-gradient), whose value is exactly the clamped one.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from vaetheory._validation import check_choice, check_int, check_positive
from vaetheory.densities import std_floor_to_variance, variance_floor_bound
from vaetheory.results import Result

#: decoder-variance policies (Gaussian decoder)
VARIANCE_POLICIES = ("learned", "floor", "fixed", "shared", "calibrated")
#: ways of putting a floor under the decoder variance
FLOOR_METHODS = ("clamp", "softclip", "softplus", "gaussian_nll")
#: what a floor value given by a user is: a variance, a standard deviation, or a log standard deviation
FLOOR_UNITS = ("variance", "std", "log_std")

#: the sigma-VAE's floor on the log standard deviation (Rybkin et al. 2021): log sigma >= -6
SIGMA_VAE_LOG_STD_FLOOR = -6.0
#: torch.nn.GaussianNLLLoss's default eps, a floor on the variance
GAUSSIAN_NLL_EPS = 1e-6

#: for each method: (bounds the value?, bounds the gradient?, one-line statement)
FLOOR_BEHAVIOUR: dict[str, tuple[bool, bool, str]] = {
    "clamp": (
        True,
        True,
        "hard clamp max(exp(l), xi): the value is >= xi; below the floor the gradient is zero, so a "
        "clamped variance gets no training signal and can stay stuck at xi",
    ),
    "softclip": (
        True,
        True,
        "sigma-VAE softclip of log std: log std = log sqrt(xi) + softplus(l/2 - log sqrt(xi)) > log sqrt(xi);"
        " "
        "value and gradient are both smooth and the variance can only approach xi from above",
    ),
    "softplus": (
        True,
        True,
        "softplus(l) + xi: the value is > xi; value and gradient are smooth",
    ),
    "gaussian_nll": (
        True,
        False,
        "torch.nn.GaussianNLLLoss clamp (eps applied under torch.no_grad): the value used in the loss is "
        ">= eps, but the gradient passes straight through, so the underlying variance can keep "
        "shrinking below eps while the reported loss stays bounded",
    ),
}


def check_floor_method(method: str) -> str:
    """``method`` if it is one of :data:`FLOOR_METHODS`, else a ``ValueError`` listing them."""
    return check_choice("floor_method", method, FLOOR_METHODS)


def check_policy(variance: str) -> str:
    """``variance`` if it is one of :data:`VARIANCE_POLICIES`, else a ``ValueError`` listing them."""
    return check_choice("variance", variance, VARIANCE_POLICIES)


def floor_tensor(floor_variance: float, like: torch.Tensor) -> torch.Tensor:
    """The floor as a scalar tensor of ``like``'s dtype, rounded UP so that it is >= ``floor_variance``.

    Rounding to float32 can move ``xi`` slightly down; the next representable number above keeps
    the floor (and so the bound) exact. The tensor is cached per (floor, dtype, device), as it is
    needed at every training step; treat it as read-only.
    """
    return _floor_tensor(float(floor_variance), like.dtype, like.device)


@functools.lru_cache(maxsize=64)
def _floor_tensor(floor_variance: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    with torch.inference_mode(False):  # a normal tensor even if first asked for in inference mode
        t = torch.tensor(floor_variance, dtype=dtype, device=device)
        if float(t) < floor_variance:
            t = torch.nextafter(t, torch.tensor(math.inf, dtype=dtype, device=device))
    return t


def apply_floor(raw: torch.Tensor, floor_variance: float, method: str) -> torch.Tensor:
    r"""The floored decoder VARIANCE from the head's raw output ``raw`` (see the module docstring).

    ``raw`` is the log variance :math:`\ell` for ``clamp``, ``softclip`` and ``gaussian_nll`` and
    the softplus argument for ``softplus``. Every returned entry is :math:`\ge\xi` =
    ``floor_variance`` (strictly for ``softclip`` and ``softplus``).
    """
    xi = floor_tensor(floor_variance, raw)
    if method == "clamp":
        return torch.maximum(raw.exp(), xi)
    if method == "softclip":
        log_std_floor = 0.5 * torch.log(xi)
        log_std = log_std_floor + F.softplus(0.5 * raw - log_std_floor)
        return torch.maximum((2.0 * log_std).exp(), xi)  # exp rounding must not undercut xi
    if method == "softplus":
        return F.softplus(raw) + xi
    if method == "gaussian_nll":
        variance = raw.exp()
        # value: exactly max(variance, xi); gradient: that of variance (straight through)
        return torch.maximum(variance, xi).detach() + (variance - variance.detach())
    raise ValueError(f"floor_method must be one of {', '.join(map(repr, FLOOR_METHODS))}; got {method!r}")


def floor_variance_from(value: float, unit: str = "variance") -> float:
    r"""A floor given as a variance, a std (:math:`\xi=s^2`) or a log std (:math:`\xi=e^{2\log s}`)."""
    check_choice("unit", unit, FLOOR_UNITS)
    if unit == "variance":
        return check_positive("floor_variance", value)
    if unit == "std":
        return std_floor_to_variance(value)
    log_std = float(value)
    if not math.isfinite(log_std):
        raise ValueError(f"log std floor must be a finite real number; got {value!r}")
    return math.exp(2.0 * log_std)


@dataclass(frozen=True)
class FloorReport(Result):
    r"""What a floor setting implies: the variance floor, what it bounds, and the likelihood bound.

    ``bound_per_point`` :math:`=-\tfrac d2\log(2\pi\xi)` nats, ``bound_per_dimension``
    :math:`=-\tfrac12\log(2\pi\xi)` (theory section 2; Mattei & Frellsen 2018).
    """

    method: str
    value: float
    unit: str
    floor_variance: float
    floor_std: float
    dim: int
    bounds_value: bool
    bounds_gradient: bool
    behaviour: str
    bound_per_dimension: float
    bound_per_point: float

    def summary(self) -> str:
        """A few lines a user can paste: the floor in both units and the bound."""
        what = {
            (True, True): "bounds the value and the gradient",
            (True, False): "bounds the value only (the gradient passes through)",
        }[(self.bounds_value, self.bounds_gradient)]
        return (
            f"{self.method} with {self.unit} floor {self.value:g}: "
            f"variance floor xi = {self.floor_variance:.6g} "
            f"(std floor {self.floor_std:.6g}); {what}.\n"
            f"  implied bound: log p(x) <= -(d/2) log(2 pi xi) = {self.bound_per_point:.6g} nats per point "
            f"(d = {self.dim}; {self.bound_per_dimension:.6g} nats per dimension)\n"
            f"  {self.behaviour}"
        )


def floor_report(
    method: str, value: float | None = None, dim: int = 1, *, unit: str = "variance"
) -> FloorReport:
    r"""Answer "what bound does my setting imply?" for a floor ``method``, ``value`` and data size ``dim``.

    ``value`` is read in ``unit`` (``"variance"``, ``"std"`` or ``"log_std"``); when omitted the
    method's usual default is used: ``gaussian_nll`` ``eps=1e-6`` (variance), ``softclip`` the
    sigma-VAE's :math:`\log\sigma\ge-6` (log std), otherwise it is required. For example the
    default of ``torch.nn.GaussianNLLLoss`` implies :math:`-\tfrac12\log(2\pi\cdot10^{-6})\approx5.99`
    nats per dimension.
    """
    check_floor_method(method)
    dim = check_int("dim", dim, low=1)
    check_choice("unit", unit, FLOOR_UNITS)
    if value is None:
        if method == "gaussian_nll":
            value, unit = GAUSSIAN_NLL_EPS, "variance"
        elif method == "softclip":
            value, unit = SIGMA_VAE_LOG_STD_FLOOR, "log_std"
        else:
            raise ValueError(f"value (the floor) is required for floor_method {method!r}")
    xi = floor_variance_from(value, unit)
    bounds_value, bounds_gradient, behaviour = FLOOR_BEHAVIOUR[method]
    return FloorReport(
        method=method,
        value=float(value),
        unit=unit,
        floor_variance=xi,
        floor_std=math.sqrt(xi),
        dim=dim,
        bounds_value=bounds_value,
        bounds_gradient=bounds_gradient,
        behaviour=behaviour,
        bound_per_dimension=variance_floor_bound(1, xi),
        bound_per_point=variance_floor_bound(dim, xi),
    )
