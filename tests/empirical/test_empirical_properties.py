"""Floors, estimators and Bernoulli against real training runs (issue 8; theory sections 2 and 4).

* Floor: for drawn MLP decoders, data, floors xi and floor methods, no likelihood estimate ever
  exceeds -(d/2) log(2 pi xi) per point -- the ELBO of every logged training step, and after
  training the per-point ELBO and the exact log p(x) (quadrature). Single draws of the IWAE
  estimator are not checked: log w = log p(x|z) + log p(z)/q(z|x) can exceed log p(x) in one draw
  (only its expectation is below), so it is not a bound.
* Without a floor, training on a tiny data set (three points sharing one coordinate) pushes the
  largest per-point log-likelihood estimate past that value.
* In the linear Gaussian model (hidden=()), where log p(x) is exact, E L_1 <= E L_k <= log p(x)
  and the gap shrinks with k (Burda et al. 2016), within three Monte Carlo standard errors.
* A Bernoulli decoder's likelihood never exceeds 0.

A failing case prints the drawn values (hypothesis) and the derived ones (``note``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.strategies import budget, seeds
from vaetheory.densities import variance_floor_bound
from vaetheory.empirical.estimators import exact_log_marginal, iwae_bound, linear_log_marginal
from vaetheory.empirical.model import VAEConfig, build_model
from vaetheory.empirical.policies import FLOOR_METHODS
from vaetheory.empirical.training import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Numbers spread evenly in log scale in [low, high] (tests.strategies.log_uniform fails for high = 1)."""
    return st.floats(0.0, 1.0).map(lambda u: low * (high / low) ** u)


def _slack(bound: float) -> float:
    """float32 rounding of a sum of d log-densities: a few ulps of the bound, never a real excess."""
    return 1e-5 * abs(bound) + 1e-4


@settings(max_examples=budget(20, 100))
@given(
    d=st.integers(1, 4),
    n=st.integers(2, 5),
    width=st.integers(2, 8),
    xi=log_uniform(1e-4, 1.0),
    method=st.sampled_from(FLOOR_METHODS),
    weight_scale=st.floats(0.5, 20.0),
    seed=seeds,
)
def test_floor_bounds_every_likelihood_estimate_during_and_after_training(
    d, n, width, xi, method, weight_scale, seed
):
    rng = np.random.default_rng(seed % 2**32)
    data = rng.uniform(size=(n, d))
    config = TrainConfig(
        variance="floor",
        floor_variance=xi,
        floor_method=method,
        latent=1,
        hidden=(width,),
        steps=budget(30, 300),
        batch_size=n,
        lr=3e-2,
        log_every=1,
        seed=seed % 1000,
    )
    result = train(config, data=data, progress=False)
    bound = variance_floor_bound(d, xi)
    peak = max(h["max_point_loglik"] for h in result.history)
    note(f"bound {bound:.6g}, largest logged estimate {peak:.6g}, stopped: {result.stopped_reason}")
    assert peak <= bound + _slack(bound)
    model = result.model
    with torch.no_grad():  # an extreme decoder: every weight scaled up, variances pushed to the floor
        for p in model.parameters():
            p.mul_(weight_scale)
    x = torch.as_tensor(data, dtype=torch.float32)
    with torch.no_grad():
        elbo = model.elbo(x, n_samples=4, generator=torch.Generator().manual_seed(0))
    exact = exact_log_marginal(model, data)
    note(
        f"after scaling by {weight_scale}: max ELBO {float(elbo.max()):.6g}, "
        f"max log p {float(exact.max()):.6g}"
    )
    assert float(elbo.max()) <= bound + _slack(bound)
    assert float(exact.max()) <= bound + 1e-9 * abs(bound) + 1e-9


@settings(max_examples=budget(8, 40))
@given(xi=log_uniform(0.03, 0.5), seed=seeds)
def test_without_a_floor_training_on_a_tiny_data_set_passes_the_floor_bound(xi, seed):
    rng = np.random.default_rng(seed % 2**32)
    data = rng.uniform(size=(3, 2))
    data[:, 0] = rng.uniform()  # the three points share one coordinate
    config = TrainConfig(
        variance="learned",
        latent=1,
        hidden=(8,),
        steps=budget(150, 400),
        batch_size=3,
        lr=5e-2,
        log_every=5,
        seed=seed % 1000,
    )
    result = train(config, data=data, progress=False)
    bound = variance_floor_bound(2, xi)
    peak = max(h["max_point_loglik"] for h in result.history)
    note(f"bound {bound:.6g}, largest per-point estimate {peak:.6g}, stopped: {result.stopped_reason}")
    assert peak > bound


@settings(max_examples=budget(20, 100))
@given(d=st.integers(2, 4), latent=st.integers(1, 2), seed=seeds)
def test_importance_weighted_bounds_are_ordered_below_the_exact_log_likelihood(d, latent, seed):
    model = build_model(VAEConfig(data_dim=d, latent_dim=latent, hidden=()), seed % 1000).double()
    g = torch.Generator().manual_seed(seed % 1000)
    with torch.no_grad():
        model.decoder_mean.weight.copy_(torch.randn(d, latent, generator=g, dtype=torch.float64))
        model.decoder_raw_variance_param.copy_(torch.randn(d, generator=g, dtype=torch.float64) - 1.0)
    x = torch.randn(4, d, generator=g, dtype=torch.float64)
    exact = linear_log_marginal(model, x)
    reps = 40
    means, errors = {}, {}
    for k in (1, 10, 100):
        draws = iwae_bound(model, x.repeat(reps, 1), k, generator=g).reshape(reps, -1).mean(1)
        means[k], errors[k] = float(draws.mean()), float(draws.std() / math.sqrt(reps))
    truth = float(exact.mean())
    note(f"mean L_k {means}, standard errors {errors}, exact {truth:.6g}")
    tol = lambda a, b: 3 * (errors[a] + errors[b]) + 1e-9  # noqa: E731
    assert means[1] <= means[10] + tol(1, 10)
    assert means[10] <= means[100] + tol(10, 100)
    assert means[100] <= truth + 3 * errors[100] + 1e-9
    assert truth - means[100] <= truth - means[1] + tol(1, 100)


@settings(max_examples=budget(15, 80))
@given(d=st.integers(1, 6), width=st.integers(2, 8), weight_scale=st.floats(0.5, 20.0), seed=seeds)
def test_bernoulli_likelihood_never_exceeds_zero(d, width, weight_scale, seed):
    rng = np.random.default_rng(seed % 2**32)
    data = (rng.uniform(size=(4, d)) > 0.5).astype(float)
    config = TrainConfig(
        likelihood="bernoulli",
        latent=1,
        hidden=(width,),
        steps=budget(20, 200),
        batch_size=4,
        lr=5e-2,
        log_every=1,
        seed=seed % 1000,
    )
    result = train(config, data=data, progress=False)
    assert all(h["max_point_loglik"] <= 0 for h in result.history)
    with torch.no_grad():
        for p in result.model.parameters():
            p.mul_(weight_scale)
    exact = exact_log_marginal(result.model, data)
    note(f"max exact log p {float(exact.max()):.6g}")
    assert float(exact.max()) <= 1e-12
