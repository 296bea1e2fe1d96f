"""Checkpoints of a stacked sweep: a run killed part-way resumes from its last checkpoint, bit for bit.

Bit for bit, not within a tolerance: the resumed call restores the stacked parameters, Adam's
state (moments and step counts), every run's generator state and the losses of the steps done,
and then executes the same float operations in the same order as the uninterrupted call (same
CPU, one torch thread), so every trained weight and every loss must be equal exactly.
"""

from __future__ import annotations

import errno

import numpy as np
import pytest
import torch

from vaetheory.empirical import sweep as sweep_module
from vaetheory.empirical.model import VAEConfig
from vaetheory.empirical.sweep import SweepRun, train_sweep
from vaetheory.rundir import read_checkpoint, write_fault_hook

pytestmark = pytest.mark.usefixtures("one_torch_thread")

STEPS, EVERY = 24, 5


class Killed(BaseException):
    """Stands for the process dying mid-write (not an Exception: nothing may catch it)."""


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.random.default_rng(0).uniform(0.0, 1.0, size=(40, 6))


def runs(method: str = "clamp") -> list[SweepRun]:
    return [
        SweepRun(
            VAEConfig(6, 2, hidden=(8,), variance="floor", floor_variance=xi, floor_method=method),
            seed=seed,
            beta=beta,
        )
        for xi, seed, beta in ((1e-2, 0, 1.0), (1e-3, 1, 0.5), (1e-1, 2, 1.0))
    ]


def kill_on_write(target, n: int):
    """A write hook that kills the ``n``-th atomic write of ``target`` after its first bytes."""
    seen = {"writes": 0}

    def hook(path, raw):
        if path != target:
            return raw
        seen["writes"] += 1
        if seen["writes"] < n:
            return raw

        class Dying:
            def write(self, chunk):
                raw.write(chunk[:100])
                raise Killed

        return Dying()

    return hook, seen


def assert_identical(a, b) -> None:
    assert np.array_equal(a.neg_elbo, b.neg_elbo)
    for sa, sb in zip(a.state_dicts, b.state_dicts, strict=True):
        assert sa.keys() == sb.keys()
        for name in sa:
            assert torch.equal(sa[name], sb[name]), name


@pytest.mark.parametrize("method", ["clamp", "gaussian_nll"])
def test_a_stack_killed_mid_checkpoint_resumes_bit_for_bit(tmp_path, data, method, monkeypatch):
    kw = {"steps": STEPS, "batch_size": 8, "lr": 1e-2}
    reference = train_sweep(runs(method), data, **kw)

    path = tmp_path / "stack.pt"
    hook, seen = kill_on_write(path, 3)  # the write of step 15 dies; the file holds step 10
    with write_fault_hook(hook), pytest.raises(Killed):
        train_sweep(runs(method), data, **kw, checkpoint=path, checkpoint_every=EVERY)
    assert seen["writes"] == 3
    state = read_checkpoint(path)
    assert state["step"] == 2 * EVERY  # the interrupted write left the previous checkpoint whole
    assert not list(tmp_path.glob(".*.tmp"))

    draws = {"n": 0}
    real_draw = sweep_module._draw

    def counting(*args, **kwargs):
        draws["n"] += 1
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_draw", counting)
    resumed = train_sweep(runs(method), data, **kw, checkpoint=path, checkpoint_every=EVERY)
    # it continued from step 10 (14 steps x 3 runs drawn), not from step 0
    assert draws["n"] == (STEPS - 2 * EVERY) * 3
    assert_identical(resumed, reference)
    # the last checkpoint written is at step 20 (none after the last step)
    assert read_checkpoint(path)["step"] == 20


def test_checkpoints_do_not_change_the_numbers(tmp_path, data):
    kw = {"steps": 12, "batch_size": 8, "lr": 1e-2}
    plain = train_sweep(runs(), data, **kw)
    checked = train_sweep(runs(), data, **kw, checkpoint=tmp_path / "c.pt", checkpoint_every=4)
    assert_identical(checked, plain)
    state = read_checkpoint(tmp_path / "c.pt")
    assert state["step"] == 8 and tuple(state["losses"].shape) == (8, 3)
    assert len(state["generators"]) == 3
    assert all(t.device.type == "cpu" for t in state["params"].values())


def test_a_checkpoint_of_other_runs_or_data_is_refused(tmp_path, data):
    path = tmp_path / "c.pt"
    kw = {"steps": 12, "batch_size": 8, "lr": 1e-2, "checkpoint": path, "checkpoint_every": 4}
    hook, _ = kill_on_write(path, 2)
    with write_fault_hook(hook), pytest.raises(Killed):
        train_sweep(runs(), data, **kw)
    with pytest.raises(ValueError, match=r"written by another sweep \(it differs in lr\)"):
        train_sweep(runs(), data, **{**kw, "lr": 2e-2})
    with pytest.raises(ValueError, match="differs in data_sha256"):
        train_sweep(runs(), data + 1e-9, **kw)
    with pytest.raises(ValueError, match="differs in runs"):
        train_sweep(runs()[:2], data, **kw)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        train_sweep(runs(), data, **kw)
    with pytest.raises(ValueError, match="checkpoint_every"):
        train_sweep(runs(), data, steps=2, checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint_every"):
        train_sweep(runs(), data, steps=2, checkpoint=tmp_path / "d.pt", checkpoint_every=0)


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, data):
    path = tmp_path / "c.pt"

    def full(p, raw):
        if p == path and path.exists():

            class Full:
                def write(self, chunk):
                    raise OSError(errno.ENOSPC, "No space left on device")

            return Full()
        return raw

    with write_fault_hook(full), pytest.raises(ValueError, match="no space left"):
        train_sweep(runs(), data, steps=12, batch_size=8, checkpoint=path, checkpoint_every=4)
    assert read_checkpoint(path)["step"] == 4
