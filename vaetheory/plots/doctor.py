"""Drawing of a :class:`~vaetheory.doctor.doctor.DoctorReport`. It draws the report's numbers and
computes nothing.

:func:`draw_doctor` -- up to three panels (page width), each drawn only when the report observed
what it shows (the caption, :func:`vaetheory.figures.doctor.doctor_caption`, says which were left out):

* (a) the loss against the step, with the smallest value the floor allows,
  :math:`\\tfrac d2\\log(2\\pi\\xi)` per point, dashed (question 1);
* (b) the smallest log-variance against the step, with the trend's extrapolation (dotted, a
  prediction) to the step at which it reaches the log of the training dtype's smallest normal number
  (dashed, a bound, with a cross where they meet), and the log of the declared or suggested floor
  (dashed, in the floor's colour :func:`~vaetheory.plots.style.xi_color`) (questions 2 and 3);
* (c) the KL of each latent dimension at the last observation (filled: active, open: inactive),
  with the activity threshold dashed (question 6).

The run is drawn in the colour of its meaning: a run with a declared floor xi in ``xi_color(xi)``,
one without in the learned policy's colour. One compact legend below the panels; no titles inside
(the panel letters only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    NEUTRAL_COLOR,
    PREDICTION_LINE,
    THEORY_COLOR,
    fit_legend_height,
    legend_below,
    new_figure,
    pin_to_figure_size,
    policy_color,
    policy_gid,
    style,
    xi_color,
    xi_gid,
    xi_label,
)

#: a latent unit with KL below this (nats) counts as inactive (vaetheory.doctor.doctor.KL_ACTIVE_NATS)
KL_ACTIVE_NATS = 0.01


def _num(v) -> float | None:
    """A number of the report's JSON (non-finite numbers are the strings 'nan', 'inf', '-inf')."""
    if v is None:
        return None
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(v)
    return float(v)


def _pairs(steps, values):
    pts = [(s, _num(v)) for s, v in zip(steps, values)]
    pts = [(s, v) for s, v in pts if v is not None and math.isfinite(v)]
    return [p[0] for p in pts], [p[1] for p in pts]


def run_style(numbers: Mapping[str, Any]) -> tuple[str, str]:
    """(colour, gid) of the diagnosed run: its declared floor's colour, else the learned policy's."""
    floor = _num(numbers.get("floor_variance"))
    if floor is not None and math.isfinite(floor) and floor > 0:
        return xi_color(floor), xi_gid(floor)
    return policy_color("learned"), policy_gid("learned")


def drawn_panels(numbers: Mapping[str, Any]) -> list[str]:
    """Which panels the report has data for, of ``loss``, ``variance``, ``kl`` (in that order)."""
    series = numbers.get("series") or {}
    steps = series.get("step", [])
    out = []
    if _pairs(steps, series.get("loss", []))[0]:
        out.append("loss")
    if _pairs(steps, series.get("min_log_variance", []))[0]:
        out.append("variance")
    if numbers.get("kl_per_dim"):
        out.append("kl")
    return out


def draw_doctor(numbers: Mapping[str, Any], *, title: str | None = None):
    """Draw ``report.numbers`` (``DoctorReport.to_dict()["numbers"]``); returns the Figure.

    ``title`` is drawn only if given (``vaetheory doctor --out`` puts it in the caption).
    """
    series = numbers.get("series") or {}
    steps = series.get("step", [])
    panels = drawn_panels(numbers) or ["loss"]
    colour, gid = run_style(numbers)
    legend: dict[str, Any] = {"measured (this run)": Line2D([], [], color=colour, **_LINE)}
    with style():
        fig, axes = new_figure("page", aspect=0.36, ncols=len(panels), squeeze=False, layout="constrained")
        ax_of = dict(zip(panels, axes[0]))
        for letter, ax in zip("abc", axes[0]):
            ax.set_title(f"({letter})", loc="left")
        if "loss" in ax_of:
            _loss_panel(ax_of["loss"], numbers, steps, series, colour, gid, legend)
        if "variance" in ax_of:
            _variance_panel(ax_of["variance"], numbers, steps, series, colour, gid, legend)
        if "kl" in ax_of:
            _kl_panel(ax_of["kl"], numbers, colour, gid, legend)
        shown = legend_below(fig, list(legend.values()), list(legend))
        fit_legend_height(fig, shown)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig


_LINE = {**MEASURED_LINE, "marker": None}
_DOTS = {**MEASURED_LINE, "linestyle": "none", "markersize": 3.5}


def _loss_panel(ax, numbers, steps, series, colour, gid, legend) -> None:
    xs, ys = _pairs(steps, series.get("loss", []))
    if xs:
        ax.plot(xs, ys, color=colour, gid=gid, **_LINE)
    else:
        ax.text(0.5, 0.5, "no loss observed", ha="center", va="center", transform=ax.transAxes)
    inf = _num(numbers.get("loss_infimum"))
    if inf is not None and math.isfinite(inf):
        ax.axhline(inf, color=colour, gid=gid, **BOUND_LINE)
        legend[r"floor's bound $\frac{d}{2}\log(2\pi\xi)$ (a)"] = Line2D([], [], color=colour, **BOUND_LINE)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per point)")


def _variance_panel(ax, numbers, steps, series, colour, gid, legend) -> None:
    xs, ys = _pairs(steps, series.get("min_log_variance", []))
    dtype = numbers.get("dtype", "float32")
    ax.plot(xs, ys, color=colour, gid=gid, **_LINE)
    trend = numbers.get("min_log_variance_trend") or {}
    when = numbers.get("breakdown_step")
    tiny = _num(numbers.get("log_tiny"))
    if when is not None and trend and tiny is not None:
        start, last = float(trend["to_step"]), _num(trend["last"])
        if xs and min(xs) > 0 and when > 5 * max(xs):
            # the breakdown lies far beyond the observed steps: a log step axis keeps both in view; the
            # straight extrapolation is drawn through many points so that it stays the same line
            ax.set_xscale("log")
            at = np.geomspace(start, float(when), 60)
        else:
            at = np.array([start, float(when)])
        ax.plot(
            at,
            last + (at - start) * (tiny - last) / (float(when) - start),
            color=colour,
            gid=gid,
            **PREDICTION_LINE,
        )
        legend[f"trend, extrapolated (to step {when})"] = Line2D([], [], color=colour, **PREDICTION_LINE)
        ax.axhline(tiny, color=THEORY_COLOR, **BOUND_LINE)
        ax.plot([when], [tiny], marker="x", color=THEORY_COLOR, markersize=5, linestyle="none")
        legend[f"{dtype} breakdown"] = Line2D([], [], color=THEORY_COLOR, **BOUND_LINE)
    floor = _num(numbers.get("floor_variance"))
    xi = _num(numbers.get("suggested_floor"))
    for value, word in ((floor, "declared"), (xi, "suggested")):
        if value is not None and value > 0:
            ax.axhline(math.log(value), color=xi_color(value), gid=xi_gid(value), **BOUND_LINE)
            legend[f"{word} floor {xi_label(value)}"] = Line2D([], [], color=xi_color(value), **BOUND_LINE)
            break
    ax.set_xlabel("step" + (" (log scale)" if ax.get_xscale() == "log" else ""))
    ax.set_ylabel(r"smallest $\log\sigma^2$")


def _kl_panel(ax, numbers, colour, gid, legend) -> None:
    kl = [_num(k) for k in numbers.get("kl_per_dim") or []]
    # a log axis: the inactive units (KL ~ 1e-3 and below) must stay visible next to the active ones
    active_idx = [i for i, k in enumerate(kl) if k is not None and k > KL_ACTIVE_NATS]
    inactive_idx = [i for i, k in enumerate(kl) if k is not None and 0 < k <= KL_ACTIVE_NATS]
    if active_idx:
        ax.plot(active_idx, [kl[i] for i in active_idx], color=colour, gid=gid, **_DOTS)
    if inactive_idx:
        ax.plot(inactive_idx, [kl[i] for i in inactive_idx], color=NEUTRAL_COLOR, mfc="white", **_DOTS)
    legend["KL of a unit: active, inactive"] = (
        Line2D([], [], color=colour, **_DOTS),
        Line2D([], [], color=NEUTRAL_COLOR, mfc="white", **_DOTS),
    )
    ax.set_yscale("log")
    ax.axhline(KL_ACTIVE_NATS, color=THEORY_COLOR, **BOUND_LINE)
    active = numbers.get("active_units")
    legend[f"active above {KL_ACTIVE_NATS} nats ({active} of {len(kl)})"] = Line2D(
        [], [], color=THEORY_COLOR, **BOUND_LINE
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.5, len(kl) - 0.5)  # no marker on the frame
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("KL (nats)")


__all__ = ["draw_doctor", "drawn_panels", "run_style"]
