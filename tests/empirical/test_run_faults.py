"""Faults injected into training runs: a kill during the checkpoint write, a full disk, damaged
files on resume. Each leaves the last good checkpoint usable or ends in exit 2 naming the file."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from vaetheory.cli import main
from vaetheory.empirical.training import TrainConfig, train
from vaetheory.rundir import write_fault_hook

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = np.random.default_rng(0).uniform(size=(12, 5))
BASE = {"latent": 1, "hidden": (6,), "steps": 20, "batch_size": 6, "log_every": 5, "lr": 1e-2}
BASE["checkpoint_every"] = 10


def _config(**kw) -> TrainConfig:
    return TrainConfig(**{**BASE, **kw})


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from vaetheory.empirical.training import TrainConfig, train
    from vaetheory.rundir import write_fault_hook

    writes = {"checkpoint.pt": 0}

    class KillMidWrite:
        def __init__(self, raw):
            self.raw = raw
        def write(self, data):
            self.raw.write(bytes(data[: len(data) // 2]))
            self.raw.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def hook(path, raw):
        if path.name == "checkpoint.pt":
            writes["checkpoint.pt"] += 1
            if writes["checkpoint.pt"] == 2:  # the second checkpoint (step 20): killed half-way
                return KillMidWrite(raw)
        return raw

    data = np.random.default_rng(0).uniform(size=(12, 5))
    config = TrainConfig(**json.loads(sys.argv[2]))
    with write_fault_hook(hook):
        train(config, data=data, out_dir=sys.argv[1], progress=False)
    """
).replace("import os, signal, sys", "import json, os, signal, sys")


def test_a_kill_during_the_checkpoint_write_keeps_the_previous_checkpoint_and_resume_is_exact(tmp_path):
    out = tmp_path / "run"
    config = json.dumps({**BASE, "hidden": [6]})
    done = subprocess.run([sys.executable, "-c", KILLER, str(out), config], capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".checkpoint.pt.")  # the torn write, aside
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 10  # the previous one, whole
    straight = train(_config(), data=TINY, progress=False)
    resumed = train(_config(), data=TINY, out_dir=out, resume=True, progress=False)
    assert resumed.history == straight.history
    assert resumed.bound_check == straight.bound_check
    for p, q in zip(resumed.model.parameters(), straight.model.parameters()):
        assert torch.equal(p, q)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # cleaned up under the lock


class _DiskFullOnCheckpoint:
    """Fault-injecting writer: the ``n``-th checkpoint write runs out of space after 100 bytes."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def __call__(self, path, raw):
        if path.name != "checkpoint.pt":
            return raw
        self.seen += 1
        if self.seen != self.n:
            return raw

        class Full:
            def write(self, data):
                raw.write(bytes(data[:100]))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return Full()


def test_a_full_disk_during_a_checkpoint_keeps_the_last_good_one_and_says_so(tmp_path):
    out = tmp_path / "run"
    with write_fault_hook(_DiskFullOnCheckpoint(2)):
        with pytest.raises(ValueError, match="no space left on the device") as info:
            train(_config(), data=TINY, out_dir=out, progress=False)
    message = str(info.value)
    assert "checkpoint.pt" in message and "the checkpoint of step 10" in message and "--resume" in message
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 10
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    resumed = train(_config(), data=TINY, out_dir=out, resume=True, progress=False)  # lock was released
    assert resumed.history == train(_config(), data=TINY, progress=False).history


def test_a_full_disk_through_the_command_line_exits_2(tmp_path, capsys):
    data = tmp_path / "tiny.csv"
    np.savetxt(data, TINY, delimiter=",")
    args = ["train", "--data", str(data), "--latent", "1", "--hidden", "6", "--steps", "20"]
    args += ["--checkpoint-every", "10", "--no-progress", "--out", str(tmp_path / "run")]
    with write_fault_hook(_DiskFullOnCheckpoint(1)):
        assert main(args) == 2
    err = capsys.readouterr().err
    assert "vaetheory train: error: no space left on the device" in err and "no checkpoint" in err


def _run_to_resume(tmp_path):
    out = tmp_path / "run"
    data = tmp_path / "tiny.npy"
    np.save(data, TINY)
    args = ["train", "--data", str(data), "--latent", "1", "--hidden", "6", "--batch-size", "6"]
    args += ["--log-every", "5", "--lr", "0.01", "--checkpoint-every", "10", "--no-progress"]
    # the first segment through the library (no figure: faster), with the options the CLI gives
    train(_config(steps=10, data=str(data)), out_dir=out, progress=False)
    return out, [*args, "--out", str(out), "--resume"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda out: (out / "checkpoint.pt").write_bytes(b""), "checkpoint.pt' is empty"),
        (
            lambda out: (out / "checkpoint.pt").write_bytes((out / "checkpoint.pt").read_bytes()[:300]),
            "checkpoint.pt' is damaged",
        ),
        (lambda out: (out / "config.json").unlink(), "config.json' is missing"),
        (
            lambda out: (out / "config.json").write_text((out / "config.json").read_text()[:40]),
            "config.json' is damaged: not valid JSON",
        ),
        (lambda out: (out / "log.jsonl").unlink(), "log.jsonl' is missing"),
        (
            lambda out: (out / "log.jsonl").write_text(
                (out / "log.jsonl").read_text().splitlines()[0] + "\n"
            ),
            "log.jsonl' is truncated: it has no entry for step 10",
        ),
        (lambda out: (out / "log.jsonl").write_text('{"step": 5}\n{"ste\n{"step": 10}\n'), "line 2"),
    ],
)
def test_a_damaged_file_on_resume_exits_2_naming_the_file(tmp_path, capsys, damage, message):
    out, args = _run_to_resume(tmp_path)
    damage(out)
    assert main([*args, "--steps", "20"]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and "weights_only=False" not in err


def test_a_checkpoint_holding_code_is_refused_without_advice_to_load_it_unsafely(tmp_path, capsys):
    out, args = _run_to_resume(tmp_path)

    class Evil:
        def __reduce__(self):
            return (os.getcwd, ())

    torch.save({"model": Evil(), "optimizer": {}, "generator": None, "step": 10}, out / "checkpoint.pt")
    assert main([*args, "--steps", "20"]) == 2
    err = capsys.readouterr().err
    assert "checkpoint.pt' holds objects other than tensors" in err and "refuses" in err
    assert "weights_only=False" not in err


def test_resume_with_steps_below_the_checkpoint_is_refused(tmp_path, capsys):
    _, args = _run_to_resume(tmp_path)
    assert main([*args, "--steps", "5"]) == 2
    assert "steps (5) is below the checkpoint's step (10)" in capsys.readouterr().err
    assert main([*args, "--steps", "10"]) == 0  # equal: nothing left to train, files rewritten


def test_resume_after_a_torn_log_append_drops_the_torn_line(tmp_path):
    out = tmp_path / "run"
    train(_config(steps=10), data=TINY, out_dir=out, progress=False)
    with open(out / "log.jsonl", "a") as f:
        f.write('{"step": 15, "elbo": -3')  # a kill during an append after the checkpoint
    resumed = train(_config(), data=TINY, out_dir=out, resume=True, progress=False)
    assert resumed.history == train(_config(), data=TINY, progress=False).history
