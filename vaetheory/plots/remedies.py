"""Drawings of the remedies study (``vaetheory remedies``). They draw result values and compute nothing.

:func:`draw_remedies`: left, held-out log-likelihood against the reconstruction RMSE of the mean,
one marker per remedy (filled: bounded by the theory; open: unbounded); right, the smallest
decoder variance in each logged training batch against the step (log axis), one line per remedy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaetheory.plots.style import MEASURED_LINE, new_figure, policy_color, style

#: marker per row, so that rows sharing a colour stay apart
_MARKERS = "osD^v<>pPX*hH8d"


def draw_remedies(
    table: Sequence[Mapping[str, Any]], series: Mapping[str, Mapping[str, list]], colours, title
):
    """The two panels of the module docstring; ``colours`` maps row name -> colour key."""
    with style():
        fig, (ax, bx) = new_figure("page", aspect=0.55, ncols=2)
        for i, row in enumerate(table):
            if row.get("heldout_loglik") is None or row.get("heldout_data") != "dequantised":
                continue
            colour = policy_color(colours.get(row["name"], "black"))
            marker = _MARKERS[i % len(_MARKERS)]
            face = colour if row["bounded"] else "white"
            ax.plot(
                row["rmse"],
                row["heldout_loglik"],
                marker=marker,
                color=colour,
                markerfacecolor=face,
                linestyle="none",
                markersize=5,
                label=row["name"],
            )
        ax.set_xlabel("held-out RMSE of the mean (pixels in [0, 1])")
        ax.set_ylabel("held-out log-likelihood $\\mathcal{L}_K$ (nats / point)")
        ax.set_title("log-likelihood vs mean fit (filled: bounded)")
        for i, row in enumerate(table):
            s = series.get(row["name"])
            if not s or not s.get("steps") or all(v is None for v in s["min_variance"]):
                continue
            v = np.array([np.nan if y is None else y for y in s["min_variance"]], dtype=float)
            bx.plot(
                s["steps"],
                v,
                color=policy_color(colours.get(row["name"], "black")),
                markevery=max(len(v) // 6, 1),
                **{**MEASURED_LINE, "marker": _MARKERS[i % len(_MARKERS)], "markersize": 3},
                label=row["name"],
            )
        bx.set_yscale("log")
        bx.set_xlabel("training step")
        bx.set_ylabel("smallest decoder variance in the batch")
        bx.set_title("variance against steps")
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=6, bbox_to_anchor=(0.5, 0.0), fontsize=6)
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0.17, 1, 1))
    return fig


__all__ = ["draw_remedies"]
