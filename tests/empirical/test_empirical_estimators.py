"""Estimators: quadrature against the linear-Gaussian closed form, and L_1 <= L_k -> log p(x)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaetheory.empirical.estimators import exact_log_marginal, iwae_bound, linear_log_marginal
from vaetheory.empirical.model import VAEConfig, build_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _linear(latent: int, d: int, seed: int, **kw):
    model = build_model(VAEConfig(data_dim=d, latent_dim=latent, hidden=(), **kw), seed).double()
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        model.decoder_mean.weight.copy_(torch.randn(d, latent, generator=g, dtype=torch.float64))
        model.decoder_mean.bias.copy_(torch.randn(d, generator=g, dtype=torch.float64))
        if hasattr(model, "decoder_raw_variance_param"):
            model.decoder_raw_variance_param.copy_(torch.randn(d, generator=g, dtype=torch.float64) - 1)
    return model


@pytest.mark.parametrize("latent", [1, 2])
@pytest.mark.parametrize("variance", ["learned", "fixed"])
def test_quadrature_matches_the_linear_gaussian_closed_form(latent, variance):
    kw = {"sigma": 0.7} if variance == "fixed" else {}
    model = _linear(latent, 3, seed=latent, variance=variance, **kw)
    x = torch.randn(6, 3, dtype=torch.float64) * 2
    exact = linear_log_marginal(model, x)
    mvn = torch.distributions.MultivariateNormal(
        model.decoder_mean.bias,
        model.decoder_mean.weight @ model.decoder_mean.weight.T
        + torch.diag(model.decoder_params(torch.zeros(1, latent, dtype=torch.float64))[1][0]),
    )
    np.testing.assert_allclose(exact.numpy(), mvn.log_prob(x).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(exact_log_marginal(model, x).numpy(), exact.numpy(), atol=1e-8)


def test_quadrature_needs_latent_one_or_two():
    model = build_model(VAEConfig(data_dim=4, latent_dim=3, hidden=(2,)), 0)
    with pytest.raises(ValueError, match="latent_dim 1 or 2"):
        exact_log_marginal(model, torch.zeros(2, 4))


def test_iwae_bound_increases_with_k_towards_the_exact_log_likelihood():
    """E L_1 <= E L_k <= log p(x) (Burda et al. 2016); the gap shrinks with k."""
    torch.manual_seed(0)
    model = build_model(VAEConfig(data_dim=3, latent_dim=1, hidden=(6,)), 2).double()
    with torch.no_grad():  # a poor encoder, so that L_1 is far from log p(x)
        model.encoder_mean.bias.add_(1.5)
    x = torch.rand(8, 3, dtype=torch.float64)
    exact = exact_log_marginal(model, x)
    reps = 10
    xr = x.repeat(reps, 1)
    g = torch.Generator().manual_seed(1)
    gaps = {}
    for k in (1, 10, 100, 1000):
        estimate = iwae_bound(model, xr, k, chunk_size=128, generator=g).reshape(reps, -1).mean(0)
        gaps[k] = float((exact - estimate).mean())
    assert gaps[1] > gaps[10] > gaps[100] > gaps[1000] > -0.01, gaps
    assert gaps[1000] < 0.05 * gaps[1], gaps


def test_iwae_bound_in_float32_and_float64_with_any_chunking_reaches_the_exact_value():
    model = build_model(VAEConfig(data_dim=4, latent_dim=2, hidden=(5,)), 0)
    x = torch.rand(5, 4)
    exact = exact_log_marginal(model, x).numpy()
    for dtype, chunk in ((torch.float64, 2000), ("float32", 2000), (torch.float64, 37)):
        g = torch.Generator().manual_seed(0)
        estimate = iwae_bound(model, x, 2000, chunk_size=chunk, generator=g, dtype=dtype)
        assert estimate.dtype == (torch.float32 if dtype == "float32" else dtype)
        error = estimate.double().numpy() - exact
        assert np.all(np.abs(error) < 0.08) and abs(error.mean()) < 0.03, error


def test_iwae_bound_rejects_bad_input():
    model = build_model(VAEConfig(data_dim=2, latent_dim=1, hidden=(2,)), 0)
    with pytest.raises(ValueError, match="finite"):
        iwae_bound(model, [[0.0, float("nan")]], 5)
    with pytest.raises(ValueError, match="2 columns"):
        iwae_bound(model, [[0.0, 1.0, 2.0]], 5)
    with pytest.raises(ValueError, match="k must be"):
        iwae_bound(model, [[0.0, 1.0]], 0)


def test_calibrated_likelihood_does_not_depend_on_how_points_are_batched():
    model = build_model(VAEConfig(data_dim=3, latent_dim=1, hidden=(4,), variance="calibrated"), 0).double()
    x = torch.rand(6, 3, dtype=torch.float64)
    model.elbo(x).sum().backward()  # a training step stores the batch's MSE
    stored = float(model.calibrated_variance)
    whole = exact_log_marginal(model, x)
    halves = torch.cat([exact_log_marginal(model, x[:3]), exact_log_marginal(model, x[3:])])
    np.testing.assert_allclose(whole.numpy(), halves.numpy(), rtol=1e-12)
    assert float(model.calibrated_variance) == stored
