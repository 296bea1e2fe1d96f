"""Figures of the empirical module: the blow-up construction and the unboundedness plot of training runs.

Computed with :mod:`vaetheory.empirical`, drawn with :mod:`vaetheory.plots.empirical`, saved with
:func:`vaetheory.plots.style.save_figure` (PDF + PNG + JSON sidecar with provenance and data).

* ``empirical_blowup``: exact log p along the construction of theory section 2, unfloored and
  floored, with each floor's bound dashed (no training; seconds).
* ``empirical_training``: the learned variance and three clamp floors trained (stacked,
  :func:`vaetheory.studies.experiments._common.train_group`) on the small dequantised digits set
  of the ``unbounded-training`` experiment, evaluated at log-spaced steps over the WHOLE training
  set and a held-out set (:func:`~vaetheory.studies.experiments._common.evaluate_run`, the
  importance-weighted bound L_k): training mean and largest point with each floor's bound,
  held-out mean, smallest decoder variance. (The one-sample batch ELBO of a trainer's log is drawn
  only by ``vaetheory train --plot``, labelled as such.)
"""

from __future__ import annotations

from pathlib import Path

#: floors (variances) of the catalogue's training figure
TRAINING_FLOORS = (1e-1, 3e-2, 1e-2)
#: sizes of the catalogue's training figure: (n_train, n_heldout, hidden, steps, k) quick / full
TRAINING_SIZES = {True: (16, 100, 64, 300, 16), False: (16, 300, 128, 3000, 64)}


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
    from vaetheory.provenance import provenance

    out_dir = Path(out_dir)
    written: list[Path] = []
    ks = tuple(range(0, 21, 2)) if quick else tuple(range(0, 31))
    written += blowup_figure(out_dir / "empirical_blowup", blowup_sequence(ks=ks, floors=DEFAULT_FLOORS))

    series, params = whole_set_training(quick=quick, seed=seed)
    written += training_figure(
        out_dir / "empirical_training",
        series,
        provenance(seed=seed, parameters=params),
        caption=whole_set_caption(series, params),
    )
    return written


def series_from_records(records: list[dict]) -> list[dict]:
    """Whole-set series for :func:`training_figure` from experiment run records (``unbounded-training``:
    ``DIR/runs/<name>.json``, or ``result["details"]``); dequantised runs only."""
    out = []
    for r in records:
        if r.get("data", "dequantised") != "dequantised":
            continue
        curve = [p for p in r["curve"] if p["step"] > 0]
        floored = r["floor"] is not None
        out.append(
            {
                "label": (
                    rf"floor ({r['floor_method']}) $\xi$ = {r['floor']:g}"
                    if floored
                    else f"learned, lr {r['lr']:g}"
                ),
                "policy": r["policy"],
                "colour_key": "floor" if floored else "learned",
                "floored": floored,
                "floor": r["floor"],
                "steps": [p["step"] for p in curve],
                **{
                    key: [p.get(key) for p in curve]
                    for key in (
                        "train_loglik",
                        "train_loglik_max",
                        "heldout_loglik",
                        "min_variance",
                        "min_unfloored_variance",
                        "train_recon_mse",
                        "heldout_recon_mse",
                    )
                },
                "bound": r["bound"],
                "estimator": r["estimator"],
                "stopped_at": None if r["stopped"] is None else r["stopped"]["step"],
                "stopped_reason": None if r["stopped"] is None else r["stopped"]["reason"],
            }
        )
    return out


def whole_set_training(*, quick: bool, seed: int) -> tuple[list[dict], dict]:
    """The catalogue's training runs: learned and :data:`TRAINING_FLOORS` (clamp) on the small
    dequantised digits set, evaluated over the whole training and held-out sets at log-spaced steps.
    Returns ``(series, parameters)``."""
    from vaetheory.densities import variance_floor_bound
    from vaetheory.empirical.model import VAEConfig
    from vaetheory.empirical.sweep import SweepRun
    from vaetheory.studies.experiments import _common as C

    n_train, n_heldout, hidden, steps, k = TRAINING_SIZES[bool(quick)]
    lr, batch_size = 3e-3, 64
    x_train, x_heldout = C.digits_split(n_train, n_heldout, seed, "dequantised")
    eval_steps = C.log_steps(steps, 7)
    estimator = f"L_k importance-weighted bound (Burda et al. 2016), k = {k}, float64"

    def evaluate(_, model):
        return C.evaluate_run(model, x_train, x_heldout, k=k, seed=seed + 1)

    groups = [
        [("learned", SweepRun(VAEConfig(64, 2, hidden=(hidden,)), seed))],
        [
            (
                f"floor{xi:g}",
                SweepRun(
                    VAEConfig(
                        64, 2, hidden=(hidden,), variance="floor", floor_variance=xi, floor_method="clamp"
                    ),
                    seed,
                ),
            )
            for xi in TRAINING_FLOORS
        ],
    ]
    records = []
    for group in groups:
        outcomes = C.train_group(
            [r for _, r in group],
            x_train,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            eval_steps=eval_steps,
            evaluate=evaluate,
        )
        for (name, run), outcome in zip(group, outcomes):
            floor = run.config.floor_variance
            records.append(
                {
                    "name": name,
                    "policy": run.config.variance,
                    "floor": floor,
                    "floor_method": "clamp" if floor is not None else None,
                    "bound": None if floor is None else variance_floor_bound(64, floor),
                    "estimator": estimator,
                    "stopped": outcome.stopped,
                    "curve": outcome.curve,
                    "lr": lr,
                    "data": "dequantised",
                }
            )
    params = {
        "data": "digits, dequantised x = (k + u)/17 (the unbounded-training experiment's split)",
        "n_train": n_train,
        "n_heldout": n_heldout,
        "latent": 2,
        "hidden": [hidden],
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "floors": list(TRAINING_FLOORS),
        "floor_method": "clamp",
        "estimator": estimator,
    }
    return series_from_records(records), params


def whole_set_caption(series: list[dict], params: dict) -> str:
    """What the whole-set training figure draws and the numbers measured on it."""

    def last(run, key):
        values = [v for v in run[key] if v is not None]
        return values[-1] if values else None

    def best(run, key):
        values = [v for v in run[key] if v is not None]
        return max(values) if values else None

    def f(v, spec=".1f"):
        return "n/a" if v is None else format(v, spec)

    parts = []
    for run in series:
        text = (
            f"{_plain(run['label'])}: training mean {f(last(run, 'train_loglik'))}, largest point "
            f"{f(best(run, 'train_loglik_max'))}"
        )
        if run.get("bound") is not None:
            text += f" (bound {run['bound']:.1f})"
        text += (
            f", held-out {f(best(run, 'heldout_loglik'))} at best and {f(last(run, 'heldout_loglik'))} "
            "at the end, "
            f"smallest variance {f(last(run, 'min_variance'), '.2g')}"
        )
        if run.get("stopped_reason"):
            text += f", stopped ({run['stopped_reason']})"
        parts.append(text)
    return (
        f"Real Adam training (lr {params['lr']:g}, batch {params['batch_size']}, latent {params['latent']}, "
        f"hidden {params['hidden']}) on {params['n_train']} dequantised digits (d = 64), evaluated over the "
        f"WHOLE training set and {params['n_heldout']} held-out digits with the importance-weighted bound "
        f"L_k ({params['estimator'].split(', ')[1]}), against the step (log axis). (a) Training mean L_k "
        "(solid, filled markers) and its largest point (thin, open markers); dashed: each floor's bound "
        "-(d/2) log(2 pi xi) in the floor's colour. (b) Held-out mean L_k (symlog axis when it falls "
        "below -100). (c) Smallest decoder variance; dashed: the floors xi. Nats per point. Measured: "
        + "; ".join(parts)
        + "."
    )
