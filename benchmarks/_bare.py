"""The baselines written the way a user would without vaetheory: a bare PyTorch Gaussian VAE and loop.

:class:`BareGaussianVAE` is the model of ``vaetheory.empirical`` (MLP encoder and decoder with tanh,
a diagonal Gaussian encoder, a Gaussian decoder whose log-variance is a second output head, a hard
clamp of the variance at a floor), written in plain ``torch.nn`` with no validation, no policies
and no logging; :func:`bare_train` is the plain Adam loop over random minibatches.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

LOG_2PI = math.log(2.0 * math.pi)


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with tanh between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class BareGaussianVAE(nn.Module):
    """Encoder x -> (mean, log-variance) of q(z|x); decoder z -> (mean, log-variance) of p(x|z)."""

    def __init__(self, data_dim: int, latent_dim: int, hidden: tuple[int, ...], floor_variance: float):
        super().__init__()
        self.latent_dim = latent_dim
        self.floor_variance = floor_variance
        self.encoder = mlp([data_dim, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *hidden[::-1], 2 * data_dim])

    def elbo(self, x: torch.Tensor, eps: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """Per-point one-sample ELBO: log N(x; mu(z), clamp(var(z), xi)) - beta KL(q || N(0, I))."""
        q_mean, q_logvar = self.encoder(x).chunk(2, dim=-1)
        z = q_mean + torch.exp(0.5 * q_logvar) * eps
        p_mean, p_logvar = self.decoder(z).chunk(2, dim=-1)
        variance = torch.clamp(torch.exp(p_logvar), min=self.floor_variance)
        loglik = -0.5 * (LOG_2PI + torch.log(variance) + (x - p_mean) ** 2 / variance).sum(-1)
        kl = 0.5 * (q_mean**2 + torch.exp(q_logvar) - 1.0 - q_logvar).sum(-1)
        return loglik - beta * kl


def bare_train(
    model: BareGaussianVAE, data: torch.Tensor, *, steps: int, batch_size: int, lr: float, seed: int
) -> float:
    """Plain Adam on the negative mean ELBO over uniformly drawn minibatches; returns the last loss."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = data.shape[0]
    loss = torch.zeros(())
    for _ in range(steps):
        idx = torch.randint(n, (batch_size,), generator=gen)
        eps = torch.randn(batch_size, model.latent_dim, generator=gen, dtype=data.dtype)
        loss = -model.elbo(data[idx], eps).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return float(loss.detach())
