"""Drawings for the symbolic module (the 1-D Gaussian VAE). They draw result values, compute nothing.

* :func:`draw_sigma_star` -- (a) the optimal encoder std s*(lambda) beside the thread's formula
  (undefined for lambda <= 1/2), (b) ELBO(s) for several lambda with the maxima marked;
* :func:`draw_unboundedness` -- the ELBO along the blow-up path against the decoder variance (log
  axis), the variance-floor bounds and the finite n >= 2 supremum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaetheory.plots.style import (
    BOUND_LINE,
    NEUTRAL_COLOR,
    PREDICTION_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    direct_label,
    legend_below,
    new_figure,
    ordinal_colors,
    pin_to_figure_size,
    power_of_ten,
    style,
    xi_color,
    xi_gid,
)

#: Non-policy quantities never take the policy or floor colours (vaetheory.plots.style): the
#: lambdas of panel (b) are ordered, so they take neutral greys (style.ordinal_colors), labelled
#: directly at their maxima; single curves are ink.
INK = THEORY_COLOR
GREY = NEUTRAL_COLOR
LAMBDA_DASHES = ("-",) * 5  # kept name; theory curves are solid (dashes mean bounds)


def lambda_colors(n: int) -> list[str]:
    """``n`` greys from dark to mid grey (contrast >= 4.5:1 on white), one per lambda."""
    return ordinal_colors(n)


def draw_sigma_star(
    lambdas: Sequence[float],
    sigma_star: Sequence[float],
    sigma_star_claimed: Sequence[float],
    curves: Sequence[Mapping[str, Any]],
    elbo_limit: float,
):
    """Two panels, page width.

    (a) ``sigma_star`` (correct: a thick theory line) and ``sigma_star_claimed`` (the answer's
    formula, dotted; NaN where undefined, lambda <= 1/2, shaded) against ``lambdas``, log-log.
    (b) one ELBO(s) curve per entry of ``curves`` (dicts with ``lam``, ``s``, ``elbo``,
    ``s_star``, ``elbo_star`` and optionally ``s_claimed``, ``elbo_claimed``), its maximum a
    filled dot; the answer's s* as a cross; ``elbo_limit`` (the supremum
    -(1/2) log(2 pi)) dashed. One compact legend below both panels.
    """
    lam = np.asarray(lambdas, dtype=np.float64)
    with style():
        fig, (ax_a, ax_b) = new_figure("page", aspect=0.45, ncols=2, layout="constrained")
        ax_a.plot(lam, sigma_star, color=INK, label=r"correct $(2\lambda+1)^{-1/2}$", **THEORY_LINE)
        claimed = np.asarray(sigma_star_claimed, dtype=np.float64)
        ok = np.isfinite(claimed)
        ax_a.plot(
            lam[ok],
            claimed[ok],
            color=GREY,
            label=r"answer's $(2\lambda')^{-1/2}$",
            **PREDICTION_LINE,
        )
        ax_a.axvspan(lam.min(), 0.5, color="#EEEEEE", linewidth=0)
        ax_a.text(
            math.sqrt(lam.min() * 0.5),
            0.04,
            "answer\nundefined\n" + r"$\lambda \leq \frac{1}{2}$",
            transform=ax_a.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7,
            color="#333333",
        )
        ax_a.set_xscale("log")
        ax_a.set_yscale("log")
        top = float(np.nanmax(np.asarray(sigma_star))) * 4
        ax_a.set_ylim(float(np.nanmin(np.asarray(sigma_star))) / 1.5, top)
        ax_a.set_xlim(lam.min(), lam.max())
        ax_a.set_xlabel(r"$\lambda = 1/(2v)$, half the decoder precision")
        ax_a.set_ylabel(r"optimal encoder std $s^*$")
        ax_a.set_title("(a)", loc="left")

        colors = lambda_colors(len(curves))
        for i, c in enumerate(curves):
            color = colors[i]
            ax_b.plot(
                c["s"],
                c["elbo"],
                color=color,
                label=rf"$\lambda={c['lam']:g}$",
                **{**THEORY_LINE, "alpha": None, "linewidth": 1.6},
            )
            ax_b.plot([c["s_star"]], [c["elbo_star"]], "o", color=color, markersize=4)
            if c.get("s_claimed") is not None and np.isfinite(c["s_claimed"]):
                ax_b.plot([c["s_claimed"]], [c["elbo_claimed"]], "x", color=color, markersize=5, mew=1.2)
        ax_b.axhline(elbo_limit, color=NEUTRAL_COLOR, label=r"$\sup = -\frac{1}{2}\log(2\pi)$", **BOUND_LINE)
        ax_b.plot([], [], "o", color=INK, markersize=4, label=r"maximum $s^*$")
        ax_b.plot([], [], "x", color=INK, markersize=5, mew=1.2, label="answer's $s^*$")
        ax_b.set_xscale("log")
        lows = [float(np.min(c["elbo_star"])) for c in curves]
        ax_b.set_ylim(min(lows) - 2.5, elbo_limit + 0.9)
        ax_b.set_xlabel(r"encoder std $s$")
        ax_b.set_ylabel("ELBO (nats)")
        ax_b.set_title("(b)", loc="left")
        legend_below(fig)
        pin_to_figure_size(fig)
    return fig


def _power_of_ten(value: float) -> str:
    return power_of_ten(value)


def draw_unboundedness(
    variances: Sequence[float],
    path_elbo: Sequence[float],
    floors: Sequence[Mapping[str, Any]],
    npoint: Mapping[str, Any],
):
    """ELBO per point along the blow-up path (w = 0, b = x, q = prior) against the decoder variance.

    ``floors``: dicts with ``xi`` (a floor on the VARIANCE) and ``bound`` (-(1/2) log(2 pi xi)),
    drawn dashed in the floor's colour and labelled directly, with a dot where the path reaches
    v = xi (the floor stops it there). ``npoint``: dict with ``value`` (the finite per-point
    supremum for n >= 2 distinct points and a linear decoder), ``S_n`` and ``n``, drawn dashed in
    grey (a supremum). Column width.
    """
    v = np.asarray(variances, dtype=np.float64)
    path = np.asarray(path_elbo, dtype=np.float64)
    with style():
        fig, ax = new_figure("column", aspect=0.95, layout="constrained")
        for f in floors:
            color = xi_color(f["xi"])
            ax.axhline(f["bound"], color=color, gid=xi_gid(f["xi"]), **BOUND_LINE)
            ax.plot([f["xi"]], [f["bound"]], "o", color=color, gid=xi_gid(f["xi"]), markersize=3.5, zorder=4)
            direct_label(
                ax,
                v.max(),
                f["bound"],
                r"$\xi=$" + power_of_ten(f["xi"]),
                color,
                ha="right",
                va="bottom",
                xytext=(-1, 1),
            )
        ax.axhline(npoint["value"], color=NEUTRAL_COLOR, **BOUND_LINE)
        direct_label(
            ax,
            v.min(),
            npoint["value"],
            rf"$n={npoint['n']}$ points: sup per point",
            NEUTRAL_COLOR,
            va="bottom",
            xytext=(1, 1),
        )
        ax.plot(
            v,
            path,
            color=INK,
            label=r"one point: $-\frac{1}{2}\log(2\pi v)$ ($w=0$, $b=x$, $q=p(z)$)",
            zorder=3,
            **THEORY_LINE,
        )
        ax.set_xscale("log")
        ax.set_xlim(v.min(), v.max())
        ax.set_xlabel(r"decoder variance $v$")
        ax.set_ylabel("ELBO per point (nats)")
        legend_below(fig, ncol=1)
        pin_to_figure_size(fig)
    return fig
