"""The ``sigma-vae`` experiment's figure (``vaetheory experiment sigma-vae``); computes nothing.

Three panels against the decoder std sigma (log axis): (a) the training ELBO (circles) and the
held-out L_k (squares); (b) the reconstruction MSE with the calibration line MSE = sigma^2; (c) the
total variance of ancestral samples over the data's, with the pPCA identity 1. The fixed grid is a
solid line with markers; the shared and calibrated runs are single markers at the sigma each settles
at, marked by a thin vertical line in their colour.
"""

from __future__ import annotations

import math

from vaetheory.plots.style import (
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

_LABELS = {
    "shared": r"shared learned $\sigma$ (vertical line: its value)",
    "calibrated": r"calibrated $\sigma^{*2}=$MSE (vertical line: its value)",
}
_MARKERS = {"shared": "D", "calibrated": "^"}


def _sigma(r: dict) -> float | None:
    s2 = r["final"]["sigma2"] if r.get("final") else None
    return None if s2 is None else math.sqrt(s2)


def draw_sigma_vae(records: list[dict], *, title: str | None = None):
    """The figure of the module docstring from the run records (``result["details"]``)."""
    fixed = sorted(
        (r for r in records if r["policy"] == "fixed" and r.get("final")), key=lambda r: r["sigma"]
    )
    learned = [r for r in records if r["policy"] in ("shared", "calibrated") and r.get("final")]
    with style():
        fig, (ax_elbo, ax_mse, ax_var) = new_figure("page", aspect=0.42, ncols=3, layout="constrained")
        colour = policy_color("fixed")
        grid = [r["sigma"] for r in fixed]

        def series(key):
            return [r["final"][key] for r in fixed]

        ax_elbo.plot(
            grid,
            series("elbo"),
            color=colour,
            gid=policy_gid("fixed"),
            label="fixed sigma: ELBO",
            **MEASURED_LINE,
        )
        ax_elbo.plot(
            grid,
            series("heldout_loglik"),
            color=colour,
            gid=policy_gid("fixed"),
            label=r"fixed sigma: held-out $L_k$",
            **{**MEASURED_LINE, "marker": "s", "mfc": "white", "markersize": 3.0},
        )
        ax_mse.plot(grid, series("recon_mse"), color=colour, gid=policy_gid("fixed"), **MEASURED_LINE)
        ax_var.plot(
            grid,
            [r["samples"]["sample_variance_ratio"] for r in fixed],
            color=colour,
            gid=policy_gid("fixed"),
            **MEASURED_LINE,
        )
        xs = list(grid)
        for r in learned:
            s = _sigma(r)
            if s is None:
                continue
            xs.append(s)
            c, gid = policy_color(r["policy"]), policy_gid(r["policy"])
            mk = {**MEASURED_MARKERS, "marker": _MARKERS[r["policy"]], "markersize": 4.5}
            ax_elbo.plot([s], [r["final"]["elbo"]], color=c, gid=gid, label=_LABELS[r["policy"]], **mk)
            ax_elbo.plot([s], [r["final"]["heldout_loglik"]], color=c, gid=gid, **{**mk, "mfc": "white"})
            ax_mse.plot([s], [r["final"]["recon_mse"]], color=c, gid=gid, **mk)
            ax_var.plot([s], [r["samples"]["sample_variance_ratio"]], color=c, gid=gid, **mk)
            for ax in (ax_elbo, ax_mse, ax_var):
                ax.axvline(s, color=c, gid=gid, linestyle="-", linewidth=0.7)
        lo, hi = min(xs) / 1.3, max(xs) * 1.3
        line = [lo * (hi / lo) ** (i / 40) for i in range(41)]
        ax_mse.plot(
            line,
            [v * v for v in line],
            color=THEORY_COLOR,
            label=r"calibration MSE $=\sigma^2$ (b)",
            **THEORY_LINE,
        )
        ax_var.plot(
            [lo, hi], [1.0, 1.0], color=THEORY_COLOR, label="pPCA identity: ratio 1 (c)", **THEORY_LINE
        )
        for ax in (ax_elbo, ax_mse, ax_var):
            ax.set_xscale("log")
            ax.set_xlim(lo, hi)
            ax.set_xlabel(r"decoder std $\sigma$")
        ax_elbo.set_ylabel("nats per point (symlog)")
        ax_elbo.set_yscale("symlog", linthresh=10.0)
        ax_elbo.set_title("(a)", loc="left")
        ax_mse.set_yscale("log")
        ax_mse.set_ylabel("reconstruction MSE")
        ax_mse.set_title("(b)", loc="left")
        ax_var.set_yscale("log")
        ax_var.set_ylabel("sample / data total variance")
        ax_var.set_title("(c)", loc="left")
        handles, labels = [], []
        for ax in (ax_elbo, ax_mse, ax_var):
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        legend_below(fig, handles, labels, ncol=3)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig


__all__ = ["draw_sigma_vae"]
