"""Figures of the thesis chapter's study: image grids and the collapse plot. Draws only.

The values drawn come from :mod:`vaetheory.studies.thesis_ch5.run` (held-out originals and
reconstructions, decoder means over a grid of z, samples) and from
:mod:`vaetheory.figures.thesis` (the share of clipped pixels, the linear prediction) and are passed
in; nothing is computed here except laying images out in a mosaic. Pixel intensities are shown on a
fixed [0, 1] grey scale, pixel for pixel (nearest-neighbour, no smoothing); values outside it (e.g.
samples with a decoder std of 1) are clipped in the display only, and the sample figure says how
many. Light separators split the images.

Every figure is exactly one column (3.3 in) or one page (6.9 in) wide as saved: constrained layout
keeps every label inside the figure, and :func:`vaetheory.plots.style.save_figure` saves the whole
figure (:func:`vaetheory.plots.style.pin_to_figure_size`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np

from vaetheory.plots.style import (
    MEASURED_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    new_figure,
    policy_color,
    style,
)

SEPARATOR = "#d9d9d9"
#: a second, lighter theory colour (the q = 2 prediction beside the q = 20 one)
THEORY_COLOR_LIGHT = "#9a9a9a"
#: at most this many grid values labelled per axis (more: the ends and the centre)
MAX_GRID_LABELS = 9
#: share of pixels above 1 from which a sample panel is labelled as saturated (white)
SATURATED_SHARE = 0.5


def _styled(draw):
    """Run a drawing function under vaetheory's rcParams (fonts, legend, grid)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with style():
            return draw(*args, **kwargs)

    return wrapper


def _footnote(fig, text: str, fontsize: float) -> None:
    """``text`` under the figure, left-aligned with the layout's margin (inside the saved width)."""
    margin = 0.05  # inches: constrained layout's default padding (3 pt) plus a little
    fig.supxlabel(text, fontsize=fontsize, x=margin / fig.get_size_inches()[0], ha="left", linespacing=1.3)


def mosaic(images: np.ndarray, image_shape: tuple[int, int], ncols: int) -> np.ndarray:
    """Images (rows of pixels) laid out ``ncols`` per row, separated by one NaN pixel."""
    images = np.asarray(images, dtype=np.float64)
    h, w = image_shape
    n = len(images)
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = img.reshape(h, w)
    return out


def _show(ax, tiles: np.ndarray) -> None:
    """Pixels on the fixed [0, 1] grey scale, one block per pixel (nearest neighbour, no smoothing)."""
    import matplotlib

    cmap = matplotlib.colormaps["gray"].with_extremes(bad=SEPARATOR)
    ax.imshow(tiles, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest", resample=False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _grid_label(v: float) -> str:
    return "0" if v == 0 else f"{v:.2f}".replace("-", "\u2212")


@_styled
def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: Mapping[str, np.ndarray],
    image_shape: tuple[int, int],
    *,
    title: str,
):
    """Held-out originals (top row) over each configuration's reconstruction \\mu(m(x)) (one row each).

    Page wide (6.9 in).
    """
    rows = {"held-out originals": originals, **reconstructions}
    n = len(originals)
    h, w = image_shape
    label_in = 1.25  # room for the row labels
    strip_h = (6.9 - label_in) * (h + 1) / (n * (w + 1))
    fig, axes = new_figure(
        "page",
        aspect=(len(rows) * strip_h * 1.06 + 0.3) / 6.9,
        nrows=len(rows),
        ncols=1,
        layout="constrained",
    )
    for ax, (label, images) in zip(np.atleast_1d(axes), rows.items()):
        _show(ax, mosaic(images, image_shape, n))
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle(title, fontsize=8.5)
    fig.get_layout_engine().set(h_pad=0.035, hspace=0.0)
    return fig


@_styled
def plot_latent_grids(
    grids: Mapping[str, np.ndarray],
    grid_z: np.ndarray,
    image_shape: tuple[int, int],
    *,
    title: str,
):
    """For q = 2: the decoder mean \\mu(z) over a grid of z (one panel per configuration).

    ``grids[name]`` holds the grid's images row by row: z_2 from high (top) to low, z_1 from low
    (left) to high; ``grid_z`` the coordinates along each axis, every one of which is labelled at
    the centre of its cell. Page wide (6.9 in), three panels a row.
    """
    names = list(grids)
    grid_z = np.asarray(grid_z, dtype=np.float64)
    n = len(grid_z)
    h, w = image_shape
    ncols = min(len(names), 3)
    nrows = -(-len(names) // ncols)
    fig, axes = new_figure(
        "page", aspect=nrows / ncols * 1.1, nrows=nrows, ncols=ncols, squeeze=False, layout="constrained"
    )
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    centres_x = np.arange(n) * (w + 1) + (w - 1) / 2
    centres_y = np.arange(n) * (h + 1) + (h - 1) / 2
    # every cell is ticked; all are labelled up to MAX_GRID_LABELS, else the ends (and an odd grid's centre)
    labelled = np.arange(n) if n <= MAX_GRID_LABELS else np.unique([0, n - 1] + ([n // 2] if n % 2 else []))
    for k, (ax, name) in enumerate(zip(axes.ravel(), names)):
        _show(ax, mosaic(grids[name], image_shape, n))
        ax.set_title(name, fontsize=7.5)
        ax.set_xticks(centres_x, minor=True)
        ax.set_yticks(centres_y, minor=True)
        ax.set_xticks(centres_x[labelled], [_grid_label(v) for v in grid_z[labelled]], fontsize=6)
        ax.set_xlabel("$z_1$", labelpad=1)
        ax.set_yticks(centres_y[labelled], [_grid_label(v) for v in grid_z[::-1][labelled]], fontsize=6)
        if k % ncols == 0:  # the same z_2 in every panel of a row: labelled once, on the left
            ax.set_ylabel("$z_2$", labelpad=1)
        else:
            ax.tick_params(axis="y", labelleft=False)
        ax.tick_params(which="both", length=2, pad=1)
    fig.suptitle(title, fontsize=8.5)
    return fig


@_styled
def plot_samples(
    samples: Mapping[str, Mapping[str, np.ndarray]],
    mode_labels: Mapping[str, str],
    image_shape: tuple[int, int],
    *,
    title: str,
    per_side: int = 5,
    clipped: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    note: str | None = None,
):
    """Samples with z ~ N(0, I): one row per sampling mode, one column per configuration.

    ``clipped[name][mode]``: the shares of the drawn pixels below 0 and above 1 (clipped to black
    and white by the display), written under each panel; a panel whose share above 1 is at least
    :data:`SATURATED_SHARE` says so on the panel. ``note``: a footnote under the figure. Page wide.
    """
    names = list(samples)
    modes = list(mode_labels)
    fig, axes = new_figure(
        "page",
        aspect=len(modes) / len(names) * 1.2 + (0.06 if note else 0.0),
        nrows=len(modes),
        ncols=len(names),
        squeeze=False,
        layout="constrained",
    )
    for j, name in enumerate(names):
        for i, mode in enumerate(modes):
            ax = axes[i, j]
            _show(ax, mosaic(samples[name][mode][: per_side**2], image_shape, per_side))
            if i == 0:
                ax.set_title(name, fontsize=6.5)
            if j == 0:
                ax.set_ylabel(mode_labels[mode], fontsize=7)
            if clipped is not None:
                below, above = clipped[name][mode]
                ax.set_xlabel(f"clipped: {below:.0%} < 0, {above:.0%} > 1", fontsize=6, labelpad=1.5)
                if above >= SATURATED_SHARE:
                    ax.text(
                        0.5,
                        0.5,
                        f"saturated:\n{above:.0%} of pixels > 1,\nshown white",
                        transform=ax.transAxes,
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="black",
                        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": SEPARATOR},
                    )
    fig.suptitle(title, fontsize=8.5)
    if note:
        _footnote(fig, note, 6.5)
    fig.get_layout_engine().set(w_pad=0.035, h_pad=0.035, wspace=0.02, hspace=0.02)
    return fig


@_styled
def plot_collapse(
    thresholds: np.ndarray,
    predicted: Mapping[int, np.ndarray],
    measured: Sequence[tuple[str, str, int, float, int]],
    *,
    data_label: str,
    note: str | None = None,
):
    """Active units against the collapse threshold: linear theory as solid step lines, runs as markers.

    ``predicted[q]``: min(q, #{j : l_j > t}) over ``thresholds`` t; ``measured``: tuples
    (name, policy, q, t, active units), t = \\beta \\sigma^2 for a fixed decoder variance (the
    position of a ``learned`` run is chosen by the caller and explained in ``note``, a footnote).
    Column wide (3.3 in). Markers: small filled circles for the largest q, larger open squares on
    top for smaller q, so runs at the same point stay visible (a dot in a square).
    """
    fig, ax = new_figure("column", aspect=1.25 if note else 1.1, layout="constrained")
    qs = sorted(predicted)
    colors = {q: (THEORY_COLOR if q == qs[-1] else THEORY_COLOR_LIGHT) for q in qs}
    for q in qs:
        ax.step(
            thresholds,
            predicted[q],
            where="post",
            color=colors[q],
            label=f"linear VAE, q = {q}: min(q, #{{$l_j > \\beta\\sigma^2$}})",
            **THEORY_LINE,
        )
    policy_words = {"fixed": "fixed $\\sigma$", "learned": "learned $\\sigma(x)$"}
    seen = set()
    for _name, policy, q, t, active in sorted(measured, key=lambda m: -m[2]):
        key = (policy, q)
        big = q == max(qs, default=q)
        color = policy_color(policy)
        marker_style = {
            **MEASURED_LINE,
            "linestyle": "none",
            "marker": "o" if big else "s",
            "markersize": 4.5 if big else 7,
            "markerfacecolor": color if big else "none",
            "markeredgewidth": 1.1,
            "zorder": 3 if big else 4,
        }
        ax.plot(
            [t],
            [active],
            color=color,
            label=None if key in seen else f"measured, {policy_words.get(policy, policy)}, q = {q}",
            **marker_style,
        )
        seen.add(key)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xscale("log")
    ax.set_xlabel(r"collapse threshold $\beta\sigma^2$ (variance, log scale)")
    ax.set_ylabel("active units ($A_u > 0.01$)")
    ax.set_title(f"Posterior collapse on {data_label}", fontsize=8)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, handlelength=2.2)
    if note:
        _footnote(fig, note, 6)
    return fig
