r"""Sampling from a trained VAE, each mode named explicitly (theory section 4; thesis algorithms 6-7).

With :math:`z\sim\mathcal N(0,I)` and the decoder :math:`\mathcal N(\mu(z),\operatorname{diag}\sigma^2(z))`:

``ancestral``      :math:`x\sim\mathcal N(\mu(z),\sigma^2(z))` -- a sample of the model :math:`p(x)`.
``mean``           :math:`x=\mu(z)` -- the "deterministic" sample; not a sample of :math:`p(x)`.
``mean_plus_std``  :math:`x=\mu(z)+\alpha\,\sigma(z)` for a fixed :math:`\alpha` (figure 5.15 of the
                   thesis chapter): shows where the decoder puts its STD.

For a Bernoulli decoder, ``ancestral`` draws bits, ``mean`` is :math:`p=\operatorname{sigmoid}(\text{logit})`
and ``mean_plus_std`` is :math:`p+\alpha\sqrt{p(1-p)}`.
"""

from __future__ import annotations

import torch

from vaetheory._validation import check_choice, check_int, check_real

SAMPLING_MODES = ("ancestral", "mean", "mean_plus_std")


def _decode_with(model, z: torch.Tensor, mode: str, alpha: float, generator: torch.Generator) -> torch.Tensor:
    mean, variance = model.decoder_params(z)
    if variance is None:  # Bernoulli: mean is the logit
        p = torch.sigmoid(mean)
        if mode == "ancestral":
            return torch.bernoulli(p, generator=generator)
        if mode == "mean":
            return p
        return p + alpha * (p * (1 - p)).sqrt()
    std = variance.sqrt()
    if mode == "ancestral":
        return mean + std * torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
    if mode == "mean":
        return mean
    return mean + alpha * std


def sample(model, n: int, *, mode: str, alpha: float = 1.0, seed: int) -> torch.Tensor:
    """``n`` samples ``[n, d]``: :math:`z\\sim\\mathcal N(0,I)`, then the named ``mode`` (see module doc)."""
    n = check_int("n", n, low=1)
    check_choice("mode", mode, SAMPLING_MODES)
    alpha = check_real("alpha", alpha)
    seed = check_int("seed", seed, low=0)
    generator = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        z = torch.randn((n, model.config.latent_dim), generator=generator, dtype=dtype)
        return _decode_with(model, z, mode, alpha, generator)


def reconstruct(model, x, *, mode: str = "mean", alpha: float = 1.0, seed: int = 0) -> torch.Tensor:
    """Reconstructions ``[n, d]``: ``mean`` decodes :math:`\\mu(m(x))`; ``ancestral`` draws
    :math:`z\\sim q(z\\mid x)` then :math:`x'\\sim p(x\\mid z)`; ``mean_plus_std`` gives
    :math:`\\mu(m(x))+\\alpha\\sigma(m(x))`."""
    from vaetheory.empirical.estimators import as_data_tensor

    check_choice("mode", mode, SAMPLING_MODES)
    alpha = check_real("alpha", alpha)
    generator = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    x = as_data_tensor(x, model)
    with torch.no_grad():
        mean, variance = model.encode(x)
        z = mean
        if mode == "ancestral":
            z = mean + variance.sqrt() * torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
        return _decode_with(model, z, mode, alpha, generator)
