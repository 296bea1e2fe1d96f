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
def test_elbo_is_the_independent_distributions_route(policy):
    """elbo_terms computes the log-density from the log variance and the KL in closed form for
    speed; its numbers must be those of posterior(), decode() and prior() with kl_divergence, in
    value and gradient. Float64: the two routes round differently (sqrt/log of the variance against
    the log variance itself), each term by a few ulps of values of order 1-10 nats, so 1e-12
    absolute is a thousand times the rounding and a million times below any formula error.
    (Until the heads were merged this test asserted bit equality in float32; the log-density from
    the log variance legitimately moves the last bits.)"""
    extra = {"floor": {"floor_variance": 0.05}, "fixed": {"sigma": 0.5}}.get(policy, {})
    if policy == "bernoulli":
        config = VAEConfig(data_dim=5, latent_dim=2, hidden=(4,), likelihood="bernoulli")
        x = (torch.rand(9, 5, generator=torch.Generator().manual_seed(1)) > 0.5).double()
    else:
        config = VAEConfig(data_dim=5, latent_dim=2, hidden=(4,), variance=policy, **extra)
        x = torch.rand(9, 5, generator=torch.Generator().manual_seed(1)).double()
    fast, slow = build_model(config, 2).double(), build_model(config, 2).double()
    elbo_fast = fast.elbo(x, n_samples=3, beta=0.7, generator=torch.Generator().manual_seed(5))
    q = slow.posterior(x)
    eps = torch.randn((3, 9, 2), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    z = q.base_dist.loc + q.base_dist.scale * eps
    log_lik = slow.decode(z, x).log_prob(x).mean(0)
    elbo_slow = log_lik - 0.7 * torch.distributions.kl_divergence(q, slow.prior(x))
    torch.testing.assert_close(elbo_fast, elbo_slow, rtol=0, atol=1e-12)
    elbo_fast.sum().backward()
    elbo_slow.sum().backward()
    for (name, a), b in zip(fast.named_parameters(), slow.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-12, msg=name)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gaussian_log_density_is_normal_log_prob(dtype):
    """The one log-density of the training objective against torch.distributions.Normal.log_prob,
    over log variances from -30 to 10 (float32 underflow of exp(-30)... is not reached: exp(-30) is
    9e-14, normal in float32). Tolerance: the two agree to the rounding of |log p|, which reaches
    (x - mu)^2 / var ~ 1e13 at the smallest variance; rtol 1e-6 (float32) / 1e-13 (float64) of
    |log p| plus a few ulps of 1 absolute."""
    from vaetheory.empirical.model import gaussian_log_density

    g = torch.Generator().manual_seed(0)
    log_var = torch.linspace(-30.0, 10.0, 401, dtype=torch.float64)
    x = torch.rand(401, generator=g, dtype=torch.float64)
    mean = torch.rand(401, generator=g, dtype=torch.float64)
    lv, xx, mm = log_var.to(dtype), x.to(dtype), mean.to(dtype)
    ours = gaussian_log_density(xx, mm, lv.exp(), lv)
    theirs = torch.distributions.Normal(mm, lv.exp().sqrt()).log_prob(xx)
    rtol, atol = (1e-6, 1e-5) if dtype == torch.float32 else (1e-13, 1e-13)
    torch.testing.assert_close(ours, theirs, rtol=rtol, atol=atol)
    # at x = mu the density is exactly -(1/2)(log 2 pi + log var): the bound of a floor
    at_mean = gaussian_log_density(mm, mm, lv.exp(), lv)
    torch.testing.assert_close(at_mean, -0.5 * (math.log(2 * math.pi) + lv), rtol=0, atol=0)


def test_kl_standard_normal_is_kl_divergence():
    """Float64, O(1) values: both are exact formulas, equal to 1e-14 (a few ulps)."""
    from vaetheory.empirical.model import kl_standard_normal

    g = torch.Generator().manual_seed(0)
    m = torch.randn(50, generator=g, dtype=torch.float64) * 3
    lv = torch.linspace(-20.0, 5.0, 50, dtype=torch.float64)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(m, (0.5 * lv).exp()), torch.distributions.Normal(0.0, 1.0)
    )
    torch.testing.assert_close(kl_standard_normal(m, lv), expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("policy", ["learned", "floor", "shared", "calibrated"])
@pytest.mark.parametrize("hidden", [(4,), ()], ids=["mlp", "linear"])
def test_checkpoint_of_the_unfused_heads_loads_and_gives_the_same_model(policy, hidden):
    """A state dict with separate encoder_mean / encoder_log_variance / decoder_mean /
    decoder_raw_variance layers (checkpoints written before the heads were merged) loads into the
    fused model; the blocks are the same numbers (exact comparison: nothing is computed)."""
    extra = {"floor": {"floor_variance": 0.05}}.get(policy, {})
    config = VAEConfig(data_dim=5, latent_dim=2, hidden=hidden, variance=policy, **extra)
    model = build_model(config, 4)
    old = {}
    for name, value in model.state_dict().items():
        head, _, kind = name.partition(".")
        if head in ("encoder_head", "decoder_head") and hidden:
            first, second = (
                ("encoder_mean", "encoder_log_variance")
                if head == "encoder_head"
                else (
                    "decoder_mean",
                    "decoder_raw_variance",
                )
            )
            n = config.latent_dim if head == "encoder_head" else config.data_dim
            old[f"{first}.{kind}"] = value[:n].clone()
            if value.shape[0] > n:
                old[f"{second}.{kind}"] = value[n:].clone()
        elif head in ("encoder_head", "decoder_head"):
            old[f"{'encoder_mean' if head == 'encoder_head' else 'decoder_mean'}.{kind}"] = value.clone()
        else:
            old[name] = value.clone()
    fresh = GaussianVAE(config)
    fresh.load_state_dict(old)
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    assert torch.equal(model.decoder_mean.weight, fresh.decoder_mean.weight)


def test_initial_weights_are_drawn_as_by_separate_heads():
    """The fused heads hold the weights that separate nn.Linear heads drew in the old order
    (encoder trunk, encoder mean, encoder log variance, decoder trunk, decoder mean, raw variance)."""
    from torch import nn

    config = VAEConfig(data_dim=5, latent_dim=2, hidden=(4,), variance="learned")
    model = build_model(config, 7)
    torch.manual_seed(7)
    layers = [
        nn.Linear(5, 4),
        nn.Linear(4, 2),
        nn.Linear(4, 2),
        nn.Linear(2, 4),
        nn.Linear(4, 5),
        nn.Linear(4, 5),
    ]
    assert torch.equal(model.encoder_trunk[0].weight, layers[0].weight)
    assert torch.equal(model.encoder_mean.weight, layers[1].weight)
    assert torch.equal(model.encoder_log_variance.bias, layers[2].bias)
    assert torch.equal(model.decoder_trunk[0].weight, layers[3].weight)
    assert torch.equal(model.decoder_mean.weight, layers[4].weight)
    assert torch.equal(model.decoder_raw_variance.weight, layers[5].weight)


def test_floor_follows_the_model_dtype():
    """The floor buffer is recomputed (rounded up) for the dtype, not converted: exact in float64."""
    config = VAEConfig(data_dim=3, latent_dim=1, hidden=(2,), variance="floor", floor_variance=0.1)
    model = build_model(config, 0)
    assert float(model.decoder_variance_floor) >= 0.1 and model.decoder_variance_floor.dtype == torch.float32
    model = model.double()
    assert float(model.decoder_variance_floor) == 0.1
    assert float(model.decoder_log_variance_floor) == math.log(0.1)
    assert "decoder_variance_floor" not in model.state_dict()


def test_cached_floor_tensor_works_after_first_use_in_inference_mode():
    from vaetheory.empirical.policies import floor_tensor

    xi = 0.0123
    with torch.inference_mode():
        floor_tensor(xi, torch.zeros(1))
    raw = torch.zeros(3, requires_grad=True)
    apply_floor(raw, xi, "clamp").sum().backward()  # would fail on an inference tensor
    assert floor_tensor(xi, raw) >= xi


# -- a policy registered here, in the test file, works everywhere without other edits ---------------


@pytest.fixture
def registered_policies():
    """Two policies registered for one test and removed after it (the registry is process-wide).

    ``softplus_variance``: sigma^2 = softplus(l), no floor (unbounded), coloured sky blue.
    ``log_softfloor``: log sigma^2 = log xi + softplus(l - log xi), a floor xi (bound -(d/2) log 2 pi xi).
    """
    import torch.nn.functional as F

    from vaetheory.empirical.policies import POLICY_REGISTRY, VariancePolicy, register_policy

    @register_policy
    class SoftplusVariance(VariancePolicy):
        name = "softplus_variance"
        label = "softplus variance"
        colour_key = "sky_blue"
        raw_head = True

        def variance(self, module, raw, mean, x):
            variance = F.softplus(raw)
            return variance, variance.log()

    @register_policy
    class LogSoftFloor(VariancePolicy):
        name = "log_softfloor"
        label = "log-softplus floor"
        colour_key = "bluish_green"
        uses = ("floor_variance",)
        raw_head = True
        floored = True
        bounds_value = bounds_gradient = True

        @classmethod
        def validate(cls, config):
            if config.floor_variance is None:
                raise ValueError("variance='log_softfloor' needs floor_variance")

        def tensors(self, like):
            from vaetheory.empirical.policies import floor_tensor, log_floor_tensor

            xi = self.config.floor_variance
            return {
                "decoder_variance_floor": floor_tensor(xi, like),
                "lsf_log_floor": log_floor_tensor(xi, like),
            }

        def variance(self, module, raw, mean, x):
            log_variance = module.lsf_log_floor + F.softplus(raw - module.lsf_log_floor)
            return torch.maximum(log_variance.exp(), module.decoder_variance_floor), log_variance

        def floor(self):
            return self.config.floor_variance

    yield SoftplusVariance, LogSoftFloor
    del POLICY_REGISTRY["softplus_variance"], POLICY_REGISTRY["log_softfloor"]


@pytest.fixture
def small_data():
    return np.random.default_rng(0).uniform(0.0, 1.0, size=(40, 6))


def test_a_registered_policy_trains_with_train_and_keeps_its_bound(registered_policies, small_data):
    from vaetheory.empirical.training import TrainConfig, train

    kw = {"latent": 2, "hidden": (8,), "steps": 60, "batch_size": 20, "lr": 3e-2, "log_every": 1}
    free = train(TrainConfig(variance="softplus_variance", **kw), data=small_data, progress=False)
    assert free.stopped_reason is None and free.bound is None
    assert all(np.isfinite(h["elbo"]) for h in free.history)
    floored = train(
        TrainConfig(variance="log_softfloor", floor_variance=0.05, **kw), data=small_data, progress=False
    )
    # the bound comes from the policy object: -(d/2) log(2 pi xi), the shared float64 formula
    assert floored.bound == variance_floor_bound(6, 0.05)
    # every logged one-sample per-point ELBO is under it (the KL is >= 0), and no variance below xi
    assert max(h["max_point_loglik"] for h in floored.history) <= floored.bound
    assert min(h["min_variance"] for h in floored.history) >= 0.05


def test_a_registered_policy_runs_in_the_stacked_sweep(registered_policies, small_data):
    """Per-run floors of the new policy are its buffers, stacked with the weights: the sweep equals
    the sequential runs to the tolerance of tests/empirical/test_sweep.py (float64, 1e-10)."""
    from vaetheory.empirical.sweep import SweepRun, train_sequential, train_sweep

    for variance, extras in (
        ("softplus_variance", [{}]),
        ("log_softfloor", [{"floor_variance": v} for v in (1e-2, 0.2)]),
    ):
        runs = [
            SweepRun(VAEConfig(data_dim=6, latent_dim=2, hidden=(8,), variance=variance, **extra), seed=s)
            for extra in extras
            for s in (0, 1)
        ]
        kw = {"steps": 6, "batch_size": 10, "lr": 1e-2, "dtype": torch.float64}
        a, b = train_sweep(runs, small_data, **kw), train_sequential(runs, small_data, **kw)
        np.testing.assert_allclose(a.neg_elbo, b.neg_elbo, rtol=0, atol=1e-10)
        for sa, sb in zip(a.state_dicts, b.state_dicts):
            for name in sa:
                torch.testing.assert_close(sa[name], sb[name], rtol=0, atol=1e-10, msg=name)


def test_a_registered_policy_gets_its_label_and_colour_in_the_figures(registered_policies, small_data):
    import matplotlib

    from vaetheory.empirical.training import TrainConfig, train
    from vaetheory.figures.empirical import run_label, run_series
    from vaetheory.plots.empirical import draw_training_runs
    from vaetheory.plots.style import policy_color

    config = TrainConfig(variance="softplus_variance", latent=2, hidden=(8,), steps=10, log_every=2)
    series = run_series(train(config, data=small_data, progress=False), run_label(config))
    assert series["label"] == "softplus variance" and series["colour_key"] == "sky_blue"
    fig = draw_training_runs([series])
    colours = {matplotlib.colors.to_hex(line.get_color()) for ax in fig.axes for line in ax.get_lines()}
    assert policy_color("sky_blue").lower() in colours  # the Okabe-Ito hue at print contrast
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "softplus variance" in labels
    matplotlib.pyplot.close(fig)


def test_a_registered_policy_is_accepted_by_vaetheory_train(
    registered_policies, small_data, tmp_path, capsys
):
    from vaetheory.cli import main

    data = tmp_path / "data.npy"
    np.save(data, small_data)
    out = tmp_path / "run"
    argv = ["train", "--variance", "softplus_variance", "--data", str(data), "--hidden", "8"]
    code = main([*argv, "--steps", "10", "--log-every", "5", "--out", str(out), "--no-progress"])
    assert code == 0
    assert "softplus variance" in capsys.readouterr().out
    summary = (out / "summary.json").read_text()
    assert '"softplus_variance"' in summary
