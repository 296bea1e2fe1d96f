"""Figures of the empirical module: the blow-up construction and the unboundedness plot of training runs.

Computed with :mod:`vaetheory.empirical`, drawn with :mod:`vaetheory.plots.empirical`, saved with
:func:`vaetheory.plots.style.save_figure` (PDF + PNG + JSON sidecar with provenance and data).

* ``empirical_blowup``: exact log p along the construction of theory section 2, unfloored and
  floored, with each floor's bound dashed (no training; seconds).
* ``empirical_training``: learned, three floors and Bernoulli trained on scikit-learn's digits
  (scaled to [0, 1]; binarised for Bernoulli): the largest per-point one-sample ELBO and
  the smallest decoder variance per logged step.
"""

from __future__ import annotations

from pathlib import Path

#: floors (variances) of the catalogue's training figure
TRAINING_FLOORS = (1e-1, 3e-2, 1e-2)


def blowup_figure(out_stem: Path, result) -> list[Path]:
    """Draw and save a :class:`~vaetheory.empirical.construction.BlowupResult`."""
    from vaetheory.plots.empirical import draw_blowup
    from vaetheory.plots.style import save_figure

    data = result.to_dict()
    prov = data.pop("provenance")
    fig = draw_blowup(
        result.ks, [run.to_dict() for run in result.runs], result.asymptote_unfloored, dim=result.dim
    )
    return save_figure(fig, out_stem, prov, data, caption=blowup_caption(result))


def blowup_caption(result) -> str:
    """What the blow-up figure draws and the numbers measured on it."""
    import math

    ks, run = result.ks, result.runs[0]
    rate = (run.loglik[-1] - run.loglik[-2]) / (ks[-1] - ks[-2]) / result.dim
    floors = "; ".join(
        f"xi = {r.floor:g}: plateau {max(r.loglik):.2f} <= bound {r.bound:.2f} "
        f"(gap {r.bound - max(r.loglik):.3f})"
        for r in result.runs[1:]
    )
    return (
        f"Exact log-likelihood (nats) of the exploding point along the explicit decoder sequence "
        f"(theory section 2; {result.n_points} digits, d = {result.dim}), against the sequence index k "
        f"(k = {ks[0]:g}..{ks[-1]:g}). Without a floor (open circles) it grows at {rate:.3f} nats per "
        f"dimension per unit of k (theory 1/2; thick grey line: the asymptote dk/2 - (d/2) log 2 pi - log 2) "
        f"and reaches {run.loglik[-1]:.1f} at k = {ks[-1]:g}, while the best other point stays at "
        f"{run.others_max_loglik[-1]:.1f} (squares). A floor xi on the decoder variance (solid, in its "
        f"colour; the floored curves equal the unfloored one until they reach the floor) caps it below "
        f"its bound -(d/2) log(2 pi xi) (dashed): {floors}. The inset shows the plateau of the largest "
        f"floor: the gap tends to log 2 = {math.log(2):.3f}, the prior mass on z < 0."
    )


def run_series(result, label: str, *, floor_index: int = 0) -> dict:
    """The plotted series of a :class:`~vaetheory.empirical.training.TrainResult`."""
    c = result.config
    policy = _policy_of(c)
    return {
        "label": label,
        "policy": "bernoulli" if policy is None else c.variance,
        "colour_key": "bernoulli" if policy is None else policy.colour_key,
        "floored": policy is not None and policy.floored,
        "floor_index": floor_index,
        "floor": c.floor_variance,
        "steps": [h["step"] for h in result.history],
        "max_point_loglik": [h["max_point_loglik"] for h in result.history],
        "min_variance": [h["min_variance"] for h in result.history],
        "min_unfloored_variance": [h.get("min_unfloored_variance") for h in result.history],
        "bound": result.bound,
        "stopped_at": None if result.stopped_reason is None else result.steps_done + 1,
        "stopped_reason": result.stopped_reason,
    }


def training_figure(
    out_stem: Path, series: list[dict], provenance: dict, title: str | None = None, caption: str | None = None
) -> list[Path]:
    """Draw and save the unboundedness plot of training runs (``series`` from :func:`run_series`).

    ``title`` is drawn inside the figure only if given; ``caption`` defaults to
    :func:`training_caption` of the series."""
    if caption is None:
        caption = training_caption(series)
    from vaetheory.plots.empirical import draw_training_runs
    from vaetheory.plots.style import save_figure

    fig = draw_training_runs(series, title=title)
    return save_figure(fig, out_stem, provenance, {"runs": series}, caption=caption)


def training_caption(series: list[dict], setting: str = "") -> str:
    """What the training figure draws and the numbers measured on it (from the plotted series)."""

    def peak(run):
        values = [v for v in run["max_point_loglik"] if v is not None]
        return max(values) if values else float("nan")

    def smallest(run):
        values = [v for v in run["min_variance"] if v is not None]
        return min(values) if values else float("nan")

    parts = []
    for run in series:
        text = f"{_plain(run['label'])}: largest {peak(run):.1f} nats"
        if run.get("bound") is not None:
            text += f" (bound {run['bound']:.1f})"
        if run["policy"] != "bernoulli":
            text += f", smallest variance {smallest(run):.2g}"
        if run.get("stopped_reason"):
            text += f", stopped ({run['stopped_reason']})"
        parts.append(text)
    return (
        f"Real Adam training{(' ' + setting) if setting else ''}. (a) The largest per-point one-sample "
        "ELBO in the batch (a lower bound on log p(x_i)) against the step; dashed: each floor's bound "
        "-(d/2) log(2 pi xi). (b) The smallest decoder variance on a log axis; dashed: the floors xi; "
        "open circles: the variance the head asks for before the floor. Measured: " + "; ".join(parts) + "."
    )


def _plain(label: str) -> str:
    """A mathtext legend label as plain caption text."""
    import re

    text = (
        label.replace(r"\xi", "xi")
        .replace(r"\sigma", "sigma")
        .replace(r"\nu", "nu")
        .replace(r"\beta", "beta")
    )
    return re.sub(r"[${}\\]", "", text)


def _policy_of(config):
    """The decoder-variance policy object of a TrainConfig or VAEConfig (None for Bernoulli)."""
    from vaetheory.empirical.policies import policy_class

    if config.likelihood == "bernoulli":
        return None
    return policy_class(config.variance)(config)


def run_label(config, *, math: bool = True) -> str:
    """A label naming the policy and its parameters (mathtext for a legend, plain text otherwise)."""
    policy = _policy_of(config)
    if policy is None:
        return "Bernoulli (binarised; bound 0)"
    return policy.describe(math=math)


def make_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """The empirical catalogue: the construction (seconds) and five short training runs on digits."""
    from vaetheory.empirical.construction import DEFAULT_FLOORS, blowup_sequence
    from vaetheory.empirical.training import TrainConfig, train
    from vaetheory.provenance import provenance

    out_dir = Path(out_dir)
    written: list[Path] = []
    ks = tuple(range(0, 21, 2)) if quick else tuple(range(0, 31))
    written += blowup_figure(out_dir / "empirical_blowup", blowup_sequence(ks=ks, floors=DEFAULT_FLOORS))

    steps = 150 if quick else 1500
    log_every = 5 if quick else 25
    configs = [TrainConfig(variance="learned", steps=steps, log_every=log_every, seed=seed)]
    configs += [
        TrainConfig(variance="floor", floor_variance=xi, steps=steps, log_every=log_every, seed=seed)
        for xi in TRAINING_FLOORS
    ]
    configs.append(TrainConfig(likelihood="bernoulli", steps=steps, log_every=log_every, seed=seed))
    series = []
    floor_index = 0
    for config in configs:
        result = train(config, progress=False)
        series.append(run_series(result, run_label(config), floor_index=floor_index))
        floor_index += series[-1]["floored"]
    params = {
        "data": "digits (scaled to [0,1]; binarised at 0.5 for Bernoulli)",
        "steps": steps,
        "log_every": log_every,
        "latent": configs[0].latent,
        "hidden": list(configs[0].hidden),
        "batch_size": configs[0].batch_size,
        "lr": configs[0].lr,
        "floors": list(TRAINING_FLOORS),
    }
    written += training_figure(
        out_dir / "empirical_training",
        series,
        provenance(seed=seed, parameters=params),
        caption=training_caption(
            series,
            f"on digits scaled to [0, 1] (latent {configs[0].latent}, {steps} steps, lr {configs[0].lr:g})",
        ),
    )
    return written
