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
    NEUTRAL_COLOR,
    ORDINAL_LIGHTEST,
    PREDICTION_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    direct_label,
    legend_below,
    new_figure,
    ordinal_colors,
    pin_to_figure_size,
    style,
)

#: Non-policy quantities never use the policy or floor colours (vaetheory.plots.style): ordered
#: quantities (beta thresholds, noise levels) take neutral greys (style.ordinal_colors), each with
#: its own marker, and thresholds (bounds) are dashed and labelled directly.
INK = THEORY_COLOR
LIGHT_GREY = ORDINAL_LIGHTEST
THRESHOLD_DASHES = ("--",) * 4  # kept name: every threshold is a bound, dashed
CURVE_MARKERS = ("o", "^", "D", "v")


def sequential_colors(n: int, stop: float = 0.78) -> list[str]:
    """``n`` greys from black to mid grey (contrast >= 4.5:1 on white); ``stop`` is kept for callers."""
    return ordinal_colors(n)


def draw_spectrum(
    eigenvalues: Sequence[float],
    q: int,
    thresholds: Sequence[Mapping[str, Any]],
    collapsed: Sequence[int],
    *,
    title: str | None = None,
    note: str | None = None,
    ylabel: str = "eigenvalue $l_j$ of $S$",
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
            ax.axhline(th["value"], color=colors[i], **BOUND_LINE)
            direct_label(
                ax,
                1.0,
                th["value"],
                th.get("short_label", th["label"]),
                colors[i],
                ha="right",
                va="bottom",
                xycoords=ax.get_yaxis_transform(),
                xytext=(-1, 0.5),
            )
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("eigen-direction $j$")
        if note:
            ax.text(0.98, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=7)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        legend_below(fig)
        pin_to_figure_size(fig)
    return fig


def draw_unboundedness(
    curves: Sequence[Mapping[str, Any]], *, ylim: tuple[float, float] | None = None, title=None
):
    """Log-likelihood per point against the decoder variance sigma^2 (log x axis). Column width.

    Each curve: ``label``, ``noise_variances``, ``log_likelihood`` (measured: markers + thin line;
    markers only where the curve has a theory line), optional ``elbo`` (measured ELBO at the
    optimal encoder: open squares), optional
    ``theory_noise_variances`` / ``theory`` / ``theory_label`` (a thick theory line), optional
    ``optimum`` (sigma^2_ML, a star at the curve's maximum) and ``below_label``. A curve and its
    ELBO share one legend entry (both markers, labelled with the part of ``label`` before a colon).
    Curves take greys (:func:`~vaetheory.plots.style.ordinal_colors`) in the order given. With
    ``ylim``, log-likelihood values below the axes are marked by downward triangles on the bottom
    edge (labelled ``below_label``), so a cut curve is visibly cut.
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
                    zorder=2,
                    **THEORY_LINE,
                )
            if c.get("optimum") is not None:
                t = np.asarray(c["noise_variances"], dtype=np.float64)
                best = float(np.max(np.asarray(c["log_likelihood"], dtype=np.float64)))
                ax.plot(
                    [c["optimum"]], [best], "*", color=color, markersize=7, zorder=5, label=c["optimum_label"]
                )
        ax.set_xscale("log")
        ax.set_xlabel("decoder noise variance $\\sigma^2$")
        ax.set_ylabel("log-likelihood per point (nats)")
        if title:
            ax.set_title(title)
        handles, labels = ax.get_legend_handles_labels()
        merged_h, merged_l = [], []
        for h, lab in zip(handles, labels):
            partner = next((c for c in curves if c.get("elbo") is not None and c["label"] == lab), None)
            elbo_label = None if partner is None else partner.get("elbo_label", "ELBO at optimal encoder")
            if elbo_label is not None and elbo_label in labels:
                merged_h.append((h, handles[labels.index(elbo_label)]))
                merged_l.append(lab.split(":")[0] if ":" in lab else lab)
            elif not any(
                c.get("elbo") is not None and c.get("elbo_label", "ELBO at optimal encoder") == lab
                for c in curves
            ):
                if lab not in merged_l:
                    merged_h.append(h)
                    merged_l.append(lab)
        legend_below(fig, merged_h, merged_l)
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
    latent_color, noise_color = THEORY_COLOR, THEORY_COLOR
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
            **PREDICTION_LINE,
        )
        ax.axhline(total_variance, color=NEUTRAL_COLOR, label="total: tr $S$", **BOUND_LINE)
        ax.set_xlabel("latent size $q$")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.08 * float(total_variance))
        if title:
            ax.set_title(title)
        legend_below(fig)
        pin_to_figure_size(fig)
    return fig
