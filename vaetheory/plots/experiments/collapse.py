"""The ``collapse`` experiment's figure (``vaetheory experiment collapse``); computes nothing.

:func:`draw_collapse` takes the records the experiment returns (``result["details"]``: one record
per trained run, ``kind`` ``"run"``, and the linear theory's curves, ``kind`` ``"linear-theory"``,
one per latent size) and draws, one row per latent size ``q``: (a) active units against the
collapse threshold beta sigma^2, (b) the total KL against it. Theory thick and translucent,
sigma^2_ML dashed, runs as markers (filled where the prediction is decided, open otherwise).
"""

from __future__ import annotations

from matplotlib.lines import Line2D

from vaetheory.plots.style import (
    BOUND_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    legend_below,
    new_figure,
    policy_color,
    policy_gid,
    style,
)

#: marker, colour (the policy's: both grids are policy ``fixed``) and legend label of each family
FAMILIES = {
    "beta": ("o", policy_color("fixed"), r"fixed $\sigma$ = 1, $\beta$ on the grid"),
    "sigma2": ("s", policy_color("fixed"), r"fixed $\sigma^2$ on the grid, $\beta$ = 1"),
    "learned": ("*", policy_color("shared"), r"learned shared $\sigma^2$, at its value"),
}
SIGMA2_ML_COLOR = "#5E5E5E"


def _markers(ax, runs: list[dict], key: str) -> None:
    for family, (marker, colour, _label) in FAMILIES.items():
        for decided in (True, False):
            pts = [
                (r["threshold"], r[key])
                for r in runs
                if r["family"] == family and r["decided"] == decided and r[key] is not None
            ]
            if not pts:
                continue
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                linestyle="none",
                marker=marker,
                markersize=7.5 if family == "learned" else 4.0,
                markeredgewidth=1.0,
                color=colour,
                markerfacecolor=colour if decided else "white",
                zorder=4 if family == "learned" else 3,
                gid=policy_gid("shared" if family == "learned" else "fixed"),
            )


def draw_collapse(records: list[dict]):
    """Rows: latent sizes; columns: (a) active units, (b) total KL (nats), against beta sigma^2 (log axis)."""
    curves = sorted((r for r in records if r.get("kind") == "linear-theory"), key=lambda c: c["q"])
    runs = [r for r in records if r.get("kind", "run") == "run" and r["threshold"] is not None]
    rows = max(1, len(curves))
    with style():
        fig, axes = new_figure(
            "page", aspect=0.36 * rows + 0.1, nrows=rows, ncols=2, squeeze=False, layout="constrained"
        )
        for i, c in enumerate(curves):
            ax_au, ax_kl = axes[i]
            q = c["q"]
            mine = [r for r in runs if r["q"] == q]
            ax_au.step(c["thresholds"], c["active_units"], where="post", color=THEORY_COLOR, **THEORY_LINE)
            ax_kl.plot(c["thresholds"], c["kl_total"], color=THEORY_COLOR, **THEORY_LINE)
            for ax in (ax_au, ax_kl):
                ax.axvline(c["sigma2_ml"], color=SIGMA2_ML_COLOR, **BOUND_LINE)
                ax.set_xscale("log")
                ax.set_xlim(c["thresholds"][0], c["thresholds"][-1])
            _markers(ax_au, mine, "active_units")
            _markers(ax_kl, mine, "kl_total")
            ax_au.set_ylim(-0.06 * q - 0.1, 1.08 * q + 0.1)
            ax_au.set_ylabel(f"active units, q = {q}")
            ax_kl.set_ylabel(f"KL (nats), q = {q}")
            from matplotlib.ticker import MaxNLocator

            ax_au.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax_au.set_title(f"({'abcdefgh'[2 * i]})", loc="left")
            ax_kl.set_title(f"({'abcdefgh'[2 * i + 1]})", loc="left")
            if i == len(curves) - 1:
                for ax in (ax_au, ax_kl):
                    ax.set_xlabel(r"collapse threshold $\beta\sigma^2$ (a variance)")
        handles = [
            Line2D([], [], color=THEORY_COLOR, **THEORY_LINE),
            Line2D([], [], color=SIGMA2_ML_COLOR, **BOUND_LINE),
        ]
        labels = [
            r"linear VAE: $\min(q, \#\{l_j > \beta\sigma^2\})$, its KL",
            r"$\sigma^2_{ML}(q)$ (learned, linear)",
        ]
        for marker, colour, label in FAMILIES.values():
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=marker,
                    color=colour,
                    markersize=6 if marker == "*" else 4,
                )
            )
            labels.append(label)
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                color=THEORY_COLOR,
                markerfacecolor="white",
                markersize=4,
            )
        )
        labels.append(r"open: an $l_j$ within 20% of $\beta\sigma^2$")
        legend_below(fig, handles, labels)
    return fig


__all__ = ["draw_collapse"]
