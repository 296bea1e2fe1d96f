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
from matplotlib import colormaps
from matplotlib.colors import to_hex

from vaetheory.plots.style import (
    BOUND_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    floor_color,
    new_figure,
    pin_to_figure_size,
    policy_color,
    style,
)

#: Non-policy quantities never take the policy colours (vaetheory.plots.style.POLICY_COLORS):
#: the lambdas of panel (b) are ordered, so they take cividis samples (sequential, colour-blind
#: safe) with distinct line styles; single curves are neutral ink and greys.
INK = "#222222"
GREY = "#8C8C8C"
LAMBDA_DASHES = (
    "-",
    (0, (5, 1.5)),
    (0, (6, 1.5, 1.5, 1.5)),
    (0, (1.5, 1.2)),
    (0, (8, 1.5, 1.5, 1.5, 1.5, 1.5)),
)


def lambda_colors(n: int) -> list[str]:
    """``n`` cividis samples from dark to light, stopping short of the pale end (contrast on white)."""
    return [to_hex(colormaps["cividis"](x)) for x in np.linspace(0.0, 0.8 if n > 1 else 0.0, n)]


def draw_sigma_star(
    lambdas: Sequence[float],
    sigma_star: Sequence[float],
    sigma_star_claimed: Sequence[float],
    curves: Sequence[Mapping[str, Any]],
    elbo_limit: float,
):
    """Two panels, page width.

    (a) ``sigma_star`` (correct, solid) and ``sigma_star_claimed`` (the answer's formula, dotted;
    NaN where undefined, lambda <= 1/2, shaded) against ``lambdas``, log-log.
    (b) one ELBO(s) curve per entry of ``curves`` (dicts with ``lam``, ``s``, ``elbo``,
    ``s_star``, ``elbo_star`` and optionally ``s_claimed``, ``elbo_claimed``): the maximum as a
    filled dot, the answer's s* as a cross; ``elbo_limit`` (the supremum -(1/2) log(2 pi)) dashed.
    """
    lam = np.asarray(lambdas, dtype=np.float64)
    with style():
        fig, (ax_a, ax_b) = new_figure("page", aspect=0.4, ncols=2, layout="constrained")
        ax_a.plot(
            lam,
            sigma_star,
            color=INK,
            label=r"correct: $s^* = (2\lambda+1)^{-1/2}$",
            **THEORY_LINE,
        )
        claimed = np.asarray(sigma_star_claimed, dtype=np.float64)
        ok = np.isfinite(claimed)
        ax_a.plot(
            lam[ok],
            claimed[ok],
            color=GREY,
            linestyle=(0, (1.2, 1.2)),
            linewidth=1.8,
            label=r"answer: $(2\lambda')^{-1/2}$, $\lambda'=\lambda-\frac{1}{2}$",
        )
        ax_a.axvspan(lam.min(), 0.5, color="#DDDDDD", alpha=0.6, linewidth=0)
        ax_a.axvline(0.5, color=THEORY_COLOR, linewidth=0.6)
        ax_a.text(
            0.5,
            0.97,
            "answer undefined\n" + r"($\lambda \leq \frac{1}{2}$)",
            transform=ax_a.get_xaxis_transform(),
            ha="right",
            va="top",
            fontsize=6.5,
            color="#333333",
        )
        ax_a.set_xscale("log")
        ax_a.set_yscale("log")
        top = float(np.nanmax(np.asarray(sigma_star))) * 4
        ax_a.set_ylim(float(np.nanmin(np.asarray(sigma_star))) / 1.5, top)
        ax_a.set_xlim(lam.min(), lam.max())
        ax_a.set_xlabel(r"decoder precision $\lambda = 1/(2v)$ (log scale)")
        ax_a.set_ylabel(r"optimal encoder std $s^*$ (log scale)")
        ax_a.set_title(r"(a) $s^*(\lambda)$: identity decoder, $x = 0$", loc="left")
        ax_a.legend(loc="lower left")  # the upper right is crossed by the answer's curve

        colors = lambda_colors(len(curves))
        for i, c in enumerate(curves):
            color = colors[i]
            ax_b.plot(
                c["s"],
                c["elbo"],
                color=color,
                label=rf"$\lambda$ = {c['lam']:g}",
                **{**THEORY_LINE, "linestyle": LAMBDA_DASHES[i % len(LAMBDA_DASHES)]},
            )
            ax_b.plot([c["s_star"]], [c["elbo_star"]], "o", color=color, markersize=4)
            if c.get("s_claimed") is not None and np.isfinite(c["s_claimed"]):
                ax_b.plot([c["s_claimed"]], [c["elbo_claimed"]], "x", color=color, markersize=5, mew=1.2)
        ax_b.axhline(
            elbo_limit,
            color=THEORY_COLOR,
            label=r"$\sup = -\frac{1}{2}\log(2\pi)$ ($\lambda\to\infty$)",
            **BOUND_LINE,
        )
        ax_b.plot([], [], "o", color=THEORY_COLOR, markersize=4, label=r"maximum, $s^*$")
        ax_b.plot([], [], "x", color=THEORY_COLOR, markersize=5, mew=1.2, label="answer's $s^*$")
        ax_b.set_xscale("log")
        lows = [float(np.min(c["elbo_star"])) for c in curves]
        ax_b.set_ylim(min(lows) - 2.5, elbo_limit + 0.6)
        ax_b.set_xlabel(r"encoder std $s$ (log scale)")
        ax_b.set_ylabel("ELBO (nats)")
        ax_b.set_title(r"(b) ELBO$(s)$ for several $\lambda$", loc="left")
        ax_b.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
        pin_to_figure_size(fig)
    return fig


def _power_of_ten(value: float) -> str:
    exponent = math.log10(value)
    if exponent.is_integer():
        return rf"$10^{{{int(exponent)}}}$"
    return f"{value:.2g}"


def draw_unboundedness(
    variances: Sequence[float],
    path_elbo: Sequence[float],
    floors: Sequence[Mapping[str, Any]],
    npoint: Mapping[str, Any],
):
    """ELBO per point along the blow-up path (w = 0, b = x, q = prior) against the decoder variance.

    ``floors``: dicts with ``xi`` (a floor on the VARIANCE) and ``bound`` (-(1/2) log(2 pi xi)),
    drawn dashed, with a dot where the path reaches v = xi (the floor stops it there).
    ``npoint``: dict with ``value`` (the finite per-point supremum for n >= 2 distinct points and a
    linear decoder), ``S_n`` and ``n``, drawn dash-dotted.
    """
    v = np.asarray(variances, dtype=np.float64)
    path = np.asarray(path_elbo, dtype=np.float64)
    with style():
        fig, ax = new_figure("column", aspect=1.3, layout="constrained")
        for i, f in enumerate(floors):
            color = floor_color(i)
            ax.axhline(
                f["bound"],
                color=color,
                label=rf"floor $\xi$ = {_power_of_ten(f['xi'])}: $-\frac{{1}}{{2}}\log(2\pi\xi)$",
                **BOUND_LINE,
            )
            ax.plot([f["xi"]], [f["bound"]], "o", color=color, markersize=3.5, zorder=4)
        ax.axhline(
            npoint["value"],
            color=INK,
            label=r"$n \geq 2$ distinct points, sup per point:"
            + "\n"
            + rf"$-\frac{{1}}{{2}}(\log 2\pi S_n + 1)$ ($S_n$ = {npoint['S_n']:g})",
            linestyle="-.",
            linewidth=1.2,
        )
        ax.plot(
            v,
            path,
            color=policy_color("learned"),
            label=r"one point, path $w=0$, $b=x$, $q=p(z)$: $-\frac{1}{2}\log(2\pi v)$",
            zorder=3,
            **THEORY_LINE,
        )
        k = int(0.55 * v.size)
        ax.annotate(
            r"slope $-\frac{1}{2}$ per unit $\log v$",
            xy=(v[k], path[k]),
            xytext=(7, 2),
            textcoords="offset points",
            fontsize=6.5,
            color=policy_color("learned"),
        )
        ax.set_xscale("log")
        ax.set_xlim(v.min(), v.max())
        ax.set_xlabel(r"decoder variance $v$ (log scale)")
        ax.set_ylabel("ELBO per point (nats)")
        ax.set_title("1-D Gaussian VAE: no maximum without a floor", loc="left")
        fig.legend(loc="outside lower center", ncol=1)
        pin_to_figure_size(fig)
    return fig
