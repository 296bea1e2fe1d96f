"""The VAE's variance policies and floors: each floor bounds what it says it bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaetheory.densities import kl_gaussian_standard, variance_floor_bound
from vaetheory.empirical.model import GaussianVAE, VAEConfig, build_model
from vaetheory.empirical.policies import FLOOR_METHODS, VARIANCE_POLICIES, apply_floor, floor_report

pytestmark = pytest.mark.usefixtures("one_torch_thread")


RAW = torch.cat([torch.linspace(-200.0, 20.0, 441), torch.linspace(-16.0, 0.0, 20001)]).double()


@pytest.mark.parametrize("method", FLOOR_METHODS)
@pytest.mark.parametrize("xi", [1e-6, 1e-3, 0.5])
def test_every_floor_method_keeps_the_variance_at_or_above_the_floor(method, xi):
    for dtype in (torch.float32, torch.float64):
        variance = apply_floor(RAW.to(dtype), xi, method)
        assert torch.all(variance.double() >= xi), (method, dtype, float(variance.min()))


def test_gaussian_nll_floor_matches_torch_gaussian_nll_loss_in_value_and_gradient():
    """torch.nn.GaussianNLLLoss clamps the value under no_grad; ours is the same written explicitly."""
    torch.manual_seed(0)
    x, mu = torch.randn(50, dtype=torch.float64), torch.randn(50, dtype=torch.float64)
    raw = torch.linspace(-20, 2, 50, dtype=torch.float64)
    eps = 1e-3
    raw_a = raw.clone().requires_grad_(True)
    var_a = raw_a.exp()
    loss_torch = torch.nn.GaussianNLLLoss(eps=eps, full=True, reduction="sum")(mu, x, var_a)
    loss_torch.backward()
    raw_b = raw.clone().requires_grad_(True)
    var_b = apply_floor(raw_b, eps, "gaussian_nll")
    loss_ours = -torch.distributions.Normal(mu, var_b.sqrt()).log_prob(x).sum()
    loss_ours.backward()
    assert float(loss_ours.detach()) == pytest.approx(float(loss_torch.detach()), rel=1e-12)
    assert torch.allclose(raw_a.grad, raw_b.grad, rtol=1e-10, atol=1e-12)
    below = raw.exp() < eps
    assert below.any() and torch.all(raw_b.grad[below] != 0), "the gradient must pass through below eps"


def test_clamp_gives_no_gradient_below_the_floor_and_softclip_does():
    raw = torch.tensor([-30.0, 0.0], dtype=torch.float64, requires_grad=True)
    apply_floor(raw, 1e-3, "clamp").sum().backward()
    assert raw.grad[0] == 0 and raw.grad[1] != 0
    raw.grad = None
    apply_floor(raw, 1e-3, "softclip").sum().backward()
    assert raw.grad[0] > 0


def test_softclip_is_the_sigma_vae_softclip_of_log_std_at_minus_six():
    report = floor_report("softclip")
    assert report.floor_variance == pytest.approx(math.exp(-12.0), rel=1e-14)
    raw = torch.linspace(-40, 5, 10, dtype=torch.float64)  # log variance
    log_std = -6.0 + torch.nn.functional.softplus(raw / 2 - (-6.0))  # Rybkin et al.: softclip(log_sigma, -6)
    assert torch.allclose(
        apply_floor(raw, report.floor_variance, "softclip"), (2 * log_std).exp(), rtol=1e-12
    )


def test_floor_report_answers_the_bound_for_a_users_setting():
    r = floor_report("gaussian_nll", dim=64)
    assert r.floor_variance == 1e-6 and not r.bounds_gradient and r.bounds_value
    assert r.bound_per_dimension == pytest.approx(-0.5 * math.log(2 * math.pi * 1e-6))
    assert r.bound_per_dimension == pytest.approx(5.98882, abs=1e-5)
    assert r.bound_per_point == pytest.approx(variance_floor_bound(64, 1e-6))
    s = floor_report("clamp", 0.1, 10, unit="std")
    assert s.floor_variance == pytest.approx(0.01) and s.bound_per_point == pytest.approx(
        variance_floor_bound(10, 0.01)
    )
    assert "nats per point" in s.summary()
    with pytest.raises(ValueError, match="floor_variance"):
        floor_report("clamp", -1.0, 3)
    with pytest.raises(ValueError, match="floor_method"):
        floor_report("hard", 1.0, 3)
    with pytest.raises(ValueError, match="required"):
        floor_report("clamp")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variance": "floor", "floor_variance": -1e-3}, "floor_variance"),
        ({"variance": "floor"}, "floor_variance"),
        ({"variance": "fixed", "sigma": 0.0}, "sigma"),
        ({"variance": "fixed", "sigma": -1.0}, "sigma"),
        ({"variance": "fixed"}, "sigma"),
        ({"variance": "heteroscedastic"}, "variance must be one of"),
        ({"floor_method": "hard"}, "floor_method must be one of"),
        ({"latent_dim": 9}, "latent_dim must be <= data_dim"),
        ({"variance": "learned", "floor_variance": 0.1}, "only by variance='floor'"),
        ({"likelihood": "poisson"}, "likelihood must be one of"),
    ],
)
def test_bad_configurations_raise_clear_errors(kwargs, match):
    base = {"data_dim": 4, "latent_dim": 2, "hidden": (3,)}
    with pytest.raises(ValueError, match=match):
        VAEConfig(**{**base, **kwargs})


def test_std_floor_is_converted_to_a_variance_floor():
    c = VAEConfig.with_std_floor(0.1, data_dim=3, latent_dim=1)
    assert c.variance == "floor" and c.floor_variance == pytest.approx(0.01)


def test_same_seed_gives_the_same_initial_weights():
    c = VAEConfig(data_dim=5, latent_dim=2, hidden=(4,))
    a, b, other = build_model(c, 3), build_model(c, 3), build_model(c, 4)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, po) for pa, po in zip(a.parameters(), other.parameters()))


@pytest.mark.parametrize("policy", VARIANCE_POLICIES)
def test_each_policy_gives_the_variance_it_names(policy):
    extra = {"floor": {"floor_variance": 0.2}, "fixed": {"sigma": 0.5}}.get(policy, {})
    model = build_model(VAEConfig(data_dim=4, latent_dim=2, hidden=(3,), variance=policy, **extra), 0)
    z = torch.randn(6, 2)
    x = torch.rand(6, 4)
    mean, variance = model.decoder_params(z, x)
    assert mean.shape == variance.shape == (6, 4)
    if policy == "fixed":
        assert torch.allclose(variance, torch.full_like(variance, 0.25))
    elif policy == "floor":
        assert torch.all(variance >= 0.2)
    elif policy == "shared":
        assert torch.all(variance == variance.flatten()[0])
    elif policy == "calibrated":
        assert torch.allclose(variance, ((x - mean) ** 2).mean().expand_as(variance))


def test_elbo_kl_term_matches_the_shared_float64_formula():
    model = build_model(
        VAEConfig(data_dim=4, latent_dim=2, hidden=(5,), variance="fixed", sigma=1.0), 1
    ).double()
    x = torch.rand(7, 4, dtype=torch.float64)
    with torch.no_grad():
        m, v = model.encode(x)
        kl = torch.distributions.kl_divergence(model.posterior(x), model.prior(x))
        # beta scales exactly the KL
        g = torch.Generator().manual_seed(0)
        e1 = model.elbo(x, beta=1.0, generator=g)
        g = torch.Generator().manual_seed(0)
        e3 = model.elbo(x, beta=3.0, generator=g)
    expected = kl_gaussian_standard(m.numpy(), v.numpy()).sum(axis=1)
    np.testing.assert_allclose(kl.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose((e1 - e3).numpy(), 2 * expected, rtol=1e-10)


def test_bernoulli_decoder_log_likelihood_is_at_most_zero():
    model = build_model(VAEConfig(data_dim=6, latent_dim=2, hidden=(4,), likelihood="bernoulli"), 0)
    x = (torch.rand(20, 6) > 0.5).float()
    with torch.no_grad():
        assert torch.all(model.decode(torch.randn(20, 2)).log_prob(x) <= 0)
        assert torch.all(model.elbo(x) <= 0)


def test_linear_model_has_z_independent_variance():
    model = GaussianVAE(VAEConfig(data_dim=3, latent_dim=2, hidden=()))
    _, v1 = model.decoder_params(torch.zeros(1, 2))
    _, v2 = model.decoder_params(torch.ones(1, 2) * 5)
    assert torch.equal(v1, v2)


@pytest.mark.parametrize("policy", [*VARIANCE_POLICIES, "bernoulli"])
def test_elbo_is_exactly_the_independent_distributions_route(policy):
    """elbo_terms skips the Independent wrappers for speed; its numbers must be those of
    posterior(), decode() and prior() with kl_divergence, bit for bit, in value and gradient."""
    extra = {"floor": {"floor_variance": 0.05}, "fixed": {"sigma": 0.5}}.get(policy, {})
    if policy == "bernoulli":
        config = VAEConfig(data_dim=5, latent_dim=2, hidden=(4,), likelihood="bernoulli")
        x = (torch.rand(9, 5, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    else:
        config = VAEConfig(data_dim=5, latent_dim=2, hidden=(4,), variance=policy, **extra)
        x = torch.rand(9, 5, generator=torch.Generator().manual_seed(1))
    fast, slow = build_model(config, 2), build_model(config, 2)
    elbo_fast = fast.elbo(x, n_samples=3, beta=0.7, generator=torch.Generator().manual_seed(5))
    q = slow.posterior(x)
    eps = torch.randn((3, 9, 2), generator=torch.Generator().manual_seed(5))
    z = q.base_dist.loc + q.base_dist.scale * eps
    log_lik = slow.decode(z, x).log_prob(x).mean(0)
    elbo_slow = log_lik - 0.7 * torch.distributions.kl_divergence(q, slow.prior(x))
    assert torch.equal(elbo_fast, elbo_slow)
    elbo_fast.sum().backward()
    elbo_slow.sum().backward()
    for (name, a), b in zip(fast.named_parameters(), slow.parameters()):
        assert torch.equal(a.grad, b.grad), name


def test_cached_floor_tensor_works_after_first_use_in_inference_mode():
    from vaetheory.empirical.policies import floor_tensor

    xi = 0.0123
    with torch.inference_mode():
        floor_tensor(xi, torch.zeros(1))
    raw = torch.zeros(3, requires_grad=True)
    apply_floor(raw, xi, "clamp").sum().backward()  # would fail on an inference tensor
    assert floor_tensor(xi, raw) >= xi
