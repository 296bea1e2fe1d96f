r"""The remedies of theory section 7 as registered decoder-variance policies and decoder families.

Each remedy is one :class:`~vaetheory.empirical.policies.VariancePolicy` subclass, registered with
:func:`~vaetheory.empirical.policies.register_policy` on import of this module; the model
(:class:`~vaetheory.empirical.model.GaussianVAE`), ``train()`` and the remedies study use them
like the built-in policies. What each bounds is proved in :mod:`vaetheory.symbolic.remedies`.

``student_t`` / ``student_t_learned_dof``
    :math:`p(x_j\mid z)=t_\nu(x_j;\mu_j,s_j)` with learned scale :math:`s_j^2=e^{\ell_j}`, degrees
    of freedom fixed (:attr:`StudentT.dof` = 3) or learned (one :math:`\nu=e^{\eta}`). Unbounded:
    :math:`\log t_\nu(\mu;\mu,s)=C(\nu)-\log s\to\infty` as :math:`s\to0` for every :math:`\nu`.
``beta_nll`` (:math:`\beta=\tfrac12`) / ``beta_nll_1`` (:math:`\beta=1`)
    Seitzer et al. (2022): each element's Gaussian NLL weighted by :math:`\operatorname{sg}[\sigma^{2\beta}]`.
    Written value-preserving: :math:`\operatorname{sg}[\ell]+w(\ell-\operatorname{sg}[\ell])` with
    :math:`w=\operatorname{sg}[\sigma^{2\beta}]`, whose VALUE is the Gaussian log-density (so the
    ELBO, the log and the bound check are the plain ones) and whose GRADIENT is beta-NLL's.
``faithful``
    Stirn et al. (2023): the mean trained as with unit variance (gradient of
    :math:`-\tfrac12(x-\mu)^2`), the variance fitted to the stop-gradient residual, and the variance
    head fed the detached trunk (no variance gradient reaches the trunk, the mean or the encoder).
    Value: the Gaussian log-density, again.
``discretised``
    The probability of each pixel's bin, :math:`\Phi((x+h/2-\mu)/\sigma)-\Phi((x-h/2-\mu)/\sigma)`
    on the 17-level digits grid :math:`\{0,\tfrac1{16},\dots,1\}` (:data:`DIGITS_BIN_WIDTH`), the
    end bins open to :math:`\pm\infty` (as PixelCNN++). A probability: bounded by 0 per point.
``dequantised``
    The learned Gaussian on data dequantised afresh at every training step,
    :math:`y=x+(u-\tfrac12)h`, :math:`u\sim U(0,1)` (Theis et al. 2016). Evaluated on dequantised
    held-out data. Bounded in expectation over the noise (:math:`E_u\log p(y)\le -d\log h`); the
    noise of step :math:`t` is a function of (the model's seed, :math:`t`), so a resumed run draws
    the same noise bit for bit (:class:`Dequantised`).
``quantile``
    Akrami et al. (2020): the mean head is the median (pinball loss, :math:`\tau=\tfrac12`), the raw
    head a gap :math:`g=\operatorname{softplus}(\ell)` to the 0.15-quantile :math:`\mu-g`
    (pinball loss, :math:`\tau=0.15`), the plug-in standard deviation
    :math:`\sigma=g/\Phi^{-1}(0.85)`. The training term is the sum of two asymmetric-Laplace
    log-densities of unit scale, bounded by :math:`\log(\tfrac14\cdot0.15\cdot0.85)` per element;
    it is not a normalised density of :math:`x`, so the held-out "log-likelihood" reported is the
    plug-in Gaussian's (a predictor, compared as such).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from vaetheory.empirical.model import gaussian_log_density
from vaetheory.empirical.policies import VariancePolicy, register_policy

#: the spacing of the digits grid as ``vaetheory train --data digits`` scales it (pixels 0..16 / 16)
DIGITS_BIN_WIDTH = 1.0 / 16.0
#: the quantile levels of the quantile-regression decoder (Akrami et al. 2020)
QUANTILE_LOW = 0.15
QUANTILE_MID = 0.5
#: Phi^{-1}(0.85): the 0.5- and 0.15-quantiles of N(mu, sigma^2) are sigma * this apart
QUANTILE_GAP_STD = 1.0364333894937898


def _value_with_gradient(value: torch.Tensor, *surrogates: torch.Tensor) -> torch.Tensor:
    r"""``value``'s number with the gradient of the sum of ``surrogates``: exact in floating point.

    :math:`\operatorname{sg}[v]+\sum_k(s_k-\operatorname{sg}[s_k])`: each bracket is exactly 0 in
    value (a number minus itself), so the result is bit-identical to ``value``.
    """
    out = value.detach()
    for s in surrogates:
        out = out + (s - s.detach())
    return out


class _LearnedHead(VariancePolicy):
    """A learned per-dimension variance :math:`e^{\\ell}` with no floor (the base of most remedies)."""

    raw_head = True

    def variance(self, module, raw, mean, x):
        return raw.exp(), raw

    def unfloored_variance(self, module, raw):
        return raw.exp()


def student_t_log_density(x, mean, log_scale2, dof) -> torch.Tensor:
    r"""Elementwise :math:`\log t_\nu(x;\mu,s)` from :math:`\log s^2` (tested: StudentT.log_prob)."""
    z2 = (x - mean).square() / log_scale2.exp()
    return (
        torch.lgamma(0.5 * (dof + 1.0))
        - torch.lgamma(0.5 * dof)
        - 0.5 * torch.log(dof * math.pi)
        - 0.5 * log_scale2
        - 0.5 * (dof + 1.0) * torch.log1p(z2 / dof)
    )


@register_policy
class StudentT(_LearnedHead):
    r"""Student-t decoder, learned scale :math:`s^2=e^{\ell}`, fixed degrees of freedom :attr:`dof`."""

    name = "student_t"
    label = "Student-t (nu = 3)"
    colour_key = "student_t"
    custom_log_density = True
    #: the fixed degrees of freedom (subclass to change)
    dof: ClassVar[float] = 3.0

    def tensors(self, like):
        return {"student_t_fixed_dof": torch.tensor(self.dof, dtype=like.dtype, device=like.device)}

    def degrees_of_freedom(self, module) -> torch.Tensor:
        return module.student_t_fixed_dof

    def log_density(self, module, x, mean, variance, log_variance):
        return student_t_log_density(x, mean, log_variance, self.degrees_of_freedom(module))

    def describe(self, *, math=True):
        return rf"Student-t ($\nu$ = {self.dof:g})" if math else f"Student-t (nu = {self.dof:g})"


@register_policy
class StudentTLearnedDof(StudentT):
    r"""Student-t decoder with learned scale and one learned :math:`\nu=e^{\eta}` (initially 3)."""

    name = "student_t_learned_dof"
    label = "Student-t (learned nu)"
    colour_key = "student_t_learned_dof"

    def build(self, module):
        module.student_t_log_dof = torch.nn.Parameter(torch.tensor(math.log(self.dof)))

    def tensors(self, like):
        return {}

    def degrees_of_freedom(self, module):
        return module.student_t_log_dof.exp()

    def describe(self, *, math=True):
        return r"Student-t (learned $\nu$)" if math else "Student-t (learned nu)"


@register_policy
class BetaNLL(_LearnedHead):
    r"""beta-NLL (Seitzer et al. 2022): gradient times :math:`\mathrm{sg}[\sigma^{2\beta}]`."""

    name = "beta_nll"
    label = "beta-NLL (beta = 0.5)"
    colour_key = "beta_nll"
    custom_log_density = True
    #: the exponent beta in [0, 1] (0: the plain NLL; 1: the mean's gradient is that of the MSE)
    beta: ClassVar[float] = 0.5

    def log_density(self, module, x, mean, variance, log_variance):
        value = gaussian_log_density(x, mean, variance, log_variance)
        weight = (self.beta * log_variance).exp().detach()
        return _value_with_gradient(value, weight * value)

    def describe(self, *, math=True):
        return rf"$\beta$-NLL ($\beta$ = {self.beta:g})" if math else f"beta-NLL (beta = {self.beta:g})"


@register_policy
class BetaNLL1(BetaNLL):
    name = "beta_nll_1"
    label = "beta-NLL (beta = 1)"
    colour_key = "beta_nll_1"
    beta = 1.0


@register_policy
class Faithful(_LearnedHead):
    r"""Faithful heteroscedastic training (Stirn et al. 2023): unit-variance mean, stop-gradient variance."""

    name = "faithful"
    label = "faithful"
    colour_key = "faithful"
    custom_log_density = True
    detach_variance_trunk = True

    def log_density(self, module, x, mean, variance, log_variance):
        value = gaussian_log_density(x, mean, variance, log_variance)
        mean_term = -0.5 * (x - mean).square()  # the unit-variance objective: trains the mean
        variance_term = gaussian_log_density(x, mean.detach(), variance, log_variance)  # trains sigma^2
        return _value_with_gradient(value, mean_term, variance_term)


def discretised_gaussian_log_prob(x, mean, log_variance, bin_width: float, low: float, high: float):
    r"""Elementwise :math:`\log P(\text{bin of }x)` under :math:`\mathcal N(\mu,\sigma^2)`, end bins open.

    :math:`P=\Phi(b)-\Phi(a)`, :math:`a=(x-h/2-\mu)/\sigma`, :math:`b=(x+h/2-\mu)/\sigma`
    (:math:`a=-\infty` at ``low``, :math:`b=+\infty` at ``high``), computed in log space:
    :math:`\log(\Phi(b)-\Phi(a))` as :math:`\log\Phi(b)+\log(1-e^{\log\Phi(a)-\log\Phi(b)})` for
    :math:`a+b\le0` and by the symmetry :math:`\Phi(b)-\Phi(a)=\Phi(-a)-\Phi(-b)` otherwise, so
    that neither tail loses the difference to rounding. Every value is :math:`\le0`.
    """
    inv_std = (-0.5 * log_variance).exp()
    half = 0.5 * bin_width
    a = (x - half - mean) * inv_std
    b = (x + half - mean) * inv_std
    inf = torch.tensor(math.inf, dtype=x.dtype, device=x.device)
    a = torch.where(x <= low + 0.5 * half, -inf, a)
    b = torch.where(x >= high - 0.5 * half, inf, b)
    flip = (a + b) > 0
    lo, hi = torch.where(flip, -b, a), torch.where(flip, -a, b)
    log_hi, log_lo = torch.special.log_ndtr(hi), torch.special.log_ndtr(lo)
    diff = (log_lo - log_hi).clamp(max=0.0)  # <= 0 mathematically; rounding must not make it positive
    return (log_hi + _log1mexp(diff)).clamp(max=0.0)


def _log1mexp(d: torch.Tensor) -> torch.Tensor:
    """:math:`\\log(1-e^{d})` for :math:`d\\le0`, accurate at both ends (Maechler 2012)."""
    return torch.where(d > -math.log(2.0), torch.log(-torch.expm1(d)), torch.log1p(-torch.exp(d)))


@register_policy
class Discretised(_LearnedHead):
    r"""Discretised Gaussian: the probability of each pixel's bin on the 17-level digits grid."""

    name = "discretised"
    label = "discretised Gaussian"
    colour_key = "discretised"
    custom_log_density = True
    bounds_value = True
    bounds_gradient = True
    bin_width: ClassVar[float] = DIGITS_BIN_WIDTH
    low: ClassVar[float] = 0.0
    high: ClassVar[float] = 1.0

    def log_density(self, module, x, mean, variance, log_variance):
        return discretised_gaussian_log_prob(x, mean, log_variance, self.bin_width, self.low, self.high)

    def bound_per_point(self, data_dim):
        return 0.0


@register_policy
class Dequantised(_LearnedHead):
    r"""The learned Gaussian on data dequantised afresh each training step, :math:`y=x+(u-\tfrac12)h`.

    The noise of training evaluation :math:`t` (1, 2, ...; one per ``train()`` step) is drawn from a
    generator seeded with :func:`noise_seed` ``(s, t)``, where :math:`s` is drawn from torch's
    global generator when the model is built (after its weights, so under ``build_model(config,
    seed)`` it is a function of ``seed`` and the initial weights are the ``learned`` policy's).
    :math:`s` and :math:`t` are persistent buffers of the model (``dequantised_noise_seed``,
    ``dequantised_step``), saved in every checkpoint: a resumed run draws the same noise, bit for bit.
    """

    name = "dequantised"
    label = "dequantised Gaussian"
    colour_key = "dequantised"
    custom_log_density = True
    data_dependent = True
    bin_width: ClassVar[float] = DIGITS_BIN_WIDTH

    def build(self, module):
        seed = torch.randint(0, 2**62, (), dtype=torch.int64)  # from the global generator: build_model's seed
        module.register_buffer("dequantised_noise_seed", seed)
        module.register_buffer("dequantised_step", torch.zeros((), dtype=torch.int64))

    def noise(self, module, shape, dtype) -> torch.Tensor:
        """The next training evaluation's uniform noise ``u`` (advances ``dequantised_step``)."""
        module.dequantised_step += 1
        generator = torch.Generator().manual_seed(
            noise_seed(int(module.dequantised_noise_seed), int(module.dequantised_step))
        )
        return torch.rand(shape, generator=generator, dtype=dtype)

    def log_density(self, module, x, mean, variance, log_variance):
        if module.training and torch.is_grad_enabled():
            u = self.noise(module, x.shape, x.dtype)
            x = x + (u.to(x.device) - 0.5) * self.bin_width
        return gaussian_log_density(x, mean, variance, log_variance)


def noise_seed(seed: int, step: int) -> int:
    """The seed of the dequantisation noise of training evaluation ``step`` (numpy's SeedSequence)."""
    words = np.random.SeedSequence([int(seed), int(step)]).generate_state(2, np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


def pinball_log_density(residual: torch.Tensor, tau: float) -> torch.Tensor:
    r""":math:`\log\mathrm{ALD}(r;\tau)=\log(\tau(1-\tau))-\rho_\tau(r)` (pinball loss)."""
    rho = residual * (tau - (residual < 0).to(residual.dtype))
    return math.log(tau * (1.0 - tau)) - rho


@register_policy
class Quantile(VariancePolicy):
    r"""Quantile-regression decoder (Akrami et al. 2020): median and 0.15-quantile heads, plug-in sigma."""

    name = "quantile"
    label = "quantile regression"
    colour_key = "quantile"
    raw_head = True
    custom_log_density = True
    bounds_value = True
    bounds_gradient = True

    def variance(self, module, raw, mean, x):
        std = F.softplus(raw) / QUANTILE_GAP_STD
        variance = std.square()
        return variance, variance.log()

    def unfloored_variance(self, module, raw):
        return (F.softplus(raw) / QUANTILE_GAP_STD).square()

    def log_density(self, module, x, mean, variance, log_variance):
        gap = variance.sqrt() * QUANTILE_GAP_STD
        return pinball_log_density(x - mean, QUANTILE_MID) + pinball_log_density(
            x - (mean - gap), QUANTILE_LOW
        )

    def bound_per_point(self, data_dim):
        """The training term's bound :math:`d\\log(\\tfrac14\\cdot0.15\\cdot0.85)` (pinball terms >= 0)."""
        per = math.log(QUANTILE_MID * (1 - QUANTILE_MID)) + math.log(QUANTILE_LOW * (1 - QUANTILE_LOW))
        return data_dim * per


#: the remedies this module registers, in the order of the table
REMEDY_POLICIES = (
    "student_t",
    "student_t_learned_dof",
    "beta_nll",
    "beta_nll_1",
    "faithful",
    "discretised",
    "dequantised",
    "quantile",
)

__all__ = [
    "DIGITS_BIN_WIDTH",
    "QUANTILE_GAP_STD",
    "REMEDY_POLICIES",
    "BetaNLL",
    "BetaNLL1",
    "Dequantised",
    "Discretised",
    "Faithful",
    "Quantile",
    "StudentT",
    "StudentTLearnedDof",
    "discretised_gaussian_log_prob",
    "noise_seed",
    "pinball_log_density",
    "student_t_log_density",
]
