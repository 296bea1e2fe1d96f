"""Run directories: one writer at a time (a real second process), reuse only on request, atomic
writes that survive a full disk, damaged files named; the library does not import matplotlib."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from vaetheory.cli import main
from vaetheory.rundir import (
    LOCK_NAME,
    RunDirectory,
    atomic_write,
    read_checkpoint,
    read_json,
    read_jsonl,
    write_fault_hook,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tiny_csv(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("\n".join(",".join(str((i * 7 + j) % 5 / 4) for j in range(4)) for i in range(8)) + "\n")
    return path


def _train_args(data, out, *extra):
    return [
        "train", "--data", str(data), "--latent", "1", "--hidden", "3", "--batch-size", "4",
        "--log-every", "2", "--checkpoint-every", "2", "--steps", "4", "--no-progress", "--out", str(out),
        *extra,
    ]  # fmt: skip


HOLDER = textwrap.dedent(
    """
    import sys
    from vaetheory.rundir import RunDirectory
    with RunDirectory(sys.argv[1], command="holder-of-the-test"):
        print("locked", flush=True)
        sys.stdin.read()
    """
)


def test_a_second_writer_is_refused_naming_the_holder_then_proceeds_once_it_is_gone(tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(_train_args(_tiny_csv(tmp_path), out)) == 2
        err = capsys.readouterr().err
        assert "vaetheory train: error:" in err and "is in use by another run" in err
        assert f"pid {holder.pid}" in err and socket.gethostname() in err and "holder-of-the-test" in err
        assert "started 20" in err  # the holder's start time (ISO date)
        assert not (out / "log.jsonl").exists()  # the refused writer wrote nothing
    finally:
        holder.communicate("")
    assert holder.returncode == 0
    assert main(_train_args(_tiny_csv(tmp_path), out)) == 0  # the lock went with its process


def test_the_same_process_cannot_hold_a_directory_twice(tmp_path):
    with RunDirectory(tmp_path):
        with pytest.raises(ValueError, match=f"in use by another run \\(pid {os.getpid()}"):
            RunDirectory(tmp_path).open()
    with RunDirectory(tmp_path):  # released on exit
        pass


def test_a_directory_holding_a_run_is_reused_only_with_resume_or_overwrite(tmp_path, capsys):
    data, out = _tiny_csv(tmp_path), tmp_path / "run"
    assert main(_train_args(data, out, "--seed", "1")) == 0
    log = (out / "log.jsonl").read_text()
    capsys.readouterr()
    assert main(_train_args(data, out, "--seed", "2")) == 2
    err = capsys.readouterr().err
    assert "already holds a training run" in err and "--resume" in err and "--overwrite" in err
    assert "checkpoint.pt" in err and "log.jsonl" in err
    assert (out / "log.jsonl").read_text() == log  # nothing truncated
    assert main(_train_args(data, out, "--seed", "2", "--resume")) == 2
    assert "differs in seed" in capsys.readouterr().err
    assert main(_train_args(data, out, "--seed", "2", "--overwrite")) == 0
    assert json.loads((out / "config.json").read_text())["train"]["seed"] == 2
    assert json.loads((out / "summary.json").read_text())["config"]["seed"] == 2
    assert main(_train_args(data, out, "--resume", "--overwrite")) == 2
    assert "not both" in capsys.readouterr().err


class _DiskFull:
    """A file wrapper that accepts ``room`` bytes, then raises ENOSPC (a full disk)."""

    def __init__(self, raw, room):
        self.raw, self.room = raw, room

    def write(self, data):
        if len(data) > self.room:
            self.raw.write(bytes(data[: self.room]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.raw.write(data)


def test_a_full_disk_leaves_the_previous_file_intact_and_says_so(tmp_path):
    target = tmp_path / "results.json"
    atomic_write(target, '{"old": true}\n')
    with write_fault_hook(lambda path, raw: _DiskFull(raw, 5)):
        with pytest.raises(ValueError, match="no space left on the device") as info:
            atomic_write(target, '{"new": "a longer text than the disk can take"}\n')
    assert "is intact" in str(info.value) and "results.json" in str(info.value)
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left


def test_damaged_json_and_jsonl_files_are_named_with_what_is_wrong(tmp_path):
    path = tmp_path / "config.json"
    with pytest.raises(ValueError, match=r"config .*config.json.* is missing"):
        read_json(path, what="config")
    path.write_text("")
    with pytest.raises(ValueError, match=r"config.json.* is empty"):
        read_json(path, what="config")
    path.write_text('{"train": {"seed": 1, "lr"')
    with pytest.raises(ValueError, match=r"config.json.* is damaged: not valid JSON at line 1 column"):
        read_json(path, what="config")
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 1}\n{"step": 2')  # torn last append: dropped
    assert read_jsonl(log) == ([{"step": 1}], True)
    log.write_text('{"step": 1}\n{"st\n{"step": 3}\n')
    with pytest.raises(ValueError, match=r"log.jsonl.* is damaged: line 2 is not valid JSON"):
        read_jsonl(log)


def test_damaged_and_unsafe_checkpoints_are_refused_without_unsafe_advice(tmp_path):
    import torch

    good = tmp_path / "good.pt"
    torch.save({"step": 3, "model": {"w": torch.ones(2)}}, good)
    assert read_checkpoint(good)["step"] == 3
    cases = {
        "empty.pt": (b"", "is empty"),
        "truncated.pt": (good.read_bytes()[:100], "is damaged"),
    }

    class Evil:
        def __reduce__(self):
            return (os.getcwd, ())

    torch.save({"step": Evil()}, tmp_path / "evil.pt")
    for name, (content, _) in cases.items():
        (tmp_path / name).write_bytes(content)
    cases["evil.pt"] = (None, "refuses to load it")
    for name, (_, match) in cases.items():
        with pytest.raises(ValueError, match=match) as info:
            read_checkpoint(tmp_path / name)
        assert name in str(info.value) and "weights_only=False" not in str(info.value)


def test_the_lock_file_is_the_only_trace_of_a_closed_run_directory(tmp_path):
    with RunDirectory(tmp_path / "d") as run_dir:
        run_dir.write_json("x.json", {"a": 1})
        holder = json.loads((tmp_path / "d" / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [LOCK_NAME, "x.json"]
    with pytest.raises(RuntimeError, match="not open"):
        run_dir.write_json("y.json", {})


def test_training_and_the_thesis_driver_do_not_import_matplotlib_or_switch_its_backend(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import vaetheory.rundir
        assert "torch" not in sys.modules, "vaetheory.rundir imported torch"
        import vaetheory.studies.thesis_ch5.run
        from vaetheory.empirical.training import TrainConfig, train
        cfg = TrainConfig(latent=1, hidden=(3,), steps=2, batch_size=4, log_every=1)
        data = np.random.default_rng(0).uniform(size=(8, 3))
        train(cfg, data=data, out_dir={str(tmp_path)!r}, progress=False)
        assert "matplotlib" not in sys.modules, "matplotlib was imported"
        print("clean")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"


def test_figures_into_a_directory_holding_figures_needs_overwrite(tmp_path, monkeypatch, capsys):
    import types

    import vaetheory.figures
    from vaetheory.rundir import atomic_write_json

    def make_figures(out_dir, *, quick, seed):
        out_dir.mkdir(parents=True, exist_ok=True)
        return [atomic_write_json(out_dir / "stub.json", {"seed": seed})]

    module = types.ModuleType("vaetheory.figures.stub")
    module.make_figures = make_figures
    monkeypatch.setitem(sys.modules, "vaetheory.figures.stub", module)
    monkeypatch.setattr(vaetheory.figures, "FIGURE_MODULES", ["stub"])
    out = tmp_path / "figs"
    assert main(["figures", "--out", str(out), "--seed", "1"]) == 0
    assert main(["figures", "--out", str(out), "--seed", "2"]) == 2
    err = capsys.readouterr().err
    assert "already holds a set of figures (stub/*.json)" in err and "--overwrite" in err
    assert json.loads((out / "stub" / "stub.json").read_text()) == {"seed": 1}
    assert main(["figures", "--out", str(out), "--seed", "2", "--overwrite"]) == 0
    assert json.loads((out / "stub" / "stub.json").read_text()) == {"seed": 2}
    assert main(["figures", "--out", str(out), "--seed", str(2**64)]) == 2
    assert "--seed must be an integer in [0, 9223372036854775807]" in capsys.readouterr().err


def test_a_thesis_run_is_continued_only_with_resume_and_other_options_are_named(tmp_path):
    from vaetheory.studies.thesis_ch5.run import _check_run_key

    key = {"data": "digits", "seed": 0}
    _check_run_key(tmp_path, key, resume=False, overwrite=False)  # a new directory: recorded
    assert read_json(tmp_path / "run.json") == key
    with pytest.raises(ValueError, match=r"already holds this run .*--resume.*--overwrite"):
        _check_run_key(tmp_path, key, resume=False, overwrite=False)
    _check_run_key(tmp_path, key, resume=True, overwrite=False)
    with pytest.raises(ValueError, match=r"other options \(seed differ\)"):
        _check_run_key(tmp_path, {"data": "digits", "seed": 1}, resume=True, overwrite=False)
    (tmp_path / "run.json").write_text('{"data": "dig')
    with pytest.raises(ValueError, match=r"run record .*run.json.* is damaged: not valid JSON"):
        _check_run_key(tmp_path, key, resume=True, overwrite=False)
    _check_run_key(tmp_path, {"data": "digits", "seed": 1}, resume=False, overwrite=True)
    assert read_json(tmp_path / "run.json")["seed"] == 1
