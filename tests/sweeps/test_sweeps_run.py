"""Running sweeps with the local engine: results table, skip on rerun, a SIGKILLed driver, refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vaetheory.cli import main
from vaetheory.sweeps import parse_spec, run_sweep
from vaetheory.sweeps.engine import RESULT_KEYS
from vaetheory.sweeps.execute import RUN_RECORD, execute_group

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPEC = {
    "name": "floors",
    "base": {"variance": "floor", "latent": 2, "hidden": 32, "steps": 20, "points": 100, "log_every": 5},
    "grid": {"floor": [0.1, 0.01], "seed": [0, 1]},
}


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_stacked_sweep_writes_one_row_per_run_and_a_rerun_trains_nothing(tmp_path, capsys):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(SPEC))
    out = tmp_path / "out"
    assert main(["sweep", str(spec_path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "sweep: 4/4 done, 0 running, 0 left" in err and "time left" in err
    table = rows(out)
    assert [r["name"] for r in table] == [
        "floor-0.1_seed-0",
        "floor-0.1_seed-1",
        "floor-0.01_seed-0",
        "floor-0.01_seed-1",
    ]
    for row in table:
        assert tuple(row) == RESULT_KEYS
        assert row["mode"] == "stacked" and row["stopped"] is None
        assert row["bound_check"]["held"] is True  # a floor bounds every one-sample per-point ELBO
        assert (out / row["run_dir"] / "checkpoint.pt").exists()
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 5 and csv_lines[0].startswith("name,variance,floor,")
    records = {r["name"]: (out / r["run_dir"] / RUN_RECORD).read_bytes() for r in table}

    assert main(["sweep", str(spec_path), "--out", str(out), "--no-progress"]) == 0
    assert "4 finished before, 0 trained now" in capsys.readouterr().out
    assert rows(out) == table
    assert {r["name"]: (out / r["run_dir"] / RUN_RECORD).read_bytes() for r in table} == records

    # a stacked run computes what the same run alone computes (train_sweep vs train(); float32).
    # Tolerance: 1e-4 nats on a loss of ~10 nats over 20 Adam steps, the batched-vs-unbatched matmul
    # rounding of tests/empirical/test_sweep.py (float32 eps 1.2e-7 relative, grown over the steps).
    single = execute_group(
        {
            "runs": [{"name": "alone", "settings": table[2]["settings"]}],
            "root": str(tmp_path / "alone"),
            "mode": "single",
            "device": "cpu",
            "threads": 1,
        }
    )
    alone = single[0]["record"]
    assert abs(alone["metrics"]["final_loss"] - table[2]["metrics"]["final_loss"]) <= 1e-4
    assert alone["bound_check"]["held"] is True


def test_changed_settings_are_refused(tmp_path):
    out = tmp_path / "out"
    small = {**SPEC, "grid": {"floor": [0.1], "seed": [0]}}
    run_sweep(parse_spec(small), out, progress=False)
    changed = {**small, "base": {**SPEC["base"], "steps": 21}}
    with pytest.raises(ValueError, match=r"holds a finished run with other settings \(differing in steps\)"):
        run_sweep(parse_spec(changed), out, progress=False)


def test_a_sweep_directory_in_use_is_refused(tmp_path):
    from vaetheory.rundir import RunDirectory

    out = tmp_path / "out"
    with RunDirectory(out, markers=("sweep.json",), resume=True):
        with pytest.raises(ValueError, match="is in use by another run"):
            run_sweep(parse_spec({**SPEC, "grid": {"floor": [0.1]}}), out, progress=False)


def _wait_for(predicate, proc, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


@pytest.mark.slow
def test_sigkilled_driver_loses_only_the_unfinished_runs_progress(tmp_path):
    spec = {
        "base": {
            "variance": "floor",
            "floor": 0.01,
            "latent": 2,
            "hidden": 32,
            "points": 100,
            "steps": 300,
            "log_every": 10,
            "checkpoint_every": 20,
        },
        "grid": {"seed": [0, 1, 2]},
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    runs = out / "runs"
    command = [
        sys.executable,
        "-m",
        "vaetheory",
        "sweep",
        str(spec_path),
        "--out",
        str(out),
        "--group-size",
        "1",
        "--no-progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # kill while seed-1 is part-way: seed-0 finished, seed-1 checkpointed but not finished
        ready = _wait_for(
            lambda: (runs / "seed-0" / RUN_RECORD).exists() and (runs / "seed-1" / "checkpoint.pt").exists(),
            proc,
        )
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert ready, "the sweep ended before it could be killed mid-run"
    assert not (runs / "seed-1" / RUN_RECORD).exists() and not (runs / "seed-2" / RUN_RECORD).exists()
    first = json.loads((runs / "seed-0" / RUN_RECORD).read_text())
    assert not (runs / "seed-1" / "summary.json").exists()

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "1 finished before, 2 trained now" in done.stdout
    table = rows(out)
    assert [r["name"] for r in table] == ["seed-0", "seed-1", "seed-2"]  # each run exactly once
    # the finished run was not trained again: its record (with the first driver's pid) is untouched
    assert json.loads((runs / "seed-0" / RUN_RECORD).read_text()) == first
    # the killed run resumed from its checkpoint: one log line per logged step, none twice
    log = [json.loads(line)["step"] for line in (runs / "seed-1" / "log.jsonl").read_text().splitlines()]
    assert log == list(range(10, 301, 10))
    # and it gives the numbers of an uninterrupted run, bit for bit (train()'s resume is exact)
    alone = execute_group(
        {
            "runs": [{"name": "seed-1", "settings": table[1]["settings"]}],
            "root": str(tmp_path / "alone"),
            "mode": "single",
            "device": "cpu",
            "threads": 1,
        }
    )[0]["record"]
    assert alone["metrics"] == table[1]["metrics"]
    assert alone["bound_check"] == table[1]["bound_check"]


def test_process_pool_gives_the_in_process_numbers(tmp_path):
    spec = parse_spec({**SPEC, "base": {**SPEC["base"], "steps": 5}})
    a = run_sweep(spec, tmp_path / "a", progress=False, group_size=2)
    b = run_sweep(spec, tmp_path / "b", progress=False, group_size=2, max_concurrent=2)
    assert a.complete and b.complete
    # the same code on the same CPU with one torch thread: identical float32 arithmetic
    assert [r["metrics"] for r in a.rows] == [r["metrics"] for r in b.rows]
    assert [r["bound_check"] for r in a.rows] == [r["bound_check"] for r in b.rows]


class _Killed(BaseException):
    """Stands for the driver dying (not an Exception: nothing in the sweep may catch it)."""


def test_a_stacked_group_killed_mid_checkpoint_resumes_from_it_bit_for_bit(tmp_path, monkeypatch):
    import torch

    from vaetheory.empirical import sweep as sweep_module
    from vaetheory.rundir import read_checkpoint, write_fault_hook

    spec = parse_spec(
        {
            **SPEC,
            "base": {**SPEC["base"], "steps": 30, "checkpoint_every": 10},
            "grid": {"floor": [0.1, 0.01], "seed": [0]},
        }
    )
    reference = run_sweep(spec, tmp_path / "ref", progress=False, group_size=2)
    out = tmp_path / "out"
    first = out / "runs" / "floor-0.1_seed-0"
    writes = []

    def hook(path, raw):
        if path.name.startswith("stack-") and path.parent == first:
            writes.append(path)
            if len(writes) == 2:  # the checkpoint of step 20 dies part-way; the file holds step 10

                class Dying:
                    def write(self, chunk):
                        raw.write(chunk[:64])
                        raise _Killed

                return Dying()
        return raw

    with write_fault_hook(hook), pytest.raises(_Killed):
        run_sweep(spec, out, progress=False, group_size=2)
    (stack,) = first.glob("stack-*.pt")
    assert read_checkpoint(stack)["step"] == 10
    assert not any(
        (out / "runs" / n / RUN_RECORD).exists() for n in ("floor-0.1_seed-0", "floor-0.01_seed-0")
    )

    draws = {"n": 0}
    real_draw = sweep_module._draw

    def counting(*args, **kwargs):
        draws["n"] += 1
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_draw", counting)
    resumed = run_sweep(spec, out, progress=False, group_size=2)
    assert resumed.complete and resumed.trained == 2
    assert draws["n"] == (30 - 10) * 2  # steps 11..30 of both runs: it resumed from step 10
    assert not list(first.glob("stack-*.pt"))  # removed once the group finished
    # bit for bit the uninterrupted sweep: the same float32 operations in the same order
    for a, b in zip(reference.rows, resumed.rows, strict=True):
        assert a["metrics"] == b["metrics"] and a["bound_check"] == b["bound_check"]
        wa = torch.load(tmp_path / "ref" / a["run_dir"] / "checkpoint.pt", weights_only=True)["model"]
        wb = torch.load(out / b["run_dir"] / "checkpoint.pt", weights_only=True)["model"]
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
        la = json.loads((tmp_path / "ref" / a["run_dir"] / "losses.json").read_text())
        assert la == json.loads((out / b["run_dir"] / "losses.json").read_text())
