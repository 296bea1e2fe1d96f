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


# -- the bound check -------------------------------------------------------------------------------
def test_bound_check_is_computed_every_step_and_written_to_the_summary(tmp_path):
    result = train(
        _config(variance="floor", floor_variance=0.05, log_every=1),
        data=TINY,
        out_dir=tmp_path,
        progress=False,
    )
    check = result.bound_check
    # log_every=1: every step's batch is logged, so the peak is the largest logged value exactly
    peak = max(result.history, key=lambda h: h["max_point_loglik"])
    assert (check.peak, check.step, check.point) == (
        peak["max_point_loglik"],
        peak["step"],
        peak["argmax_point"],
    )
    assert check.bound == result.bound and check.held is True and check.margin == check.bound - check.peak
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["bound_check"]["held"] is True and summary["bound_check"]["peak"] == check.peak
    assert "held" in check.verdict() and "EXCEEDED" not in check.verdict()


def test_bound_check_is_null_without_a_bound_and_zero_for_bernoulli():
    learned = train(_config(), data=TINY, progress=False).bound_check
    assert learned.bound is None and learned.held is None and learned.peak is not None
    bernoulli = train(_config(likelihood="bernoulli"), data=TINY_BINARY, progress=False).bound_check
    assert bernoulli.bound == 0.0 and bernoulli.held is True and bernoulli.peak <= 0


def test_bound_check_reports_an_exceeded_bound_with_a_negative_margin():
    from vaetheory.empirical.training import BoundCheck

    # tolerance 8 * 2**-23 * (|bound| + d) = 8 * 2**-23 * 15 = 1.4e-5: a 1e-3 excess is far beyond it
    check = BoundCheck.of(bound=10.0, peak=10.001, step=7, point=3, data_dim=5)
    assert check.held is False and check.margin == pytest.approx(-0.001, rel=1e-9)
    assert "EXCEEDED" in check.verdict()
    assert BoundCheck.of(bound=10.0, peak=10.0 + 1e-6, step=7, point=3, data_dim=5).held is True


def test_resumed_bound_check_equals_the_uninterrupted_one(tmp_path):
    straight = train(_config(steps=20, checkpoint_every=10), data=TINY, progress=False)
    train(_config(steps=10, checkpoint_every=10), data=TINY, out_dir=tmp_path, progress=False)
    resumed = train(
        _config(steps=20, checkpoint_every=10), data=TINY, out_dir=tmp_path, resume=True, progress=False
    )
    assert resumed.bound_check == straight.bound_check


# -- the stop message comes from what was measured ---------------------------------------------------
def test_a_diverging_run_is_reported_as_diverged_not_as_a_variance_collapse():
    # regression: lr 0.05 on digits stopped "the decoder variance collapsed (smallest variance
    # 0.0817)" while the ELBO fell from -311 to -969. A fast case of the same: 200 points, lr 0.2.
    from vaetheory.datasets import load_digits

    config = TrainConfig(lr=0.2, steps=600, hidden=(32,), batch_size=64, n_points=200, log_every=10)
    result = train(config, data=load_digits(scale="unit"), progress=False)
    reason = result.stopped_reason
    assert reason is not None and "numerical breakdown" in reason
    assert "collapsed" not in reason
    best = max(result.history, key=lambda h: h["elbo"])
    last = result.history[-1]
    assert best["elbo"] - last["elbo"] > max(5.0, 0.25 * abs(best["elbo"]))  # it did diverge
    assert (
        f"Likely cause: the loss trend: the batch ELBO fell from its best {best['elbo']:.4g} "
        f"(step {best['step']}) to {last['elbo']:.4g} (step {last['step']})" in reason
    )
    assert "smallest decoder variance now" in reason and "gradient norm" in reason


def test_the_diagnosis_names_the_measured_quantity_with_its_numbers():
    from vaetheory.empirical.training import TrainingTrend, diagnose_breakdown

    trend = TrainingTrend()
    for step, elbo in [(10, -400.0), (70, -311.0), (730, -969.0)]:
        trend.add_entry({"step": step, "elbo": elbo, "min_variance": 0.0817})
    common = {"encoder_finite": True, "point": 4, "data_range": 1.0, "data_dim": 64, "lr": 0.05}
    cause, measured = diagnose_breakdown(trend, smallest_variance=0.0817, **common)
    assert cause.startswith("the loss trend: the batch ELBO fell from its best -311 (step 70) to -969")
    assert "smallest decoder variance now 0.0817" in measured
    cause, _ = diagnose_breakdown(trend, smallest_variance=1e-38, **common)
    assert cause.startswith("the decoder variance collapsed (smallest variance 1e-38")
    cause, _ = diagnose_breakdown(trend, smallest_variance=0.0817, **{**common, "data_range": 1e19})
    assert cause.startswith("the data range: the largest |x| is 1e+19")
    steady = TrainingTrend()
    steady.add_entry({"step": 10, "elbo": -300.0, "min_variance": 0.1})
    steady.add_norms(10, 1.0, 5.0)
    steady.add_norms(20, 5e3, 6.0)
    cause, _ = diagnose_breakdown(steady, smallest_variance=0.1, **common)
    assert cause == "the gradient norm grew from 1 (step 10) to 5e+03 (step 20)"


# -- inputs refused at the door ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden": "128"}, "hidden must be a tuple of layer widths"),
        ({"hidden": 128}, "hidden must be a tuple of layer widths"),
        ({"hidden": (0,)}, "hidden width"),
        ({"lr": "0.1"}, "lr must be a real number; got str"),
        ({"beta": "1"}, "beta must be a real number; got str"),
        ({"lr": True}, "lr must be a real number"),
        ({"seed": 2**63}, r"seed must be an integer in \[0, 9223372036854775807\]"),
        ({"seed": -1}, "seed must be an integer in"),
        (
            {"variance": "floor", "floor_variance": 1e-39},
            r"floor_variance must lie in \[1.18e-38, 3.4e\+38\]",
        ),
        ({"variance": "fixed", "sigma": 1e-20}, "sigma squared"),
        ({"likelihood": "bernoulli", "variance": "shared"}, "apply to the gaussian likelihood only"),
    ],
)
def test_train_config_refuses_bad_values_at_the_door(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _config(**kwargs)


@pytest.mark.parametrize(("value", "match"), [(1e39, "1e[+]39"), (1e-46, "1e-46"), (-2e-40, "-2e-40")])
def test_data_float32_cannot_represent_is_refused(value, match):
    data = TINY.copy()
    data[3, 2] = value
    with pytest.raises(
        ValueError, match=f"the value {match} at point 3, column 2 .* outside float32's range"
    ):
        train(_config(), data=data, progress=False)


def test_a_model_too_large_for_memory_is_refused_before_allocating():
    from vaetheory.empirical.training import count_parameters

    # the parameter count is exact: it equals what the model allocates
    model = train(_config(steps=1, hidden=(7, 3)), data=TINY, progress=False).model
    config = _config(hidden=(7, 3)).model_config(5)
    assert count_parameters(config) == sum(p.numel() for p in model.parameters())
    with pytest.raises(ValueError, match=r"hidden \(100000000000,\) .* GiB .* choose smaller hidden widths"):
        train(_config(hidden=(10**11,)), data=TINY, progress=False)
