"""Drawings for the empirical (PyTorch) module. They draw result values and compute nothing.

* :func:`draw_blowup` -- the explicit construction: exact log-likelihood of the exploding point
  against the sequence index k, unfloored and for each floor (measured: solid with markers), each
  floor's bound :math:`-(d/2)\\log(2\\pi\\xi)` dashed in the floor's colour, the theory's asymptote
  :math:`dk/2-(d/2)\\log 2\\pi-\\log 2` thick and translucent, and an inset on the smallest floor's
  plateau that shows the log 2 gap below its bound.
* :func:`draw_training_runs` -- the unboundedness plot of training runs. From whole-set estimates
  (series with ``train_loglik``; the catalogue's ``empirical_training``): the mean and the largest
  per-point :math:`L_k` over the WHOLE training set with each floor's bound dashed, the held-out
  mean, and the smallest decoder variance, against the step (:func:`draw_training_whole_set`).
  From a trainer's log (``vaetheory train``: series with only ``max_point_loglik``): the largest
  per-point one-sample ELBO in the batch, labelled as such, and the smallest variance.

Colours come from :mod:`vaetheory.plots.style`: a policy's colour key, a floor's xi.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    NEUTRAL_COLOR,
    THEORY_COLOR,
    THEORY_LINE,
    direct_label,
    legend_below,
    new_figure,
    pin_to_figure_size,
    policy_color,
    policy_gid,
    style,
    xi_color,
    xi_gid,
    xi_label,
)

BOUND_LABEL = r"$-\frac{d}{2}\log(2\pi\xi)$"


def _xi_label(xi: float) -> str:  # kept for older callers
    return xi_label(xi)


def _floored(run: Mapping[str, Any]) -> bool:
    """Whether a series is a floored policy's (its ``floored`` key; sidecars before it: policy ``floor``)."""
    return bool(run.get("floored", run["policy"] == "floor"))


def draw_blowup(
    ks: Sequence[float],
    runs: Sequence[Mapping[str, Any]],
    asymptote: Sequence[float],
    *,
    dim: int,
    title: str | None = None,
    inset: bool = True,
):
    """Exact log p of the exploding point against k (the construction of theory section 2).

    ``runs``: dicts with ``floor`` (None for unfloored), ``bound`` and ``loglik`` (one per k) and
    optionally ``others_max_loglik``; ``asymptote``: the theory line for the unfloored run. The
    floored curves equal the unfloored one until they reach their floor; the unfloored curve is
    drawn on top (open circles) so that it stays visible there. ``title`` is drawn only if given
    (the catalogue puts it in the caption). Column width.
    """
    k = np.asarray(ks, dtype=np.float64)
    with style():
        fig, ax = new_figure("column", aspect=0.95, layout="constrained")
        ax.plot(
            k,
            asymptote,
            color=THEORY_COLOR,
            **THEORY_LINE,
            label="theory (asymptote)",
        )
        floored = [r for r in runs if r["floor"] is not None]
        unfloored = [r for r in runs if r["floor"] is None]
        for run in sorted(floored, key=lambda r: -r["floor"]):
            xi = run["floor"]
            color = xi_color(xi)
            ax.plot(k, run["loglik"], color=color, gid=xi_gid(xi), **{**MEASURED_LINE, "markersize": 2.0})
            if run.get("bound") is not None:
                ax.axhline(run["bound"], color=color, gid=xi_gid(xi), **BOUND_LINE)
                direct_label(ax, k[0], run["bound"], xi_label(xi), color, va="bottom", xytext=(0, 1))
        for run in unfloored:
            ax.plot(
                k,
                run["loglik"],
                color=policy_color("learned"),
                gid=policy_gid("learned"),
                zorder=4,
                **{**MEASURED_LINE, "markersize": 3.2, "mfc": "white", "linewidth": 0.9},
                label="no floor",
            )
        others = runs[0].get("others_max_loglik") if runs else None
        if others:
            ax.plot(
                k,
                others,
                color=NEUTRAL_COLOR,
                **{**MEASURED_LINE, "marker": "s", "markersize": 1.8},
                label="best other point",
            )
        if floored:
            handle = tuple(Line2D([], [], color=xi_color(r["floor"]), **BOUND_LINE) for r in floored)
            legend_handles = [handle]
            legend_labels = [rf"bound {BOUND_LABEL}"]
        else:
            legend_handles, legend_labels = [], []
        ax.set_xlabel(r"sequence index $k$")
        ax.set_ylabel(r"exact $\log p(x_1)$ (nats)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(k.min() - 0.3, k.max() + 0.3)
        if title:
            ax.set_title(title)
        handles, labels = ax.get_legend_handles_labels()
        legend_below(fig, handles + legend_handles, labels + legend_labels)
        if inset and floored:
            _gap_inset(ax, k, min(floored, key=lambda r: -r["floor"]))
        pin_to_figure_size(fig)
    return fig


def _gap_inset(ax, k: np.ndarray, run: Mapping[str, Any]) -> None:
    """An inset on one floor's plateau: the measured log p against its bound, the gap written out."""
    loglik = np.asarray(run["loglik"], dtype=np.float64)
    bound = float(run["bound"])
    plateau = loglik > bound - 3.0
    if plateau.sum() < 2:
        return
    color = xi_color(run["floor"])
    inset = ax.inset_axes((0.2, 0.64, 0.34, 0.3))
    inset.plot(
        k[plateau],
        loglik[plateau],
        color=color,
        gid=xi_gid(run["floor"]),
        **{**MEASURED_LINE, "markersize": 2.0},
    )
    inset.axhline(bound, color=color, gid=xi_gid(run["floor"]), **BOUND_LINE)
    gap = bound - float(loglik[plateau][-1])
    inset.set_ylim(bound - 1.6, bound + 0.5)
    inset.set_xlim(k[plateau].min() - 0.5, k[plateau].max() + 0.5)
    inset.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
    inset.set_yticks([round(bound, 1)])
    inset.annotate(
        "",
        xy=(k[plateau][-1], bound),
        xytext=(k[plateau][-1], bound - gap),
        arrowprops={"arrowstyle": "<->", "color": THEORY_COLOR, "linewidth": 0.8, "shrinkA": 0, "shrinkB": 0},
    )
    mid = float(np.median(k[plateau]))
    inset.text(
        mid, bound - gap - 0.12, f"gap {gap:.2f} " + r"$\approx \log 2$", ha="center", va="top", fontsize=7
    )
    inset.text(
        0.03, 0.97, xi_label(run["floor"]), transform=inset.transAxes, fontsize=7, color=color, va="top"
    )
    inset.grid(False)
    for side in ("top", "right"):
        inset.spines[side].set_visible(True)


def _bound_lines(ax, runs):
    """The dashed bound lines drawn on ``ax``, one per distinct colour."""
    seen, out = set(), []
    for line in ax.get_lines():
        if line.get_linestyle() == "--" and line.get_color() not in seen:
            seen.add(line.get_color())
            out.append(line)
    return out


def draw_training_runs(
    runs: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
):
    """The unboundedness plot for training runs: two panels, sharing the step axis. Page width.

    ``runs``: dicts with ``label``, ``policy`` (``learned``, ``floor``, ``bernoulli``, ...),
    optional ``colour_key`` (the policy's colour key, :func:`~vaetheory.plots.style.policy_color`),
    optional ``floored`` (a floored policy: drawn in its floor's colour,
    :func:`~vaetheory.plots.style.xi_color` of ``floor``), ``steps``, ``max_point_loglik``,
    ``min_variance`` (None entries are skipped), optional ``min_unfloored_variance`` (drawn as small
    open markers: what the head asks for before the floor), ``bound`` (None or a number, dashed) and
    optional ``stopped_at`` (a step where the run broke down numerically, marked with a cross).
    ``title`` is drawn only if given (the catalogue puts it in the caption).
    """
    if runs and all("train_loglik" in run for run in runs):
        return draw_training_whole_set(runs, title=title)
    drew_unfloored = False
    with style():
        fig, (ax_ll, ax_var) = new_figure("page", aspect=0.4, ncols=2, layout="constrained")
        for run in runs:
            if _floored(run) and run.get("floor") is not None:
                color, gid = xi_color(run["floor"]), xi_gid(run["floor"])
            else:
                key = run.get("colour_key", run["policy"])
                color, gid = policy_color(key), policy_gid(key)
            steps = np.asarray(run["steps"], dtype=np.float64)
            ll = np.asarray(run["max_point_loglik"], dtype=np.float64)
            line = {**MEASURED_LINE, "marker": None}
            ax_ll.plot(steps, ll, color=color, gid=gid, label=run["label"], **line)
            if _floored(run) and run.get("floor") is not None and len(steps) and np.isfinite(ll[-1]):
                direct_label(ax_ll, steps[-1], ll[-1], xi_label(run["floor"]), color, fontsize=7)
            if run.get("bound") is not None:
                ax_ll.axhline(run["bound"], color=color, gid=gid, **BOUND_LINE)
                if _floored(run) and run.get("floor") is not None and len(steps):
                    # the floors' blues are close: name each bound where it starts
                    direct_label(
                        ax_ll,
                        steps[0],
                        run["bound"],
                        xi_label(run["floor"]),
                        color,
                        va="bottom",
                        xytext=(0, 1),
                    )
            if run.get("stopped_at") is not None and len(steps):
                ax_ll.plot(steps[-1], ll[-1], "x", color=color, gid=gid, markersize=6)
            mv = [(s, v) for s, v in zip(steps, run["min_variance"]) if v is not None]
            if mv:
                s, v = zip(*mv)
                ax_var.plot(s, v, color=color, gid=gid, **line)
                if _floored(run) and run.get("floor") is not None:
                    ax_var.axhline(run["floor"], color=color, gid=gid, **BOUND_LINE)
            raw = [(s, v) for s, v in zip(steps, run.get("min_unfloored_variance") or []) if v is not None]
            if raw:
                s, v = zip(*raw)
                ax_var.plot(
                    s,
                    v,
                    color=color,
                    gid=gid,
                    linestyle="none",
                    marker="o",
                    mfc="none",
                    markersize=2.2,
                    markeredgewidth=0.6,
                )
                drew_unfloored = True
        handles, labels = ax_ll.get_legend_handles_labels()
        if any(run.get("bound") is not None for run in runs):
            bounded = [run for run in runs if run.get("bound") is not None]
            handles.append(
                tuple(
                    Line2D([], [], color=line.get_color(), **BOUND_LINE)
                    for line in _bound_lines(ax_ll, bounded)
                )
            )
            labels.append(rf"bound {BOUND_LABEL}; floor $\xi$ in (b)")
        if drew_unfloored:
            handles.append(
                Line2D([], [], color=NEUTRAL_COLOR, linestyle="none", marker="o", mfc="none", markersize=2.5)
            )
            labels.append("variance before the floor (b)")
        ax_ll.set_xlabel("training step")
        ax_ll.set_ylabel("largest one-sample ELBO\nin the batch (nats)")
        ax_ll.set_title("(a)", loc="left")
        ax_var.set_yscale("log")
        ax_var.set_xlabel("training step")
        ax_var.set_ylabel(r"smallest variance $\sigma_j^2(z)$")
        ax_var.set_title("(b)", loc="left")
        legend_below(fig, handles, labels)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig


def _series_color(run: Mapping[str, Any]) -> tuple[str, str]:
    """(colour, gid) of a series: a floor's xi colour, else its policy's colour."""
    if _floored(run) and run.get("floor") is not None:
        return xi_color(run["floor"]), xi_gid(run["floor"])
    key = run.get("colour_key", run["policy"])
    return policy_color(key), policy_gid(key)


def draw_training_whole_set(runs: Sequence[Mapping[str, Any]], *, title: str | None = None):
    """Training runs from whole-set estimates, three panels against the step (log axis). Page width.

    ``runs``: dicts with ``label``, ``policy``, optional ``colour_key``/``floored``/``floor``,
    ``steps`` and, one per step, ``train_loglik`` (mean :math:`L_k` over the whole training set),
    ``train_loglik_max`` (its largest point), ``heldout_loglik`` (held-out mean), ``min_variance``
    (None entries skipped), ``bound`` (None or a number) and optional ``stopped_at``. (a) training
    mean solid with filled markers, largest point thin with open markers, bounds dashed and labelled
    with their xi; (b) held-out mean (symlog axis); (c) smallest variance, floors dashed.
    """
    with style():
        fig, (ax_tr, ax_ho, ax_var) = new_figure("page", aspect=0.46, ncols=3, layout="constrained")
        first = min((s for run in runs for s in run["steps"] if s > 0), default=1)
        # floored runs first (underneath), the unfloored ones on top
        for run in sorted(runs, key=lambda r: not (_floored(r) and r.get("floor") is not None)):
            color, gid = _series_color(run)
            floored = _floored(run) and run.get("floor") is not None

            def pts(key, run=run):
                return [(s, v) for s, v in zip(run["steps"], run[key]) if v is not None and s > 0]

            line = {**MEASURED_LINE, "markersize": 2.6}
            for ax, key, extra, label in (
                (ax_tr, "train_loglik", {}, run["label"]),
                (ax_tr, "train_loglik_max", {"linewidth": 0.6, "mfc": "white"}, None),
                (ax_ho, "heldout_loglik", {}, None),
                (ax_var, "min_variance", {}, None),
            ):
                xy = pts(key)
                if xy:
                    s, v = zip(*xy)
                    ax.plot(s, v, color=color, gid=gid, label=label, **{**line, **extra})
                    if run.get("stopped_at") is not None:
                        ax.plot(s[-1], v[-1], "x", color=color, gid=gid, markersize=6)
            if run.get("bound") is not None:
                ax_tr.axhline(run["bound"], color=color, gid=gid, **BOUND_LINE)
                if floored:
                    direct_label(
                        ax_tr, first, run["bound"], xi_label(run["floor"]), color, va="bottom", xytext=(0, 1)
                    )
            if floored:
                ax_var.axhline(run["floor"], color=color, gid=gid, **BOUND_LINE)
                end = pts("train_loglik")
                if end:  # the floors' blues are close: name each floored run at its last point
                    direct_label(ax_tr, end[-1][0], end[-1][1], xi_label(run["floor"]), color, fontsize=7)
        handles, labels = ax_tr.get_legend_handles_labels()
        bounded = [run for run in runs if run.get("bound") is not None]
        if bounded:
            handles.append(tuple(Line2D([], [], color=_series_color(r)[0], **BOUND_LINE) for r in bounded))
            labels.append(rf"bound {BOUND_LABEL} (a), floor $\xi$ (c)")
        handles.append(
            Line2D([], [], color=THEORY_COLOR, **{**MEASURED_LINE, "linewidth": 0.6, "mfc": "white"})
        )
        labels.append("largest training point (open)")
        for ax in (ax_tr, ax_ho, ax_var):
            ax.set_xscale("log")
            ax.set_xlabel("Adam step")
        ax_tr.set_ylabel(r"training $L_k$ per point (nats)")
        ax_tr.set_title("(a)", loc="left")
        # a symlog axis only when the held-out values reach past -100 nats (else its ticks are odd)
        low = min((y for line in ax_ho.get_lines() for y in line.get_ydata()), default=0.0)
        if low < -100.0:
            ax_ho.set_yscale("symlog", linthresh=100.0)
        ax_ho.set_ylabel(r"held-out mean $L_k$ (nats" + (", symlog)" if low < -100.0 else ")"))
        ax_ho.set_title("(b)", loc="left")
        ax_var.set_yscale("log")
        ax_var.set_ylabel(r"smallest variance $\sigma_j^2(z)$")
        ax_var.set_title("(c)", loc="left")
        legend_below(fig, handles, labels)
        if title:
            fig.suptitle(title)
        pin_to_figure_size(fig)
    return fig
