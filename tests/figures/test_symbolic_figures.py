"""The symbolic figures: written with sidecars whose data are the symbolic results."""

from __future__ import annotations

import json
import math

import pytest

from vaetheory.densities import variance_floor_bound


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    from vaetheory.figures.symbolic import make_figures

    out = tmp_path_factory.mktemp("symbolic_figures")
    return make_figures(out, quick=True, seed=0)


def test_each_figure_has_pdf_png_and_sidecar(written):
    stems = {p.stem for p in written}
    assert stems == {"symbolic_sigma_star", "symbolic_unboundedness"}
    for p in written:
        assert p.stat().st_size > 0
    assert sorted(p.suffix for p in written) == [".json", ".json", ".pdf", ".pdf", ".png", ".png"]


def test_sigma_star_sidecar_holds_the_drawn_values(written):
    sidecar = json.loads(next(p for p in written if p.name == "symbolic_sigma_star.json").read_text())
    data = sidecar["data"]
    assert sidecar["provenance"]["seed"] is None  # no random numbers drawn
    for lam, s_true, s_claimed in zip(
        data["lambda"], data["sigma_star_values"], data["sigma_star_claimed_values"]
    ):
        assert s_true == pytest.approx((2 * lam + 1) ** -0.5, rel=1e-12)
        if lam > 0.5:
            assert s_claimed == pytest.approx((2 * lam - 1) ** -0.5, rel=1e-12)
        else:
            assert s_claimed == "nan"  # undefined where lambda' <= 0
    for curve in data["curves"]:
        assert curve["elbo_star"] >= max(curve["elbo"]) - 1e-12  # the marked point is the maximum
    assert data["elbo_limit"] == pytest.approx(-0.5 * math.log(2 * math.pi))


def test_unboundedness_sidecar_has_the_floor_bounds_and_the_path(written):
    data = json.loads(next(p for p in written if p.name == "symbolic_unboundedness.json").read_text())["data"]
    for floor in data["floors"]:
        assert floor["bound"] == pytest.approx(variance_floor_bound(1, floor["xi"]), rel=1e-13)
    for v, elbo in zip(data["variances"], data["path_elbo"]):
        assert elbo == pytest.approx(-0.5 * math.log(2 * math.pi * v), rel=1e-13, abs=1e-13)
    assert data["rate_per_unit_log_v"] == -0.5
    assert data["npoint_supremum_per_point"]["value"] == pytest.approx(-0.5 * (math.log(2 * math.pi) + 1))


def test_figures_are_exactly_column_or_page_wide(written):
    from PIL import Image

    widths = {}
    for png in (p for p in written if p.suffix == ".png"):
        with Image.open(png) as image:
            widths[png.stem] = image.size[0] / 300.0  # save_figure writes PNGs at 300 dpi
    assert widths["symbolic_sigma_star"] == pytest.approx(6.9, abs=1.5 / 300)  # nothing sticks out
    assert widths["symbolic_unboundedness"] == pytest.approx(3.3, abs=1.5 / 300)


def test_lambda_curves_do_not_reuse_policy_colours():
    import numpy as np
    from matplotlib.colors import to_hex

    from vaetheory.plots.style import POLICY_COLORS
    from vaetheory.plots.symbolic import draw_sigma_star

    s = np.logspace(-1, 0, 5)
    curves = [
        {"lam": lam, "s": s, "elbo": -s, "s_star": 0.5, "elbo_star": -0.5} for lam in (0.25, 1, 2, 8, 64, 128)
    ]
    fig = draw_sigma_star([0.1, 1.0, 10.0], [0.9, 0.6, 0.2], [float("nan"), 1.0, 0.22], curves, -0.9)
    policy = {c.lower() for c in POLICY_COLORS.values()}
    for ax in fig.axes:
        for line in ax.get_lines():
            assert to_hex(line.get_color()).lower() not in policy, line.get_label()
