"""The thesis figures' drawing contracts, on small synthetic images (no training).

Saved width exactly one column (3.3 in) or one page (6.9 in) with nothing outside the figure; the
latent grid labels the symmetric grid values it uses (0 at the centre); the sample figure states how
many pixels its fixed [0, 1] grey scale clips and marks saturated panels, and a mode left out leaves no
empty cell; tiles are split by white gaps; the collapse plot draws the linear prediction as theory lines
(thick, the second dotted) and the runs as markers in their policy's colour. The same contracts on
the figures of a real (small) run: tests/studies/thesis_ch5/test_thesis_reproduction.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vaetheory.figures.thesis import clipped_shares
from vaetheory.plots import thesis as plots
from vaetheory.plots.style import COLUMN_WIDTH, PAGE_WIDTH, RC_PARAMS, save_figure
from vaetheory.provenance import provenance
from vaetheory.studies.thesis_ch5 import LATENT_GRID_SIZE, latent_grid, predicted_active_curve

SHAPE = (8, 8)
NAMES = ("learned-sigma-z2", "fixed-sigma1-z2", "fixed-sigma0.0001-z2", "beta0.01-sigma1-z2", "beta4-z2")
MODES = {"ancestral": "ancestral", "mean": "$\\mu(z)$", "mean_plus_std": "$\\mu(z) + 1\\,\\sigma(z)$"}


def _images(n: int, seed: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, 64)) + shift


def _saved_size_in_inches(fig, tmp_path, stem: str) -> tuple[float, float, float, float]:
    """(saved width, saved height, figure width, figure height) in inches."""
    fw, fh = fig.get_size_inches()
    paths = save_figure(fig, tmp_path / stem, provenance(seed=0, parameters={}))
    png = next(p for p in paths if p.suffix == ".png")
    w, h = Image.open(png).size
    dpi = RC_PARAMS["savefig.dpi"]
    return w / dpi, h / dpi, fw, fh


def assert_exact_print_size(fig, tmp_path, stem: str, width: float) -> None:
    w, h, fw, fh = _saved_size_in_inches(fig, tmp_path, stem)
    assert fw == pytest.approx(width)
    # the saved file is the whole figure: nothing was cropped off or reached outside it
    assert w == pytest.approx(width, abs=0.5 / RC_PARAMS["savefig.dpi"]), (stem, w)
    assert h == pytest.approx(fh, abs=1.0 / RC_PARAMS["savefig.dpi"]), (stem, h, fh)


def _figures():
    grids = {n: _images(LATENT_GRID_SIZE**2, i) for i, n in enumerate(NAMES)}
    samples = {
        n: {m: _images(25, 10 * i + j, shift=float(n == NAMES[1])) for j, m in enumerate(MODES)}
        for i, n in enumerate(NAMES)
    }
    clipped = {n: {m: clipped_shares(v) for m, v in s.items()} for n, s in samples.items()}
    spectrum = np.geomspace(0.7, 1e-3, 64)
    thresholds = np.geomspace(1e-9, 40.0, 50)
    predicted = {q: predicted_active_curve(spectrum, q, thresholds) for q in (2, 20)}
    measured = [("fixed-sigma1-z2", "fixed", 2, 1.0, 0), ("learned-sigma-z20", "learned", 20, 0.03, 20)]
    return {
        "reconstructions": (
            lambda: plots.plot_reconstructions(
                _images(12, 1), {n: _images(12, 2) for n in NAMES}, SHAPE, title="r"
            ),
            PAGE_WIDTH,
        ),
        "latent_grid": (
            lambda: plots.plot_latent_grids(grids, latent_grid(), SHAPE, title="grid"),
            PAGE_WIDTH,
        ),
        "samples": (
            lambda: plots.plot_samples(samples, MODES, SHAPE, title="s", clipped=clipped, note="a\nfootnote"),
            PAGE_WIDTH,
        ),
        "collapse": (
            lambda: plots.plot_collapse(thresholds, predicted, measured, data_label="digits", note="a\nnote"),
            COLUMN_WIDTH,
        ),
    }


@pytest.mark.parametrize("name", ["reconstructions", "latent_grid", "samples", "collapse"])
def test_thesis_figure_is_exactly_column_or_page_wide_with_nothing_outside(name, tmp_path):
    draw, width = _figures()[name]
    assert_exact_print_size(draw(), tmp_path, name, width)


def test_latent_grid_is_symmetric_with_zero_at_its_centre():
    z = latent_grid()
    assert len(z) % 2 == 1
    assert z[len(z) // 2] == 0.0
    np.testing.assert_array_equal(z, -z[::-1])
    from scipy.stats import norm

    np.testing.assert_allclose(norm.cdf(z), np.linspace(0.05, 0.95, len(z)), atol=1e-12)


def test_latent_grid_ticks_label_the_grid_values_used(tmp_path):
    import matplotlib.pyplot as plt

    z = latent_grid()
    fig = plots.plot_latent_grids({n: _images(len(z) ** 2, 0) for n in NAMES[:2]}, z, SHAPE, title="grid")
    ax = fig.axes[0]
    fig.canvas.draw()
    x_labels = [t.get_text() for t in ax.get_xticklabels()]
    y_labels = [t.get_text() for t in ax.get_yticklabels()]
    expected = ["\u22121.64", "\u22120.84", "\u22120.39", "0", "0.39", "0.84", "1.64"]
    assert x_labels == expected
    assert y_labels == expected[::-1]  # z_2 from high (top row) to low
    # each label sits at the centre of its column / row of cells (8 pixels + 1 separator)
    np.testing.assert_allclose(ax.get_xticks(), np.arange(len(z)) * 9 + 3.5)
    np.testing.assert_allclose(ax.get_yticks(), np.arange(len(z)) * 9 + 3.5)
    # images are drawn pixel for pixel: nearest neighbour, no resampling filter
    image = ax.get_images()[0]
    assert image.get_interpolation() == "nearest"
    assert not image.get_resample()
    plt.close(fig)


def test_long_latent_grid_labels_only_its_ends_and_never_a_false_centre():
    import matplotlib.pyplot as plt

    z = latent_grid(12)
    fig = plots.plot_latent_grids({"a": _images(144, 0)}, z, SHAPE, title="grid")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["\u22121.64", "1.64"]
    ticked = np.union1d(fig.axes[0].get_xticks(), fig.axes[0].get_xticks(minor=True))
    np.testing.assert_allclose(ticked, np.arange(12) * 9 + 3.5)  # every cell still ticked
    plt.close(fig)


def test_clipped_shares_count_pixels_outside_the_unit_interval():
    below, above = clipped_shares(np.array([[-0.5, 0.0, 0.5, 1.0], [1.0001, 2.0, 0.2, -1e-9]]))
    assert (below, above) == (2 / 8, 2 / 8)


def test_samples_figure_states_clipping_and_marks_saturated_panels():
    import matplotlib.pyplot as plt

    samples = {
        "sigma1": {m: _images(25, 0, shift=1.0) for m in MODES},  # every pixel above 1
        "in-range": {m: _images(25, 1) for m in MODES},
    }
    clipped = {n: {m: clipped_shares(v) for m, v in s.items()} for n, s in samples.items()}
    assert clipped["sigma1"]["mean"] == (0.0, 1.0) and clipped["in-range"]["mean"] == (0.0, 0.0)
    fig = plots.plot_samples(samples, MODES, SHAPE, title="s", clipped=clipped, note="footnote")
    # panels in reading order: each configuration's modes side by side, the mode and the clipped
    # shares under each panel, the configuration's label above its first panel
    axes = np.array(fig.axes).reshape(2, len(MODES))
    for ax, label in zip(axes[0], MODES.values()):
        assert ax.get_xlabel() == f"{label}\nclipped: 0% < 0, 100% > 1"
        assert any("saturated" in t.get_text() and "100% of pixels > 1" in t.get_text() for t in ax.texts)
    for ax, label in zip(axes[1], MODES.values()):
        assert ax.get_xlabel() == f"{label}\nclipped: 0% < 0, 0% > 1"
        assert not [t for t in ax.texts if "saturated" in t.get_text()]
    assert [t.get_text() for t in axes[0, 0].texts if "saturated" not in t.get_text()] == ["sigma1"]
    assert [t.get_text() for t in axes[1, 0].texts] == ["in-range"]
    assert fig.get_supxlabel() == "footnote"
    plt.close(fig)


def test_a_mode_left_out_leaves_no_empty_cell():
    import matplotlib.pyplot as plt

    samples = {"a": {m: _images(25, 0) for m in MODES}, "b": {"mean": _images(25, 1)}}
    fig = plots.plot_samples(samples, MODES, SHAPE, per_row=5)
    assert len(fig.axes) == 4 and all(ax.images for ax in fig.axes)
    plt.close(fig)


def test_collapse_draws_theory_as_solid_lines_and_runs_as_markers():
    import matplotlib.pyplot as plt

    from vaetheory.plots.style import PREDICTION_LINE, THEORY_LINE

    thresholds = np.geomspace(1e-3, 10.0, 30)
    predicted = {q: predicted_active_curve(np.geomspace(0.7, 1e-3, 64), q, thresholds) for q in (2, 20)}
    measured = [
        ("fixed-sigma1-z2", "fixed", 2, 1.0, 0),
        ("fixed-sigma1-z20", "fixed", 20, 1.0, 0),
        ("learned-sigma-z2", "learned", 2, 0.08, 2),
        ("learned-sigma-z20", "learned", 20, 0.03, 20),
    ]
    fig = plots.plot_collapse(thresholds, predicted, measured, data_label="digits", note="why")
    ax = fig.axes[0]
    theory = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    runs = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 1]
    assert len(theory) == 2 and len(runs) == len(measured)
    # the largest q's prediction thick and translucent (THEORY_LINE), the other dotted (a second theory curve)
    largest, other = sorted(theory, key=lambda ln: -max(ln.get_ydata()))
    assert largest.get_linestyle() == THEORY_LINE["linestyle"] == "-"
    assert largest.get_linewidth() == THEORY_LINE["linewidth"]
    assert other.get_linestyle() == PREDICTION_LINE["linestyle"] == ":"
    for line in runs:
        assert line.get_linestyle() == "None" and line.get_marker() in {"o", "s"}
        assert line.get_gid() in {"policy:fixed", "policy:learned"}
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sum("learned" in t for t in legend) == 2 and sum("fixed" in t for t in legend) == 2
    assert fig.get_supxlabel() == "why"
    plt.close(fig)


def test_separators_between_tiles_are_white():
    from matplotlib.colors import to_rgba

    fig = plots.plot_reconstructions(_images(3, 1), {"r": _images(3, 2)}, SHAPE)
    cmap = fig.axes[0].get_images()[0].get_cmap()
    assert cmap.get_bad() == pytest.approx(to_rgba("white"))  # the NaN gaps of the mosaic
