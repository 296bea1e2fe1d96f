"""The figure of the ``mechanisms`` experiment (``vaetheory experiment mechanisms``); computes nothing.

Top row: the decoder variance at every training point (rows) and coordinate (columns) at the last
step, as :math:`\\log_{10}(\\sigma^2/\\tau)` (:math:`\\tau` the collapse threshold; red below it,
blue above), one panel per run, with the training set's constant coordinates marked above: a red
column is the per-dimension route, a red row the per-point route. Bottom row, against Adam steps:
the share of the growth carried by collapsed dimensions and by collapsed points (measured, solid,
with the diagnostic's "drives the run" share dashed), and the growth per point.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    NEUTRAL_COLOR,
    THEORY_COLOR,
    legend_below,
    new_figure,
    policy_color,
    policy_gid,
    style,
)

#: one colour and marker per data kind, as in the training figure: every run has the learned policy,
#: the dequantised digits in its colour (gid ``policy:learned``), raw digits in the neutral grey of
#: that figure's raw run, the synthetic data in a dark shade of the learned colour
KIND_STYLES = {
    "raw-digits": {"color": NEUTRAL_COLOR, "marker": "o", "label": "raw digits", "short": "raw digits"},
    "synthetic": {
        "color": "#8C2D04",
        "marker": "s",
        "label": "synthetic, constant coordinates",
        "short": "synthetic, constant coordinates",
    },
    "dequantised-digits": {
        "color": policy_color("learned"),
        "marker": "^",
        "label": "dequantised digits (control)",
        "short": "dequantised digits (control)",
        "gid": policy_gid("learned"),
    },
}
#: the colour scale of the top row: log10(variance / threshold) in bins, clipped to +-LIMIT; every
#: collapsed cell (below 0) is red, at least the light red of the bin just below the threshold
LIMIT = 3.0
BINS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
CMAP = ListedColormap(["#67001F", "#D6604D", "#F4A582", "#D1E5F0", "#6BAED6", "#08519C"])
NORM = BoundaryNorm(BINS, CMAP.N)


def draw_mechanisms(records: list[dict], *, title: str | None = None):
    """Six panels (module docstring) from the run records of the experiment (``result["details"]``)."""
    del title  # captions go to the sidecar (vaetheory.plots.style)
    with style():
        fig, axes = new_figure("page", aspect=0.62, nrows=2, ncols=3, layout="constrained")
        top, bottom = axes[0], axes[1]
        image = None
        for ax, r, letter in zip(top, records, "abc"):
            lv = np.asarray(r["final_log_variance"], dtype=np.float64)
            rel = (lv - np.log(r["threshold_variance"])) / np.log(10.0)
            n, d = rel.shape
            image = ax.imshow(
                np.clip(rel, -LIMIT, LIMIT),
                cmap=CMAP,
                norm=NORM,
                aspect="auto",
                interpolation="nearest",
                extent=(-0.5, d - 0.5, n - 0.5, -0.5),
            )
            if r["constant_coords"]:
                ax.plot(
                    r["constant_coords"],
                    [-1.1] * len(r["constant_coords"]),
                    linestyle="none",
                    marker="v",
                    markersize=3.0,
                    color=THEORY_COLOR,
                )
            ax.set_ylim(n - 0.5, -1.7)
            ax.set_yticks(range(0, n, max(1, n // 4)))
            ax.set_xlabel("coordinate (pixel)")
            ax.grid(False)
            ax.set_title(f"({letter})", loc="left")
            ax.text(
                0.12,
                1.02,
                KIND_STYLES.get(r["name"], {"short": r["name"]})["short"],
                transform=ax.transAxes,
                ha="left",
                va="bottom",
                fontsize=7,
            )
        top[0].set_ylabel("training point")
        if image is not None:
            bar = fig.colorbar(image, ax=list(top), shrink=0.9, pad=0.01, ticks=BINS)
            bar.set_label(r"$\log_{10}(\sigma^2/\tau)$", fontsize=7)
        keys = ("dimension_share", "point_share", "growth_per_point")
        for ax, key, letter in zip(bottom, keys, "def"):
            for r in records:
                st = KIND_STYLES.get(r["name"], {"color": THEORY_COLOR, "marker": "o", "label": r["name"]})
                pts = [(p["step"], p[key]) for p in r["curve"] if p["step"] > 0 and p[key] is not None]
                ax.plot(
                    [s for s, _ in pts],
                    [v for _, v in pts],
                    **{**MEASURED_LINE, "marker": st["marker"], "markersize": 3.0},
                    color=st["color"],
                    label=st["label"],
                    gid=st.get("gid"),
                )
            ax.set_xscale("log")
            ax.set_xlabel("Adam step")
            ax.set_title(f"({letter})", loc="left")
        present = records[0]["thresholds"]["present_share"] if records else 0.25
        for ax in bottom[:2]:
            ax.axhline(present, color=THEORY_COLOR, label="share that drives the run", **BOUND_LINE)
            ax.set_ylim(-0.04, 1.04)
        bottom[0].set_ylabel("share of the growth")
        bottom[0].text(0.02, 0.93, "collapsed dimensions", transform=bottom[0].transAxes, fontsize=7)
        bottom[1].text(0.02, 0.93, "collapsed points", transform=bottom[1].transAxes, fontsize=7)
        bottom[2].set_ylabel(r"growth beyond $\tau$ (nats / point)")
        handles, labels = [], []
        for ax in bottom:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        legend_below(fig, handles, labels)
    return fig


__all__ = ["draw_mechanisms"]
