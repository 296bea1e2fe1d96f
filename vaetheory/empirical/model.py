r"""A Gaussian (or Bernoulli) VAE whose decoder variance follows a named policy.

Architecture (Kingma & Welling 2014, arXiv:1312.6114, appendix C.2; theory section 4): MLPs
with ``activation`` hidden layers. The decoder has a shared trunk :math:`h(z)` and two heads,
:math:`\mu(z)=W_4h+b_4` and the raw variance output :math:`\ell(z)=W_5h+b_5`. The encoder is
:math:`q(z\mid x)=\mathcal N(m(x),\operatorname{diag}s^2(x))`, prior :math:`p(z)=\mathcal N(0,I)`.

Decoder-variance policies (:data:`~vaetheory.empirical.policies.VARIANCE_POLICIES`):

``learned``  :math:`\sigma^2_j(z)=e^{\ell_j(z)}`, per dimension, heteroscedastic, no floor.
``floor``    the same head with a floor :math:`\sigma^2_j\ge\xi` (a VARIANCE) applied by one of
             :data:`~vaetheory.empirical.policies.FLOOR_METHODS`.
``fixed``    :math:`\sigma^2=s^2` with ``sigma`` = :math:`s` a STD (``sigma=1``: the MSE objective).
``shared``   one learned variance :math:`e^{\lambda}` shared by all dimensions and points.
``calibrated`` the sigma-VAE closed form :math:`\sigma^2=\mathrm{MSE}(x,\mu(z))` (Rybkin et al.
             2021, arXiv:2006.13202), averaged over the batch's points and dimensions, during a
             training step (training mode, gradients enabled); the last training value is kept
             (buffer ``calibrated_variance``) and used everywhere else (estimators run without
             gradients), so that an evaluated likelihood does not depend on how points or
             quadrature nodes are batched.

``likelihood="bernoulli"``: :math:`p(x\mid z)=\prod_j\mathrm{Bern}(x_j;\operatorname{sigmoid}\mu_j(z))`,
bounded by 1, so :math:`\log p(x)\le0` (Mattei & Frellsen 2018).

``hidden=()`` gives linear maps: :math:`\mu(z)=Wz+b`, and a decoder variance (and an encoder
variance) that does not depend on its input, so the model is the linear Gaussian model with
marginal :math:`\mathcal N(b, WW^\top+\operatorname{diag}\sigma^2)` (pPCA / factor analysis; with
the encoder, the linear VAE of Lucas et al. 2019, theory section 3).

Densities come from ``torch.distributions`` (``Independent(Normal | Bernoulli, 1)``); no clamp is
hidden inside a loss: every floor is the policy's, visible in :meth:`GaussianVAE.decoder_params`.
The distributions are built with ``validate_args=False``: data are validated at the door
(:func:`~vaetheory.empirical.estimators.as_data_tensor`), and a variance that underflows to 0
during an unfloored run must show up as a non-finite value the training loop reports as a
numerical breakdown, not as an exception from a constraint check.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from vaetheory._validation import check_choice, check_int, check_positive
from vaetheory.densities import std_floor_to_variance
from vaetheory.empirical.policies import (
    FLOOR_METHODS,
    VARIANCE_POLICIES,
    apply_floor,
    check_floor_method,
    check_policy,
)

LIKELIHOODS = ("gaussian", "bernoulli")
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus, "elu": nn.ELU}


@dataclass(frozen=True)
class VAEConfig:
    """Sizes and decoder-variance policy of a :class:`GaussianVAE` (validated on construction).

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
        check_policy(self.variance)
        check_floor_method(self.floor_method)
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        if self.likelihood == "bernoulli":
            if self.floor_variance is not None or self.sigma is not None:
                raise ValueError("floor_variance and sigma apply to the gaussian likelihood only")
            return
        if self.variance == "floor":
            if self.floor_variance is None:
                raise ValueError("variance='floor' needs floor_variance (xi > 0, a floor on the variance)")
            check_positive("floor_variance", self.floor_variance)
        elif self.floor_variance is not None:
            raise ValueError(
                f"floor_variance is used only by variance='floor'; got variance={self.variance!r}"
            )
        if self.variance == "fixed":
            if self.sigma is None:
                raise ValueError(
                    "variance='fixed' needs sigma (the decoder std, > 0; 1.0 is the MSE objective)"
                )
            check_positive("sigma", self.sigma)
        elif self.sigma is not None:
            raise ValueError(f"sigma is used only by variance='fixed'; got variance={self.variance!r}")

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


class GaussianVAE(nn.Module):
    """The VAE of this module's docstring; also the Bernoulli VAE via ``config.likelihood``."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        c = config
        widths = list(c.hidden)
        self.encoder_trunk = _mlp([c.data_dim, *widths], c.activation)
        enc_width = widths[-1] if widths else c.data_dim
        self.encoder_mean = nn.Linear(enc_width, c.latent_dim)
        if widths:
            self.encoder_log_variance = nn.Linear(enc_width, c.latent_dim)
        else:  # linear VAE: q(z|x) = N(V x + c, D), D free of x (Lucas et al. 2019)
            self.encoder_log_variance_param = nn.Parameter(torch.zeros(c.latent_dim))
        self.decoder_trunk = _mlp([c.latent_dim, *reversed(widths)], c.activation)
        dec_width = widths[0] if widths else c.latent_dim
        self.decoder_mean = nn.Linear(dec_width, c.data_dim)
        gaussian = c.likelihood == "gaussian"
        if gaussian and c.variance in ("learned", "floor"):
            if widths:
                self.decoder_raw_variance = nn.Linear(dec_width, c.data_dim)
            else:
                self.decoder_raw_variance_param = nn.Parameter(torch.zeros(c.data_dim))
        if gaussian and c.variance == "shared":
            self.decoder_log_variance_shared = nn.Parameter(torch.zeros(()))
        if gaussian and c.variance == "calibrated":
            self.register_buffer("calibrated_variance", torch.ones(()))

    # -- encoder -------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and VARIANCE of :math:`q(z\\mid x)`, each of shape ``[n, latent_dim]``."""
        h = self.encoder_trunk(x)
        mean = self.encoder_mean(h)
        if self.config.hidden:
            log_variance = self.encoder_log_variance(h)
        else:
            log_variance = self.encoder_log_variance_param.expand_as(mean)
        return mean, log_variance.exp()

    def posterior(self, x: torch.Tensor) -> Independent:
        """:math:`q(z\\mid x)` as ``Independent(Normal(mean, std), 1)``."""
        mean, variance = self.encode(x)
        return Independent(Normal(mean, variance.sqrt(), validate_args=False), 1, validate_args=False)

    def prior(self, like: torch.Tensor) -> Independent:
        """:math:`p(z)=\\mathcal N(0, I)` with ``like``'s dtype and device."""
        return Independent(self._prior_normal(like), 1, validate_args=False)

    def _prior_normal(self, like: torch.Tensor) -> Normal:
        """The base ``Normal(0, 1)`` of :meth:`prior`, one per latent dimension."""
        zeros = torch.zeros(self.config.latent_dim, dtype=like.dtype, device=like.device)
        return Normal(zeros, torch.ones_like(zeros), validate_args=False)

    # -- decoder -------------------------------------------------------------------------------
    def decoder_raw(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The decoder mean (or Bernoulli logits) and the raw variance head :math:`\\ell(z)` (or None)."""
        h = self.decoder_trunk(z)
        mean = self.decoder_mean(h)
        raw = None
        if hasattr(self, "decoder_raw_variance"):
            raw = self.decoder_raw_variance(h)
        elif hasattr(self, "decoder_raw_variance_param"):
            raw = self.decoder_raw_variance_param.expand_as(mean)
        return mean, raw

    def decoder_params(self, z: torch.Tensor, x: torch.Tensor | None = None):
        """Decoder mean and VARIANCE, each ``[..., data_dim]`` (Bernoulli: logits and ``None``).

        ``calibrated`` computes :math:`\\sigma^2=\\mathrm{MSE}(x,\\mu(z))` from ``x`` during a
        training step (``x`` given, training mode, gradients enabled), storing it, and uses the
        stored value otherwise.
        """
        c = self.config
        mean, raw = self.decoder_raw(z)
        if c.likelihood == "bernoulli":
            return mean, None
        if c.variance == "learned":
            variance = raw.exp()
        elif c.variance == "floor":
            variance = apply_floor(raw, c.floor_variance, c.floor_method)
        elif c.variance == "fixed":
            variance = torch.full_like(mean, c.sigma**2)
        elif c.variance == "shared":
            variance = self.decoder_log_variance_shared.exp().expand_as(mean)
        else:  # calibrated
            if x is not None and self.training and torch.is_grad_enabled():
                mse = ((x - mean) ** 2).mean()
                self.calibrated_variance.copy_(mse.detach())
                variance = mse.expand_as(mean)
            else:
                variance = self.calibrated_variance.to(mean.dtype).expand_as(mean)
        return mean, variance

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

        a reparameterised Monte Carlo term and the analytic KL (``torch.distributions.kl_divergence``).
        Under a variance floor every sample's value is :math:`\le -\tfrac d2\log(2\pi\xi)` since
        the KL is :math:`\ge0`. theory section 4 notation; Kingma & Welling (2014).
        """
        return self.elbo_terms(x, n_samples=n_samples, beta=beta, generator=generator)[0]

    def elbo_terms(self, x: torch.Tensor, n_samples: int = 1, beta: float = 1.0, generator=None):
        """``(elbo [n], decoder variance [n_samples, n, d] or None)``: :meth:`elbo` and its variances."""
        n_samples = check_int("n_samples", n_samples, low=1)
        # The base Normals of posterior(), decode() and prior(), summed over the last axis as their
        # Independent(., 1) wrappers do (``_sum_rightmost``): the same numbers with fewer objects
        # per training step.
        q_mean, q_variance = self.encode(x)
        q = Normal(q_mean, q_variance.sqrt(), validate_args=False)
        mean, std = q.loc, q.scale
        eps = torch.randn((n_samples, *mean.shape), generator=generator, dtype=mean.dtype, device=mean.device)
        z = mean + std * eps
        dec_mean, dec_variance = self.decoder_params(z, x)
        if dec_variance is None:
            p_x = Bernoulli(logits=dec_mean, validate_args=False)
        else:
            p_x = Normal(dec_mean, dec_variance.sqrt(), validate_args=False)
        log_lik = p_x.log_prob(x).sum(-1).mean(0)
        kl = kl_divergence(q, self._prior_normal(mean)).sum(-1)
        return log_lik - beta * kl, dec_variance


def build_model(config: VAEConfig, seed: int) -> GaussianVAE:
    """A :class:`GaussianVAE` whose initial weights depend only on ``seed`` (float32)."""
    seed = check_int("seed", seed, low=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GaussianVAE(config)
    return model


def gaussian_bound_per_point(config: VAEConfig) -> float | None:
    """The floor bound :math:`-\\tfrac d2\\log(2\\pi\\xi)` of ``config``, or None without a floor.

    ``fixed`` is a floor too (its variance is exactly ``sigma**2``); Bernoulli's bound is 0.
    """
    from vaetheory.densities import variance_floor_bound

    if config.likelihood == "bernoulli":
        return 0.0
    if config.variance == "floor":
        return variance_floor_bound(config.data_dim, config.floor_variance)
    if config.variance == "fixed":
        return variance_floor_bound(config.data_dim, config.sigma**2)
    return None


__all__ = [
    "ACTIVATIONS",
    "FLOOR_METHODS",
    "LIKELIHOODS",
    "VARIANCE_POLICIES",
    "GaussianVAE",
    "VAEConfig",
    "build_model",
    "gaussian_bound_per_point",
]
