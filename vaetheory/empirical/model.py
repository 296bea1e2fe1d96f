r"""A Gaussian (or Bernoulli) VAE whose decoder variance follows a registered policy.

Architecture (Kingma & Welling 2014, arXiv:1312.6114, appendix C.2; theory section 4): MLPs
with ``activation`` hidden layers. The encoder's last layer (``encoder_head``) gives the mean and
the log variance of :math:`q(z\mid x)=\mathcal N(m(x),\operatorname{diag}s^2(x))` from one matrix
product; the decoder has a trunk :math:`h(z)` and one output layer (``decoder_head``) that gives
the mean :math:`\mu(z)` and, for policies with a raw head, the raw variance output
:math:`\ell(z)` side by side. ``encoder_mean``, ``encoder_log_variance``, ``decoder_mean`` and
``decoder_raw_variance`` are the row blocks of those layers (:class:`HeadSlice`: ``weight`` and
``bias`` are views, writable in place). The prior is :math:`p(z)=\mathcal N(0,I)`.

Decoder-variance policies are objects of :mod:`vaetheory.empirical.policies`
(:data:`~vaetheory.empirical.policies.VARIANCE_POLICIES`; ``learned``, ``floor``, ``fixed``,
``shared``, ``calibrated`` and any registered later): the model asks the policy of its config for
its parameters, and for the VARIANCE and log variance from the head's output.

``likelihood="bernoulli"``: :math:`p(x\mid z)=\prod_j\mathrm{Bern}(x_j;\operatorname{sigmoid}\mu_j(z))`,
bounded by 1, so :math:`\log p(x)\le0` (Mattei & Frellsen 2018).

``hidden=()`` gives linear maps: :math:`\mu(z)=Wz+b`, and a decoder variance (and an encoder
variance) that does not depend on its input, so the model is the linear Gaussian model with
marginal :math:`\mathcal N(b, WW^\top+\operatorname{diag}\sigma^2)` (pPCA / factor analysis; with
the encoder, the linear VAE of Lucas et al. 2019, theory section 3).

The training objective (:meth:`GaussianVAE.elbo_terms`) computes the Gaussian log-density from
the log variance directly (:func:`gaussian_log_density`) and the KL from the encoder's log
variance (:func:`kl_standard_normal`): each is checked against ``torch.distributions``
(``Normal.log_prob``, ``kl_divergence``) in ``tests/empirical/test_empirical_model.py``.
:meth:`~GaussianVAE.posterior`, :meth:`~GaussianVAE.decode` and :meth:`~GaussianVAE.prior`
return ``torch.distributions`` objects (``validate_args=False``: data are validated at the door,
:func:`~vaetheory.empirical.estimators.as_data_tensor`, and a variance that underflows to 0
during an unfloored run must show up as a non-finite value the training loop reports as a
numerical breakdown). No clamp is hidden inside a loss: every floor is the policy's.

Checkpoints written before the heads were merged (separate ``encoder_mean``,
``encoder_log_variance``, ``decoder_mean``, ``decoder_raw_variance`` layers) load unchanged: the
blocks are concatenated on loading.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal

from vaetheory._validation import check_choice, check_int
from vaetheory.densities import std_floor_to_variance
from vaetheory.empirical.policies import (
    FLOOR_METHODS,
    VARIANCE_POLICIES,
    VariancePolicy,
    check_floor_method,
    get_policy,
)

LIKELIHOODS = ("gaussian", "bernoulli")
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus, "elu": nn.ELU}
LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_density(
    x: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor, log_variance: torch.Tensor
) -> torch.Tensor:
    r"""Elementwise Gaussian log-density from the variance and its log:

    .. math:: \log\mathcal N(x;\mu,\sigma^2)=-\tfrac12(\log2\pi+\log\sigma^2+(x-\mu)^2/\sigma^2).

    ``variance`` and ``log_variance`` are the same quantity (the policy gives both, so no sqrt,
    square or log of the variance is taken here); equal to ``Normal(mean, variance.sqrt()).log_prob(x)``
    up to rounding (tested).
    """
    return -0.5 * (LOG_2PI + log_variance + (x - mean).square() / variance)


def kl_standard_normal(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    r"""Elementwise :math:`\mathrm{KL}(\mathcal N(m,s^2)\|\mathcal N(0,1))=\tfrac12(m^2+s^2-1-\log s^2)`."""
    return 0.5 * (mean.square() + log_variance.exp() - 1.0 - log_variance)


@dataclass(frozen=True)
class VAEConfig:
    """Sizes and decoder-variance policy of a :class:`GaussianVAE` (validated on construction).

    ``variance`` names a registered policy (:data:`~vaetheory.empirical.policies.VARIANCE_POLICIES`).
    ``floor_variance`` is a floor on the VARIANCE (xi); use :meth:`with_std_floor` for a floor on
    the standard deviation. ``sigma`` is the fixed decoder STD of policy ``fixed``.
    """

    data_dim: int
    latent_dim: int
    hidden: tuple[int, ...] = (128,)
    likelihood: str = "gaussian"
    variance: str = "learned"
    floor_variance: float | None = None
    floor_method: str = "clamp"
    sigma: float | None = None
    activation: str = "tanh"

    def __post_init__(self) -> None:
        check_int("data_dim", self.data_dim, low=1)
        check_int("latent_dim", self.latent_dim, low=1)
        if self.latent_dim > self.data_dim:
            raise ValueError(f"latent_dim must be <= data_dim ({self.data_dim}); got {self.latent_dim}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        for width in self.hidden:
            check_int("hidden width", width, low=1)
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        check_floor_method(self.floor_method)
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        if self.likelihood == "bernoulli":
            check_choice("variance", self.variance, VARIANCE_POLICIES)
            if self.floor_variance is not None or self.sigma is not None:
                raise ValueError("floor_variance and sigma apply to the gaussian likelihood only")
            return
        get_policy(self)  # validates the policy's name and parameters

    @property
    def policy(self) -> VariancePolicy | None:
        """The decoder-variance policy object (None for the Bernoulli likelihood)."""
        return None if self.likelihood == "bernoulli" else get_policy(self)

    @classmethod
    def with_std_floor(cls, std_floor: float, **kwargs) -> VAEConfig:
        """A ``variance="floor"`` config from a floor on the STD: ``floor_variance = std_floor**2``."""
        kwargs.setdefault("variance", "floor")
        return cls(floor_variance=std_floor_to_variance(std_floor), **kwargs)

    def replace(self, **changes) -> VAEConfig:
        return replace(self, **changes)


def _mlp(sizes: list[int], activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def _fused(*parts: nn.Linear) -> nn.Linear:
    """One ``nn.Linear`` whose output rows are those of ``parts`` in order (their weights copied)."""
    layer = nn.utils.skip_init(nn.Linear, parts[0].in_features, sum(p.out_features for p in parts))
    with torch.no_grad():
        layer.weight.copy_(torch.cat([p.weight for p in parts]))
        layer.bias.copy_(torch.cat([p.bias for p in parts]))
    return layer


class HeadSlice:
    """Rows ``[start, stop)`` of a fused output layer, read (and written in place) like an ``nn.Linear``."""

    def __init__(self, layer: nn.Linear, start: int, stop: int):
        self.layer, self.start, self.stop = layer, start, stop

    @property
    def weight(self) -> torch.Tensor:
        return self.layer.weight[self.start : self.stop]

    @property
    def bias(self) -> torch.Tensor:
        return self.layer.bias[self.start : self.stop]

    @property
    def in_features(self) -> int:
        return self.layer.in_features

    @property
    def out_features(self) -> int:
        return self.stop - self.start

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.weight, self.bias)


class GaussianVAE(nn.Module):
    """The VAE of this module's docstring; also the Bernoulli VAE via ``config.likelihood``.

    ``model(x, eps, beta)`` is :meth:`elbo_from_noise`'s per-point ELBO (the function the stacked
    sweep maps over K runs with ``torch.func``).
    """

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        c = config
        self.policy: VariancePolicy | None = c.policy
        self._raw_head = self.policy is not None and self.policy.raw_head
        widths = list(c.hidden)
        d, q = c.data_dim, c.latent_dim
        # layers are created (and their weights drawn) in the order of the unfused model, so a seed
        # gives the same initial weights as before the heads were merged
        self.encoder_trunk = _mlp([d, *widths], c.activation)
        enc_width = widths[-1] if widths else d
        if widths:
            mean_layer, log_var_layer = nn.Linear(enc_width, q), nn.Linear(enc_width, q)
            self.encoder_head = _fused(mean_layer, log_var_layer)
        else:  # linear VAE: q(z|x) = N(V x + c, D), D free of x (Lucas et al. 2019)
            self.encoder_head = nn.Linear(enc_width, q)
            self.encoder_log_variance_param = nn.Parameter(torch.zeros(q))
        self.decoder_trunk = _mlp([q, *reversed(widths)], c.activation)
        dec_width = widths[0] if widths else q
        if widths and self._raw_head:
            mean_layer, raw_layer = nn.Linear(dec_width, d), nn.Linear(dec_width, d)
            self.decoder_head = _fused(mean_layer, raw_layer)
        else:
            self.decoder_head = nn.Linear(dec_width, d)
            if self._raw_head:
                self.decoder_raw_variance_param = nn.Parameter(torch.zeros(d))
        if self.policy is not None:
            self.policy.build(self)
        self._refresh_policy_tensors()
        self._register_load_state_dict_pre_hook(self._upgrade_unfused_state)

    # -- the fused heads' blocks, under the names of the unfused model ------------------------------
    @property
    def encoder_mean(self) -> HeadSlice:
        return HeadSlice(self.encoder_head, 0, self.config.latent_dim)

    @property
    def encoder_log_variance(self) -> HeadSlice:
        if not self.config.hidden:
            raise AttributeError("encoder_log_variance: a linear model has encoder_log_variance_param")
        q = self.config.latent_dim
        return HeadSlice(self.encoder_head, q, 2 * q)

    @property
    def decoder_mean(self) -> HeadSlice:
        return HeadSlice(self.decoder_head, 0, self.config.data_dim)

    @property
    def decoder_raw_variance(self) -> HeadSlice:
        if not (self._raw_head and self.config.hidden):
            raise AttributeError("decoder_raw_variance: this model has no raw variance head layer")
        d = self.config.data_dim
        return HeadSlice(self.decoder_head, d, 2 * d)

    def _refresh_policy_tensors(self) -> None:
        """The policy's derived constants (a floor in the model's dtype) as non-persistent buffers."""
        if self.policy is None:
            return
        for name, value in self.policy.tensors(self.decoder_head.weight).items():
            self.register_buffer(name, value.clone(), persistent=False)

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        self._refresh_policy_tensors()  # recomputed (not converted) for the new dtype: still rounded up
        return out

    def _upgrade_unfused_state(self, state_dict, prefix, *args, **kwargs) -> None:
        """Load a checkpoint of the unfused model: concatenate its head blocks into the fused layers."""
        for head, blocks in (
            ("encoder_head", ("encoder_mean", "encoder_log_variance")),
            ("decoder_head", ("decoder_mean", "decoder_raw_variance")),
        ):
            for kind in ("weight", "bias"):
                keys = [f"{prefix}{b}.{kind}" for b in blocks if f"{prefix}{b}.{kind}" in state_dict]
                if keys and f"{prefix}{head}.{kind}" not in state_dict:
                    state_dict[f"{prefix}{head}.{kind}"] = torch.cat([state_dict.pop(k) for k in keys])

    # -- encoder -------------------------------------------------------------------------------
    def encode_log(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and LOG variance of :math:`q(z\\mid x)`, each ``[n, latent_dim]`` (one matrix product)."""
        out = self.encoder_head(self.encoder_trunk(x))
        if self.config.hidden:
            return out.chunk(2, dim=-1)
        return out, self.encoder_log_variance_param.expand_as(out)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and VARIANCE of :math:`q(z\\mid x)`, each of shape ``[n, latent_dim]``."""
        mean, log_variance = self.encode_log(x)
        return mean, log_variance.exp()

    def posterior(self, x: torch.Tensor) -> Independent:
        """:math:`q(z\\mid x)` as ``Independent(Normal(mean, std), 1)``."""
        mean, variance = self.encode(x)
        return Independent(Normal(mean, variance.sqrt(), validate_args=False), 1, validate_args=False)

    def prior(self, like: torch.Tensor) -> Independent:
        """:math:`p(z)=\\mathcal N(0, I)` with ``like``'s dtype and device."""
        zeros = torch.zeros(self.config.latent_dim, dtype=like.dtype, device=like.device)
        return Independent(Normal(zeros, torch.ones_like(zeros), validate_args=False), 1, validate_args=False)

    # -- decoder -------------------------------------------------------------------------------
    def decoder_raw(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The decoder mean (or Bernoulli logits) and the raw variance head :math:`\\ell(z)` (or None)."""
        h = self.decoder_trunk(z)
        out = self.decoder_head(h)
        if not self._raw_head:
            return out, None
        if self.config.hidden:
            mean, raw = out.chunk(2, dim=-1)
            if self.policy.detach_variance_trunk:  # the variance's gradient stops at the head
                raw = self.decoder_raw_variance(h.detach())
            return mean, raw
        return out, self.decoder_raw_variance_param.expand_as(out)

    def decoder_moments(self, z: torch.Tensor, x: torch.Tensor | None = None):
        """Decoder mean, VARIANCE and LOG variance, ``[..., data_dim]`` (Bernoulli: logits, None, None)."""
        mean, raw = self.decoder_raw(z)
        if self.policy is None:
            return mean, None, None
        variance, log_variance = self.policy.variance(self, raw, mean, x)
        return mean, variance, log_variance

    def decoder_params(self, z: torch.Tensor, x: torch.Tensor | None = None):
        """Decoder mean and VARIANCE, each ``[..., data_dim]`` (Bernoulli: logits and ``None``).

        ``calibrated`` computes :math:`\\sigma^2=\\mathrm{MSE}(x,\\mu(z))` from ``x`` during a
        training step (``x`` given, training mode, gradients enabled), storing it, and uses the
        stored value otherwise.
        """
        mean, variance, _ = self.decoder_moments(z, x)
        return mean, variance

    def unfloored_variance(self, z: torch.Tensor) -> torch.Tensor | None:
        """The variance the head asks for before the policy's floor (None for a policy without one)."""
        if self.policy is None:
            return None
        return self.policy.unfloored_variance(self, self.decoder_raw(z)[1])

    def decode(self, z: torch.Tensor, x: torch.Tensor | None = None):
        """:math:`p(x\\mid z)`: ``Independent(Normal(mean, std), 1)`` or ``Independent(Bernoulli(logits),1)``.

        Gaussian ``std`` is the square root of the policy's variance (:meth:`decoder_params`).
        """
        mean, variance = self.decoder_params(z, x)
        if variance is None:
            return Independent(Bernoulli(logits=mean, validate_args=False), 1, validate_args=False)
        return Independent(Normal(mean, variance.sqrt(), validate_args=False), 1, validate_args=False)

    # -- objective -----------------------------------------------------------------------------
    def elbo(self, x: torch.Tensor, n_samples: int = 1, beta: float = 1.0, generator=None) -> torch.Tensor:
        r"""Per-point (beta-)ELBO in nats, shape ``[n]``:

        .. math:: \frac1S\sum_{s=1}^S \log p(x\mid z_s) - \beta\,\mathrm{KL}(q(z\mid x)\,\|\,p(z)),
                  \quad z_s = m(x) + s(x)\odot\varepsilon_s,

        a reparameterised Monte Carlo term and the analytic KL. Under a variance floor every
        sample's value is :math:`\le -\tfrac d2\log(2\pi\xi)` since the KL is :math:`\ge0`.
        Kingma & Welling (2014).
        """
        return self.elbo_terms(x, n_samples=n_samples, beta=beta, generator=generator)[0]

    def elbo_terms(self, x: torch.Tensor, n_samples: int = 1, beta: float = 1.0, generator=None):
        """``(elbo [n], decoder variance [n_samples, n, d] or None)``: :meth:`elbo` and its variances.

        The noise is ``torch.randn((n_samples, n, latent_dim), generator=generator)``.
        """
        n_samples = check_int("n_samples", n_samples, low=1)
        shape = (n_samples, x.shape[0], self.config.latent_dim)
        eps = torch.randn(shape, generator=generator, dtype=x.dtype, device=x.device)
        return self.elbo_from_noise(x, eps, beta)

    def elbo_from_noise(self, x: torch.Tensor, eps: torch.Tensor, beta=1.0):
        """:meth:`elbo_terms` with the standard-normal noise ``eps`` ``[S, n, latent_dim]`` given.

        With one sample (``S == 1``, every training step) the decoder runs on ``[n, ...]`` tensors
        and the variance gets its leading axis back as a view: the same numbers as the
        ``[1, n, ...]`` route (the mean over one sample is the value itself, and a linear layer
        folds a leading axis of 1 into the same matrix product), without the reshapes and the
        mean's backward pass that the sample axis costs each step.
        """
        q_mean, q_log_variance = self.encode_log(x)
        one_sample = eps.dim() == 3 and eps.shape[0] == 1
        z = q_mean + (0.5 * q_log_variance).exp() * (eps[0] if one_sample else eps)
        dec_mean, variance, log_variance = self.decoder_moments(z, x)
        if variance is None:  # Bernoulli(logits).log_prob
            log_lik = -F.binary_cross_entropy_with_logits(dec_mean, x.expand_as(dec_mean), reduction="none")
        elif self.policy.custom_log_density:  # another decoder family (Student-t, discretised, ...)
            log_lik = self.policy.log_density(self, x, dec_mean, variance, log_variance)
        else:
            log_lik = gaussian_log_density(x, dec_mean, variance, log_variance)
        kl = kl_standard_normal(q_mean, q_log_variance).sum(-1)
        if one_sample:
            return log_lik.sum(-1) - beta * kl, None if variance is None else variance.unsqueeze(0)
        return log_lik.sum(-1).mean(0) - beta * kl, variance

    def forward(self, x: torch.Tensor, eps: torch.Tensor, beta=1.0) -> torch.Tensor:
        """Per-point ELBO ``[n]`` for data ``x`` and noise ``eps`` (:meth:`elbo_from_noise`)."""
        return self.elbo_from_noise(x, eps, beta)[0]


def build_model(config: VAEConfig, seed: int) -> GaussianVAE:
    """A :class:`GaussianVAE` whose initial weights depend only on ``seed`` (float32)."""
    seed = check_int("seed", seed, low=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GaussianVAE(config)
    return model


def gaussian_bound_per_point(config: VAEConfig) -> float | None:
    """The policy's bound :math:`-\\tfrac d2\\log(2\\pi\\xi)` for ``config``, or None without a floor.

    ``fixed`` is a floor too (its variance is exactly ``sigma**2``); Bernoulli's bound is 0.
    """
    if config.likelihood == "bernoulli":
        return 0.0
    return config.policy.bound_per_point(config.data_dim)


#: the neutral name of :class:`GaussianVAE`, which is also the Bernoulli VAE (``likelihood="bernoulli"``)
VAE = GaussianVAE

__all__ = [
    "ACTIVATIONS",
    "FLOOR_METHODS",
    "LIKELIHOODS",
    "VAE",
    "VARIANCE_POLICIES",
    "GaussianVAE",
    "HeadSlice",
    "VAEConfig",
    "build_model",
    "gaussian_bound_per_point",
    "gaussian_log_density",
    "kl_standard_normal",
]
