"""``vaetheory doctor`` on vaetheory's own run directory and on other trainers' logs; bad files exit 2."""

from __future__ import annotations

import json
import math

import pytest

from vaetheory.cli import main
from vaetheory.densities import variance_floor_bound


def _vaetheory_run(tmp_path, *, floor=None, rows):
    run = tmp_path / "run"
    run.mkdir()
    model = {
        "data_dim": 64,
        "latent_dim": 2,
        "likelihood": "gaussian",
        "variance": "floor" if floor else "learned",
        "floor_variance": floor,
        "floor_method": "clamp",
    }
    (run / "config.json").write_text(json.dumps({"train": {}, "model": model}))
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_run_dir_with_a_real_floor_gives_no_warning(tmp_path, capsys):
    bound = variance_floor_bound(64, 1e-2)
    rows = [
        {
            "step": s,
            "elbo": 10.0,
            "max_point_loglik": 20.0,
            "argmax_point": 3,
            "min_variance": 1e-2,
            "argmin_point": 5,
            "bound": bound,
            "loss": -10.0,
            "min_unfloored_variance": 1e-4,
        }
        for s in range(10, 500, 10)
    ]
    assert main(["doctor", str(_vaetheory_run(tmp_path, floor=1e-2, rows=rows)), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["findings"] == []
    assert out["numbers"]["bound_per_point"] == pytest.approx(bound, rel=1e-12)
    assert out["numbers"]["loss_infimum"] == pytest.approx(-bound, rel=1e-12)


def test_learned_run_warns_with_step_and_point(tmp_path, capsys):
    # log-variance falling 0.05 per logged step of 10: slope -0.005 per step
    rows = [
        {
            "step": s,
            "elbo": 0.0,
            "max_point_loglik": 1.0,
            "argmax_point": 1,
            "min_variance": math.exp(-1.0 - 0.005 * s),
            "argmin_point": 4,
            "bound": None,
            "loss": -float(s),
        }
        for s in range(10, 310, 10)
    ]
    assert main(["doctor", str(_vaetheory_run(tmp_path, rows=rows))]) == 1
    text = capsys.readouterr().out
    # the first warning comes once the fall over the window reaches 0.5 nats (LEVEL_NATS): steps 10..110
    predicted = math.ceil(110 + (math.log(1.1754943508222875e-38) - (-1.0 - 0.005 * 110)) / -0.005)
    assert "step 110: the smallest log-variance (point 4)" in text
    assert f"at step {predicted}." in text


def test_csv_log_of_another_trainer(tmp_path, capsys):
    log = tmp_path / "metrics.csv"
    log.write_text(
        "step,loss,min_log_variance,argmin_point,mse,kl_0,kl_1\n"
        + "".join(f"{s},{1.0 - s},{-0.1 * s},2,0.01,0.5,0.001\n" for s in range(1, 40))
    )
    assert main(["doctor", str(log), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["numbers"]["kl_per_dim"] == [0.5, 0.001] and out["numbers"]["active_units"] == 1
    falling = [f for f in out["findings"] if f["kind"] == "variance_falling"]
    assert falling and falling[0]["point"] == 2 and falling[0]["value"] == pytest.approx(-0.1, rel=1e-9)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("bad.jsonl", '{"step": 1}\nnot json\n', "line 2: not valid JSON"),
        ("nostep.csv", "loss\n1.0\n", "no 'step' column"),
        ("word.csv", "step,loss\n1,abc\n", "column 'loss' must be a number"),
        ("log.txt", "step\n1\n", "unknown log type"),
        ("empty.jsonl", "", "the log has no rows"),
    ],
)
def test_bad_files_exit_2_naming_the_file(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    assert main(["doctor", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaetheory doctor: error: ") and str(path) in err and message in err


def test_missing_path_and_run_dir_without_log(tmp_path, capsys):
    assert main(["doctor", str(tmp_path / "nothing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["doctor", str(tmp_path)]) == 2
    assert "must contain log.jsonl" in capsys.readouterr().err


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, vaetheory.doctor, vaetheory.doctor.logs; "
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_lightning_callback_without_lightning_is_a_clear_error(monkeypatch):
    import sys

    from vaetheory.doctor import Doctor, lightning_callback

    monkeypatch.setitem(sys.modules, "lightning.pytorch", None)
    monkeypatch.setitem(sys.modules, "pytorch_lightning", None)
    with pytest.raises(ValueError, match="needs PyTorch Lightning"):
        lightning_callback(Doctor())


def test_out_writes_the_figure_with_provenance(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    # a falling log-variance (0.05 per logged step of 10), a loss and KL per latent dimension
    rows = [
        {"step": s, "loss": 5.0 - 0.01 * s, "min_log_variance": -0.005 * s, "kl_0": 1.0, "kl_1": 1e-3}
        for s in range(10, 410, 10)
    ]
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "fig"
    assert main(["doctor", str(log), "--json", "--out", str(out)]) == 1  # it warns: the variance falls
    report = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "doctor.json",
        "doctor.pdf",
        "doctor.png",
    ]
    side = json.loads((out / "doctor.json").read_text())
    assert side["provenance"]["vaetheory_version"] == report["numbers"]["provenance"]["vaetheory_version"]
    drawn = side["data"]["numbers"]
    # the figure's data are the report's numbers: the series and the extrapolated breakdown step
    assert drawn["series"]["min_log_variance"] == [r["min_log_variance"] for r in rows]
    assert drawn["breakdown_step"] == report["numbers"]["breakdown_step"] is not None
    assert (out / "doctor.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second run into the same DIR needs --overwrite (exit 2 naming the directory)
    assert main(["doctor", str(log), "--out", str(out)]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert main(["doctor", str(log), "--out", str(out), "--overwrite"]) == 1
