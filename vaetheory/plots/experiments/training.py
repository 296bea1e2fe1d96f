"""Drawing of the experiments' figures (``vaetheory experiment``); computes nothing.

Each function takes the plain records an experiment wrote (``DIR/runs/<name>.json``) and returns a
matplotlib figure in the package style (:mod:`vaetheory.plots.style`): measurements as thin lines
with markers, bounds dashed, one legend below the panels.
"""

from __future__ import annotations

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    OKABE_ITO,
    THEORY_COLOR,
    floor_color,
    new_figure,
    policy_color,
    style,
)

#: shades of the learned policy's vermillion for several learning rates (light = small step)
LEARNED_SHADES = ("#F4A582", "#E0703A", "#D55E00", "#8C2D04", "#5A1D02")
RAW_COLOR = OKABE_ITO["reddish_purple"]
FLOOR_METHOD_COLORS = {
    "clamp": OKABE_ITO["blue"],
    "softclip": OKABE_ITO["bluish_green"],
    "softplus": OKABE_ITO["orange"],
    "gaussian_nll": OKABE_ITO["vermillion"],
}


def _run_styles(records: list[dict]) -> dict[str, dict]:
    """Colour, label and line style per run of the unbounded-training experiment."""
    learned = sorted({r["lr"] for r in records if r["floor"] is None and r["data"] == "dequantised"})
    styles, fi = {}, 0
    for r in records:
        if r["floor"] is not None:
            colour = floor_color(fi)
            fi += 1
            label = rf"floor $\xi$ = {r['floor']:g} ({r['floor_method']}), lr {r['lr']:g}"
        elif r["data"] == "raw":
            colour, label = RAW_COLOR, f"learned, RAW digits, lr {r['lr']:g}"
        else:
            i = learned.index(r["lr"])
            shades = {2: ("#F4A582", "#D55E00"), 3: ("#F4A582", "#D55E00", "#8C2D04")}.get(
                len(learned), LEARNED_SHADES
            )
            colour = shades[i % len(shades)] if len(learned) > 1 else policy_color("learned")
            label = f"learned, lr {r['lr']:g}"
        styles[r["name"]] = {"color": colour, "label": label}
    return styles


def _steps(r: dict, key: str):
    pts = [(p["step"], p[key]) for p in r["curve"] if p["step"] > 0 and p[key] is not None]
    return [s for s, _ in pts], [v for _, v in pts]


def draw_unbounded_training(records: list[dict], *, title: str | None = None):
    """Three panels against Adam steps (log axis): training log-likelihood (mean, and the largest
    point dotted) with each floor's bound dashed; held-out mean; smallest decoder variance with
    the floors dashed. A stopped run ends in a cross."""
    styles = _run_styles(records)
    with style():
        fig, axes = new_figure("page", aspect=0.42, ncols=3)
        ax_tr, ax_ho, ax_var = axes
        for r in records:
            st = styles[r["name"]]
            s, v = _steps(r, "train_loglik")
            ax_tr.plot(s, v, color=st["color"], label=st["label"], **MEASURED_LINE)
            s2, v2 = _steps(r, "train_loglik_max")
            ax_tr.plot(s2, v2, color=st["color"], linestyle=":", linewidth=0.9)
            s3, v3 = _steps(r, "heldout_loglik")
            ax_ho.plot(s3, v3, color=st["color"], **MEASURED_LINE)
            s4, v4 = _steps(r, "min_variance")
            ax_var.plot(s4, v4, color=st["color"], **MEASURED_LINE)
            if r["floor"] is not None:
                ax_tr.axhline(r["bound"], color=st["color"], **BOUND_LINE)
                ax_var.axhline(r["floor"], color=st["color"], **BOUND_LINE)
            if r["stopped"] is not None and s:
                for ax, (xs, ys) in ((ax_tr, (s, v)), (ax_ho, (s3, v3)), (ax_var, (s4, v4))):
                    if xs:
                        ax.plot(xs[-1], ys[-1], marker="x", color=st["color"], markersize=6, linestyle="none")
        ax_tr.plot(
            [], [], color=THEORY_COLOR, label=r"bound $-\frac{d}{2}\log(2\pi\xi)$ / floor $\xi$", **BOUND_LINE
        )
        ax_tr.plot([], [], color=THEORY_COLOR, label="training mean / held-out mean", **MEASURED_LINE)
        ax_tr.plot([], [], color=THEORY_COLOR, linestyle=":", linewidth=0.9, label="largest training point")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel("Adam step")
        ax_tr.set_ylabel("log-likelihood (nats per point)")
        ax_tr.set_title("(a) training set")
        ax_ho.set_title("(b) held-out set (mean)")
        ax_ho.set_yscale("symlog", linthresh=100.0)
        ax_ho.set_ylabel("log-likelihood (nats, symlog axis)")
        ax_var.set_yscale("log")
        ax_var.set_ylabel(r"smallest decoder variance $\sigma^2$")
        ax_var.set_title("(c) smallest variance, training points")
        handles, labels = ax_tr.get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.02), fontsize=6.5)
        if title:
            fig.suptitle(title, fontsize=8.5)
        fig.tight_layout(rect=(0, 0.14, 1, 0.95 if title else 1))
    return fig


def draw_floors(records: list[dict], *, title: str | None = None):
    """Three panels against the floor xi (log axis), one line per floor method: held-out
    log-likelihood; the largest training log-likelihood with the bound dashed; the smallest
    unfloored variance (what the head asks for) with y = xi dashed."""
    methods = sorted({r["floor_method"] for r in records}, key=list(FLOOR_METHOD_COLORS).index)
    with style():
        fig, axes = new_figure("page", aspect=0.42, ncols=3)
        ax_ho, ax_max, ax_var = axes
        markers = {"clamp": "o", "softclip": "s", "softplus": "^", "gaussian_nll": "D"}
        for m in methods:
            rs = sorted((r for r in records if r["floor_method"] == m), key=lambda r: r["floor"])
            xi = [r["floor"] for r in rs]
            kw = dict(MEASURED_LINE, marker=markers.get(m, "o"), markersize=3.5)
            colour = FLOOR_METHOD_COLORS.get(m, THEORY_COLOR)
            ax_ho.plot(xi, [r["final"]["heldout_loglik"] for r in rs], color=colour, label=m, **kw)
            ax_max.plot(xi, [r["train_loglik_max_all"] for r in rs], color=colour, **kw)
            ax_var.plot(xi, [r["final"]["min_unfloored_variance"] for r in rs], color=colour, **kw)
        grid = sorted({r["floor"] for r in records})
        bounds = [next(r["bound"] for r in records if r["floor"] == x) for x in grid]
        ax_max.plot(
            grid, bounds, color=THEORY_COLOR, label=r"bound $-\frac{d}{2}\log(2\pi\xi)$", **BOUND_LINE
        )
        ax_var.plot(
            grid, grid, color=THEORY_COLOR, label=r"$\sigma^2=\xi$ (the floor)", linestyle=":", linewidth=1.1
        )
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel(r"floor $\xi$ on the decoder variance")
        ax_ho.set_ylabel("log-likelihood (nats per point)")
        ax_ho.set_title("(a) held-out, end of training")
        ax_max.set_ylabel("log-likelihood (nats)")
        ax_max.set_title("(b) largest training point")
        ax_var.set_yscale("log")
        ax_var.set_ylabel("smallest unfloored variance")
        ax_var.set_title("(c) what the variance head asks for")
        handles, labels = [], []
        for ax in axes:
            h, lab = ax.get_legend_handles_labels()
            handles += h
            labels += lab
        fig.legend(handles, labels, loc="lower center", ncol=6, bbox_to_anchor=(0.5, -0.01), fontsize=6.5)
        if title:
            fig.suptitle(title, fontsize=8.5)
        fig.tight_layout(rect=(0, 0.09, 1, 0.95 if title else 1))
    return fig


__all__ = ["draw_floors", "draw_unbounded_training"]
