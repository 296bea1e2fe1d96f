"""Figures of the thesis chapter's study: image grids and the collapse plot. Draws only.

The values drawn come from :mod:`vaetheory.empirical.thesis_run` (held-out originals and
reconstructions, decoder means over a grid of z, samples) and are passed in; nothing is computed
here except laying images out in a mosaic. Pixel intensities are shown on a fixed [0, 1] grey scale
(values outside it, e.g. ancestral samples with a large decoder variance, are clipped in the display
only); light separators split the images.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    PAGE_WIDTH,
    THEORY_COLOR,
    THEORY_LINE,
    new_figure,
    policy_color,
    style,
)

SEPARATOR = "#d9d9d9"


def _styled(draw):
    """Run a drawing function under vaetheory's rcParams (fonts, legend, grid)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with style():
            return draw(*args, **kwargs)

    return wrapper


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
    import matplotlib

    cmap = matplotlib.colormaps["gray"].with_extremes(bad=SEPARATOR)
    ax.imshow(tiles, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


@_styled
def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: Mapping[str, np.ndarray],
    image_shape: tuple[int, int],
    *,
    title: str,
):
    """Held-out originals (top row) over each configuration's reconstruction \\mu(m(x)) (one row each)."""
    rows = {"held-out originals": originals, **reconstructions}
    n = len(originals)
    h, w = image_shape
    strip_aspect = (h + 1) / (n * (w + 1))
    fig, axes = new_figure(PAGE_WIDTH * 0.8, aspect=len(rows) * strip_aspect * 1.08, nrows=len(rows), ncols=1)
    for ax, (label, images) in zip(np.atleast_1d(axes), rows.items()):
        _show(ax, mosaic(images, image_shape, n))
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle(title, fontsize=8.5)
    fig.subplots_adjust(hspace=0.08)
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
    (left) to high; ``grid_z`` the coordinates along each axis.
    """
    names = list(grids)
    n = len(grid_z)
    h, w = image_shape
    ncols = min(len(names), 3)
    nrows = -(-len(names) // ncols)
    fig, axes = new_figure("page", aspect=nrows / ncols * 1.12, nrows=nrows, ncols=ncols, squeeze=False)
    ticks = [0, n // 2, n - 1]
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.ravel(), names):
        _show(ax, mosaic(grids[name], image_shape, n))
        ax.set_title(name, fontsize=7.5)
        ax.set_xticks([t * (w + 1) + w / 2 - 0.5 for t in ticks])
        ax.set_xticklabels([f"{grid_z[t]:.2g}" for t in ticks])
        ax.set_yticks([t * (h + 1) + h / 2 - 0.5 for t in ticks])
        ax.set_yticklabels([f"{grid_z[::-1][t]:.2g}" for t in ticks])
        ax.set_xlabel("$z_1$", labelpad=1)
        ax.set_ylabel("$z_2$", labelpad=1)
    fig.suptitle(title, fontsize=8.5)
    fig.subplots_adjust(wspace=0.4, hspace=0.35)
    return fig


@_styled
def plot_samples(
    samples: Mapping[str, Mapping[str, np.ndarray]],
    mode_labels: Mapping[str, str],
    image_shape: tuple[int, int],
    *,
    title: str,
    per_side: int = 6,
):
    """Samples with z ~ N(0, I): one row per sampling mode, one column per configuration."""
    names = list(samples)
    modes = list(mode_labels)
    fig, axes = new_figure(
        "page", aspect=len(modes) / len(names) * 1.1, nrows=len(modes), ncols=len(names), squeeze=False
    )
    for j, name in enumerate(names):
        for i, mode in enumerate(modes):
            ax = axes[i, j]
            _show(ax, mosaic(samples[name][mode][: per_side**2], image_shape, per_side))
            if i == 0:
                ax.set_title(name, fontsize=6.5)
            if j == 0:
                ax.set_ylabel(mode_labels[mode], fontsize=7)
    fig.suptitle(title, fontsize=8.5)
    fig.subplots_adjust(wspace=0.06, hspace=0.06)
    return fig


@_styled
def plot_collapse(
    thresholds: np.ndarray,
    predicted: Mapping[int, np.ndarray],
    measured: Sequence[tuple[str, str, int, float, int]],
    *,
    data_label: str,
):
    """Active units against the collapse threshold: linear theory as a step line, runs as markers.

    ``predicted[q]``: min(q, #{j : l_j > t}) over ``thresholds`` t; ``measured``: tuples
    (name, policy, q, t, active units) of the fixed-variance configurations.
    """
    fig, ax = new_figure("column", aspect=0.8)
    styles = {2: "--", 20: "-"}
    for q, curve in predicted.items():
        style = dict(THEORY_LINE) if styles.get(q, "-") == "-" else dict(BOUND_LINE)
        ax.step(
            thresholds,
            curve,
            where="post",
            color=THEORY_COLOR,
            label=f"linear VAE, q = {q}: min(q, #{{$l_j > \\beta\\sigma^2$}})",
            **style,
        )
    markers = {2: "s", 20: "o"}
    seen = set()
    for _name, policy, q, t, active in measured:
        key = (policy, q)
        style = {**MEASURED_LINE, "linestyle": "none", "marker": markers.get(q, "o"), "markersize": 4}
        ax.plot(
            [t],
            [active],
            color=policy_color(policy),
            label=None if key in seen else f"measured, q = {q}",
            **style,
        )
        seen.add(key)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xscale("log")
    ax.set_xlabel(r"collapse threshold $\beta\sigma^2$ (decoder variance, log scale)")
    ax.set_ylabel("active units ($A_u > 0.01$)")
    ax.set_title(f"Posterior collapse on {data_label}", fontsize=8)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=1)
    return fig
