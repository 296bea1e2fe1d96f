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
from matplotlib.ticker import MaxNLocator

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    OKABE_ITO,
    THEORY_COLOR,
    THEORY_LINE,
    new_figure,
    policy_color,
    style,
)

THRESHOLD_COLORS = (OKABE_ITO["vermillion"], OKABE_ITO["orange"], OKABE_ITO["reddish_purple"], "#7F3C8D")


def draw_spectrum(
    eigenvalues: Sequence[float],
    q: int,
    thresholds: Sequence[Mapping[str, Any]],
    collapsed: Sequence[int],
    *,
    title: str | None = None,
    note: str | None = None,
):
    """Eigenvalues l_j against j (log y), horizontal threshold lines, collapsed directions marked.

    ``thresholds``: dicts with ``value`` and ``label`` (drawn dashed). ``collapsed``: 1-based
    indices j <= q drawn as open markers (collapsed at the largest threshold); the other j <= q
    are filled; j > q (not modelled by q latents) are small grey dots. ``note`` is printed in the
    upper right corner (e.g. how many zero eigenvalues are not drawn).
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    j = np.arange(1, lam.size + 1)
    collapsed_set = set(int(c) for c in collapsed)
    with style():
        fig, ax = new_figure("column", aspect=0.8)
        kept = np.array([k <= q and k not in collapsed_set for k in j])
        gone = np.array([k in collapsed_set for k in j])
        rest = j > q
        if rest.any():
            ax.plot(
                j[rest], lam[rest], "o", color="#AAAAAA", markersize=2.2, label=f"$l_j$, $j > q$ (q = {q})"
            )
        ax.plot(j[kept], lam[kept], "o", color=OKABE_ITO["blue"], markersize=3.2, label="active, $j \\leq q$")
        if gone.any():
            ax.plot(
                j[gone],
                lam[gone],
                "o",
                mfc="none",
                color=OKABE_ITO["blue"],
                markersize=3.6,
                label="collapsed at the largest threshold",
            )
        for i, th in enumerate(thresholds):
            ax.axhline(
                th["value"],
                color=THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)],
                label=th["label"],
                **BOUND_LINE,
            )
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("eigen-direction $j$ (by decreasing eigenvalue)")
        if note:
            ax.text(0.98, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=6.5)
        ax.set_ylabel("eigenvalue $l_j$ of $S$ (variance, log scale)")
        if title:
            ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), ncol=1)
    return fig


def draw_unboundedness(
    curves: Sequence[Mapping[str, Any]], *, ylim: tuple[float, float] | None = None, title=None
):
    """Log-likelihood per point against the decoder variance sigma^2 (log x axis).

    Each curve: ``label``, ``noise_variances``, ``log_likelihood`` (measured: markers + thin line),
    optional ``elbo`` (measured ELBO at the optimal encoder: open markers), optional
    ``theory_noise_variances`` / ``theory`` / ``theory_label`` (a theory line), optional
    ``optimum`` (sigma^2_ML, drawn as a dotted vertical line), ``color``.
    """
    with style():
        fig, ax = new_figure("column", aspect=0.85)
        for c in curves:
            color = c.get("color", THEORY_COLOR)
            ax.plot(c["noise_variances"], c["log_likelihood"], color=color, label=c["label"], **MEASURED_LINE)
            if c.get("elbo") is not None:
                ax.plot(
                    c["noise_variances"],
                    c["elbo"],
                    "s",
                    mfc="none",
                    color=color,
                    markersize=4.5,
                    label=c.get("elbo_label", "ELBO at optimal encoder"),
                )
            if c.get("theory") is not None:
                ax.plot(
                    c["theory_noise_variances"],
                    c["theory"],
                    color=THEORY_COLOR,
                    label=c["theory_label"],
                    **{**THEORY_LINE, "linestyle": "--"},
                )
            if c.get("optimum") is not None:
                ax.axvline(c["optimum"], color=color, linestyle=":", linewidth=1.0, label=c["optimum_label"])
        ax.set_xscale("log")
        ax.set_xlabel("decoder noise variance $\\sigma^2$ (log scale)")
        ax.set_ylabel("log-likelihood per point (nats)")
        if ylim is not None:
            ax.set_ylim(*ylim)
        if title:
            ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.2), ncol=1)
    return fig


def draw_variance_split(
    latent_sizes: Sequence[int],
    latent_variance: Sequence[float],
    noise_variance_total: Sequence[float],
    total_variance: float,
    *,
    title: str | None = None,
):
    """Latent part sum_{j<=q}(l_j - sigma^2_ML) and noise part d sigma^2_ML against q, with tr S."""
    qs = np.asarray(latent_sizes)
    with style():
        fig, ax = new_figure("column", aspect=0.75)
        ax.plot(
            qs,
            latent_variance,
            color=OKABE_ITO["blue"],
            label="latent: $\\Sigma_{j\\leq q}\\,(l_j-\\sigma^2_{ML})$",
            **MEASURED_LINE,
        )
        ax.plot(
            qs,
            noise_variance_total,
            color=policy_color("learned"),
            label="noise: $d\\,\\sigma^2_{ML}$",
            **MEASURED_LINE,
        )
        ax.axhline(total_variance, color=THEORY_COLOR, label="total: tr $S$", **BOUND_LINE)
        ax.set_xlabel("latent size $q$")
        ax.set_ylabel("variance (sum over dimensions)")
        ax.set_ylim(bottom=0)
        if title:
            ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), ncol=1)
    return fig
