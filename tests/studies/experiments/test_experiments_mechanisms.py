"""mechanisms (issue 15): one CLI run at the tests' tiny settings (seed 0), then the theory's
predictions on it, the schema, the files and the figure (audited under every template), resume,
verdicts recomputed from changed numbers, the synthetic data, and the errors (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vaetheory.cli import main
from vaetheory.empirical.mechanisms import COLLAPSE_FACTOR, classify_mechanism
from vaetheory.studies.experiments import _common as C
from vaetheory.studies.experiments import mechanisms as M


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mechanisms")
    mp = pytest.MonkeyPatch()
    mp.setattr(M, "QUICK", M.TINY)  # --quick at the tests' sizes
    try:
        code = main(["experiment", "mechanisms", "--quick", "--out", str(out), "--seed", "0"])
    finally:
        mp.undo()
    assert code == 0
    with pytest.MonkeyPatch.context() as mp2:
        # every run is finished: a resume trains nothing and returns the run's values
        mp2.setattr(C, "train_group", lambda *a, **k: pytest.fail("a resumed finished run trained"))
        result = M.run(out, settings=M.TINY, seed=0, resume=True, progress=False)
    return out, result


def _claim(result, start):
    return next(c for c in result["verdicts"] if c["claim"].startswith(start))


def test_results_json_schema_and_files(cli_run):
    out, result = cli_run
    data = json.loads((out / "results.json").read_text())
    assert set(data) == {"experiment", "runs", "thresholds", "provenance"}
    assert data["experiment"] == "mechanisms" and data["provenance"]["seed"] == 0
    assert [r["name"] for r in data["runs"]] == list(M.KINDS)
    for run in data["runs"]:
        assert set(run) == {
            "name",
            "data",
            "policy",
            "estimator",
            "stopped",
            "constant_coords",
            "threshold_variance",
            "mechanism",
            "curve",
        }
        assert run["policy"] == "learned" and "k = 8" in run["estimator"]
        assert run["curve"][-1]["step"] == M.TINY.steps
        assert all(set(p) == set(M.CURVE_KEYS) for p in run["curve"])
        record = json.loads((out / "runs" / f"{run['name']}.json").read_text())
        assert np.asarray(record["final_log_variance"]).shape == (M.TINY.n_train, M.DATA_DIM)
    assert data["runs"] == result["runs"]  # the resumed run gives the same values
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# mechanisms") and "Theory against the runs" in summary
    assert "## Constant coordinates not collapsed at every point" in summary
    assert "## Collapsed dimensions on coordinates that are not degenerate" in summary
    raw = result["details"][0]
    lv = np.asarray(raw["final_log_variance"])
    j = next((j for j in raw["constant_coords"] if j not in raw["curve"][-1]["dims"]), None)
    if j is not None:  # the count in the summary is read off the stored matrix
        under = int(np.sum(lv[:, j] < np.log(raw["threshold_variance"])))
        assert f"{j}: {under}/{lv.shape[0]} points" in summary
    for suffix in ("pdf", "png", "json"):
        assert (out / f"mechanisms.{suffix}").stat().st_size > 0
    sidecar = json.loads((out / "mechanisms.json").read_text())
    assert sidecar["provenance"]["parameters"]["experiment"] == "mechanisms"
    raw_end = result["details"][0]["curve"][-1]
    assert f"raw-digits: {raw_end['mechanism']} at step {M.TINY.steps}" in sidecar["caption"]


def test_raw_digits_collapse_per_dimension_on_constant_pixels(cli_run):
    _, result = cli_run
    raw = result["details"][0]
    end = raw["curve"][-1]
    # measured at seed 0 (tiny settings): per-dimension on 5 of the constant pixels
    assert end["mechanism"] in ("per-dimension", "both")
    assert end["dims"] and set(end["dims"]) <= set(raw["constant_coords"])
    assert set(raw["constant_coords"]) <= set(raw["degenerate_coords"])
    assert _claim(result, "raw-digits: the likelihood grows")["holds"] is True


def test_control_shows_neither_route_early_and_no_collapsed_dimension(cli_run):
    _, result = cli_run
    ctrl = result["details"][2]
    assert ctrl["constant_coords"] == []  # dequantised: no coordinate is constant
    assert all(p["dims"] == [] for p in ctrl["curve"])
    assert _claim(result, "dequantised-digits (control): no dimension")["holds"] is True
    assert _claim(result, "dequantised-digits (control): neither route")["holds"] is True


def test_curve_points_are_the_diagnostic_of_the_stored_matrix(cli_run):
    # an independent route to the last curve point: classify the stored log-variances again
    _, result = cli_run
    for rec in result["details"]:
        again = classify_mechanism(rec["final_log_variance"], reference_variance=rec["reference_variance"])
        end = rec["curve"][-1]
        assert again.mechanism == end["mechanism"] and list(again.dims) == list(end["dims"])
        # float64 sums of at most 512 cells: equal to rounding
        assert again.growth_per_point == pytest.approx(end["growth_per_point"], rel=1e-12, abs=1e-12)
        assert rec["threshold_variance"] == pytest.approx(rec["reference_variance"] / COLLAPSE_FACTOR)


def test_verdicts_are_computed_from_the_numbers(cli_run):
    _, result = cli_run
    records = json.loads(json.dumps(result["details"]))
    syn = records[1]
    planted = syn["planted_constant_coords"]
    syn["curve"][-1].update(
        mechanism="per-dimension", dims=planted, dimension_share=1.0, point_share=0.0, scattered_share=0.0
    )
    checks = M.verdicts(records, M.TINY)
    assert next(c for c in checks if c["claim"].startswith("synthetic: every constant"))["holds"] is True
    syn["curve"][-1]["dims"] = planted[:-1]
    checks = M.verdicts(records, M.TINY)
    assert next(c for c in checks if c["claim"].startswith("synthetic: every constant"))["holds"] is False
    raw = records[0]
    other = next(j for j in range(M.DATA_DIM) if j not in raw["degenerate_coords"])
    raw["curve"][-1].update(mechanism="per-dimension", dims=[*raw["degenerate_coords"][:1], other])
    checks = M.verdicts(records, M.TINY)
    assert next(c for c in checks if c["claim"].startswith("raw-digits: the likelihood"))["holds"] is False
    ctrl = records[2]
    ctrl["curve"][-1].update(mechanism="per-point", points=[3], point_share=0.9, growth_per_point=4.0)
    checks = M.verdicts(records, M.TINY)
    assert next(c for c in checks if c["claim"].endswith("is per-point"))["holds"] is True
    ctrl["curve"][0].update(mechanism="per-dimension", dims=[5])
    checks = M.verdicts(records, M.TINY)
    assert next(c for c in checks if "no dimension collapses" in c["claim"])["holds"] is False
    assert next(c for c in checks if "neither route" in c["claim"])["holds"] is False


def test_figure_passes_the_audit_under_every_template(cli_run):
    from vaetheory.plots.experiments.mechanisms import draw_mechanisms
    from vaetheory.plots.style import TEMPLATES, audit_figure, plt, use_template

    _, result = cli_run
    for template in TEMPLATES:
        with use_template(template):
            fig = draw_mechanisms(result["details"])
            assert audit_figure(fig, template) == [], template
        plt.close(fig)


def test_synthetic_data_has_exactly_the_planted_constant_coordinates():
    x, constant = M.synthetic_data(8, M.TINY, 3)
    again, _ = M.synthetic_data(8, M.TINY, 3)
    assert np.array_equal(x, again) and x.shape == (8, M.DATA_DIM)
    assert len(constant) == M.TINY.synthetic_constant
    assert np.flatnonzero(np.ptp(x, axis=0) == 0).tolist() == constant


def test_degenerate_coordinates_are_constant_or_have_every_level_shared():
    x = np.array([[0.0, 1.0, 0.5, 0.1], [0.0, 1.0, 0.5, 0.2], [0.0, 2.0, 0.7, 0.3], [0.0, 2.0, 0.7, 0.3]])
    assert M.degenerate_coords(x) == [0, 1, 2]  # column 3: 0.1 and 0.2 are held by one point each
    raw = M.training_sets(M.TINY, 0)["raw-digits"]
    deq = M.training_sets(M.TINY, 0)["dequantised-digits"]
    assert set(np.flatnonzero(np.ptp(raw, axis=0) == 0)) <= set(M.degenerate_coords(raw))
    assert M.degenerate_coords(deq) == []


def test_errors_name_the_option(tmp_path, capsys):
    assert main(["experiment", "mechanisms", "--out", str(tmp_path / "a"), "--data", "mnist"]) == 2
    assert "--data" in capsys.readouterr().err
    with pytest.raises(ValueError, match="n_train"):
        M.run(tmp_path / "b", settings=M.Settings(n_train=1), progress=False)
    with pytest.raises(ValueError, match="seed"):
        M.run(tmp_path / "c", settings=M.TINY, seed=-1, progress=False)
