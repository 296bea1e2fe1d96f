"""Collapse metrics on the linear VAE at its optimum (known answers), sampling modes, the monitor."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from vaetheory.empirical.diagnostics import (
    BoundExceededWarning,
    VarianceCollapseWarning,
    VarianceMonitor,
    active_units,
    kl_per_dimension,
    mutual_information,
)
from vaetheory.empirical.model import VAEConfig, build_model
from vaetheory.empirical.sampling import SAMPLING_MODES, reconstruct, sample

pytestmark = pytest.mark.usefixtures("one_torch_thread")


NOISE_VARIANCE = 1.0
SPECTRUM = (4.0, 2.0, 0.5, 0.3)
Q = 3


def _linear_vae_at_optimum(n: int = 1500, seed: int = 0):
    """The linear VAE optimum (theory section 3) for the sample covariance of Gaussian data."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    X = rng.normal(size=(n, 4)) * np.sqrt(SPECTRUM) @ rotation.T + 0.5
    mu = X.mean(0)
    S = (X - mu).T @ (X - mu) / n
    ell, U = np.linalg.eigh(S)
    ell, U = ell[::-1], U[:, ::-1]
    scale = np.sqrt(np.maximum(ell[:Q] - NOISE_VARIANCE, 0.0))
    W = U[:, :Q] * scale
    M = W.T @ W + NOISE_VARIANCE * np.eye(Q)
    V = np.linalg.solve(M, W.T)
    D = NOISE_VARIANCE * np.diag(np.linalg.inv(M))
    model = build_model(
        VAEConfig(data_dim=4, latent_dim=Q, hidden=(), variance="fixed", sigma=math.sqrt(NOISE_VARIANCE)), 0
    ).double()
    with torch.no_grad():
        model.decoder_mean.weight.copy_(torch.as_tensor(W))
        model.decoder_mean.bias.copy_(torch.as_tensor(mu))
        model.encoder_mean.weight.copy_(torch.as_tensor(V))
        model.encoder_mean.bias.copy_(torch.as_tensor(-V @ mu))
        model.encoder_log_variance_param.copy_(torch.as_tensor(np.log(D)))
    return model, X, ell[:Q]


def test_active_units_match_the_linear_vae_closed_form():
    model, X, ell = _linear_vae_at_optimum()
    result = active_units(model, X)
    expected = np.where(ell > NOISE_VARIANCE, 1 - NOISE_VARIANCE / ell, 0.0)
    np.testing.assert_allclose(result.activity, expected, atol=1e-10)
    assert result.active == (True, True, False) and result.count == 2 and result.threshold == 0.01


def test_kl_per_dimension_matches_half_log_of_eigenvalue_over_noise():
    model, X, ell = _linear_vae_at_optimum()
    expected = np.where(ell > NOISE_VARIANCE, 0.5 * np.log(ell / NOISE_VARIANCE), 0.0)
    np.testing.assert_allclose(kl_per_dimension(model, X).numpy(), expected, atol=1e-10)


def test_mutual_information_matches_the_sum_of_kls_when_the_aggregate_posterior_is_the_prior():
    model, X, ell = _linear_vae_at_optimum()
    expected = float(np.sum(np.where(ell > NOISE_VARIANCE, 0.5 * np.log(ell / NOISE_VARIANCE), 0.0)))
    assert mutual_information(model, X, n_samples=4, seed=0) == pytest.approx(expected, abs=0.06)


def test_sampling_modes_are_what_they_say():
    model, X, _ = _linear_vae_at_optimum()
    mean = sample(model, 5, mode="mean", seed=1)
    assert torch.allclose(sample(model, 5, mode="mean_plus_std", alpha=0.0, seed=1), mean)
    assert torch.allclose(sample(model, 5, mode="mean_plus_std", alpha=2.0, seed=1), mean + 2.0)  # std = 1
    a = sample(model, 20000, mode="ancestral", seed=2)
    assert torch.equal(a, sample(model, 20000, mode="ancestral", seed=2))
    W = model.decoder_mean.weight.detach()
    np.testing.assert_allclose(np.cov(a.numpy().T), (W @ W.T + torch.eye(4)).numpy(), atol=0.15)
    assert reconstruct(model, X[:3], mode="mean").shape == (3, 4)
    with pytest.raises(ValueError, match="mode must be one of"):
        sample(model, 2, mode="deterministic", seed=0)
    assert SAMPLING_MODES == ("ancestral", "mean", "mean_plus_std")


def test_bernoulli_sampling_stays_in_the_unit_interval():
    model = build_model(VAEConfig(data_dim=6, latent_dim=2, hidden=(4,), likelihood="bernoulli"), 0)
    for mode in SAMPLING_MODES:
        s = sample(model, 10, mode=mode, alpha=0.5, seed=0)
        assert torch.all((s >= 0) & (s <= 1.5))
    assert set(sample(model, 50, mode="ancestral", seed=0).unique().tolist()) <= {0.0, 1.0}


def test_monitor_warns_on_collapse_naming_the_point():
    monitor = VarianceMonitor(collapse_variance=1e-4)
    variance = torch.ones(4, 3)
    variance[2, 1] = 1e-7
    with pytest.warns(VarianceCollapseWarning, match="training point 17"):
        events = monitor.check(5, variance, point_index=[3, 9, 17, 4])
    assert events[0].kind == "collapse" and events[0].point == 17 and events[0].step == 5


def test_monitor_warns_when_a_point_passes_the_floor_bound():
    xi = 1e-2
    monitor = VarianceMonitor(floor_variance=xi)
    bound = -(3 / 2) * math.log(2 * math.pi * xi)
    loglik = torch.tensor([0.0, bound + 0.5, bound - 1.0])
    with pytest.warns(BoundExceededWarning, match="training point 1"):
        events = monitor.check(1, torch.full((3, 3), 0.5), point_loglik=loglik)
    assert events[0].kind == "bound" and events[0].threshold == pytest.approx(bound)


def test_monitor_is_silent_when_all_is_well():
    monitor = VarianceMonitor(floor_variance=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert monitor.check(1, torch.full((3, 2), 0.5), point_loglik=torch.zeros(3)) == []
    with pytest.raises(ValueError, match="floor_variance"):
        VarianceMonitor(floor_variance=-1.0)
