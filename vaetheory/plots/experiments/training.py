"""Drawing of the ``unbounded-training`` and ``floors`` figures (``vaetheory experiment``); computes nothing.

Each function takes the plain records an experiment wrote (``DIR/runs/<name>.json``, or the
``details`` its ``run`` returns) and returns a matplotlib figure in the package style
(:mod:`vaetheory.plots.style`): measurements as thin solid lines with markers, bounds (a floor's
:math:`-\\tfrac d2\\log(2\\pi\\xi)`, the floor :math:`\\xi` itself) dashed, a floor in the colour of
its :math:`\\xi` (:func:`~vaetheory.plots.style.xi_color`, the same in every figure), the learned
variance in the learned policy's colour, one compact legend below the panels, no titles (the
caption goes to the sidecar: the studies' ``caption(result)``).
"""

from __future__ import annotations

from matplotlib.lines import Line2D

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    NEUTRAL_COLOR,
    THEORY_COLOR,
    direct_label,
    legend_below,
    new_figure,
    pin_to_figure_size,
    policy_color,
    policy_gid,
    power_of_ten,
    style,
    xi_color,
    xi_gid,
    xi_label,
)

#: learned runs at other Adam rates than the floors' (shades of the learned vermillion, each >= 3:1
#: on white): smaller rates darker, a larger rate lighter
LEARNED_SMALLER = ("#8C2D04", "#5A1D02")
LEARNED_LARGER = "#E0703A"
#: learned variance on RAW digits: a neutral grey (no policy's colour), square markers
RAW_COLOR = NEUTRAL_COLOR
#: one colour per floor method in the floors figure: none is a policy's colour (style.POLICY_COLORS:
#: a method is not a policy) nor a floor's blue (style.xi_color); each >= 3:1 on white, and each
#: method has its own marker too
FLOOR_METHOD_COLORS = {
    "clamp": "#5D3A9B",  # purple
    "softclip": "#469990",  # grey teal
    "softplus": "#9A6324",  # brown
    "gaussian_nll": "#800000",  # maroon
}
FLOOR_METHOD_MARKERS = {"clamp": "o", "softclip": "s", "softplus": "^", "gaussian_nll": "D"}
_LR_MARKERS = ("o", "^", "v", "D")  # squares are the raw-digits run's


def _lr(value: float) -> str:
    return f"{value:.0e}".replace("e-0", "e-")


def _run_styles(records: list[dict]) -> dict[str, dict]:
    """Colour, gid, marker and label per run of the unbounded-training experiment."""
    floor_lrs = {r["lr"] for r in records if r["floor"] is not None}
    main_lr = min(floor_lrs) if floor_lrs else None
    learned = sorted({r["lr"] for r in records if r["floor"] is None and r["data"] == "dequantised"})
    if main_lr is None and learned:
        main_lr = learned[-1]
    smaller = [lr for lr in learned if lr < main_lr][::-1]  # nearest the main rate first
    styles = {}
    for r in records:
        if r["floor"] is not None:
            styles[r["name"]] = {
                "color": xi_color(r["floor"]),
                "gid": xi_gid(r["floor"]),
                "marker": "o",
                "label": None,  # one legend entry for all floors (below), direct labels on the bounds
            }
        elif r["data"] == "raw":
            styles[r["name"]] = {
                "color": RAW_COLOR,
                "gid": None,
                "marker": "s",
                "label": f"learned, RAW digits, lr {_lr(r['lr'])}",
            }
        else:
            if r["lr"] == main_lr:
                colour, gid = policy_color("learned"), policy_gid("learned")
            elif r["lr"] < main_lr:
                colour, gid = LEARNED_SMALLER[min(smaller.index(r["lr"]), len(LEARNED_SMALLER) - 1)], None
            else:
                colour, gid = LEARNED_LARGER, None
            styles[r["name"]] = {
                "color": colour,
                "gid": gid,
                "marker": "o"
                if r["lr"] == main_lr
                else _LR_MARKERS[1:][[lr for lr in learned if lr != main_lr].index(r["lr"]) % 3],
                "label": f"learned, lr {_lr(r['lr'])}",
            }
    return styles


def _steps(r: dict, key: str):
    pts = [(p["step"], p[key]) for p in r["curve"] if p["step"] > 0 and p.get(key) is not None]
    return [s for s, _ in pts], [v for _, v in pts]


def draw_unbounded_training(records: list[dict], *, title: str | None = None):
    """Three panels against Adam steps (log axis). (a) Whole training set: mean log-likelihood
    (solid, filled markers) and the largest point (thin solid, open markers), each floor's bound
    dashed in its xi's colour and labelled. (b) Held-out mean (symlog axis). (c) Smallest decoder
    variance over the training points, each floor dashed. A run that broke down ends in a cross.
    ``title`` is drawn only if given (the caption goes to the sidecar). Page width."""
    styles = _run_styles(records)
    floored = sorted((r for r in records if r["floor"] is not None), key=lambda r: -r["floor"])
    with style():
        fig, axes = new_figure("page", aspect=0.55, ncols=3, layout="constrained")
        ax_tr, ax_ho, ax_var = axes
        # raw digits first (underneath), then the floors, the learned runs on top
        order = sorted(records, key=lambda r: (r["data"] != "raw", r["floor"] is None))
        for r in order:
            st = styles[r["name"]]
            kw = {"color": st["color"], "gid": st["gid"]}
            line = {**MEASURED_LINE, "marker": st["marker"], "markersize": 2.8}
            s, v = _steps(r, "train_loglik")
            ax_tr.plot(s, v, label=st["label"], **kw, **line)
            s2, v2 = _steps(r, "train_loglik_max")
            ax_tr.plot(s2, v2, **kw, **{**line, "linewidth": 0.6, "mfc": "white", "markersize": 2.6})
            s3, v3 = _steps(r, "heldout_loglik")
            ax_ho.plot(s3, v3, **kw, **line)
            s4, v4 = _steps(r, "min_variance")
            ax_var.plot(s4, v4, **kw, **line)
            if r["stopped"] is not None:
                for ax, (xs, ys) in ((ax_tr, (s, v)), (ax_ho, (s3, v3)), (ax_var, (s4, v4))):
                    if xs:
                        ax.plot(xs[-1], ys[-1], marker="x", markersize=6, linestyle="none", **kw)
        first = min((p["step"] for r in records for p in r["curve"] if p["step"] > 0), default=1)
        for r in floored:
            colour, gid = xi_color(r["floor"]), xi_gid(r["floor"])
            ax_tr.axhline(r["bound"], color=colour, gid=gid, **BOUND_LINE)
            direct_label(ax_tr, first, r["bound"], xi_label(r["floor"]), colour, va="bottom", xytext=(0, 1))
            ax_var.axhline(r["floor"], color=colour, gid=gid, **BOUND_LINE)
            # the floors' blues are close: name each floored run at its last point
            s, v = _steps(r, "train_loglik")
            if s:
                direct_label(ax_tr, s[-1], v[-1], xi_label(r["floor"]), colour, fontsize=7)
        handles, labels = ax_tr.get_legend_handles_labels()
        if floored:
            method = floored[0]["floor_method"]
            handles.append(
                tuple(Line2D([], [], color=xi_color(r["floor"]), **MEASURED_LINE) for r in floored)
            )
            labels.append(
                f"{method} floors " + r"$\xi$ = " + ", ".join(power_of_ten(r["floor"]) for r in floored)
            )
            handles.append(tuple(Line2D([], [], color=xi_color(r["floor"]), **BOUND_LINE) for r in floored))
            labels.append(r"bound $-\frac{d}{2}\log(2\pi\xi)$ (a), floor $\xi$ (c)")
        handles.append(
            Line2D([], [], color=THEORY_COLOR, **{**MEASURED_LINE, "linewidth": 0.6, "mfc": "white"})
        )
        labels.append("largest training point (open)")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel("Adam step")
        ax_tr.set_ylabel(r"$L_k$ per point (nats)")
        ax_tr.set_title("(a)", loc="left")
        ax_ho.set_title("(b)", loc="left")
        # a symlog axis only when the held-out values reach past -100 nats (else its ticks are odd)
        low = min((y for line in ax_ho.get_lines() for y in line.get_ydata()), default=0.0)
        if low < -100.0:
            ax_ho.set_yscale("symlog", linthresh=100.0)
        ax_ho.set_ylabel(r"held-out mean $L_k$ (nats" + (", symlog)" if low < -100.0 else ")"))
        ax_var.set_yscale("log")
        ax_var.set_ylabel(r"smallest decoder variance $\sigma^2$")
        ax_var.set_title("(c)", loc="left")
        legend_below(fig, handles, labels)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig


def draw_floors(records: list[dict], *, title: str | None = None):
    """Three panels against the floor xi (log axis), one line per floor method: (a) held-out
    log-likelihood at the end; (b) the largest training log-likelihood over all evaluated steps,
    the bound dashed; (c) the smallest unfloored variance (what the head asks for), sigma^2 = xi
    dashed. ``title`` is drawn only if given. Page width."""
    methods = sorted(
        {r["floor_method"] for r in records},
        key=lambda m: list(FLOOR_METHOD_COLORS).index(m) if m in FLOOR_METHOD_COLORS else 99,
    )
    with style():
        fig, axes = new_figure("page", aspect=0.42, ncols=3, layout="constrained")
        ax_ho, ax_max, ax_var = axes
        for m in methods:
            rs = sorted((r for r in records if r["floor_method"] == m), key=lambda r: r["floor"])
            xi = [r["floor"] for r in rs]
            kw = dict(MEASURED_LINE, marker=FLOOR_METHOD_MARKERS.get(m, "o"), markersize=3.5)
            colour = FLOOR_METHOD_COLORS.get(m, THEORY_COLOR)
            ax_ho.plot(xi, [r["final"]["heldout_loglik"] for r in rs], color=colour, label=m, **kw)
            ax_max.plot(xi, [r["train_loglik_max_all"] for r in rs], color=colour, **kw)
            ax_var.plot(xi, [r["final"]["min_unfloored_variance"] for r in rs], color=colour, **kw)
        grid = sorted({r["floor"] for r in records})
        bounds = [next(r["bound"] for r in records if r["floor"] == x) for x in grid]
        ax_max.plot(
            grid, bounds, color=THEORY_COLOR, label=r"bound $-\frac{d}{2}\log(2\pi\xi)$", **BOUND_LINE
        )
        ax_var.plot(grid, grid, color=THEORY_COLOR, label=r"$\sigma^2=\xi$ (the floor)", **BOUND_LINE)
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlabel(r"floor $\xi$ (a variance)")
        ax_ho.set_ylabel("held-out mean $L_k$ (nats)")
        ax_ho.set_title("(a)", loc="left")
        ax_max.set_ylabel("largest training $L_k$ (nats)")
        ax_max.set_title("(b)", loc="left")
        ax_var.set_yscale("log")
        ax_var.set_ylabel("smallest unfloored variance")
        ax_var.set_title("(c)", loc="left")
        handles, labels = [], []
        for ax in axes:
            h, lab = ax.get_legend_handles_labels()
            handles += h
            labels += lab
        legend_below(fig, handles, labels)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig


__all__ = ["draw_floors", "draw_unbounded_training"]
