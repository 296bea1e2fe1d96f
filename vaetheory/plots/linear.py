"""Drawings for the linear module (pPCA / linear VAE). They draw result values and compute nothing.

* :func:`draw_spectrum` -- the eigen-spectrum (log axis) with collapse thresholds and the
  collapsed directions marked;
* :func:`draw_unboundedness` -- log-likelihood per point against the decoder variance on
  degenerate and non-degenerate data, with the exact theory line of slope -(d-r)/2;
* :func:`draw_variance_split` -- the latent / noise split of the total variance against q.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.ticker import MaxNLocator

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    new_figure,
    pin_to_figure_size,
    style,
)

#: Non-policy quantities never use the policy colours (vaetheory.plots.style.POLICY_COLORS):
#: ordered quantities (beta thresholds, noise levels) take cividis samples (colour-blind safe,
#: sequential), each with its own line style or marker; single marks are neutral greys.
INK = "#222222"
LIGHT_GREY = "#B4B4B4"
THRESHOLD_DASHES = ((0, (5, 2)), (0, (6, 2, 1.5, 2)), (0, (1.5, 1.5)), (0, (8, 2, 1.5, 2, 1.5, 2)))
CURVE_MARKERS = ("o", "^", "D", "v")


def sequential_colors(n: int, stop: float = 0.78) -> list[str]:
    """``n`` cividis samples from dark to light, stopping short of the pale end (contrast on white)."""
    cmap = colormaps["cividis"]
    return [to_hex(cmap(x)) for x in np.linspace(0.0, stop if n > 1 else 0.0, n)]


def draw_spectrum(
    eigenvalues: Sequence[float],
    q: int,
    thresholds: Sequence[Mapping[str, Any]],
    collapsed: Sequence[int],
    *,
    title: str | None = None,
    note: str | None = None,
    ylabel: str = "eigenvalue $l_j$ of $S$ (variance, log scale)",
):
    """Eigenvalues l_j against j (log y), horizontal threshold lines, collapsed directions marked.

    ``thresholds``: dicts with ``value`` and ``label``, in increasing order (drawn with sequential
    cividis colours and distinct dash patterns). ``collapsed``: 1-based indices j <= q drawn as
    open markers (collapsed at the largest threshold); the other j <= q are filled; j > q (not
    modelled by q latents) are small grey dots. ``note`` is printed in the upper right corner
    (e.g. how many zero eigenvalues are not drawn). Column width.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    j = np.arange(1, lam.size + 1)
    collapsed_set = set(int(c) for c in collapsed)
    with style():
        fig, ax = new_figure("column", aspect=1.2, layout="constrained")
        kept = np.array([k <= q and k not in collapsed_set for k in j])
        gone = np.array([k in collapsed_set for k in j])
        rest = j > q
        if rest.any():
            ax.plot(
                j[rest], lam[rest], "o", color=LIGHT_GREY, markersize=2.2, label=f"$l_j$, $j > q$ (q = {q})"
            )
        ax.plot(j[kept], lam[kept], "o", color=INK, markersize=3.2, label="active, $j \\leq q$")
        if gone.any():
            ax.plot(
                j[gone],
                lam[gone],
                "o",
                mfc="none",
                color=INK,
                markersize=3.6,
                label="collapsed at the largest threshold",
            )
        colors = sequential_colors(len(thresholds))
        for i, th in enumerate(thresholds):
            ax.axhline(
                th["value"],
                color=colors[i],
                label=th["label"],
                **{**BOUND_LINE, "linestyle": THRESHOLD_DASHES[i % len(THRESHOLD_DASHES)]},
            )
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("eigen-direction $j$ (by decreasing eigenvalue)")
        if note:
            ax.text(0.98, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=6.5)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        fig.legend(loc="outside lower center", ncol=1)
        pin_to_figure_size(fig)
    return fig


def draw_unboundedness(
    curves: Sequence[Mapping[str, Any]], *, ylim: tuple[float, float] | None = None, title=None
):
    """Log-likelihood per point against the decoder variance sigma^2 (log x axis). Column width.

    Each curve: ``label``, ``noise_variances``, ``log_likelihood`` (measured: markers + thin line;
    markers only where the curve has a theory line), optional ``elbo`` (measured ELBO at the
    optimal encoder: open squares), optional
    ``theory_noise_variances`` / ``theory`` / ``theory_label`` (a dashed theory line), optional
    ``optimum`` (sigma^2_ML, drawn as a dotted vertical line) and ``below_label``. Curves take
    sequential cividis colours in the order given. With ``ylim``, log-likelihood values below the
    axes are marked by downward triangles on the bottom edge (labelled ``below_label``), so a cut
    curve is visibly cut.
    """
    colors = sequential_colors(len(curves), stop=0.65)
    with style():
        fig, ax = new_figure("column", aspect=1.3, layout="constrained")
        if ylim is not None:
            ax.set_ylim(*ylim)
        for i, c in enumerate(curves):
            color = colors[i]
            marker = CURVE_MARKERS[i % len(CURVE_MARKERS)]
            # a curve with a theory line: markers only, so that the dashed line reads through them
            joined = {} if c.get("theory") is None else {"linestyle": "none"}
            ax.plot(
                c["noise_variances"],
                c["log_likelihood"],
                color=color,
                label=c["label"],
                **{**MEASURED_LINE, "marker": marker, "markersize": 3.0, **joined},
            )
            if c.get("elbo") is not None:
                ax.plot(
                    c["noise_variances"],
                    c["elbo"],
                    "s",
                    mfc="none",
                    color=color,
                    markersize=5,
                    markeredgewidth=0.8,
                    label=c.get("elbo_label", "ELBO at optimal encoder"),
                )
            if ylim is not None:
                t = np.asarray(c["noise_variances"], dtype=np.float64)
                below = np.asarray(c["log_likelihood"], dtype=np.float64) < ylim[0]
                if below.any():
                    ax.plot(
                        t[below],
                        np.full(int(below.sum()), ylim[0]),
                        "v",
                        color=color,
                        markersize=4,
                        clip_on=False,
                        zorder=5,
                        label=c.get("below_label", "below the axes"),
                    )
            if c.get("theory") is not None:
                ax.plot(
                    c["theory_noise_variances"],
                    c["theory"],
                    color=THEORY_COLOR,
                    label=c["theory_label"],
                    zorder=4,
                    **{**THEORY_LINE, "linestyle": "--"},
                )
            if c.get("optimum") is not None:
                ax.axvline(c["optimum"], color=color, linestyle=":", linewidth=1.0, label=c["optimum_label"])
        ax.set_xscale("log")
        ax.set_xlabel("decoder noise variance $\\sigma^2$ (log scale)")
        ax.set_ylabel("log-likelihood per point (nats)")
        if title:
            ax.set_title(title)
        fig.legend(loc="outside lower center", ncol=1)
        pin_to_figure_size(fig)
    return fig


def draw_variance_split(
    latent_sizes: Sequence[int],
    latent_variance: Sequence[float],
    noise_variance_total: Sequence[float],
    total_variance: float,
    *,
    title: str | None = None,
    ylabel: str = "variance (sum over dimensions)",
):
    """Latent part sum_{j<=q}(l_j - sigma^2_ML) and noise part d sigma^2_ML against q, with tr S.

    All three are closed forms at the pPCA optimum, so they are drawn as theory lines (no
    markers), in neutral colours with distinct line styles. Column width.
    """
    qs = np.asarray(latent_sizes)
    latent_color, noise_color = sequential_colors(2, stop=0.7)
    with style():
        fig, ax = new_figure("column", aspect=1.0, layout="constrained")
        ax.plot(
            qs,
            latent_variance,
            color=latent_color,
            label="latent: $\\Sigma_{j\\leq q}\\,(l_j-\\sigma^2_{ML})$",
            **THEORY_LINE,
        )
        ax.plot(
            qs,
            noise_variance_total,
            color=noise_color,
            label="noise: $d\\,\\sigma^2_{ML}$",
            **{**THEORY_LINE, "linestyle": "-.", "linewidth": 1.6},
        )
        ax.axhline(
            total_variance,
            color=THEORY_COLOR,
            label="total: tr $S$ (= latent + noise)",
            linestyle=":",
            linewidth=1.2,
        )
        ax.set_xlabel("latent size $q$")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.08 * float(total_variance))
        if title:
            ax.set_title(title)
        fig.legend(loc="outside lower center", ncol=1)
        pin_to_figure_size(fig)
    return fig
