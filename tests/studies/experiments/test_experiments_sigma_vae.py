"""sigma-vae (issue 15 item 5) at the tests' tiny settings, through the command line once: the schema,
the files and the figure, the theory's predictions on the seeded run, verdicts computed from the
numbers, resume, and errors that name the option (exit 2)."""

from __future__ import annotations

import copy
import json

import pytest

from vaetheory.cli import main
from vaetheory.studies.experiments import _common as C
from vaetheory.studies.experiments import sigma_vae as S


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sigma_vae")
    mp = pytest.MonkeyPatch()
    mp.setattr(S, "QUICK", S.TINY)  # --quick at the tests' sizes
    try:
        code = main(["experiment", "sigma-vae", "--quick", "--out", str(out), "--seed", "0"])
    finally:
        mp.undo()
    return out, code


def _details(out):
    return [json.loads((out / "runs" / f"{name}.json").read_text()) for name in _names()]


def _names():
    return [S._sigma_name(v) for v in S.TINY.sigmas] + ["shared", "calibrated"]


def test_cli_writes_results_summary_and_figure(cli_run):
    out, code = cli_run
    assert code == 0
    data = json.loads((out / "results.json").read_text())
    assert set(data) == {"experiment", "runs", "sigma_star", "ppca_sigma2_ml", "provenance"}
    assert data["experiment"] == "sigma-vae" and data["provenance"]["seed"] == 0
    assert [r["name"] for r in data["runs"]] == _names()
    assert [r["policy"] for r in data["runs"]] == ["fixed"] * len(S.TINY.sigmas) + ["shared", "calibrated"]
    for run in data["runs"]:
        assert {
            "sigma",
            "sigma2",
            "elbo",
            "heldout_loglik",
            "recon_mse",
            "elbo_mse",
            "samples",
            "curve",
        } <= set(run)
        assert run["curve"][-1]["step"] == S.TINY.steps and run["stopped"] is None
        if run["policy"] == "fixed":
            # the fixed variance is sigma^2 rounded to float32 (the model's training dtype)
            assert run["sigma2"] == pytest.approx(run["sigma"] ** 2, rel=1e-6)
    assert set(data["sigma_star"]) == {"shared", "calibrated"}
    for suffix in ("pdf", "png", "json"):
        assert (out / f"sigma_vae.{suffix}").stat().st_size > 0
    sidecar = json.loads((out / "sigma_vae.json").read_text())
    assert sidecar["provenance"]["parameters"]["experiment"] == "sigma-vae"
    assert "sigma*" in sidecar["caption"] and "calibrated" in sidecar["caption"]
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# sigma-vae") and "Theory against the runs" in summary


def test_predictions_on_the_seeded_tiny_run(cli_run):
    out, _ = cli_run
    details = _details(out)
    checks = {c["claim"]: c for c in S.verdicts(details, S.TINY)}
    cal = next(r for r in details if r["policy"] == "calibrated")["final"]
    # the calibrated variance is the last training minibatch's MSE (64 points, one sample) and
    # MSE_q the whole set's (2 samples): equal up to the minibatch's spread (measured ratio 0.96)
    assert cal["sigma2"] / cal["elbo_mse"] == pytest.approx(1.0, rel=0.1)
    assert checks["calibrated: the decoder variance is calibrated, sigma^2 = the ELBO's own MSE"]["holds"]
    assert checks["calibrated: learning sigma dominates every fixed sigma (ELBO)"]["holds"]
    assert checks["the fixed-sigma ELBO peaks at the calibrated sigma*"]["holds"]
    mse = [r["final"]["recon_mse"] for r in details if r["policy"] == "fixed"]
    assert mse == sorted(
        mse
    )  # beta = 2 sigma^2: the distortion grows with sigma (measured 0.024, 0.025, 0.042)
    claim = (
        "the reconstruction MSE grows with the fixed sigma (beta = 2 sigma^2 trades reconstruction for KL)"
    )
    assert checks[claim]["holds"]


def test_verdicts_are_computed_from_the_numbers(cli_run):
    out, _ = cli_run
    details = _details(out)
    flipped = copy.deepcopy(details)
    cal = next(r for r in flipped if r["policy"] == "calibrated")
    cal["final"]["sigma2"] = 2.0 * cal["final"]["elbo_mse"]
    cal["final"]["elbo"] = -1e6
    fixed = [r for r in flipped if r["policy"] == "fixed"]
    fixed[0]["final"]["recon_mse"], fixed[-1]["final"]["recon_mse"] = 1.0, 0.0
    checks = {c["claim"]: c["holds"] for c in S.verdicts(flipped, S.TINY)}
    assert checks["calibrated: the decoder variance is calibrated, sigma^2 = the ELBO's own MSE"] is False
    assert checks["calibrated: learning sigma dominates every fixed sigma (ELBO)"] is False
    claim = (
        "the reconstruction MSE grows with the fixed sigma (beta = 2 sigma^2 trades reconstruction for KL)"
    )
    assert checks[claim] is False
    summary = S.summary(
        flipped, S.verdicts(flipped, S.TINY), S.TINY, 0, json.loads((out / "results.json").read_text())
    )
    assert "**DISAGREES**: calibrated" in summary


def test_resume_trains_nothing_and_gives_identical_results(cli_run, monkeypatch):
    out, _ = cli_run
    before = json.loads((out / "results.json").read_text())
    summary = (out / "summary.md").read_text()

    def no_training(*args, **kwargs):
        raise AssertionError("a resumed finished run must not train")

    monkeypatch.setattr(C, "train_group", no_training)
    again = S.run(out, settings=S.TINY, seed=0, resume=True, progress=False)
    assert again["runs"] == before["runs"] and again["sigma_star"] == before["sigma_star"]
    assert (out / "summary.md").read_text() == summary


def test_figure_passes_the_audit_under_every_template(cli_run):
    from vaetheory.plots.experiments.sigma_vae import draw_sigma_vae
    from vaetheory.plots.style import TEMPLATES, audit_figure, use_template

    out, _ = cli_run
    details = _details(out)
    for template in TEMPLATES:
        with use_template(template):
            assert audit_figure(draw_sigma_vae(details), template) == [], template


def test_bad_options_name_the_option(tmp_path, capsys):
    with pytest.raises(ValueError, match="--data"):
        S.run(tmp_path / "a", settings=S.TINY, data="mnist", progress=False)
    with pytest.raises(ValueError, match=r"settings\.sigmas"):
        S.run(tmp_path / "b", settings=S.Settings(sigmas=(0.1,)), progress=False)
    with pytest.raises(ValueError, match=r"settings\.sigmas"):
        S.run(tmp_path / "c", settings=S.Settings(sigmas=(0.5, 0.1)), progress=False)
    assert main(["experiment", "sigma-vae", "--out", str(tmp_path / "d"), "--data", "mnist"]) == 2
    assert "--data" in capsys.readouterr().err
    assert main(["experiment", "sigma-vae", "--out", str(tmp_path / "e"), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err
