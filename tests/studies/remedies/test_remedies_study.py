"""The remedies study and ``vaetheory remedies``: every row in the table, bounds held in the runs,
the output directory locked and resumable, the JSON contract, bad options exit 2. Runs are tiny
(StudySettings.quick is replaced by a seconds-long setting)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from vaetheory.cli import main
from vaetheory.studies.remedies import study as S

TINY = S.StudySettings(
    steps=30,
    latent=2,
    hidden=(16,),
    n_test=40,
    iw_samples=4,
    log_every=10,
    regression_steps=20,
    regression_n_train=50,
)
ROW_KEYS = {
    "name",
    "bounded",
    "bounds",
    "proof",
    "heldout_loglik",
    "rmse",
    "min_variance",
    "calibration_error",
    "breakdown_step",
}


@pytest.fixture(scope="module")
def tiny_study():
    return S.run_study(TINY)


def test_every_remedy_has_a_row_with_theory_and_measurements(tiny_study):
    names = [r["name"] for r in tiny_study["table"]]
    assert names == list(S.ROWS)
    for row in tiny_study["table"]:
        assert ROW_KEYS <= set(row), row["name"]
        assert row["proof"]["proved"] and row["proof"]["statement"], row["name"]
        assert row["heldout_loglik"] is not None and row["rmse"] is not None, row["name"]
    assert {r["name"] for r in tiny_study["regression"]["table"]} <= set(S.ROWS)
    assert tiny_study["stirn_ordering"]["answered"] and "RMSE" in tiny_study["stirn_ordering"]["summary"]


def test_a_bounded_remedy_never_exceeds_its_bound_in_a_run(tiny_study):
    checked = 0
    for row in tiny_study["table"]:
        if row["bounded"] and row.get("bound") is not None:
            assert row["bound_held"] is True, row
            assert row["peak"] <= row["bound"] + 1e-3 * (abs(row["bound"]) + 64), row
            checked += 1
    assert checked >= 7  # four floors, fixed, bernoulli, discretised, quantile


def test_table_theory_columns_come_from_the_sympy_theory(tiny_study):
    from vaetheory.symbolic.remedies import remedy_theory

    theory = remedy_theory()
    for row in tiny_study["table"]:
        assert row["bounded"] == theory[row["name"]].bounded
        assert row["bounds"] == theory[row["name"]].bounds


def test_cli_writes_locks_and_resumes(tmp_path, monkeypatch, capsys):
    small = dataclasses.replace(TINY, rows=("learned", "fixed", "beta_nll", "faithful", "discretised"))
    monkeypatch.setattr(S.StudySettings, "quick", classmethod(lambda cls: small))
    out = tmp_path / "rem"
    assert main(["remedies", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Stirn et al. ordering" in printed and "bound" in printed
    for name in (
        "results.json",
        "summary.md",
        "remedies.png",
        "remedies.pdf",
        "remedies.json",
        "row_learned.json",
        "regression_learned.json",
    ):
        assert (out / name).is_file(), name
    result = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in result["table"]] == list(small.rows)
    assert "provenance" in result and json.loads((out / "remedies.json").read_text())["provenance"]
    # a second run into the same directory is refused without --resume
    assert main(["remedies", "--quick", "--out", str(out), "--no-regression"]) == 2
    assert "--resume" in capsys.readouterr().err
    # --resume reads the finished rows back: the same numbers
    before = (out / "row_faithful.json").read_text()
    before_reg = (out / "regression_faithful.json").read_text()
    assert main(["remedies", "--quick", "--out", str(out), "--resume", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["table"] == result["table"] and (out / "row_faithful.json").read_text() == before
    assert again["regression"]["table"] == result["regression"]["table"]
    assert (out / "regression_faithful.json").read_text() == before_reg


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "-1"], "--seed"),
        (["--resume"], "--out"),
        (["--out", "x", "--resume", "--overwrite"], "not both"),
    ],
)
def test_bad_options_exit_2_naming_the_option(argv, message, capsys):
    assert main(["remedies", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaetheory remedies: error:") and message in err


def test_regression_rows_train_without_a_vae_row_first():
    """A resumed study whose VAE rows are all on disk trains regression rows first: the remedies must
    be registered by the regression module itself (a subprocess: a fresh registry)."""
    import subprocess
    import sys

    code = (
        "from vaetheory.studies.remedies import regression as R\n"
        "s = R.RegressionSettings(steps=3, n_train=10, n_test=10, hidden=(4,))\n"
        "out = R.train_regression('beta_nll', {'variance': 'beta_nll'}, s, R.sine_data(s, 0))\n"
        "assert out['rmse'] > 0, out\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
