"""The blowup, train and demo commands: contracts of their output."""

from __future__ import annotations

import json

import pytest

from vaetheory.cli import main
from vaetheory.densities import variance_floor_bound

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_blowup_json_has_one_unfloored_run_and_one_per_floor(capsys):
    assert (
        main(["blowup", "--floor", "1e-2", "--floor", "1e-3", "--kmax", "12", "--points", "2", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    runs = out["runs"]
    assert [r["floor"] for r in runs] == [None, 1e-2, 1e-3]
    assert runs[0]["bound"] is None
    for run in runs:
        assert run["dim"] == 64 and len(run["loglik"]) == 13
    for run in runs[1:]:
        assert run["bound"] == pytest.approx(variance_floor_bound(64, run["floor"]))
        assert max(run["loglik"]) <= run["bound"]
    assert runs[0]["loglik"][-1] > runs[2]["bound"]


def test_blowup_table_cites_its_formula_and_writes_the_plot(capsys, tmp_path):
    assert main(["blowup", "--floor", "1e-2", "--kmax", "6", "--points", "2", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "Mattei & Frellsen" in text and "-(d/2) log(2 pi xi)" in text and "xi=0.01" in text
    assert {p.name for p in tmp_path.iterdir()} == {"blowup.pdf", "blowup.png", "blowup.json"}


def test_blowup_rejects_a_negative_floor(capsys):
    assert main(["blowup", "--floor=-1e-3", "--kmax", "4"]) == 2
    assert "floor" in capsys.readouterr().err


def test_train_writes_log_checkpoint_and_figure_and_resumes(tmp_path, capsys):
    data = tmp_path / "tiny.csv"
    data.write_text("\n".join(",".join(str((i * 7 + j) % 5 / 4) for j in range(6)) for i in range(10)))
    out = tmp_path / "run"
    args = ["train", "--variance", "floor", "--floor-std", "0.1", "--data", str(data), "--latent", "1"]
    args += ["--hidden", "4", "--batch-size", "5", "--log-every", "5", "--seed", "1", "--no-progress"]
    assert main([*args, "--steps", "10", "--out", str(out)]) == 0
    assert main([*args, "--steps", "15", "--out", str(out), "--resume"]) == 0
    lines = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [5, 10, 15]
    assert all(x["bound"] == pytest.approx(variance_floor_bound(6, 0.01)) for x in lines)
    for name in (
        "checkpoint.pt",
        "config.json",
        "summary.json",
        "training.png",
        "training.pdf",
        "training.json",
    ):
        assert (out / name).exists(), name
    assert "bound per point" in capsys.readouterr().out


def test_train_rejects_unknown_policy_and_bad_sigma(capsys, tmp_path):
    assert main(["train", "--variance", "wild", "--steps", "1", "--out", str(tmp_path)]) == 2
    assert "variance must be one of" in capsys.readouterr().err
    assert (
        main(["train", "--variance", "fixed", "--sigma", "-1", "--steps", "1", "--out", str(tmp_path)]) == 2
    )
    assert "sigma" in capsys.readouterr().err


def test_demo_prints_the_blowup_with_bounds_and_references_and_writes_the_plot(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "Mattei & Frellsen" in text and "arXiv:1802.04826" in text
    assert "-(d/2) log(2 pi xi)" in text and "measured growth" in text
    assert (tmp_path / "blowup.png").exists() and (tmp_path / "blowup.json").exists()


def test_blowup_answers_what_bound_a_users_floor_implies(capsys):
    args = ["blowup", "--implied-bound", "1e-6", "--floor-method", "gaussian_nll", "--dim", "784", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bound_per_point"] == pytest.approx(variance_floor_bound(784, 1e-6))
    assert report["bounds_value"] is True and report["bounds_gradient"] is False
    assert main(["blowup", "--implied-bound", "1e-3"]) == 2
    assert "--dim" in capsys.readouterr().err


def _tiny_train_args(tmp_path, *extra):
    data = tmp_path / "tiny.csv"
    data.write_text("\n".join(",".join(str((i * 7 + j) % 5 / 4) for j in range(4)) for i in range(8)))
    args = ["train", "--data", str(data), "--latent", "1", "--hidden", "3", "--batch-size", "4"]
    return [*args, "--steps", "4", "--no-progress", "--out", str(tmp_path / "run"), *extra]


def test_train_prints_the_bound_verdict(tmp_path, capsys):
    assert main(_tiny_train_args(tmp_path, "--variance", "floor", "--floor", "0.05")) == 0
    out = capsys.readouterr().out
    assert "bound held: peak" in out and "margin" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["bound_check"]["held"] is True


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--threads", "100000"], "--threads must be an integer in [1, "),
        (["--threads", "0"], "--threads must be an integer in [1, "),
        (["--seed", str(2**64)], "seed must be an integer in [0, 9223372036854775807]"),
        (["--hidden", "100000000000"], "GiB"),
        (["--floor-method", "softclip"], "--floor-method applies only to --variance floor"),
        (
            ["--likelihood", "bernoulli", "--variance", "shared"],
            "--variance applies to --likelihood gaussian",
        ),
        (
            ["--variance", "fixed", "--sigma", "1", "--floor", "0.1"],
            "--floor/--floor-std need --variance floor",
        ),
        (["--variance", "floor", "--floor", "1e-39"], "floor_variance must lie in [1.18e-38"),
    ],
)
def test_train_option_ranges_exit_2_naming_the_argument(tmp_path, capsys, extra, message):
    assert main(_tiny_train_args(tmp_path, *extra)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run" / "log.jsonl").exists()


def test_train_refuses_data_float32_cannot_represent(tmp_path, capsys):
    data = tmp_path / "big.csv"
    data.write_text("1,2\n3,1e39\n5,6\n")
    args = ["train", "--data", str(data), "--latent", "1", "--steps", "1", "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(data) in err and "1e+39" in err and "outside float32's range" in err
