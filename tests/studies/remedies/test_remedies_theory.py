"""The remedies' theory (vaetheory.symbolic.remedies) against constructed parameters and runs.

A bounded remedy never exceeds its bound; an unbounded one is driven past any given value along
its explicit path (constructed parameters through the real policy code, no training).
"""

from __future__ import annotations

import math

import pytest
import torch

import vaetheory.empirical.remedies as R
from vaetheory.empirical.model import VAEConfig, build_model, gaussian_log_density
from vaetheory.symbolic.remedies import remedy_theory

D = 64


@pytest.fixture(scope="module")
def theory():
    return remedy_theory()  # functools.lru_cache: sympy runs once per session (the study tests share it)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny nets on shared CI cores: one torch thread (measured 10-30x faster than 2); restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_row_is_proved_and_its_columns_follow_from_the_checks(theory):
    for name, row in theory.items():
        assert row.checks, name
        failed = [c.name for c in row.checks if not c.holds]
        assert not failed, f"{name}: {failed}"
        assert row.bounds in ("value", "gradient", "value+gradient", "none"), name
        assert (row.bounds == "none") == (row.bounded is False), name
        assert row.proof["proved"] and "theory section 7" in row.proof["where"]


def _model(policy: str) -> torch.nn.Module:
    return build_model(VAEConfig(data_dim=D, latent_dim=2, hidden=(16,), variance=policy), 0).double()


def _decoder_at_point(model, x, log_variance: float):
    """Constructed parameters: the decoder ignores z, its mean is x, its raw head the constant given."""
    with torch.no_grad():
        model.decoder_head.weight.zero_()
        model.decoder_mean.bias.copy_(x)
        model.decoder_raw_variance.bias.fill_(log_variance)
        model.encoder_head.weight.zero_()
        model.encoder_head.bias.zero_()  # q = the prior: KL = 0


@pytest.mark.parametrize(
    "policy", ["student_t", "student_t_learned_dof", "beta_nll", "beta_nll_1", "faithful"]
)
def test_unbounded_remedy_is_driven_past_any_value_along_its_path(policy, theory):
    """mu = x, log sigma^2 = -k: the ELBO value passes 1e3, 1e4, 1e5 nats; slope d/2 per unit k."""
    assert theory[policy].bounded is False
    x = torch.rand(1, D, dtype=torch.float64)
    model = _model(policy).eval()
    values = []
    for k in (10.0, 100.0, 300.0, 600.0):  # e^-600 is still a normal float64
        _decoder_at_point(model, x[0], -k)
        with torch.no_grad():
            values.append(float(model.elbo(x, generator=torch.Generator().manual_seed(0))))
    assert values[-1] > 1e4 and values[-2] > 1e3
    # the rate of the theory: 1/2 nat per dimension per unit k (exact up to float64 rounding of k d/2:
    # the two values differ by 300 * 32 = 9600 and are each O(1e4), so 1e-9 relative is generous)
    assert (values[3] - values[2]) / 300.0 == pytest.approx(D / 2, rel=1e-9)


@pytest.mark.parametrize("policy", ["beta_nll", "beta_nll_1", "faithful"])
def test_gradient_only_remedies_have_the_plain_value_exactly(policy):
    """The value-preserving surrogates: the ELBO is bit-identical to the learned policy's."""
    x = torch.rand(7, D)
    a, b = (
        build_model(VAEConfig(data_dim=D, latent_dim=2, variance=policy), 3),
        build_model(VAEConfig(data_dim=D, latent_dim=2, variance="learned"), 3),
    )
    eps = torch.randn(1, 7, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a(x, eps), b(x, eps))


def test_beta_nll_gradient_is_sigma_2beta_times_the_plain_one():
    x, mean = torch.randn(50, dtype=torch.float64), torch.randn(50, dtype=torch.float64)
    for beta in (0.5, 1.0):
        policy = (R.BetaNLL if beta == 0.5 else R.BetaNLL1)(None)
        lv1 = torch.randn(50, dtype=torch.float64, requires_grad=True)
        lv2 = lv1.detach().clone().requires_grad_(True)
        policy.log_density(None, x, mean, lv1.exp(), lv1).sum().backward()
        gaussian_log_density(x, mean, lv2.exp(), lv2).sum().backward()
        # one product of float64 numbers per element: a few ulps
        torch.testing.assert_close(lv1.grad, (beta * lv2).exp().detach() * lv2.grad, rtol=1e-14, atol=0)


def test_faithful_gradients_mean_is_mse_variance_sees_no_mean():
    x = torch.randn(30, dtype=torch.float64)
    mean = torch.randn(30, dtype=torch.float64, requires_grad=True)
    lv = torch.randn(30, dtype=torch.float64, requires_grad=True)
    R.Faithful(None).log_density(None, x, mean, lv.exp(), lv).sum().backward()
    torch.testing.assert_close(mean.grad, (x - mean).detach(), rtol=0, atol=1e-15)  # exact up to one rounding
    expected = -0.5 + 0.5 * (x - mean.detach()) ** 2 / lv.detach().exp()
    torch.testing.assert_close(lv.grad, expected, rtol=1e-13, atol=1e-15)


def test_faithful_variance_gradient_does_not_reach_the_trunk_or_encoder():
    model = build_model(VAEConfig(data_dim=D, latent_dim=2, variance="faithful"), 0)
    _, raw = model.decoder_raw(torch.randn(4, 2))
    raw.sum().backward()
    assert model.decoder_trunk[0].weight.grad is None
    assert model.encoder_head.weight.grad is None


def test_student_t_matches_torch_distributions():
    from torch.distributions import StudentT

    x, mu, ls = (torch.randn(100, dtype=torch.float64) for _ in range(3))
    for nu in (0.5, 3.0, 1e3):
        ours = R.student_t_log_density(x, mu, ls, torch.tensor(nu, dtype=torch.float64))
        # both sum lgamma terms and a log1p: relative rounding of a few ulps of values O(1-10)
        torch.testing.assert_close(
            ours, StudentT(nu, mu, (0.5 * ls).exp()).log_prob(x), rtol=1e-12, atol=1e-12
        )


def test_discretised_probability_matches_scipy_and_never_exceeds_zero():
    from scipy.stats import norm

    h = R.DIGITS_BIN_WIDTH
    x = torch.arange(17, dtype=torch.float64).repeat(40) * h
    mu = torch.rand(x.shape, dtype=torch.float64) * 1.4 - 0.2
    lv = torch.rand(x.shape, dtype=torch.float64) * 40 - 35  # sigma^2 from e^-35 to e^5
    ours = R.discretised_gaussian_log_prob(x, mu, lv, h, 0.0, 1.0)
    assert float(ours.max()) <= 0.0
    s = (0.5 * lv).exp().numpy()
    lo = norm.cdf((x.numpy() - h / 2 - mu.numpy()) / s)
    hi = norm.cdf((x.numpy() + h / 2 - mu.numpy()) / s)
    lo[x.numpy() == 0.0], hi[x.numpy() == 1.0] = 0.0, 1.0
    p = hi - lo
    ok = p > 1e-300  # scipy's direct difference underflows beyond; ours stays finite there
    # scipy's difference of CDFs loses digits when both are near 1; compare where P > 1e-8 closely
    sel = torch.as_tensor(p > 1e-8)
    torch.testing.assert_close(ours[sel], torch.log(torch.as_tensor(p))[sel], rtol=1e-6, atol=1e-8)
    assert torch.isfinite(ours[torch.as_tensor(ok)]).all()


def test_discretised_bound_is_zero_and_approached_as_sigma_shrinks(theory):
    assert theory["discretised"].bounded is True
    x = torch.full((1, D), 5 / 16, dtype=torch.float64)
    model = _model("discretised").eval()
    values = []
    for k in (0.0, 5.0, 20.0, 200.0):
        _decoder_at_point(model, x[0], -k)
        with torch.no_grad():
            values.append(float(model.elbo(x)))
    assert max(values) <= 0.0 and values == sorted(values) and values[-1] == pytest.approx(0.0, abs=1e-12)


def test_quantile_objective_never_exceeds_its_bound_at_any_parameters():
    bound = R.Quantile(None).bound_per_point(1)
    assert bound == pytest.approx(math.log(0.25 * 0.15 * 0.85), rel=1e-15)
    x = torch.randn(10_000, dtype=torch.float64)
    mean, raw = torch.randn(10_000, dtype=torch.float64), torch.randn(10_000, dtype=torch.float64) * 10
    variance, log_variance = R.Quantile(None).variance(None, raw, mean, x)
    assert float(R.Quantile(None).log_density(None, x, mean, variance, log_variance).max()) <= bound


def _dequantised_config(steps: int):
    from vaetheory.empirical.training import TrainConfig

    return TrainConfig(
        variance="dequantised",
        latent=2,
        hidden=(8,),
        steps=steps,
        batch_size=16,
        log_every=5,
        checkpoint_every=10,
        seed=4,
    )


def test_dequantised_noise_is_a_function_of_seed_and_step_so_resume_is_bit_exact(tmp_path):
    """20 steps straight == 10 steps, then resumed from the checkpoint to 20: same log, same weights."""
    from vaetheory.empirical.training import load_model, train

    grid = (torch.randint(0, 17, (40, D), generator=torch.Generator().manual_seed(0)) / 16.0).numpy()
    straight = train(_dequantised_config(20), data=grid, progress=False)
    train(_dequantised_config(10), data=grid, out_dir=tmp_path, progress=False)
    resumed = train(_dequantised_config(20), data=grid, out_dir=tmp_path, resume=True, progress=False)
    assert resumed.history == straight.history
    for (name, p), q in zip(load_model(tmp_path).state_dict().items(), straight.model.state_dict().values()):
        assert torch.equal(p, q), name
    assert int(straight.model.dequantised_step) == 20  # one noise draw per training step
    # the noise is fresh each step and differs between model seeds (s is drawn from the build seed)
    policy = straight.model.policy
    a, b = (build_model(VAEConfig(data_dim=D, latent_dim=2, variance="dequantised"), s) for s in (1, 2))
    ua1, ua2 = policy.noise(a, (3, D), torch.float32), policy.noise(a, (3, D), torch.float32)
    assert not torch.equal(ua1, ua2) and not torch.equal(ua1, policy.noise(b, (3, D), torch.float32))
    a2 = build_model(VAEConfig(data_dim=D, latent_dim=2, variance="dequantised"), 1)
    assert torch.equal(policy.noise(a2, (3, D), torch.float32), ua1)  # (seed, step) alone decide it
    # the initial weights are the learned policy's (the noise seed is drawn after them)
    learned = build_model(VAEConfig(data_dim=D, latent_dim=2, variance="learned"), 1)
    for p, q in zip(a2.parameters(), learned.parameters()):
        assert torch.equal(p, q)
