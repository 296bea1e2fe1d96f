"""Drawings for the empirical (PyTorch) module. They draw result values and compute nothing.

* :func:`draw_blowup` -- the explicit construction: exact log-likelihood of the exploding point
  against the sequence index k, unfloored and for each floor, each floor's bound
  :math:`-(d/2)\\log(2\\pi\\xi)` dashed, the theory's asymptote :math:`dk/2-(d/2)\\log 2\\pi-\\log 2`.
* :func:`draw_training_runs` -- the unboundedness plot of training runs: the largest per-point
  one-sample ELBO (a lower bound on log p(x_i)) against the step (learned, floors with their
  bounds dashed, Bernoulli) and the smallest decoder variance against the step on a log axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from vaetheory.plots.style import (
    BOUND_LINE,
    MEASURED_LINE,
    THEORY_COLOR,
    THEORY_LINE,
    floor_color,
    new_figure,
    policy_color,
    style,
)

BOUND_LABEL = r"$-\frac{d}{2}\log(2\pi\xi)$"


def _xi_label(xi: float) -> str:
    mantissa, exponent = f"{xi:.1e}".split("e")
    exponent = int(exponent)
    if float(mantissa) == 1.0:
        return rf"$\xi = 10^{{{exponent}}}$"
    return rf"$\xi = {mantissa}\times10^{{{exponent}}}$"


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
):
    """Exact log p of the exploding point against k (the construction of theory section 2).

    ``runs``: dicts with ``floor`` (None for unfloored), ``bound`` and ``loglik`` (one per k) and
    optionally ``others_max_loglik``; ``asymptote``: the theory line for the unfloored run.
    """
    k = np.asarray(ks, dtype=np.float64)
    with style():
        # a column figure: legend below the axes (constrained layout keeps the width at 3.3 in)
        fig, ax = new_figure("column", aspect=1.25, layout="constrained")
        ax.plot(
            k,
            asymptote,
            color=THEORY_COLOR,
            alpha=0.6,
            **{**THEORY_LINE, "linewidth": 2.6},
            label=r"theory $\frac{dk}{2}-\frac{d}{2}\log 2\pi-\log 2$",
        )
        floor_index = 0
        for run in runs:
            if run["floor"] is None:
                color, label = policy_color("learned"), "no floor (learned)"
            else:
                color, label = floor_color(floor_index), "floor " + _xi_label(run["floor"])
                floor_index += 1
            ax.plot(k, run["loglik"], color=color, **{**MEASURED_LINE, "markersize": 2.0}, label=label)
            if run.get("bound") is not None:
                ax.axhline(run["bound"], color=color, **BOUND_LINE)
        others = runs[0].get("others_max_loglik") if runs else None
        if others:
            ax.plot(k, others, color="#888888", linestyle=":", linewidth=1.0, label="best other point")
        ax.plot([], [], color="#555555", **BOUND_LINE, label=f"bound {BOUND_LABEL} per floor")
        ax.set_xlabel(r"sequence index $k$" "\n" r"($\log\sigma_k^2(z) = -\frac{k}{2}(1+\tanh kz)$)")
        ax.set_ylabel("exact log-likelihood per point (nats)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title or f"Unbounded likelihood, d = {dim}: the construction")
        fig.legend(loc="outside lower center", ncol=1)
    return fig


def draw_training_runs(
    runs: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
):
    """The unboundedness plot for training runs: two panels, sharing the step axis.

    ``runs``: dicts with ``label``, ``policy`` (``learned``, ``floor``, ``bernoulli``, ...),
    optional ``colour_key`` (the policy's colour key, :func:`~vaetheory.plots.style.policy_color`),
    optional ``floored`` (a floored policy: drawn in the floors' colours, with xi) and
    ``floor_index`` (colour of the floor), ``steps``, ``max_point_loglik``,
    ``min_variance`` (None entries are skipped), optional ``min_unfloored_variance`` (drawn dotted:
    what the head asks for before the floor), ``bound`` (None or a number) and optional
    ``stopped_at`` (a step where the run broke down numerically, marked with a cross).
    """
    drew_unfloored = False
    with style():
        fig, (ax_ll, ax_var) = new_figure("page", aspect=0.4, ncols=2, layout="constrained")
        for run in runs:
            if _floored(run):
                color = floor_color(run.get("floor_index", 0))
            else:
                color = policy_color(run.get("colour_key", run["policy"]))
            steps = np.asarray(run["steps"], dtype=np.float64)
            ll = np.asarray(run["max_point_loglik"], dtype=np.float64)
            ax_ll.plot(steps, ll, color=color, **{**MEASURED_LINE, "marker": None}, label=run["label"])
            if run.get("bound") is not None:
                ax_ll.axhline(run["bound"], color=color, **BOUND_LINE)
            if run.get("stopped_at") is not None and len(steps):
                ax_ll.plot(steps[-1], ll[-1], "x", color=color, markersize=6)
            mv = [(s, v) for s, v in zip(steps, run["min_variance"]) if v is not None]
            if mv:
                s, v = zip(*mv)
                ax_var.plot(s, v, color=color, **{**MEASURED_LINE, "marker": None}, label=run["label"])
                if _floored(run) and run.get("floor") is not None:
                    ax_var.axhline(run["floor"], color=color, **BOUND_LINE)
            raw = [(s, v) for s, v in zip(steps, run.get("min_unfloored_variance") or []) if v is not None]
            if raw:
                s, v = zip(*raw)
                ax_var.plot(s, v, color=color, linestyle=":", linewidth=1.0)
                drew_unfloored = True
        if any(run.get("bound") is not None for run in runs):
            ax_ll.plot([], [], color="#555555", **BOUND_LINE, label=f"bound {BOUND_LABEL}")
        if drew_unfloored:
            ax_ll.plot(
                [], [], color="#555555", linestyle=":", linewidth=1.0, label="variance before the floor (b)"
            )
        ax_ll.set_xlabel("training step")
        ax_ll.set_ylabel("per-point ELBO, 1 sample (nats)")
        ax_ll.set_title("(a) largest per-point ELBO in the batch")
        ax_var.set_yscale("log")
        ax_var.set_xlabel("training step")
        ax_var.set_ylabel("smallest decoder variance (log scale)")
        floors = any(_floored(run) for run in runs)
        ax_var.set_title(r"(b) smallest $\sigma_j^2(z)$" + (r"; floors $\xi$ dashed" if floors else ""))
        handles, labels = ax_ll.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4))
        if title:
            fig.suptitle(title)
    return fig
