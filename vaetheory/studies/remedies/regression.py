r"""The remedies for mean-variance regression :math:`p(y\mid x)=\mathcal N(\mu(x),\sigma^2(x))`.

The same pathology as the VAE's without an encoder (``torch.nn.GaussianNLLLoss`` users): a network
that interpolates a training point and shrinks its variance there drives the likelihood to
:math:`+\infty`. The same registered policies (:mod:`vaetheory.empirical.remedies`,
:mod:`vaetheory.empirical.policies`) give the variance and the log-likelihood term; the families
that need a grid or binary targets (``discretised``, ``dequantised``, ``bernoulli``) do not apply.

Data (Seitzer et al. 2022's sine): :math:`x\sim U[0,12]`, :math:`y=0.4\sin(2\pi x)+\varepsilon`,
:math:`\varepsilon\sim\mathcal N(0,0.01^2)`; the network sees :math:`x/6-1`. Settings in
:class:`RegressionSettings`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import vaetheory.empirical.remedies  # noqa: F401 (registers the remedies' policies: beta_nll, faithful, ...)
from vaetheory.empirical.model import VAEConfig, gaussian_log_density

#: the rows of the VAE table that apply to regression
REGRESSION_ROWS = (
    "learned",
    "floor_clamp",
    "floor_softclip",
    "floor_softplus",
    "floor_gaussian_nll",
    "fixed",
    "shared",
    "calibrated",
    "student_t",
    "student_t_learned_dof",
    "beta_nll",
    "beta_nll_1",
    "faithful",
    "quantile",
)


@dataclasses.dataclass(frozen=True)
class RegressionSettings:
    """The sine problem and its training (full batch Adam)."""

    n_train: int = 1000
    n_test: int = 1000
    noise_std: float = 0.01
    x_high: float = 12.0
    amplitude: float = 0.4
    hidden: tuple[int, ...] = (128, 128)
    steps: int = 5000
    lr: float = 1e-3
    log_every: int = 50
    seed: int = 0


def sine_data(settings: RegressionSettings, seed: int):
    """``(x_train, y_train, x_test, y_test)`` as float32 tensors ``[n, 1]`` (test drawn the same way)."""
    rng = np.random.default_rng(seed)
    n = settings.n_train + settings.n_test
    x = rng.uniform(0.0, settings.x_high, size=(n, 1))
    y = settings.amplitude * np.sin(2 * np.pi * x) + settings.noise_std * rng.standard_normal((n, 1))
    t = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    k = settings.n_train
    return t(x[:k]), t(y[:k]), t(x[k:]), t(y[k:])


class MeanVarianceNet(nn.Module):
    """An MLP with a mean head and, for policies with a raw head, the raw variance head beside it."""

    def __init__(self, model_config: VAEConfig, x_scale: float):
        super().__init__()
        self.config = model_config
        self.policy = model_config.policy
        self.x_scale = x_scale
        layers, width = [], 1
        for h in model_config.hidden:
            layers += [nn.Linear(width, h), nn.Tanh()]
            width = h
        self.decoder_trunk = nn.Sequential(*layers)
        self.decoder_head = nn.Linear(width, 2 if self.policy.raw_head else 1)
        self.policy.build(self)
        self._refresh()

    def _refresh(self):
        for name, value in self.policy.tensors(self.decoder_head.weight).items():
            self.register_buffer(name, value.clone(), persistent=False)

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        self._refresh()
        return out

    def moments(self, x, y=None):
        h = self.decoder_trunk(x / (self.x_scale / 2) - 1.0)
        out = self.decoder_head(h)
        mean, raw = out[:, :1], (out[:, 1:] if self.policy.raw_head else None)
        if self.policy.detach_variance_trunk:
            raw = F.linear(h.detach(), self.decoder_head.weight[1:], self.decoder_head.bias[1:])
        variance, log_variance = self.policy.variance(self, raw, mean, y)
        return mean, variance, log_variance

    def log_lik(self, x, y):
        """Per-point training term (the policy's log-likelihood, or its surrogate's value)."""
        mean, variance, log_variance = self.moments(x, y)
        if self.policy.custom_log_density:
            return self.policy.log_density(self, y, mean, variance, log_variance).sum(-1)
        return gaussian_log_density(y, mean, variance, log_variance).sum(-1)


def train_regression(row: str, policy_kwargs: dict, settings: RegressionSettings, data) -> dict:
    """Train one row on the sine data and evaluate it on the held-out points (float64)."""
    from vaetheory.studies.remedies.study import calibration_error, predictive_log_density

    x_train, y_train, x_test, y_test = data
    config = VAEConfig(data_dim=1, latent_dim=1, hidden=settings.hidden, **policy_kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        net = MeanVarianceNet(config, settings.x_high)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    steps, min_var, breakdown = [], [], None
    net.train()
    for step in range(1, settings.steps + 1):
        loss = -net.log_lik(x_train, y_train).mean()
        if not torch.isfinite(loss):
            breakdown = step
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if not all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None):
            breakdown = step
            break
        if step % settings.log_every == 0 or step == settings.steps:
            with torch.no_grad():
                steps.append(step)
                min_var.append(float(net.moments(x_train, y_train)[1].min()))
        opt.step()
    net = net.double().eval()
    with torch.no_grad():
        xt, yt = x_test.double(), y_test.double()
        mean, variance, log_variance = net.moments(xt)
        ll = predictive_log_density(net.policy, net, yt, mean, variance, log_variance).sum(-1)
        dof = _dof(net)
        return {
            "name": row,
            "heldout_loglik": float(ll.mean()),
            "rmse": float(torch.sqrt(((yt - mean) ** 2).mean())),
            "min_variance": float(variance.min()),
            "calibration_error": calibration_error(yt, mean, variance, dof),
            "breakdown_step": breakdown,
            "steps": steps,
            "min_variance_series": min_var,
        }


def _dof(net) -> float | None:
    if net.policy.name == "student_t":
        return float(net.policy.dof)
    if net.policy.name == "student_t_learned_dof":
        return float(net.student_t_log_dof.exp())
    return None


__all__ = ["REGRESSION_ROWS", "MeanVarianceNet", "RegressionSettings", "sine_data", "train_regression"]
