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

Registry. Each floor method is a :class:`FloorMethod` subclass and each decoder-variance policy a
:class:`VariancePolicy` subclass, registered under its name with :func:`register_floor_method` /
:func:`register_policy` (as ``torch.distributions.kl.register_kl`` registers KL rules). The model,
the training loop, the stacked sweep, the figures and the command line read everything they need
from the registered object (its parameters, its variance from the head's output, its unfloored
variance, what it bounds, its bound per point for a data dimension, its label and colour key), so
a new policy is one class: ``@register_policy class MyPolicy(VariancePolicy): name = "mine" ...``.
:data:`VARIANCE_POLICIES` and :data:`FLOOR_METHODS` are live views of the registered names.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from vaetheory._validation import check_choice, check_int, check_positive
from vaetheory.densities import log_std_floor_to_variance, std_floor_to_variance, variance_floor_bound
from vaetheory.results import Result

#: what a floor value given by a user is: a variance, a standard deviation, or a log standard deviation
FLOOR_UNITS = ("variance", "std", "log_std")

#: the sigma-VAE's floor on the log standard deviation (Rybkin et al. 2021): log sigma >= -6
SIGMA_VAE_LOG_STD_FLOOR = -6.0
#: torch.nn.GaussianNLLLoss's default eps, a floor on the variance
GAUSSIAN_NLL_EPS = 1e-6


class _Names(Sequence):
    """The names of a registry, in registration order, read when used (a new registration shows)."""

    def __init__(self, registry: Mapping[str, Any]):
        self._registry = registry

    def __getitem__(self, index):
        return tuple(self._registry)[index]

    def __len__(self) -> int:
        return len(self._registry)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._registry))

    def __contains__(self, name: object) -> bool:
        return name in self._registry

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, (tuple, list, _Names)) else other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


# -- floor methods ----------------------------------------------------------------------------------


class FloorMethod:
    """A way of putting a floor :math:`\\xi` under the decoder variance (subclass and register).

    ``floored(raw, xi, log_xi)`` gives the VARIANCE and its log from the head's raw output, with
    ``xi`` and ``log_xi`` tensors rounded UP to ``raw``'s dtype (:func:`floor_tensor`,
    :func:`log_floor_tensor`); every variance returned must be ``>= xi`` and every log variance
    ``>= log_xi``, so the density is bounded by :math:`(2\\pi\\xi)^{-1/2}` per dimension.
    """

    name: ClassVar[str]
    #: whether the floor bounds the value used in the likelihood, and the gradient that trains it
    bounds_value: ClassVar[bool] = True
    bounds_gradient: ClassVar[bool] = True
    #: one-line statement of what the method does (floor_report, the CLI)
    behaviour: ClassVar[str] = ""
    #: the method's usual floor when a user gives none, as (value, unit); None: a value is required
    default_floor: ClassVar[tuple[float, str] | None] = None

    def floored(
        self, raw: torch.Tensor, xi: torch.Tensor, log_xi: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def unfloored(self, raw: torch.Tensor) -> torch.Tensor:
        """The variance the head asks for before the floor (:math:`e^{\\ell}` unless overridden)."""
        return raw.exp()


#: name -> FloorMethod subclass
FLOOR_METHOD_REGISTRY: dict[str, type[FloorMethod]] = {}
#: ways of putting a floor under the decoder variance (live view of the registry)
FLOOR_METHODS: Sequence[str] = _Names(FLOOR_METHOD_REGISTRY)


class _Behaviour(Mapping):
    """method -> (bounds the value?, bounds the gradient?, one-line statement), read from the registry."""

    def __getitem__(self, name: str) -> tuple[bool, bool, str]:
        cls = FLOOR_METHOD_REGISTRY[name]
        return cls.bounds_value, cls.bounds_gradient, cls.behaviour

    def __iter__(self):
        return iter(tuple(FLOOR_METHOD_REGISTRY))

    def __len__(self) -> int:
        return len(FLOOR_METHOD_REGISTRY)


#: for each method: (bounds the value?, bounds the gradient?, one-line statement)
FLOOR_BEHAVIOUR: Mapping[str, tuple[bool, bool, str]] = _Behaviour()


def register_floor_method(cls: type[FloorMethod]) -> type[FloorMethod]:
    """Class decorator: register a :class:`FloorMethod` subclass under ``cls.name``."""
    if not (isinstance(cls, type) and issubclass(cls, FloorMethod)):
        raise ValueError(f"register_floor_method needs a FloorMethod subclass; got {cls!r}")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a floor method needs a name that is an identifier; got {name!r}")
    FLOOR_METHOD_REGISTRY[name] = cls
    return cls


def floor_method(name: str) -> FloorMethod:
    """The registered floor method ``name`` (a ``ValueError`` listing the names otherwise)."""
    return FLOOR_METHOD_REGISTRY[check_floor_method(name)]()


@register_floor_method
class Clamp(FloorMethod):
    name = "clamp"
    behaviour = (
        "hard clamp max(exp(l), xi): the value is >= xi; below the floor the gradient is zero, so a "
        "clamped variance gets no training signal and can stay stuck at xi"
    )

    def floored(self, raw, xi, log_xi):
        return torch.maximum(raw.exp(), xi), torch.maximum(raw, log_xi)


@register_floor_method
class SoftClip(FloorMethod):
    name = "softclip"
    behaviour = (
        "sigma-VAE softclip of log std: log std = log sqrt(xi) + softplus(l/2 - log sqrt(xi)) > log sqrt(xi);"
        " value and gradient are both smooth and the variance can only approach xi from above"
    )
    default_floor = (SIGMA_VAE_LOG_STD_FLOOR, "log_std")

    def floored(self, raw, xi, log_xi):
        log_std_floor = 0.5 * torch.log(xi)
        log_variance = 2.0 * (log_std_floor + F.softplus(0.5 * raw - log_std_floor))
        # exp and log rounding must not undercut xi
        return torch.maximum(log_variance.exp(), xi), torch.maximum(log_variance, log_xi)


@register_floor_method
class Softplus(FloorMethod):
    name = "softplus"
    behaviour = "softplus(l) + xi: the value is > xi; value and gradient are smooth"

    def floored(self, raw, xi, log_xi):
        variance = F.softplus(raw) + xi
        return variance, torch.maximum(variance.log(), log_xi)

    def unfloored(self, raw):
        return F.softplus(raw)


@register_floor_method
class GaussianNLLClamp(FloorMethod):
    name = "gaussian_nll"
    bounds_gradient = False
    behaviour = (
        "torch.nn.GaussianNLLLoss clamp (eps applied under torch.no_grad): the value used in the loss is "
        ">= eps, but the gradient passes straight through, so the underlying variance can keep "
        "shrinking below eps while the reported loss stays bounded"
    )
    default_floor = (GAUSSIAN_NLL_EPS, "variance")

    def floored(self, raw, xi, log_xi):
        variance = raw.exp()
        # value: exactly max(variance, xi); gradient: that of variance (straight through)
        variance = torch.maximum(variance, xi).detach() + (variance - variance.detach())
        # GaussianNLLLoss takes log(var) of the clamped var (gradient straight through again)
        return variance, variance.log()


def check_floor_method(method: str) -> str:
    """``method`` if it is a registered floor method (:data:`FLOOR_METHODS`), else a ``ValueError``."""
    return check_choice("floor_method", method, FLOOR_METHODS)


def floor_tensor(floor_variance: float, like: torch.Tensor) -> torch.Tensor:
    """The floor as a scalar tensor of ``like``'s dtype, rounded UP so that it is >= ``floor_variance``.

    Rounding to float32 can move ``xi`` slightly down; the next representable number above keeps
    the floor (and so the bound) exact. The tensor is cached per (floor, dtype, device), as it is
    needed at every training step; treat it as read-only.
    """
    return _rounded_up(float(floor_variance), like.dtype, like.device)


def log_floor_tensor(floor_variance: float, like: torch.Tensor) -> torch.Tensor:
    """:math:`\\log\\xi` as a scalar tensor of ``like``'s dtype, rounded UP (>= the float64 log)."""
    return _rounded_up(math.log(float(floor_variance)), like.dtype, like.device)


@functools.lru_cache(maxsize=128)
def _rounded_up(value: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    with torch.inference_mode(False):  # a normal tensor even if first asked for in inference mode
        t = torch.tensor(value, dtype=dtype)  # on the CPU, where the rounding can be read
        if float(t) < value:
            t = torch.nextafter(t, torch.tensor(math.inf, dtype=dtype))
    return t.to(device)


def apply_floor(raw: torch.Tensor, floor_variance: float, method: str) -> torch.Tensor:
    r"""The floored decoder VARIANCE from the head's raw output ``raw`` (see the module docstring).

    ``raw`` is the log variance :math:`\ell` for ``clamp``, ``softclip`` and ``gaussian_nll`` and
    the softplus argument for ``softplus``. Every returned entry is :math:`\ge\xi` =
    ``floor_variance`` (strictly for ``softclip`` and ``softplus``).
    """
    return apply_floor_log(raw, floor_variance, method)[0]


def apply_floor_log(
    raw: torch.Tensor, floor_variance: float, method: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`apply_floor`'s variance and its log (``>= log xi``), as the model uses them."""
    return floor_method(method).floored(
        raw, floor_tensor(floor_variance, raw), log_floor_tensor(floor_variance, raw)
    )


# -- decoder-variance policies ----------------------------------------------------------------------


class VariancePolicy:
    """A decoder-variance policy: subclass, set the class attributes, register with :func:`register_policy`.

    An instance belongs to one model configuration (``config``, a ``VAEConfig``). The model asks it:

    * :meth:`build`: the parameters and buffers the policy adds to the model (persistent: saved in
      checkpoints); :meth:`tensors`: derived constants (a floor in the model's dtype), kept as
      non-persistent buffers that follow the model's dtype and device;
    * :meth:`variance`: the decoder VARIANCE and its log from the head's raw output ``raw``
      (``None`` unless :attr:`raw_head`), the decoder mean and the data (``None`` outside a
      training step). It must use tensors of the model only (not Python numbers of the config),
      so that the stacked sweep, which runs K configurations through one module, is exact;
    * :meth:`unfloored_variance`, :meth:`floor`, :meth:`bound_per_point`, :meth:`describe`.
    """

    name: ClassVar[str]
    #: plain-text name in legends and messages
    label: ClassVar[str] = ""
    #: key of ``vaetheory.plots.style.POLICY_COLORS`` or an Okabe-Ito colour name (``plots.style.OKABE_ITO``)
    colour_key: ClassVar[str] = "black"
    #: the VAEConfig fields this policy reads (any other of floor_variance / sigma must be None)
    uses: ClassVar[tuple[str, ...]] = ()
    #: whether the decoder head has a per-dimension raw output l(z) for this policy
    raw_head: ClassVar[bool] = False
    #: whether the policy puts a floor xi under a learned variance (figures draw xi, the unfloored variance)
    floored: ClassVar[bool] = False
    #: whether the variance is computed from the data x (no closed-form linear marginal)
    data_dependent: ClassVar[bool] = False
    #: whether the policy bounds the likelihood value and the gradient that trains the variance
    bounds_value: ClassVar[bool] = False
    bounds_gradient: ClassVar[bool] = False
    #: whether the policy gives the ELBO's elementwise log-likelihood itself (:meth:`log_density`);
    #: False: the Gaussian log-density of the variance (``model.gaussian_log_density``)
    custom_log_density: ClassVar[bool] = False
    #: whether the raw variance head reads the decoder trunk's output detached, so that no gradient
    #: of the variance reaches the trunk, the mean or the encoder (faithful training, Stirn et al. 2023)
    detach_variance_trunk: ClassVar[bool] = False

    def __init__(self, config):
        self.config = config

    def log_density(self, module, x, mean, variance, log_variance) -> torch.Tensor:
        """The elementwise log-likelihood term of the ELBO (used when :attr:`custom_log_density`)."""
        raise NotImplementedError

    @classmethod
    def validate(cls, config) -> None:
        """Raise ``ValueError`` naming a missing or bad parameter of ``config`` (Gaussian likelihood)."""

    def build(self, module: torch.nn.Module) -> None:
        """Register the policy's own parameters and buffers on ``module`` (none by default)."""

    def tensors(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        """Derived constants in ``like``'s dtype and device (non-persistent buffers of the model)."""
        return {}

    def variance(
        self, module, raw: torch.Tensor | None, mean: torch.Tensor, x: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def unfloored_variance(self, module, raw: torch.Tensor | None) -> torch.Tensor | None:
        """The variance before any floor (None: the policy has no floor below a learned variance)."""
        return None

    def floor(self) -> float | None:
        """The smallest decoder VARIANCE the policy allows (None: no positive lower bound)."""
        return None

    def bound_per_point(self, data_dim: int) -> float | None:
        """The bound :math:`-\\tfrac d2\\log(2\\pi\\xi)` on log p(x) per point for ``data_dim``, or None."""
        xi = self.floor()
        return None if xi is None else variance_floor_bound(data_dim, xi)

    def describe(self, *, math: bool = True) -> str:
        """A legend label naming the policy and its parameters (mathtext if ``math``)."""
        return self.label or self.name


#: name -> VariancePolicy subclass
POLICY_REGISTRY: dict[str, type[VariancePolicy]] = {}
#: decoder-variance policies (Gaussian decoder; live view of the registry)
VARIANCE_POLICIES: Sequence[str] = _Names(POLICY_REGISTRY)
#: VAEConfig fields that only some policies use
POLICY_FIELDS = ("floor_variance", "sigma")


def register_policy(cls: type[VariancePolicy]) -> type[VariancePolicy]:
    """Class decorator: register a :class:`VariancePolicy` subclass under ``cls.name``."""
    if not (isinstance(cls, type) and issubclass(cls, VariancePolicy)):
        raise ValueError(f"register_policy needs a VariancePolicy subclass; got {cls!r}")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a policy needs a name that is an identifier; got {name!r}")
    POLICY_REGISTRY[name] = cls
    return cls


def check_policy(variance: str) -> str:
    """``variance`` if it is a registered policy (:data:`VARIANCE_POLICIES`), else a ``ValueError``."""
    return check_choice("variance", variance, VARIANCE_POLICIES)


def policy_class(name: str) -> type[VariancePolicy]:
    """The registered policy class ``name`` (a ``ValueError`` listing the names otherwise)."""
    return POLICY_REGISTRY[check_policy(name)]


def get_policy(config) -> VariancePolicy:
    """The policy object of a ``VAEConfig`` (validated)."""
    cls = policy_class(config.variance)
    for field in POLICY_FIELDS:
        if field not in cls.uses and getattr(config, field) is not None:
            users = " or ".join(f"variance={n!r}" for n, c in POLICY_REGISTRY.items() if field in c.uses)
            raise ValueError(
                f"{field} is used only by {users or 'no registered policy'}; got variance={config.variance!r}"
            )
    cls.validate(config)
    return cls(config)


@register_policy
class Learned(VariancePolicy):
    r""":math:`\sigma^2_j(z)=e^{\ell_j(z)}`, per dimension, heteroscedastic, no floor: unbounded."""

    name = "learned"
    label = "learned"
    colour_key = "learned"
    raw_head = True

    def variance(self, module, raw, mean, x):
        return raw.exp(), raw

    def unfloored_variance(self, module, raw):
        return raw.exp()


@register_policy
class Floor(VariancePolicy):
    r"""The learned head with a floor :math:`\sigma^2_j\ge\xi` (a VARIANCE) applied by ``floor_method``."""

    name = "floor"
    label = "floor"
    colour_key = "floor"
    uses = ("floor_variance",)
    raw_head = True
    floored = True
    bounds_value = True

    def __init__(self, config):
        super().__init__(config)
        self.method = floor_method(config.floor_method)

    @classmethod
    def validate(cls, config):
        if config.floor_variance is None:
            raise ValueError("variance='floor' needs floor_variance (xi > 0, a floor on the variance)")
        check_positive("floor_variance", config.floor_variance)

    @property
    def bounds_gradient(self) -> bool:  # type: ignore[override]
        return self.method.bounds_gradient

    def tensors(self, like):
        xi = self.config.floor_variance
        return {
            "decoder_variance_floor": floor_tensor(xi, like),
            "decoder_log_variance_floor": log_floor_tensor(xi, like),
        }

    def variance(self, module, raw, mean, x):
        return self.method.floored(raw, module.decoder_variance_floor, module.decoder_log_variance_floor)

    def unfloored_variance(self, module, raw):
        return self.method.unfloored(raw)

    def floor(self):
        return self.config.floor_variance

    def describe(self, *, math=True):
        xi = self.config.floor_variance
        xi_text = rf"$\xi = {xi:g}$" if math else f"xi = {xi:g}"
        return f"floor ({self.config.floor_method}) {xi_text}"


@register_policy
class Fixed(VariancePolicy):
    r""":math:`\sigma^2=s^2` with ``sigma`` = :math:`s` a STD (``sigma=1``: the MSE objective)."""

    name = "fixed"
    label = "fixed"
    colour_key = "fixed"
    uses = ("sigma",)
    bounds_value = True
    bounds_gradient = True

    @classmethod
    def validate(cls, config):
        if config.sigma is None:
            raise ValueError("variance='fixed' needs sigma (the decoder std, > 0; 1.0 is the MSE objective)")
        check_positive("sigma", config.sigma)

    def tensors(self, like):
        # the Python float sigma**2 rounded to the dtype (as torch.full_like(mean, sigma**2))
        variance = torch.tensor(self.config.sigma**2, dtype=like.dtype, device=like.device)
        return {"decoder_fixed_variance": variance, "decoder_fixed_log_variance": variance.log()}

    def variance(self, module, raw, mean, x):
        return (
            module.decoder_fixed_variance.expand_as(mean),
            module.decoder_fixed_log_variance.expand_as(mean),
        )

    def floor(self):
        return self.config.sigma**2

    def describe(self, *, math=True):
        return f"fixed std {self.config.sigma:g}"


@register_policy
class Shared(VariancePolicy):
    r"""One learned variance :math:`e^{\lambda}` shared by all dimensions and points: unbounded."""

    name = "shared"
    label = "shared"
    colour_key = "shared"

    def build(self, module):
        module.decoder_log_variance_shared = torch.nn.Parameter(torch.zeros(()))

    def variance(self, module, raw, mean, x):
        log_variance = module.decoder_log_variance_shared
        return log_variance.exp().expand_as(mean), log_variance.expand_as(mean)


@register_policy
class Calibrated(VariancePolicy):
    r"""The sigma-VAE's closed form :math:`\sigma^2=\mathrm{MSE}(x,\mu(z))` (Rybkin et al. 2021).

    Averaged over the batch's samples, points and dimensions during a training step (training
    mode, gradients enabled, ``x`` given); the last training value is kept (buffer
    ``calibrated_variance``) and used everywhere else, so that an evaluated likelihood does not
    depend on how points or quadrature nodes are batched.
    """

    name = "calibrated"
    label = "calibrated"
    colour_key = "calibrated"
    data_dependent = True

    def build(self, module):
        module.register_buffer("calibrated_variance", torch.ones(()))

    def variance(self, module, raw, mean, x):
        if x is not None and module.training and torch.is_grad_enabled():
            mse = ((x - mean) ** 2).mean()
            module.calibrated_variance.copy_(mse.detach())
            variance = mse
        else:
            variance = module.calibrated_variance.to(mean.dtype)
        return variance.expand_as(mean), variance.log().expand_as(mean)


# -- floor reports ----------------------------------------------------------------------------------


def floor_variance_from(value: float, unit: str = "variance") -> float:
    r"""A floor given as a variance, a std (:math:`\xi=s^2`) or a log std (:math:`\xi=e^{2\log s}`)."""
    check_choice("unit", unit, FLOOR_UNITS)
    if unit == "variance":
        return check_positive("floor_variance", value)
    if unit == "std":
        return std_floor_to_variance(value)
    return log_std_floor_to_variance(value, name="log std floor")


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
            (False, True): "bounds the gradient only",
            (False, False): "bounds neither the value nor the gradient",
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
    cls = FLOOR_METHOD_REGISTRY[check_floor_method(method)]
    dim = check_int("dim", dim, low=1)
    check_choice("unit", unit, FLOOR_UNITS)
    if value is None:
        if cls.default_floor is None:
            raise ValueError(f"value (the floor) is required for floor_method {method!r}")
        value, unit = cls.default_floor
    xi = floor_variance_from(value, unit)
    return FloorReport(
        method=method,
        value=float(value),
        unit=unit,
        floor_variance=xi,
        floor_std=math.sqrt(xi),
        dim=dim,
        bounds_value=cls.bounds_value,
        bounds_gradient=cls.bounds_gradient,
        behaviour=cls.behaviour,
        bound_per_dimension=variance_floor_bound(1, xi),
        bound_per_point=variance_floor_bound(dim, xi),
    )


__all__ = [
    "FLOOR_BEHAVIOUR",
    "FLOOR_METHODS",
    "FLOOR_METHOD_REGISTRY",
    "FLOOR_UNITS",
    "GAUSSIAN_NLL_EPS",
    "POLICY_REGISTRY",
    "SIGMA_VAE_LOG_STD_FLOOR",
    "VARIANCE_POLICIES",
    "FloorMethod",
    "FloorReport",
    "VariancePolicy",
    "apply_floor",
    "apply_floor_log",
    "check_floor_method",
    "check_policy",
    "floor_method",
    "floor_report",
    "floor_tensor",
    "floor_variance_from",
    "get_policy",
    "log_floor_tensor",
    "policy_class",
    "register_floor_method",
    "register_policy",
]
