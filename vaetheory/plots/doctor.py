"""Drawing of a :class:`~vaetheory.doctor.doctor.DoctorReport`. It draws the report's numbers and
computes nothing.

:func:`draw_doctor` -- three panels (page width):

* the loss against the step, with the smallest value the floor allows, :math:`\\tfrac d2\\log(2\\pi\\xi)`
  per point, dashed (question 1);
* the smallest log-variance against the step, with the trend's extrapolation to the step at which it
  reaches the log of the training dtype's smallest normal number (dotted, to the breakdown line)
  and the log of the suggested floor (dashed) (questions 2 and 3);
* the KL of each latent dimension at the last observation, with the activity threshold (question 6).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from matplotlib.ticker import MaxNLocator

from vaetheory.plots.style import BOUND_LINE, MEASURED_LINE, OKABE_ITO, THEORY_COLOR, new_figure, style

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


def draw_doctor(numbers: Mapping[str, Any], *, title: str | None = None):
    """Draw ``report.numbers`` (``DoctorReport.to_dict()["numbers"]``); returns the Figure."""
    series = numbers.get("series") or {}
    steps = series.get("step", [])
    with style():
        fig, (ax_loss, ax_var, ax_kl) = new_figure("page", aspect=0.36, ncols=3)
        # 1. loss against its infimum
        xs, ys = _pairs(steps, series.get("loss", []))
        if xs:
            ax_loss.plot(xs, ys, color=OKABE_ITO["blue"], label="loss", **MEASURED_LINE)
        inf = _num(numbers.get("loss_infimum"))
        if inf is not None and math.isfinite(inf):
            ax_loss.axhline(
                inf, color=THEORY_COLOR, label=r"floor's bound $\frac{d}{2}\log(2\pi\xi)$", **BOUND_LINE
            )
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss")
        ax_loss.set_title("1. loss against the floor's bound")
        if xs and (inf is None or not math.isfinite(inf)):
            ax_loss.text(
                0.03, 0.04, "no floor declared:\nno lower bound", transform=ax_loss.transAxes, fontsize=6.5
            )
        if not xs:
            ax_loss.text(0.5, 0.5, "no loss observed", ha="center", va="center", transform=ax_loss.transAxes)
        ax_loss.legend(loc="upper right")
        # 2-3. smallest log-variance, its extrapolated breakdown, the suggested floor
        xs, ys = _pairs(steps, series.get("min_log_variance", []))
        dtype = numbers.get("dtype", "float32")
        if xs:
            ax_var.plot(xs, ys, color=OKABE_ITO["vermillion"], label="smallest log-variance", **MEASURED_LINE)
            trend = numbers.get("min_log_variance_trend") or {}
            when = numbers.get("breakdown_step")
            tiny = _num(numbers.get("log_tiny"))
            if when is not None and trend and tiny is not None:
                ax_var.plot(
                    [trend["to_step"], when],
                    [_num(trend["last"]), tiny],
                    color=OKABE_ITO["vermillion"],
                    linestyle=":",
                    linewidth=1.1,
                    label=f"trend, extrapolated (step {when})",
                )
                ax_var.axhline(
                    tiny, color=THEORY_COLOR, linestyle="-.", linewidth=0.9, label=f"{dtype} breakdown"
                )
                ax_var.plot([when], [tiny], marker="x", color=THEORY_COLOR, markersize=5, linestyle="none")
            xi = _num(numbers.get("suggested_floor"))
            floor = _num(numbers.get("floor_variance"))
            if floor is not None and floor > 0:
                ax_var.axhline(
                    math.log(floor),
                    color=OKABE_ITO["blue"],
                    label=rf"declared floor $\xi$ = {floor:.3g}",
                    **BOUND_LINE,
                )
            elif xi is not None and xi > 0:
                ax_var.axhline(
                    math.log(xi),
                    color=OKABE_ITO["bluish_green"],
                    label=rf"suggested floor $\xi$ = {xi:.3g}",
                    **BOUND_LINE,
                )
        else:
            ax_var.text(
                0.5, 0.5, "no variance observed", ha="center", va="center", transform=ax_var.transAxes
            )
        ax_var.set_xlabel("step")
        ax_var.set_ylabel(r"$\min\ \log\sigma^2$")
        ax_var.set_title("2-3. log-variance and breakdown")
        # below the floor line, above the extrapolation: the empty upper right of a falling trend
        ax_var.legend(
            loc="upper right",
            bbox_to_anchor=(1.0, 0.78),
            fontsize=5.5,
            frameon=True,
            facecolor="white",
            edgecolor="none",
            framealpha=0.9,
        )
        # 6. KL per latent dimension
        kl = [_num(k) for k in numbers.get("kl_per_dim") or []]
        if kl:
            # a log axis: the inactive units (KL ~ 1e-3 and below) must stay visible next to the active ones
            shown = [k if k is not None and k > 0 else float("nan") for k in kl]
            colours = [
                OKABE_ITO["blue"] if k is not None and k > KL_ACTIVE_NATS else OKABE_ITO["orange"] for k in kl
            ]
            ax_kl.scatter(range(len(kl)), shown, color=colours, s=14, zorder=3)
            ax_kl.set_yscale("log")
            active = numbers.get("active_units")
            ax_kl.axhline(
                KL_ACTIVE_NATS,
                color=THEORY_COLOR,
                label=f"active above {KL_ACTIVE_NATS} nats ({active} of {len(kl)})",
                **BOUND_LINE,
            )
            ax_kl.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax_kl.legend(loc="center", fontsize=6)
            ax_kl.set_title("6. KL per latent dimension")
        else:
            ax_kl.text(0.5, 0.5, "no KL observed", ha="center", va="center", transform=ax_kl.transAxes)
            ax_kl.set_title("6. KL per latent dimension")
        ax_kl.set_xlabel("latent dimension")
        ax_kl.set_ylabel("KL (nats)")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig


__all__ = ["draw_doctor"]
