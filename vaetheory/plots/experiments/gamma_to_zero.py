"""The ``gamma-to-zero`` experiment's figure (``vaetheory experiment gamma-to-zero``); computes nothing.

Three panels: (a) log gamma against Adam steps; (b) the active latent dimensions against steps with
r dashed; (c) the ELBO against -log gamma (markers), the least-squares line over the fit window
(thin solid) and the theory's slope (d - r)/2 through the window's last point (thick translucent).
"""

from __future__ import annotations

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    MEASURED_MARKERS,
    THEORY_COLOR,
    THEORY_LINE,
    legend_below,
    new_figure,
    pin_to_figure_size,
    policy_color,
    policy_gid,
    style,
)


def draw_gamma_to_zero(records: list[dict], *, title: str | None = None):
    """The figure of the module docstring from the run records (``result["details"]``)."""
    with style():
        fig, (ax_g, ax_a, ax_e) = new_figure("page", aspect=0.42, ncols=3, layout="constrained")
        for r in records:
            colour, gid = policy_color(r["policy"]), policy_gid(r["policy"])
            pts = [p for p in r["curve"] if p["step"] > 0]
            steps = [p["step"] for p in pts]
            ax_g.plot(
                steps, [p["log_gamma"] for p in pts], color=colour, gid=gid, label="measured", **MEASURED_LINE
            )
            ax_a.plot(
                steps,
                [p["active"] for p in pts],
                color=colour,
                gid=gid,
                **{**MEASURED_LINE, "drawstyle": "steps-post"},
            )
            ax_a.axhline(
                r["manifold_dim"],
                color=THEORY_COLOR,
                label=f"manifold dimension r = {r['manifold_dim']} (b)",
                **BOUND_LINE,
            )
            ax_a.set_ylim(-0.3, r["latent"] + 0.3)
            ax_a.set_yticks(range(r["latent"] + 1))
            fit = r.get("rate_fit")
            e_pts = [p for p in pts if p["elbo"] is not None]
            ax_e.plot(
                [-p["log_gamma"] for p in e_pts],
                [p["elbo"] for p in e_pts],
                color=colour,
                gid=gid,
                **MEASURED_MARKERS,
            )
            if fit is not None:
                t0, t1 = fit["neg_log_gamma_range"]
                ax_e.plot(
                    [t0, t1],
                    [fit["intercept"] + fit["slope"] * t0, fit["intercept"] + fit["slope"] * t1],
                    color=colour,
                    gid=gid,
                    linestyle="-",
                    linewidth=1.0,
                    label=f"fitted slope {fit['slope']:.2f} (c)",
                )
                y1 = fit["intercept"] + fit["slope"] * t1
                slope = r["predicted_rate"]
                span = t1 - t0
                ax_e.plot(
                    [t1 - span, t1],
                    [y1 - slope * span, y1],
                    color=THEORY_COLOR,
                    label=f"theory slope (d - r)/2 = {slope:g} (c)",
                    **THEORY_LINE,
                )
        for ax in (ax_g, ax_a):
            ax.set_xscale("log")
            ax.set_xlabel("Adam step")
        ax_g.set_ylabel(r"$\log\gamma$ (shared variance)")
        ax_g.set_title("(a)", loc="left")
        ax_a.set_ylabel(r"active dimensions ($A_u>0.01$)")
        ax_a.set_title("(b)", loc="left")
        ax_e.set_xlabel(r"$-\log\gamma$")
        ax_e.set_ylabel("ELBO (nats per point)")
        ax_e.set_title("(c)", loc="left")
        legend_below(fig)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig


__all__ = ["draw_gamma_to_zero"]
