"""Training runs: reproducible, resumable, safe checkpoints, bounded under a floor, breakdown reported."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vaetheory.empirical.training import TrainConfig, load_model, read_log, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


RNG = np.random.default_rng(0)
TINY = RNG.uniform(size=(12, 5))
TINY_BINARY = (RNG.uniform(size=(12, 5)) > 0.5).astype(float)


def _config(**kw) -> TrainConfig:
    base = {"latent": 1, "hidden": (6,), "steps": 20, "batch_size": 6, "log_every": 5, "lr": 1e-2}
    return TrainConfig(**{**base, **kw})


def test_same_seed_gives_the_same_numbers():
    a = train(_config(seed=3), data=TINY, progress=False)
    b = train(_config(seed=3), data=TINY, progress=False)
    c = train(_config(seed=4), data=TINY, progress=False)
    assert a.history == b.history
    assert a.history != c.history


def test_resume_continues_to_the_same_numbers_and_checkpoints_load_without_code(tmp_path):
    straight = train(_config(steps=20, checkpoint_every=10), data=TINY, progress=False)
    train(_config(steps=10, checkpoint_every=10), data=TINY, out_dir=tmp_path, progress=False)
    resumed = train(
        _config(steps=20, checkpoint_every=10), data=TINY, out_dir=tmp_path, resume=True, progress=False
    )
    assert resumed.history == straight.history
    assert [e["step"] for e in read_log(tmp_path)] == [5, 10, 15, 20]
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["step"] == 20
    model = load_model(tmp_path)
    for p, q in zip(model.parameters(), straight.model.parameters()):
        assert torch.equal(p, q)


def test_resume_refuses_a_different_configuration(tmp_path):
    train(_config(steps=5), data=TINY, out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="differs in lr"):
        train(_config(steps=10, lr=0.5), data=TINY, out_dir=tmp_path, resume=True, progress=False)


def test_log_lines_carry_the_contract_keys_and_the_bound(tmp_path):
    result = train(
        _config(variance="floor", floor_variance=0.05), data=TINY, out_dir=tmp_path, progress=False
    )
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(lines) == 4
    for line in lines:
        assert {"step", "elbo", "max_point_loglik", "min_variance", "argmin_point", "bound"} <= set(line)
        assert line["bound"] == pytest.approx(-(5 / 2) * np.log(2 * np.pi * 0.05))
        assert line["max_point_loglik"] <= line["bound"]
        assert line["min_variance"] >= 0.05
        assert 0 <= line["argmin_point"] < 12
    assert result.bound == lines[0]["bound"]


def test_bernoulli_run_stays_at_or_below_zero():
    result = train(_config(likelihood="bernoulli"), data=TINY_BINARY, progress=False)
    assert all(h["max_point_loglik"] <= 0 for h in result.history)
    assert all(h["min_variance"] is None for h in result.history)


def test_a_run_that_breaks_down_stops_with_step_quantity_and_cause_and_keeps_its_log(tmp_path):
    result = train(
        _config(steps=50, lr=10.0, log_every=1, batch_size=12), data=TINY, out_dir=tmp_path, progress=False
    )
    assert result.stopped_reason is not None
    assert "numerical breakdown at step" in result.stopped_reason
    assert "Likely cause" in result.stopped_reason and "last good checkpoint" in result.stopped_reason
    log = read_log(tmp_path)
    assert log and all(np.isfinite(e["elbo"]) for e in log)
    assert result.steps_done == log[-1]["step"]
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["step"] == result.last_good_step
    assert all(torch.all(torch.isfinite(t)) for t in state["model"].values())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["stopped_reason"] == result.stopped_reason


@pytest.mark.parametrize(
    ("kwargs", "data", "match"),
    [
        ({"variance": "floor", "floor_variance": -0.1}, TINY, "floor_variance"),
        ({"variance": "fixed", "sigma": 0.0}, TINY, "sigma"),
        ({"variance": "magic"}, TINY, "variance must be one of"),
        ({"latent": 6}, TINY, "latent_dim must be <= data_dim"),
        ({}, np.where(np.eye(12, 5) > 0, np.nan, TINY), "finite"),
        ({"likelihood": "bernoulli"}, TINY, "binary"),
        ({"n_points": 50}, TINY, "n_points"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, data, match):
    with pytest.raises(ValueError, match=match):
        train(_config(**kwargs), data=data, progress=False)


def test_calibrated_and_shared_policies_train():
    for policy in ("calibrated", "shared"):
        result = train(_config(variance=policy), data=TINY, progress=False)
        assert result.stopped_reason is None and len(result.history) == 4


def test_training_restores_the_denormal_setting_of_the_process():
    from vaetheory.empirical.training import _flushing_denormals

    before = _flushing_denormals()
    train(_config(steps=2), data=TINY, progress=False)
    assert _flushing_denormals() == before
