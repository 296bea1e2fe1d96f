"""collapse (issue 15): active units of trained deep VAEs against the linear VAE's threshold rule on a
tiny seeded run; the prediction's closed form against an independent route; the schema, resume,
the figure (audited for every template) and the command line (exit 2 on a bad option)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from vaetheory.cli import main
from vaetheory.studies.experiments import _common as C
from vaetheory.studies.experiments import collapse as M


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("collapse")
    result = M.run(out, settings=M.TINY, seed=0, progress=False)
    return out, result


def _runs(result, q=None):
    return [r for r in result["details"] if r.get("kind") == "run" and (q is None or r["q"] == q)]


def test_results_json_schema_and_files(tiny):
    out, _ = tiny
    data = json.loads((out / "results.json").read_text())
    assert {"experiment", "runs", "provenance"} <= set(data)
    assert data["experiment"] == "collapse" and data["provenance"]["seed"] == 0
    assert data["active_unit_rule"] == M.ACTIVE_UNIT_RULE and data["margin"] == M.MARGIN
    n_fixed = M.TINY.n_grid * len(M.TINY.latents)
    assert len(data["runs"]) == n_fixed + len(M.TINY.latents)  # + one learned run per q
    for run in data["runs"]:
        assert set(run) == {*M.PUBLIC_KEYS, "curve"}
        assert run["curve"][-1]["step"] == M.TINY.steps
        assert (out / "runs" / f"{run['name']}.json").exists()
        assert run["threshold"] == pytest.approx(run["beta"] * run["sigma2"], rel=1e-12)
    # the grid spans the eigenvalues: points above l_1 and below the smallest kept l_q
    lam = data["eigenvalues"]
    assert min(data["thresholds"]) < lam[max(M.TINY.latents) - 1] and max(data["thresholds"]) > lam[0]
    # beta and sigma^2 runs alternate on one grid (both families present for each q)
    assert {r["family"] for r in data["runs"]} == {"beta", "sigma2", "learned"}
    assert (out / "summary.md").read_text().startswith("# collapse")


def test_decided_runs_match_the_linear_prediction(tiny):
    # issue 15: where every eigenvalue is at least 20% from the threshold, the measured count equals
    # min(q, #{l_j > beta sigma^2}). Counts are integers: no tolerance. Measured at TINY (seed 0):
    # every decided q = 2 run and every decided q = 20 run above l_1 agrees. The q = 20 runs at the
    # smallest thresholds agree here too (20 of 20 after 300 steps), but at the quick settings the deep
    # VAE drops units late in training (16 and 13 of 20 at 2500 steps; summary.md says DISAGREES), so
    # that side is not asserted as a property of deep VAEs; the verdict is computed (next test).
    _, result = tiny
    lam = np.asarray(result["eigenvalues"])
    decided = [r for r in _runs(result) if r["decided"]]
    assert any(r["q"] == 2 for r in decided) and any(
        r["q"] == 20 and r["threshold"] > lam[0] for r in decided
    )
    for r in decided:
        if r["q"] == 2 or r["threshold"] > lam[0]:
            assert r["active_units"] == r["predicted_active_units"], r["name"]
    for r in _runs(result):
        lower, upper = r["band"]
        assert lower <= r["predicted_active_units"] <= upper


def test_prediction_against_the_eigenvalues_and_the_closed_form_encoder(tiny):
    # independent route: at the optimum A_j = 1 - t/l_j and KL_j = (1/2) log(l_j / t) for l_j > t,
    # 0 otherwise (theory section 3). The closed-form encoder's numbers are sums of n = 400 squares
    # of O(1) values: 64 eps relative covers their rounding.
    _, result = tiny
    lam = np.asarray(result["eigenvalues"])
    for r in _runs(result):
        t, q = r["threshold"], r["q"]
        kept = lam[:q][lam[:q] > t]
        assert r["predicted_active_units"] == min(q, int(np.sum(lam > t)))
        assert r["predicted_kl_total"] == pytest.approx(
            0.5 * np.sum(np.log(kept / t)), rel=64 * np.finfo(float).eps * max(1, q), abs=1e-12
        )
    # the active-unit rule on the linear optimum differs from l_j > t only within 1% of t
    x_train, _ = C.digits_split(M.TINY.n_train, M.TINY.n_heldout, 0, "dequantised")
    from vaetheory.linear.moments import sample_moments

    moments = sample_moments(x_train)
    for t in (0.5 * lam[1], 1.5 * lam[0], lam[4] * 1.005):
        lin = M.linear_at(moments, x_train, 20, beta=1.0, sigma2=float(t))
        activity = np.asarray(lin["linear_activity"])
        expected = np.where(lam[:20] > t, 1.0 - t / lam[:20], 0.0)
        np.testing.assert_allclose(activity, expected, rtol=1e-9, atol=1e-12)  # float64 sums, n = 400
        strict = int(np.sum(lam[:20] > t / (1 - M.ACTIVE_UNIT_THRESHOLD)))
        assert lin["linear_active_units"] == strict


def test_decided_band():
    lam = np.array([1.0, 0.5, 0.1])
    assert M.decided_band(lam, 3, 0.3) == (2, 2, True)  # 0.5 >= 0.36, 0.1 <= 0.24
    assert M.decided_band(lam, 3, 0.45) == (1, 2, False)  # 0.5 within 20% of 0.45
    assert M.decided_band(lam, 1, 0.45) == (1, 1, True)  # only l_1 counts for q = 1
    assert M.active_units_of([0.5, 0.01, 0.0100001, 0.0]) == 2  # strictly above 0.01


def test_verdicts_are_computed_from_the_runs(tiny):
    _, result = tiny
    records = json.loads(json.dumps(result["details"]))
    decided = next(r for r in records if r.get("kind") == "run" and r["decided"] and r["q"] == 2)
    claim = next(c for c in M.verdicts(records, M.TINY) if c["claim"].startswith(decided["name"] + " "))
    assert claim["holds"] is (decided["active_units"] == decided["predicted_active_units"])
    decided["active_units"] = (decided["predicted_active_units"] + 1) % (decided["q"] + 1)
    again = next(c for c in M.verdicts(records, M.TINY) if c["claim"].startswith(decided["name"] + " "))
    assert again["holds"] is False
    assert "DISAGREES" in M.summary(records, M.verdicts(records, M.TINY), M.TINY, 0)
    learned = [c for c in result["verdicts"] if "learned (shared) sigma^2 settles" in c["claim"]]
    assert len(learned) == len(M.TINY.latents) and all(c["holds"] is None for c in learned)


def test_learned_run_is_placed_at_its_settled_variance(tiny):
    _, result = tiny
    for r in _runs(result):
        if r["family"] == "learned":
            assert r["beta"] == 1.0 and r["policy"] == "shared"
            assert r["sigma2"] == r["curve"][-1]["decoder_variance"] == r["threshold"]
            assert math.isfinite(r["sigma2_ml"]) and r["sigma2_ml"] > 0


def test_resume_trains_nothing_and_gives_identical_results(tiny, monkeypatch):
    out, result = tiny
    before = {p.name: p.read_text() for p in (out / "runs").glob("*.json")}
    with pytest.raises(ValueError, match="already holds"):
        M.run(out, settings=M.TINY, seed=0, progress=False)

    def no_training(*args, **kwargs):
        raise AssertionError("resume trained a finished group")

    monkeypatch.setattr(C, "train_group", no_training)
    again = M.run(out, settings=M.TINY, seed=0, resume=True, progress=False)
    assert again["runs"] == result["runs"] and again["verdicts"] == result["verdicts"]
    assert {p.name: p.read_text() for p in (out / "runs").glob("*.json")} == before
    with pytest.raises(ValueError, match="other options"):
        M.run(out, settings=M.TINY, seed=1, resume=True, progress=False)


def test_bad_settings_are_refused_naming_the_field(tmp_path):
    with pytest.raises(ValueError, match=r"settings\.grid_high"):
        M.run(tmp_path / "a", settings=dataclasses.replace(M.TINY, grid_high=0.9), progress=False)
    with pytest.raises(ValueError, match=r"settings\.latents"):
        M.run(tmp_path / "b", settings=dataclasses.replace(M.TINY, latents=(2, 64)), progress=False)
    with pytest.raises(ValueError, match="--data"):
        M.run(tmp_path / "c", settings=M.TINY, data="mnist", progress=False)


@pytest.mark.parametrize("template", ["generic", "icml", "neurips"])
def test_figure_passes_the_style_audit(tiny, template):
    from vaetheory.plots.experiments.collapse import draw_collapse
    from vaetheory.plots.style import audit_figure, use_template

    with use_template(template):
        fig = draw_collapse(tiny[1]["details"])
    assert audit_figure(fig, template) == []
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_cli_quick_run_writes_figure_with_caption_and_exits_2_on_bad_options(
    tiny, tmp_path, monkeypatch, capsys
):
    # --quick at the tests' sizes, resumed in the fixture's directory (the same record: nothing trains)
    monkeypatch.setattr(M, "QUICK", M.TINY)
    out = tiny[0]
    assert main(["experiment", "collapse", "--quick", "--out", str(out), "--seed", "0", "--resume"]) == 0
    for suffix in ("pdf", "png", "json"):
        assert (out / f"collapse.{suffix}").stat().st_size > 0
    sidecar = json.loads((out / "collapse.json").read_text())
    assert sidecar["provenance"]["parameters"]["experiment"] == "collapse"
    assert "A_u = Var_x(E_q[z_u|x]) > 0.01" in sidecar["caption"]
    assert "collapse" in capsys.readouterr().out
    assert main(["experiment", "collapse", "--out", str(tmp_path / "x"), "--data", "mnist"]) == 2
    assert "--data" in capsys.readouterr().err
    assert main(["experiment", "collapse", "--out", str(tmp_path / "y"), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err
