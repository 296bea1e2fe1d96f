"""floors (issue 15) through the command line (the one CLI run of the experiment tests, at the tests'
tiny settings): every floor method's largest training log-likelihood under its bound, the files
and the figure, and the CLI's errors (exit 2)."""

from __future__ import annotations

import json

import pytest

from vaetheory.cli import main
from vaetheory.studies.experiments import floors as F


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("floors")
    mp = pytest.MonkeyPatch()
    mp.setattr(F, "QUICK", F.TINY)  # --quick at the tests' sizes
    try:
        code = main(["experiment", "floors", "--quick", "--out", str(out), "--seed", "0"])
    finally:
        mp.undo()
    return out, code


def test_cli_writes_results_summary_and_figure(cli_run):
    out, code = cli_run
    assert code == 0
    data = json.loads((out / "results.json").read_text())
    assert data["experiment"] == "floors" and data["provenance"]["seed"] == 0
    assert {r["floor_method"] for r in data["runs"]} == set(F.METHODS)
    for suffix in ("pdf", "png", "json"):
        assert (out / f"floors.{suffix}").stat().st_size > 0
    sidecar = json.loads((out / "floors.json").read_text())
    assert sidecar["provenance"]["parameters"]["experiment"] == "floors"
    assert "Theory against the runs" in (out / "summary.md").read_text()


def test_every_floor_method_stays_under_its_bound(cli_run):
    out, _ = cli_run
    data = json.loads((out / "results.json").read_text())
    for run in data["runs"]:
        # exact inequality of theory section 2 (see tests/studies/experiments/test_experiments_unbounded.py)
        assert run["train_loglik_max"] <= run["bound"]
        assert all(p["min_variance"] >= run["floor"] for p in run["curve"])


def test_gaussian_nll_variance_passes_under_the_floor(cli_run):
    out, _ = cli_run
    data = json.loads((out / "results.json").read_text())
    run = next(r for r in data["runs"] if r["floor_method"] == "gaussian_nll" and r["floor"] == 1e-2)
    # the straight-through clamp: the value is floored, the head's variance falls below xi
    # (measured 2.5e-4 = 0.025 xi after 150 steps of the tiny run)
    assert run["min_unfloored_variance"] < 0.1 * run["floor"]
    assert run["min_variance"] >= run["floor"]


def test_floors_figure_passes_the_style_audit_and_the_caption_states_the_numbers(cli_run):
    from vaetheory.plots import style
    from vaetheory.plots.experiments.training import draw_floors

    out, _ = cli_run
    names = [r["name"] for r in json.loads((out / "results.json").read_text())["runs"]]
    records = [json.loads((out / "runs" / f"{n}.json").read_text()) for n in names]
    for template in ("generic", "icml", "neurips"):
        with style.use_template(template):
            fig = draw_floors(records)
            assert style.audit_figure(fig, template) == [], template
        style.plt.close(fig)
    caption = json.loads((out / "floors.json").read_text())["caption"]
    best = max(
        (r for r in records if r["floor_method"] == "clamp"), key=lambda r: r["final"]["heldout_loglik"]
    )
    assert f"best held-out {best['final']['heldout_loglik']:.1f} at xi = {best['floor']:g}" in caption


def test_list_and_errors_exit_2(capsys, tmp_path):
    assert main(["experiment", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "unbounded-training" in listed and "floors" in listed
    assert main(["experiment", "nonsense", "--out", str(tmp_path)]) == 2
    assert "unknown experiment" in capsys.readouterr().err
    assert main(["experiment", "floors"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["experiment", "floors", "--out", str(tmp_path), "--data", "mnist"]) == 2
    assert "--data" in capsys.readouterr().err
    assert main(["experiment", "floors", "--out", str(tmp_path), "--resume", "--overwrite"]) == 2
