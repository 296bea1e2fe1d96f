"""The batched sweep computes what K sequential runs of GaussianVAE compute.

Tolerances: float64, 1e-10 nats on every step's loss and 1e-10 on every trained weight (a batched
against an unbatched matrix product rounds differently, by a few ulps); float32, 1e-4 nats and
1e-5 on the weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaetheory.empirical.model import GaussianVAE, VAEConfig, build_model
from vaetheory.empirical.sweep import SweepRun, train_sequential, train_sweep

TOL = {torch.float64: (1e-10, 1e-10), torch.float32: (1e-4, 1e-5)}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one thread is faster, and avoids OpenMP stalls on a busy CI machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 1.0, size=(60, 6))


def grid(variance: str, per_run: list[dict], hidden=(8,), method: str = "clamp", likelihood="gaussian"):
    return [
        SweepRun(
            VAEConfig(
                data_dim=6,
                latent_dim=2,
                hidden=hidden,
                variance=variance,
                floor_method=method,
                likelihood=likelihood,
                **extra,
            ),
            seed=seed,
            beta=beta,
        )
        for extra in per_run
        for seed in (0, 3)
        for beta in (1.0, 0.25)
    ]


def assert_same(a, b, dtype) -> None:
    loss_tol, weight_tol = TOL[dtype]
    np.testing.assert_allclose(a.neg_elbo, b.neg_elbo, rtol=0, atol=loss_tol)
    for sa, sb in zip(a.state_dicts, b.state_dicts):
        assert sa.keys() == sb.keys()
        for name in sa:
            torch.testing.assert_close(sa[name], sb[name], rtol=0, atol=weight_tol, msg=name)


CASES = {
    "floor_clamp_two_floors": ("floor", [{"floor_variance": 1e-3}, {"floor_variance": 1e-1}], "clamp"),
    "floor_softclip": ("floor", [{"floor_variance": 1e-2}], "softclip"),
    "floor_softplus_two_floors": ("floor", [{"floor_variance": 1e-3}, {"floor_variance": 1e-2}], "softplus"),
    "floor_gaussian_nll": ("floor", [{"floor_variance": 1e-6}, {"floor_variance": 1e-2}], "gaussian_nll"),
    "fixed_two_sigmas": ("fixed", [{"sigma": 0.3}, {"sigma": 1.0}], "clamp"),
    "learned": ("learned", [{}], "clamp"),
    "shared": ("shared", [{}], "clamp"),
    "calibrated": ("calibrated", [{}], "clamp"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_sweep_equals_sequential_runs(case, dtype, data):
    variance, per_run, method = CASES[case]
    runs = grid(variance, per_run, method=method)
    kw = {"steps": 8, "batch_size": 10, "lr": 1e-2, "dtype": dtype}
    assert_same(train_sweep(runs, data, **kw), train_sequential(runs, data, **kw), dtype)


@pytest.mark.parametrize("hidden", [(), (8, 5)], ids=["linear", "two_hidden_layers"])
def test_sweep_equals_sequential_for_other_depths(hidden, data):
    runs = grid("floor", [{"floor_variance": 1e-3}, {"floor_variance": 1e-2}], hidden=hidden)
    kw = {"steps": 8, "batch_size": 10, "lr": 1e-2, "dtype": torch.float64}
    assert_same(train_sweep(runs, data, **kw), train_sequential(runs, data, **kw), torch.float64)


def test_sweep_equals_sequential_for_bernoulli(data):
    runs = grid("learned", [{}], likelihood="bernoulli")
    binary = (data > 0.5).astype(np.float64)
    kw = {"steps": 8, "batch_size": 10, "lr": 1e-2, "dtype": torch.float64}
    assert_same(train_sweep(runs, binary, **kw), train_sequential(runs, binary, **kw), torch.float64)


def test_run_does_not_depend_on_its_companions(data):
    runs = grid("floor", [{"floor_variance": 1e-3}, {"floor_variance": 1e-1}])
    kw = {"steps": 8, "batch_size": 10, "lr": 1e-2, "dtype": torch.float64}
    alone = train_sweep(runs[2:3], data, **kw)
    together = train_sweep(runs, data, **kw)
    np.testing.assert_allclose(together.neg_elbo[:, 2], alone.neg_elbo[:, 0], rtol=0, atol=1e-10)


def test_trained_models_load_into_gaussian_vae_and_reproduce_the_elbo(data):
    runs = grid("floor", [{"floor_variance": 1e-2}])
    result = train_sweep(runs, data, steps=5, batch_size=10, dtype=torch.float64)
    models = result.models()
    assert all(isinstance(m, GaussianVAE) for m in models)
    x = torch.as_tensor(data, dtype=torch.float64)
    # the untrained model differs from the trained one: training changed the weights
    before = build_model(runs[0].config, runs[0].seed).double()
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert not torch.allclose(models[0].elbo(x, generator=g1), before.elbo(x, generator=g2))
    assert result.to_dict()["runs"][0]["seed"] == runs[0].seed
    assert np.isfinite(result.neg_elbo).all()


def test_runs_must_share_the_architecture(data):
    a = SweepRun(VAEConfig(data_dim=6, latent_dim=2, variance="floor", floor_variance=1e-2), seed=0)
    b = SweepRun(VAEConfig(data_dim=6, latent_dim=3, variance="floor", floor_variance=1e-2), seed=0)
    with pytest.raises(ValueError, match="latent_dim"):
        train_sweep([a, b], data, steps=1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"steps": 0}, "steps"),
        ({"steps": 1, "batch_size": 0}, "batch_size"),
        ({"steps": 1, "lr": -1.0}, "lr"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name, data):
    runs = grid("learned", [{}])
    with pytest.raises(ValueError, match=name):
        train_sweep(runs, data, **kwargs)


def test_bad_run_values_are_refused():
    config = VAEConfig(data_dim=6, latent_dim=2)
    with pytest.raises(ValueError, match="beta"):
        SweepRun(config, seed=0, beta=0.0)
    with pytest.raises(ValueError, match="seed"):
        SweepRun(config, seed=-1)
    with pytest.raises(ValueError, match="data"):
        train_sweep([SweepRun(config, seed=0)], np.full((4, 6), np.nan), steps=1)


def test_sweep_reproduces_vaetheory_train(data):
    from vaetheory.empirical.training import TrainConfig, train

    runs = grid("floor", [{"floor_variance": 1e-3}, {"floor_variance": 1e-1}])[:3]
    result = train_sweep(runs, data, steps=8, batch_size=10, lr=1e-2)  # float32, as train()
    for run, state in zip(runs, result.state_dicts):
        c = run.config
        trained = train(
            TrainConfig(
                variance=c.variance,
                floor_variance=c.floor_variance,
                floor_method=c.floor_method,
                beta=run.beta,
                latent=c.latent_dim,
                hidden=c.hidden,
                steps=8,
                batch_size=10,
                lr=1e-2,
                seed=run.seed,
            ),
            data=data,
            progress=False,
        )
        for name, value in trained.model.state_dict().items():
            torch.testing.assert_close(state[name], value, rtol=0, atol=TOL[torch.float32][1], msg=name)


def test_sweep_leaves_the_global_random_state_alone(data):
    runs = grid("floor", [{"floor_variance": 1e-2}])
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_sweep(runs, data, steps=2, batch_size=10)
    torch.testing.assert_close(torch.rand(3), expected)
