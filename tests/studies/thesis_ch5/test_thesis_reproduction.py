"""The thesis chapter's claims on one small reproduction run with a fixed seed (shared by every test).

One run of :func:`reproduce_thesis_chapter` per session (``study`` fixture), smaller than ``--quick``
(:data:`TEST_SETTINGS`), on the bundled digits; each test asserts numbers read from it.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from vaetheory.cli import main
from vaetheory.studies.thesis_ch5 import (
    LARGE_BETA,
    SMALL_BETA,
    SMALL_SIGMA_STD,
    RunSettings,
    check_claims,
    load_reproduction,
    predicted_active_curve,
    reproduce_thesis_chapter,
    thesis_configurations,
)

SEED = 0
TEST_SETTINGS = RunSettings(
    steps=400,
    batch_size=128,
    lr=3e-3,
    hidden=(64,),
    iwae_k=20,
    elbo_samples=2,
    n_generated=200,
    max_train=5000,
    max_test=200,
)
CONTRACT_KEYS = {
    "config",
    "variance",
    "sigma",
    "beta",
    "latent",
    "recon_mse",
    "elbo",
    "active_units",
    "provenance",
}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("thesis")
    reproduction = reproduce_thesis_chapter(out, seed=SEED, settings=TEST_SETTINGS, progress=False)
    return out, reproduction


def _by(study, stem: str, q: int):
    return study[1].by_name()[f"{stem}-z{q}"]


@pytest.mark.parametrize("q", [2, 20])
def test_fixed_small_sigma_reconstructs_better_than_learned_sigma(study, q):
    small = _by(study, f"fixed-sigma{SMALL_SIGMA_STD:g}", q)
    learned = _by(study, "learned-sigma", q)
    assert small.recon_mse < 0.9 * learned.recon_mse, (small.recon_mse, learned.recon_mse)


@pytest.mark.parametrize("q", [2, 20])
def test_large_beta_gives_fewer_active_units_than_small_beta(study, q):
    large = _by(study, f"beta{LARGE_BETA:g}-sigma1", q)
    small = _by(study, f"beta{SMALL_BETA:g}-sigma1", q)
    assert large.active_units < small.active_units, (large.active_units, small.active_units)
    assert large.kl_total < 0.1 * small.kl_total, (large.kl_total, small.kl_total)


@pytest.mark.parametrize("q", [2, 20])
def test_mean_samples_have_lower_pixel_variance_than_ancestral_samples(study, q):
    for stem in ("learned-sigma", "fixed-sigma1"):
        pv = _by(study, stem, q).sample_pixel_variance
        assert pv["mean"] < pv["ancestral"], (stem, pv)


def test_results_json_has_the_contract_keys_per_configuration(study):
    out, _ = study
    raw = json.loads((out / "results.json").read_text())
    names = [c.name for c in thesis_configurations()]
    assert isinstance(raw, list), "results.json is a list: one object per configuration"
    assert [c["config"] for c in raw] == names
    for entry in raw:
        assert CONTRACT_KEYS <= set(entry), CONTRACT_KEYS - set(entry)
        assert entry["provenance"]["seed"] == SEED
        assert entry["provenance"]["parameters"]["settings"]["steps"] == TEST_SETTINGS.steps
        assert isinstance(entry["recon_mse"], float) and entry["recon_mse"] > 0
        assert 0 <= entry["active_units"] <= entry["latent"]
    study_record = json.loads((out / "study.json").read_text())
    assert [c["config"] for c in study_record["configurations"]] == names
    assert len(study_record["spectrum"]) > 0
    for name in names:
        assert (out / "configs" / name / "result.json").is_file()


def test_fixed_variance_configurations_record_their_variance(study):
    for c in study[1].configurations:
        if c.variance == "fixed":
            assert c.mean_decoder_variance == pytest.approx(c.sigma**2, rel=1e-5)
            assert c.effective_variance == pytest.approx(c.beta * c.sigma**2)


def test_elbo_below_importance_weighted_bound_on_average(study):
    # L_1 <= L_k in expectation (Burda et al. 2016); single draws on 200 points, so allow MC slack
    for c in study[1].configurations:
        assert c.elbo <= c.iwae_bound + 1e-3 * abs(c.iwae_bound) + 0.5, (c.config, c.elbo, c.iwae_bound)


def test_linear_prediction_matches_spectrum_count(study):
    # the linear module's optimum (active columns of W*) against a direct count of l_j > beta sigma^2
    spectrum = np.asarray(study[1].spectrum)
    for c in study[1].configurations:
        if c.effective_variance is not None:
            count = predicted_active_curve(spectrum, c.latent, [c.effective_variance])[0]
            assert c.predicted_active_units == count, c.config


def test_summary_states_each_claim_with_the_runs_numbers(study):
    out, reproduction = study
    summary = (out / "summary.md").read_text()
    claims = check_claims(reproduction)
    assert len(claims) >= 8
    for claim in claims:
        assert claim.claim in summary
        assert claim.shown in summary
        assert claim.supported is not None
    learned = _by(study, "learned-sigma", 2)
    assert f"{learned.recon_mse:.4g}" in summary


def test_rerun_skips_finished_configurations(study):
    out, _ = study
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("configs/*/result.json")}
    again = reproduce_thesis_chapter(out, seed=SEED, settings=TEST_SETTINGS, progress=False)
    assert set(again.status.values()) == {"skipped"}
    assert {p: p.stat().st_mtime_ns for p in out.glob("configs/*/result.json")} == stamps


def test_interrupted_run_resumes_only_the_unfinished_configuration(study, tmp_path):
    out, first = study
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    name = "learned-sigma-z2"
    (copy / "configs" / name / "result.json").unlink()
    resumed = reproduce_thesis_chapter(copy, seed=SEED, settings=TEST_SETTINGS, progress=False)
    assert resumed.status[name] == "trained"
    assert [k for k, v in resumed.status.items() if v == "trained"] == [name]
    # resumed from its finished checkpoint: the same model, the same held-out numbers
    assert resumed.by_name()[name].recon_mse == first.by_name()[name].recon_mse
    assert resumed.by_name()[name].active_units == first.by_name()[name].active_units


def test_rerun_with_other_options_is_refused(study):
    out, _ = study
    with pytest.raises(ValueError, match="other options"):
        reproduce_thesis_chapter(out, seed=SEED + 1, settings=TEST_SETTINGS, progress=False)


def test_cli_refuses_to_mix_runs_and_exits_2(study, capsys):
    out, _ = study
    assert main(["reproduce", "thesis-ch5", "--out", str(out), "--quick"]) == 2
    assert "other options" in capsys.readouterr().err


def test_cli_mnist_without_data_dir_exits_2(tmp_path, capsys):
    assert main(["reproduce", "thesis-ch5", "--out", str(tmp_path / "o"), "--data", "mnist"]) == 2
    assert "data_dir" in capsys.readouterr().err


def test_figure_grids_lay_out_every_configuration_and_mode(study):
    # the saving path (PDF, PNG, sidecar with provenance) is covered by tests/figures/test_figures_cli.py
    import matplotlib.pyplot as plt

    from vaetheory.plots import thesis as plots
    from vaetheory.studies.thesis_ch5 import load_configuration_arrays

    out, reproduction = study
    names = [c.config for c in reproduction.configurations if c.latent == 20]
    arrays = {n: load_configuration_arrays(out / "configs" / n) for n in names}
    modes = {"ancestral": "ancestral", "mean": "mu", "mean_plus_std": "mu + sigma"}
    samples = {n: {m: arrays[n][f"samples_{m}"] for m in modes} for n in names}
    fig = plots.plot_samples(samples, modes, (8, 8), title="samples")
    assert len(fig.axes) == len(names) * len(modes)
    # each configuration's label stands above its first panel (modes side by side, in reading order)
    assert [ax.texts[0].get_text() for ax in fig.axes[:: len(modes)]] == names
    plt.close(fig)
    recon = {n: arrays[n]["reconstructions"] for n in names}
    fig = plots.plot_reconstructions(arrays[names[0]]["originals"], recon, (8, 8), title="recon")
    assert [ax.get_ylabel() for ax in fig.axes] == ["held-out originals", *names]
    plt.close(fig)
    tiles = plots.mosaic(arrays[names[0]]["samples_mean"][:6], (8, 8), 3)
    assert tiles.shape == (2 * 9 - 1, 3 * 9 - 1)
    np.testing.assert_array_equal(tiles[:8, :8], arrays[names[0]]["samples_mean"][0].reshape(8, 8))
    assert np.isnan(tiles[8, :]).all()


def test_results_read_back_equal_the_run(study):
    out, reproduction = study
    again = load_reproduction(out)
    assert again.configurations == tuple(reproduction.configurations)
    assert again.spectrum == reproduction.spectrum


def test_run_figures_are_column_or_page_wide_and_collapse_shows_every_run(study, tmp_path):
    from PIL import Image

    from vaetheory.figures.thesis import draw_reproduction_figures
    from vaetheory.plots.style import COLUMN_WIDTH, PAGE_WIDTH, RC_PARAMS

    _, reproduction = study
    written = draw_reproduction_figures(reproduction, tmp_path)
    dpi = RC_PARAMS["savefig.dpi"]
    widths = {p.stem: Image.open(p).size[0] for p in written if p.suffix == ".png"}
    assert widths == {
        "reconstructions_z2": round(PAGE_WIDTH * dpi),
        "reconstructions_z20": round(PAGE_WIDTH * dpi),
        "samples_z2": round(PAGE_WIDTH * dpi),
        "samples_z20": round(PAGE_WIDTH * dpi),
        "latent_grid_z2": round(PAGE_WIDTH * dpi),
        "collapse": round(COLUMN_WIDTH * dpi),
    }
    collapse = json.loads((tmp_path / "collapse.json").read_text())["data"]
    shown = {m["config"]: m for m in collapse["measured"]}
    assert set(shown) == {c.config for c in reproduction.configurations}
    for c in reproduction.configurations:
        # a learned run sits at sigma^2_ML(q), the threshold of table.md (one definition)
        expected = c.effective_variance if c.variance == "fixed" else c.predicted_threshold_variance
        assert shown[c.config]["threshold"] == pytest.approx(expected)
        assert shown[c.config]["active_units"] == c.active_units
    from vaetheory.figures.thesis import SAMPLES_PER_SIDE
    from vaetheory.studies.thesis_ch5 import load_configuration_arrays

    out, _ = study
    samples = json.loads((tmp_path / "samples_z2.json").read_text())["data"]
    for name, modes in samples["samples"].items():
        arrays = load_configuration_arrays(out / "configs" / name)
        for mode, images in modes.items():
            assert len(images) == SAMPLES_PER_SIDE**2
            pixels = arrays[f"samples_{mode}"][: SAMPLES_PER_SIDE**2]
            below, above = samples["clipped_share_below_0_above_1"][name][mode]
            assert (below, above) == (np.mean(pixels < 0), np.mean(pixels > 1))


def test_relabelling_the_configurations_cannot_change_a_claims_verdict(study):
    # claims find their configurations by policy, sigma, beta and latent: any labels give the same verdicts
    import dataclasses

    _, reproduction = study
    relabelled = dataclasses.replace(
        reproduction,
        configurations=tuple(
            dataclasses.replace(c, config=f"run-{i}") for i, c in enumerate(reproduction.configurations)
        ),
    )
    before = [(c.claim, c.supported) for c in check_claims(reproduction)]
    after = [(c.claim, c.supported) for c in check_claims(relabelled)]
    assert after == before
    assert all(supported is not None for _, supported in after)
    # and a configuration whose fields change is no longer found: that claim is "not run", not misread
    moved = dataclasses.replace(
        reproduction,
        configurations=tuple(
            dataclasses.replace(c, beta=0.5) if c.beta == LARGE_BETA else c
            for c in reproduction.configurations
        ),
    )
    collapse = next(c for c in check_claims(moved) if c.claim.startswith("A large beta"))
    assert collapse.supported is None and collapse.shown.startswith("not run")


def test_results_carry_policy_beside_its_old_name_variance(study):
    out, reproduction = study
    for entry in json.loads((out / "results.json").read_text()):
        assert entry["policy"] == entry["variance"] in ("learned", "fixed")
    for c in reproduction.configurations:
        assert c.policy == ("learned" if c.sigma is None else "fixed")


def test_a_result_written_before_policy_existed_still_loads(study, tmp_path):
    from vaetheory.studies.thesis_ch5 import load_configuration_result

    out, reproduction = study
    name = reproduction.configurations[0].config
    raw = json.loads((out / "configs" / name / "result.json").read_text())
    del raw["policy"]
    (tmp_path / "result.json").write_text(json.dumps(raw))
    assert load_configuration_result(tmp_path) == reproduction.configurations[0]
