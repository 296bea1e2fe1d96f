"""Figures of the thesis chapter's study: image grids and the collapse plot. Draws only.

The values drawn come from :mod:`vaetheory.studies.thesis_ch5.run` (held-out originals and
reconstructions, decoder means over a grid of z, samples) and from
:mod:`vaetheory.figures.thesis` (the labels in math, the share of clipped pixels, which sample panels
to leave out, the linear prediction) and are passed in; nothing is computed here except laying
images out in a mosaic. Pixel intensities are shown on a fixed [0, 1] grey scale, pixel for pixel
(nearest-neighbour, no smoothing); values outside it are clipped in the display only, and the sample
figure says how many under each panel. White gaps (:data:`SEPARATOR`) split the image tiles.

In the package style (:mod:`vaetheory.plots.style`): no titles inside (what is drawn goes to the
caption; a ``title`` is drawn only when given), every text at least 7 pt, colours by meaning
(:func:`~vaetheory.plots.style.policy_color`), theory as thick translucent lines and a second theory
curve dotted. Every figure is exactly the template's column or page wide as saved: constrained
layout keeps every label inside the figure, and :func:`vaetheory.plots.style.save_figure` saves
the whole figure (:func:`vaetheory.plots.style.pin_to_figure_size`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np

from vaetheory.plots.style import (
    MEASURED_LINE,
    MIN_FONT_PT,
    PREDICTION_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    figure_width,
    fit_legend_height,
    legend_below,
    new_figure,
    pin_to_figure_size,
    policy_color,
    policy_gid,
    style,
)

#: the gaps between image tiles: white (the page), so no grey frame competes with the pixels
SEPARATOR = "#ffffff"
#: kept name: the q = 2 prediction is now drawn dotted in THEORY_COLOR (a second theory curve)
THEORY_COLOR_LIGHT = THEORY_COLOR
#: at most this many grid values labelled per axis (more: the ends and the centre)
MAX_GRID_LABELS = 9
#: the width (inches) one grid-value tick label needs at 7 pt; fewer labels where panels are narrower
GRID_LABEL_WIDTH_IN = 0.26
#: the text size of every label of these figures (the package's smallest, at the printed size)
LABEL_PT = MIN_FONT_PT
#: share of pixels above 1 from which a sample panel is labelled as saturated (white)
SATURATED_SHARE = 0.5


def _styled(draw):
    """Run a drawing function under vaetheory's rcParams (fonts, legend, grid)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with style():
            return draw(*args, **kwargs)

    return wrapper


def _footnote(fig, text: str, fontsize: float = LABEL_PT) -> None:
    """``text`` under the figure, left-aligned with the layout's margin (inside the saved width)."""
    margin = 0.05  # inches: constrained layout's default padding (3 pt) plus a little
    fig.supxlabel(
        text,
        fontsize=max(fontsize, LABEL_PT),
        x=margin / fig.get_size_inches()[0],
        ha="left",
        linespacing=1.3,
    )


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


def _column_header(ax, text: str) -> None:
    """``text`` centred above ``ax`` (a column label; not a title: the caption says what is drawn)."""
    ax.annotate(
        text,
        (0.5, 1.0),
        xycoords="axes fraction",
        xytext=(0, 2),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=LABEL_PT,
    )


@_styled
def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: Mapping[str, np.ndarray],
    image_shape: tuple[int, int],
    *,
    title: str | None = None,
    originals_label: str = "held-out originals",
):
    """Held-out originals (top row) over each configuration's reconstruction \\mu(m(x)) (one row each).

    ``reconstructions`` maps a row label (mathtext welcome) to its images. Page wide. ``title`` is
    drawn only if given (the catalogue puts it in the caption).
    """
    rows = {originals_label: originals, **reconstructions}
    n = len(originals)
    h, w = image_shape
    width = figure_width("page")
    label_in = 1.35  # room for the row labels
    strip_h = (width - label_in) * (h + 1) / (n * (w + 1))
    fig, axes = new_figure(
        "page",
        aspect=(len(rows) * strip_h * 1.06 + 0.12) / width,
        nrows=len(rows),
        ncols=1,
        layout="constrained",
    )
    for ax, (label, images) in zip(np.atleast_1d(axes), rows.items()):
        _show(ax, mosaic(images, image_shape, n))
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=LABEL_PT)
    if title:
        fig.suptitle(title, fontsize=8.5)
    fig.get_layout_engine().set(h_pad=0.035, hspace=0.0)
    pin_to_figure_size(fig)
    return fig


@_styled
def plot_latent_grids(
    grids: Mapping[str, np.ndarray],
    grid_z: np.ndarray,
    image_shape: tuple[int, int],
    *,
    title: str | None = None,
    per_row: int = 5,
):
    """For q = 2: the decoder mean \\mu(z) over a grid of z (one panel per configuration).

    ``grids[label]`` holds the grid's images row by row: z_2 from high (top) to low, z_1 from low
    (left) to high; ``grid_z`` the coordinates along each axis, every one of which is ticked at the
    centre of its cell and labelled where the panel is wide enough (at most :data:`MAX_GRID_LABELS`;
    else the ends and an odd grid's centre). Each panel's label stands above it. Page wide, up to
    ``per_row`` panels a row (the last row is not padded with empty panels).
    """
    names = list(grids)
    grid_z = np.asarray(grid_z, dtype=np.float64)
    n = len(grid_z)
    h, w = image_shape
    ncols = max(min(len(names), per_row), 1)
    nrows = -(-len(names) // ncols)
    fig, axes = new_figure(
        "page", aspect=nrows / ncols * 1.18, nrows=nrows, ncols=ncols, squeeze=False, layout="constrained"
    )
    for ax in axes.ravel()[len(names) :]:
        fig.delaxes(ax)  # no empty panel: the last row simply has fewer
    centres_x = np.arange(n) * (w + 1) + (w - 1) / 2
    centres_y = np.arange(n) * (h + 1) + (h - 1) / 2
    panel_in = fig.get_size_inches()[0] / ncols - 0.25  # a panel's width less its y tick labels
    room = max(int(panel_in / GRID_LABEL_WIDTH_IN), 2)
    fits_all = n <= min(MAX_GRID_LABELS, room)
    labelled = np.arange(n) if fits_all else np.unique([0, n - 1] + ([n // 2] if n % 2 else []))
    for k, (ax, name) in enumerate(zip(axes.ravel(), names)):
        _show(ax, mosaic(grids[name], image_shape, n))
        _column_header(ax, name)
        ax.set_xticks(centres_x, minor=True)
        ax.set_yticks(centres_y, minor=True)
        ax.set_xticks(centres_x[labelled], [_grid_label(v) for v in grid_z[labelled]], fontsize=LABEL_PT)
        ax.set_xlabel("$z_1$", labelpad=1)
        ax.set_yticks(
            centres_y[labelled], [_grid_label(v) for v in grid_z[::-1][labelled]], fontsize=LABEL_PT
        )
        if k % ncols == 0:  # the same z_2 in every panel of a row: labelled once, on the left
            ax.set_ylabel("$z_2$", labelpad=1)
        else:
            ax.tick_params(axis="y", labelleft=False)
        ax.tick_params(which="both", length=2, pad=1)
    if title:
        fig.suptitle(title, fontsize=8.5)
    pin_to_figure_size(fig)
    return fig


def _clip_text(below: float, above: float) -> str:
    return f"clipped: {below:.0%} < 0, {above:.0%} > 1"


def _mode_text(label: str) -> str:
    """A mode label on one line (the sample figure writes it under each panel)."""
    return " ".join(label.split("\n"))


@_styled
def plot_samples(
    samples: Mapping[str, Mapping[str, np.ndarray]],
    mode_labels: Mapping[str, str],
    image_shape: tuple[int, int],
    *,
    title: str | None = None,
    per_side: int = 5,
    clipped: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    note: str | None = None,
    per_row: int | None = None,
    panel_labels: Mapping[str, Mapping[str, str]] | None = None,
):
    """Samples with z ~ N(0, I): each configuration's panels side by side, one per sampling mode.

    ``samples[label][mode]``: the images of one panel, drawn in the order of ``mode_labels``; a mode
    a configuration does not have (left out by the caller: saturated, or identical to another of its
    panels) is simply not drawn -- there are no empty cells, and the caller's caption says what was
    left out. Panels run ``per_row`` to a row, in reading order; the configuration's label stands
    above its first panel (and again where its panels continue on the next row), each panel's mode
    under it, with ``clipped[label][mode]`` (the shares of the drawn pixels below 0 and above 1,
    clipped to black and white by the display) beneath. A panel whose share above 1 is at least
    :data:`SATURATED_SHARE` says so on the panel. ``panel_labels[label][mode]`` replaces the mode's
    label under one panel (e.g. ``$x = \\mu(z)$`` where two modes coincide). ``note``: a footnote
    (the catalogue puts it in the caption instead). Page wide; ``per_row`` defaults to 5 on a page
    of 6.5 in or more, else 4 (a panel stays wide enough for its labels at 7 pt).
    """
    panels = [(name, mode) for name in samples for mode in mode_labels if mode in samples[name]]
    width = figure_width("page")
    if per_row is None:
        per_row = 5 if width >= 6.5 else 4
    ncols = max(min(per_row, len(panels)), 1)
    nrows = -(-len(panels) // ncols)
    panel_in = (width - 0.1) / ncols
    text_in = (3 if clipped is not None else 2) * LABEL_PT * 1.3 / 72  # header, mode, clip lines
    fig, axes = new_figure(
        "page",
        aspect=(nrows * (panel_in + text_in) + (0.3 if note else 0.0)) / width,
        nrows=nrows,
        ncols=ncols,
        squeeze=False,
        layout="constrained",
    )
    flat = axes.ravel()
    for ax in flat[len(panels) :]:
        fig.delaxes(ax)
    previous = None
    for k, (ax, (name, mode)) in enumerate(zip(flat, panels)):
        _show(ax, mosaic(samples[name][mode][: per_side**2], image_shape, per_side))
        if name != previous or k % ncols == 0:
            ax.annotate(
                name,
                (0.0, 1.0),
                xycoords="axes fraction",
                xytext=(0, 2),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=LABEL_PT,
            )
        previous = name
        text = _mode_text((panel_labels or {}).get(name, {}).get(mode, mode_labels[mode]))
        if clipped is not None:
            below, above = clipped[name][mode]
            text += "\n" + _clip_text(below, above)
            if above >= SATURATED_SHARE:
                ax.text(
                    0.5,
                    0.5,
                    f"saturated:\n{above:.0%} of pixels > 1,\nshown white",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    fontsize=LABEL_PT,
                    color="black",
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#767676"},
                )
        ax.set_xlabel(text, fontsize=LABEL_PT, labelpad=1.5, linespacing=1.15)
    if title:
        fig.suptitle(title, fontsize=8.5)
    if note:
        _footnote(fig, note)
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.03, hspace=0.02)
    pin_to_figure_size(fig)
    return fig


@_styled
def plot_collapse(
    thresholds: np.ndarray,
    predicted: Mapping[int, np.ndarray],
    measured: Sequence[tuple[str, str, int, float, int]],
    *,
    data_label: str | None = None,
    note: str | None = None,
    title: str | None = None,
):
    """Active units against the collapse threshold: the linear theory as step lines, runs as markers.

    ``predicted[q]``: min(q, #{j : l_j > t}) over ``thresholds`` t, the largest q as a thick
    translucent line, the others dotted (a second theory curve); ``measured``: tuples
    (name, policy, q, t, active units), t = \\beta \\sigma^2 for a fixed decoder variance (where a
    ``learned`` run is placed is chosen by the caller and said in its caption). Each run is drawn in
    its policy's colour (:func:`~vaetheory.plots.style.policy_color`). Markers: small filled circles
    for the largest q, larger open squares on top for smaller q, so runs at the same point stay
    visible (a dot in a square). ``data_label`` is kept for older callers (the caption names the
    data); ``note`` (a footnote) and ``title`` are drawn only if given. Column wide.
    """
    fig, ax = new_figure("column", aspect=1.0, layout="constrained")
    qs = sorted(predicted)
    for q in qs:
        line_style = THEORY_LINE if q == qs[-1] else PREDICTION_LINE
        ax.step(
            thresholds,
            predicted[q],
            where="post",
            color=THEORY_COLOR,
            label=f"linear theory, $q = {q}$",
            **line_style,
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
            gid=policy_gid(policy),
            label=None if key in seen else f"{policy_words.get(policy, policy)}, $q = {q}$",
            **marker_style,
        )
        seen.add(key)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xscale("log")
    ax.set_xlabel(r"collapse threshold $\beta\sigma^2$ (a variance)")
    ax.set_ylabel("active units ($A_u > 0.01$)")
    if title:
        ax.set_title(title, fontsize=8)
    legend = legend_below(fig, ncol=2, handlelength=2.2)
    fit_legend_height(fig, legend)
    if note:
        _footnote(fig, note)
    pin_to_figure_size(fig)
    return fig
