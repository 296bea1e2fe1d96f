"""``vaetheory linear``: the JSON contract, the table, the data spec, figures, errors (exit code 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vaetheory.cli import main
from vaetheory.linear import ppca_mle, synthetic_ppca_data
from vaetheory.linear.data import load_data, parse_synthetic_spec

SPEC = "synthetic:n=300,d=8,spectrum=5;3;1;0.5,noise=0.1,seed=4"


def _json(capsys, *argv):
    assert main(["linear", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_is_a_list_with_one_object_per_latent_size(capsys):
    records = _json(capsys, "--data", SPEC, "--latent", "2,4,6")
    X = load_data(SPEC).data
    assert isinstance(records, list) and [r["q"] for r in records] == [2, 4, 6]
    for r in records:
        fit = ppca_mle(X, r["q"])
        assert r["sigma2"] == pytest.approx(fit.noise_variance, rel=1e-12)
        assert r["loglik_per_point"] == pytest.approx(fit.score(X), rel=1e-12)
        assert r["elbo_per_point"] == pytest.approx(r["loglik_per_point"], rel=1e-12)
        assert r["active_directions"] == list(range(1, r["q"] + 1))
        assert r["provenance"]["parameters"]["data"] == SPEC
        assert r["provenance"]["seed"] == 4


def test_beta_and_fixed_variance_report_the_collapse_threshold(capsys):
    records = _json(capsys, "--data", SPEC, "--latent", "4", "--beta", "2", "--sigma2", "0.5")
    (variant,) = records[0]["variants"]
    assert variant["threshold"] == pytest.approx(1.0)
    lam = records[0]["eigenvalues"]
    assert variant["active_directions"] == [j + 1 for j in range(4) if lam[j] > 1.0]
    assert variant["collapsed_directions"] == [j + 1 for j in range(4) if lam[j] <= 1.0]
    assert variant["collapsed_directions"]  # this data has a direction below the threshold


def test_data_are_used_as_given_unless_scale_is_asked(capsys, tmp_path):
    X = synthetic_ppca_data(100, 4, (2.0,), 0.3, 1).data * 10 + 3
    path = tmp_path / "points.npy"
    np.save(path, X)
    as_given = _json(capsys, "--data", str(path), "--latent", "1")
    assert as_given[0]["sigma2"] == pytest.approx(ppca_mle(X, 1).noise_variance, rel=1e-12)
    scaled = _json(capsys, "--data", str(path), "--latent", "1", "--scale", "standardize")
    assert scaled[0]["total_variance"] == pytest.approx(4.0)
    csv = tmp_path / "points.csv"
    np.savetxt(csv, X, delimiter=",")
    from_csv = _json(capsys, "--data", str(csv), "--latent", "1")
    assert from_csv[0]["loglik_per_point"] == pytest.approx(as_given[0]["loglik_per_point"], rel=1e-9)


def test_table_lists_each_latent_size_and_degenerate_data(capsys):
    assert main(["linear", "--data", "synthetic:d=6,spectrum=3;1,noise=0", "--latent", "1,2,3"]) == 0
    out = capsys.readouterr().out
    assert "sigma2_ML" in out and "loglik/point" in out and "ELBO/point" in out
    lines = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in lines] == ["1", "2", "3"]
    assert lines[1][2] == "inf" and lines[1][-1] == "yes"  # rank 2 <= q = 2: unbounded


def test_synthetic_spec_parses_with_defaults():
    spec = parse_synthetic_spec("synthetic:n=50,spectrum=2;1")
    assert spec["n"] == 50 and spec["spectrum"] == (2.0, 1.0) and spec["d"] == 10 and spec["seed"] == 0
    a, b = load_data("synthetic:n=50,seed=3").data, load_data("synthetic:n=50,seed=3").data
    np.testing.assert_array_equal(a, b)


def test_synthetic_population_spectrum_is_signal_plus_noise():
    sample = synthetic_ppca_data(20000, 5, (4.0, 1.0), 0.25, 0)
    np.testing.assert_allclose(sample.population_eigenvalues, [4.25, 1.25, 0.25, 0.25, 0.25])
    empirical = np.linalg.eigvalsh(np.cov(sample.data.T))[::-1]
    np.testing.assert_allclose(empirical, sample.population_eigenvalues, rtol=0.06)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--latent", "0"], "q must be"),
        (["--latent", "8"], "q must be"),
        (["--latent", "2", "--beta", "0"], "beta must be"),
        (["--latent", "2", "--sigma2", "-1"], "sigma2 must be"),
        (["--latent", "2", "--floor", "0"], "floor must be"),
    ],
)
def test_bad_options_exit_2_naming_the_argument(capsys, argv, message):
    assert main(["linear", "--data", SPEC, *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("synthetic:n=1", "n must be"),
        ("synthetic:bogus=1", "synthetic spec key"),
        ("nowhere.npy", "does not exist"),
    ],
)
def test_bad_data_exit_2(capsys, data, message):
    assert main(["linear", "--data", data, "--latent", "1"]) == 2
    assert message in capsys.readouterr().err


def test_out_writes_the_three_figures_with_sidecars(tmp_path, capsys):
    out = tmp_path / "figs"
    assert (
        main(
            [
                "linear",
                "--data",
                "synthetic:n=100,d=6,spectrum=3;1,noise=0",
                "--latent",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    names = sorted(p.name for p in out.iterdir())
    for stem in ("linear_spectrum", "linear_unboundedness", "linear_variance_split"):
        assert {f"{stem}.pdf", f"{stem}.png", f"{stem}.json"} <= set(names)
    sidecar = json.loads((out / "linear_unboundedness.json").read_text())
    (curve,) = sidecar["data"]["curves"]
    assert curve["degenerate"] and curve["rate"] == -(6 - 2) / 2
    assert "provenance" in sidecar


def _png_width_inches(path) -> float:
    from PIL import Image

    with Image.open(path) as image:
        return image.size[0] / 300.0  # save_figure writes PNGs at 300 dpi


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    from vaetheory.figures.linear import make_figures

    return make_figures(tmp_path_factory.mktemp("linear_catalogue"), quick=True, seed=0)


def test_catalogue_figures_are_exactly_column_wide(catalogue):
    pngs = [p for p in catalogue if p.suffix == ".png"]
    assert len(pngs) == 3
    for png in pngs:
        assert _png_width_inches(png) == pytest.approx(3.3, abs=1.5 / 300), png.name  # nothing sticks out


def test_catalogue_draws_digits_scaled_to_the_unit_interval(catalogue):
    from vaetheory.datasets import load_digits
    from vaetheory.linear import sample_moments

    unit = sample_moments(load_digits(scale="unit"))
    for stem in ("linear_spectrum_digits", "linear_variance_split_digits"):
        sidecar = json.loads(next(p for p in catalogue if p.name == f"{stem}.json").read_text())
        assert sidecar["provenance"]["parameters"]["scale"] == "unit"
        if stem == "linear_spectrum_digits":
            drawn = np.asarray(sidecar["data"]["eigenvalues"])
            np.testing.assert_allclose(drawn, unit.eigenvalues[: drawn.size], rtol=1e-12)
            assert drawn.max() < 1.0  # raw 0..16 pixels would give eigenvalues ~ 1e2
        else:
            assert sidecar["data"]["total_variance"] == pytest.approx(unit.total_variance, rel=1e-12)


def test_unboundedness_sidecar_keeps_the_values_drawn_below_the_axes(catalogue):
    data = json.loads(next(p for p in catalogue if p.name == "linear_unboundedness.json").read_text())["data"]
    lower = data["ylim"][0]
    regular = next(c for c in data["curves"] if not c["degenerate"])
    below = [v for v in regular["log_likelihood_per_point"] if v < lower]
    assert below and min(below) < -1e3  # the non-degenerate curve heads to -inf as sigma^2 -> 0


def test_linear_drawings_keep_policy_colours_for_policies():
    from matplotlib.colors import to_hex

    from vaetheory.plots.linear import draw_spectrum, draw_unboundedness, draw_variance_split
    from vaetheory.plots.style import POLICY_COLORS

    t = np.logspace(-4, 0, 5)
    thresholds = [{"value": v, "label": f"{v}"} for v in (0.5, 1.0, 2.0, 4.0)]
    figs = [
        draw_spectrum([5.0, 3.0, 1.0, 0.2], 3, thresholds, [3]),
        draw_unboundedness(
            [
                {"label": "a", "noise_variances": t, "log_likelihood": -np.log(t)},
                {
                    "label": "b",
                    "noise_variances": t,
                    "log_likelihood": np.log(t),
                    "optimum": 1.0,
                    "optimum_label": "opt",
                },
            ],
            ylim=(-5.0, 10.0),
        ),
        draw_variance_split([1, 2, 3], [1.0, 2.0, 2.5], [2.0, 1.0, 0.5], 3.0),
    ]
    policy = {c.lower() for c in POLICY_COLORS.values()}
    for fig in figs:
        for line in fig.axes[0].get_lines():
            assert to_hex(line.get_color()).lower() not in policy, line.get_label()
