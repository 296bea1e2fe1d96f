"""Drawings of the remedies study (``vaetheory remedies``). They draw result values and compute nothing.

:func:`draw_remedies`: (a) held-out log-likelihood against the reconstruction RMSE of the mean,
one marker per remedy (filled: bounded by the theory; open: unbounded); (b) the smallest decoder
variance in each logged training batch against the step (log axis), one line per remedy. Each
remedy has its one colour (:func:`vaetheory.plots.style.policy_color` of its colour key), a floor
the colour of its xi (:func:`~vaetheory.plots.style.xi_color`) with its method told by the marker
(:data:`~vaetheory.plots.style.FLOOR_METHOD_MARKERS`). One legend below both panels; no titles
inside (panel letters only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from vaetheory.plots.style import (
    MEASURED_LINE,
    fit_legend_height,
    legend_below,
    new_figure,
    pin_to_figure_size,
    policy_color,
    policy_gid,
    style,
)


def _style_of(name: str, styles: Mapping[str, Mapping[str, Any]] | None, colours) -> dict[str, Any]:
    """A row's colour, gid, marker and label (``styles`` from the figure module; else its colour key)."""
    if styles and name in styles:
        return {"marker": "o", "label": name, **styles[name]}
    key = (colours or {}).get(name, "black")
    return {"color": policy_color(key), "gid": policy_gid(key), "marker": "o", "label": name}


def draw_remedies(
    table: Sequence[Mapping[str, Any]],
    series: Mapping[str, Mapping[str, list]],
    colours: Mapping[str, str] | None = None,
    title: str | None = None,
    *,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
):
    """The two panels of the module docstring.

    ``styles[name]``: ``color``, ``gid``, ``marker`` and ``label`` of each row (the figure module
    decides them by meaning); rows without one are drawn in ``policy_color(colours[name])``.
    ``title`` is drawn only if given (the sidecar's caption says what is drawn). Page wide.
    """
    with style():
        fig, (ax, bx) = new_figure("page", aspect=0.42, ncols=2, layout="constrained")
        handles: dict[str, Any] = {}
        for row in table:
            if row.get("heldout_loglik") is None or row.get("heldout_data") != "dequantised":
                continue
            st = _style_of(row["name"], styles, colours)
            face = st["color"] if row["bounded"] else "white"
            kw = {"marker": st["marker"], "markersize": 5, "markeredgewidth": 1.0, "linestyle": "none"}
            ax.plot(row["rmse"], row["heldout_loglik"], color=st["color"], gid=st["gid"], mfc=face, **kw)
            handles[st["label"]] = Line2D([], [], color=st["color"], mfc=face, **kw)
        ax.margins(0.06)  # no marker on the frame
        ax.set_xlabel("held-out RMSE of the mean (pixels in [0, 1])")
        ax.set_ylabel(r"held-out $\mathcal{L}_K$ (nats / point)")
        ax.set_title("(a)", loc="left")
        for row in table:
            s = series.get(row["name"])
            if not s or not s.get("steps") or all(v is None for v in s["min_variance"]):
                continue
            st = _style_of(row["name"], styles, colours)
            v = np.array([np.nan if y is None else y for y in s["min_variance"]], dtype=float)
            line = {**MEASURED_LINE, "marker": st["marker"], "markersize": 3, "mfc": "white"}
            bx.plot(s["steps"], v, color=st["color"], gid=st["gid"], markevery=max(len(v) // 5, 1), **line)
            handles.setdefault(st["label"], Line2D([], [], color=st["color"], **line))
        bx.set_yscale("log")
        bx.set_xlabel("training step")
        bx.set_ylabel(r"smallest decoder variance $\sigma^2$")
        bx.set_title("(b)", loc="left")
        legend = legend_below(fig, list(handles.values()), list(handles))
        fit_legend_height(fig, legend)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig


__all__ = ["draw_remedies"]
