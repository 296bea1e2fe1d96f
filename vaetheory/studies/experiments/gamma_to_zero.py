# ruff: noqa: E501  (report sentences are long f-strings; splitting them hides the text)
r"""``gamma-to-zero``: data on an r-dimensional manifold in R^d and one shared learned variance gamma.

Dai & Wipf (ICLR 2019, arXiv:1903.05789), "Diagnosing and enhancing VAE models". Synthetic data
(:func:`manifold_data`): :math:`u\sim U(-1,1)^r` and :math:`x_j=\sin(a_j^\top u+b_j)`,
:math:`j=1..d`, with :math:`a_j\sim\mathcal N(0,I_r)` and :math:`b_j\sim U(0,2\pi)` drawn from the
seed: a smooth :math:`r`-dimensional manifold in :math:`\mathbb R^d`, no noise. A deep VAE with
latent size :math:`q>r` and the decoder variance :math:`\gamma=e^\lambda` shared by every
dimension and point (policy ``shared``), trained by Adam. Recorded at evaluation steps (log-spaced
early, evenly spaced later) over the whole training set, in float64: :math:`\log\gamma`, the ELBO
(mean of ``n_elbo`` one-sample ELBOs per point), the active latent dimensions (Burda et al.'s
:math:`A_u=\operatorname{Var}_x\mathbb E_q[u]>0.01`, :func:`vaetheory.empirical.diagnostics.active_units`,
the one definition used in figure and summary), each dimension's mean encoder variance and the
reconstruction MSE.

Theory (Dai & Wipf 2019, theorems 2-4; theory sections 2-3). On such data the ELBO is unbounded:
along the optimum :math:`\gamma\to0`, the encoder's variance shrinks like :math:`\gamma` in
:math:`r` latent dimensions (the others are the prior), so the number of active dimensions tends
to :math:`r`, and

.. math:: \mathrm{ELBO}\approx\frac{d-r}{2}\,(-\log\gamma)+\text{const},

a growth rate of :math:`(d-r)/2` nats per point per unit of :math:`-\log\gamma`: the rate
:func:`vaetheory.linear.unboundedness_rate` gives for the linear model on degenerate data (the
slope :math:`-(d-r)/2` in :math:`\log\sigma^2`, which ``vaetheory linear`` reports as
unbounded), used here as the prediction. The measured rate is the least-squares slope of the ELBO
against :math:`-\log\gamma` over the evaluations in the last ``fit_fraction`` of the steps.
:func:`verdicts` computes every statement from the run.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from typing import Any

import numpy as np
import torch

from vaetheory.studies.experiments import _common as C

NAME = "gamma-to-zero"
#: criterion of this summary: the measured rate within this relative distance of (d - r)/2
RATE_TOLERANCE = 0.2


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of one run of the experiment (``DEFAULT``, ``QUICK`` and ``TINY`` below)."""

    n_train: int = 1000
    dim: int = 12
    manifold_dim: int = 2
    latent: int = 5
    hidden: tuple[int, ...] = (64, 64)
    steps: int = 8000
    n_evals: int = 24
    batch_size: int = 100
    lr: float = 3e-3
    n_elbo: int = 4
    fit_fraction: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


DEFAULT = Settings()
QUICK = Settings(n_train=500, steps=3000, n_evals=16)
#: for the tests: seconds, not minutes
TINY = Settings(n_train=200, hidden=(32, 32), steps=800, n_evals=8, n_elbo=2)


def _check_settings(s: Settings) -> Settings:
    from vaetheory._validation import check_int

    if not isinstance(s, Settings):
        raise ValueError(f"settings must be a {NAME} Settings; got {type(s).__name__}")
    check_int("settings.dim", s.dim, low=2)
    check_int("settings.manifold_dim", s.manifold_dim, low=1, high=s.dim - 1)
    check_int("settings.latent", s.latent, low=s.manifold_dim + 1, high=s.dim)
    if not (0.0 < s.fit_fraction <= 1.0):
        raise ValueError(f"settings.fit_fraction must be in (0, 1]; got {s.fit_fraction!r}")
    return s


def manifold_data(n: int, dim: int, manifold_dim: int, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    r"""``n`` points :math:`x_j=\sin(a_j^\top u+b_j)`, :math:`u\sim U(-1,1)^r` (module docstring), float64.

    Returns the data ``[n, dim]`` and the map's parameters (``a`` ``[r, dim]``, ``b`` ``[dim]``).
    """
    from vaetheory._validation import check_int

    n = check_int("n", n, low=2)
    dim = check_int("dim", dim, low=2)
    r = check_int("manifold_dim", manifold_dim, low=1, high=dim - 1)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    a = rng.standard_normal((r, dim))
    b = rng.uniform(0.0, 2.0 * math.pi, size=dim)
    u = rng.uniform(-1.0, 1.0, size=(n, r))
    return np.sin(u @ a + b), {"a": a.tolist(), "b": b.tolist()}


def eval_schedule(steps: int, n_evals: int) -> list[int]:
    """Log-spaced steps early (the first decade) and ``n_evals`` evenly spaced ones (for the rate)."""
    even = {round(v) for v in np.linspace(steps / n_evals, steps, n_evals)}
    early = {v for v in C.log_steps(steps, n_evals) if v <= steps / n_evals}
    return sorted({0} | even | early)


def evaluate_gamma(model, x: np.ndarray, *, n_elbo: int, seed: int) -> dict[str, Any]:
    """log gamma, the ELBO, the active dimensions and the encoder variances of one float64 model."""
    from vaetheory.empirical.diagnostics import active_units
    from vaetheory.empirical.estimators import elbo

    gen = torch.Generator().manual_seed(seed)
    xt = torch.as_tensor(x, dtype=torch.float64)
    draws = torch.stack([elbo(model, xt, generator=gen, dtype=torch.float64) for _ in range(n_elbo)])
    units = active_units(model, xt)
    with torch.no_grad():
        mean, variance = model.encode(xt)
        recon, _ = model.decoder_params(mean)
    return {
        "log_gamma": float(model.decoder_log_variance_shared.detach()),
        "elbo": C.finite_or_none(draws.mean()),
        "active": units.count,
        "activity": [float(a) for a in units.activity],
        "encoder_variance": [float(v) for v in variance.mean(dim=0)],
        "recon_mse": C.finite_or_none((xt - recon).square().mean()),
    }


def fit_rate(curve: list[dict], fit_fraction: float, steps: int) -> dict[str, Any] | None:
    """Least-squares slope of the ELBO against -log gamma over the last ``fit_fraction`` of the steps."""
    pts = [p for p in curve if p["step"] >= (1.0 - fit_fraction) * steps and p["elbo"] is not None]
    if len(pts) < 3:
        return None
    t = np.array([-p["log_gamma"] for p in pts])
    y = np.array([p["elbo"] for p in pts])
    if np.ptp(t) <= 0:
        return None
    slope, intercept = np.polyfit(t, y, 1)
    resid = y - (slope * t + intercept)
    # the ordinary least-squares standard error of the slope: how well the window pins it down
    slope_se = (
        float(np.sqrt(np.sum(resid**2) / (len(t) - 2) / np.sum((t - t.mean()) ** 2))) if len(t) > 2 else None
    )
    return {
        "slope": float(slope),
        "slope_se": slope_se,
        "intercept": float(intercept),
        "from_step": int(pts[0]["step"]),
        "points": len(pts),
        "neg_log_gamma_range": [float(t.min()), float(t.max())],
        "residual_rms": float(np.sqrt(np.mean(resid**2))),
    }


def local_rates(curve: list[dict]) -> list[dict[str, Any]]:
    """The ELBO's slope against -log gamma between consecutive evaluations (where gamma moved)."""
    out = []
    for a, b in itertools.pairwise(curve):
        dt = a["log_gamma"] - b["log_gamma"]
        if a["step"] == 0 or a["elbo"] is None or b["elbo"] is None or abs(dt) < 1e-3:
            continue
        out.append(
            {
                "step": b["step"],
                "neg_log_gamma": 0.5 * (-a["log_gamma"] - b["log_gamma"]),
                "rate": (b["elbo"] - a["elbo"]) / dt,
            }
        )
    return out


def run(
    out_dir,
    *,
    settings: Settings | None = None,
    quick: bool = False,
    seed: int = 0,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    data: str = "manifold",
    device: str = "cpu",
) -> dict[str, Any]:
    """Run the experiment into ``out_dir``; return the ``results.json`` value (also written).

    ``data`` must be ``"manifold"`` (the synthetic data of the module docstring). Files as in
    ``unbounded_training.run``.
    """
    from vaetheory._validation import check_int
    from vaetheory.empirical.model import VAEConfig
    from vaetheory.empirical.sweep import SweepRun
    from vaetheory.linear import unboundedness_rate
    from vaetheory.provenance import provenance

    if data != "manifold":
        raise ValueError(
            f"--data: {NAME} runs on 'manifold' (synthetic data on an r-dimensional manifold); got {data!r}"
        )
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    device = C.experiment_device(device)
    s = _check_settings(settings if settings is not None else (QUICK if quick else DEFAULT))
    record = C.experiment_record(NAME, s, seed=seed, data=data, device=device)
    run_dir = C.open_run_directory(
        out_dir, experiment=NAME, record=record, resume=resume, overwrite=overwrite
    )
    try:
        x, manifold = manifold_data(s.n_train, s.dim, s.manifold_dim, seed)
        name = "shared-gamma"
        predicted = -unboundedness_rate(s.dim, s.manifold_dim)
        done = C.load_finished(run_dir, [name])
        if done is not None:
            C.progress_line(f"[{NAME}] {name}: finished, skipped", progress)
            rec = done[name]
        else:
            start = time.perf_counter()
            config = VAEConfig(s.dim, s.latent, hidden=s.hidden, variance="shared")
            (outcome,) = C.train_group(
                [SweepRun(config, seed)],
                x,
                steps=s.steps,
                batch_size=s.batch_size,
                lr=s.lr,
                eval_steps=eval_schedule(s.steps, s.n_evals),
                device=device,
                evaluate=lambda k, model: evaluate_gamma(model, x, n_elbo=s.n_elbo, seed=seed + 1),
            )
            rec = {
                "name": name,
                "policy": "shared",
                "estimator": f"ELBO: mean of {s.n_elbo} one-sample ELBOs per point (analytic KL), float64, whole training set",
                "active_threshold": 0.01,
                "stopped": outcome.stopped,
                "curve": outcome.curve,
                "rate_fit": fit_rate(outcome.curve, s.fit_fraction, s.steps),
                "local_rates": local_rates(outcome.curve),
                "dim": s.dim,
                "manifold_dim": s.manifold_dim,
                "latent": s.latent,
                "predicted_rate": predicted,
                "manifold": manifold,
                "lr": s.lr,
            }
            run_dir.write_json(C.run_file(run_dir, name), rec)
            C.progress_line(
                f"[{NAME}] {name}: {s.steps} steps in {time.perf_counter() - start:.1f} s", progress
            )
        prov = provenance(
            seed=seed,
            parameters={"experiment": NAME, **record["settings"], "data": data, "device": str(device)},
        )
        results = {
            "experiment": NAME,
            "runs": [
                {
                    **{
                        k: rec[k]
                        for k in ("name", "policy", "estimator", "stopped", "dim", "manifold_dim", "latent")
                    },
                    "predicted_rate": rec["predicted_rate"],
                    "measured_rate": None if rec["rate_fit"] is None else rec["rate_fit"]["slope"],
                    "rate_fit": rec["rate_fit"],
                    "curve": [
                        {k: p[k] for k in ("step", "log_gamma", "elbo", "active", "recon_mse")}
                        for p in rec["curve"]
                    ],
                }
            ],
            "provenance": prov,
        }
        run_dir.write_json("results.json", results)
        checks = verdicts([rec], s)
        run_dir.write_text("summary.md", summary([rec], checks, s, seed))
    finally:
        run_dir.close()
    return {**results, "details": [rec], "verdicts": checks, "out_dir": str(run_dir.path)}


# -- verdicts ---------------------------------------------------------------------------------------


def verdicts(records: list[dict], s: Settings) -> list[dict[str, Any]]:
    """One ``{"claim", "prediction", "measured", "holds"}`` per statement of the theory (computed)."""
    out: list[dict[str, Any]] = []
    for r in records:
        curve = [p for p in r["curve"] if p["step"] > 0]
        if not curve:
            continue
        d, k = r["dim"], r["manifold_dim"]
        window = [p for p in curve if p["step"] >= (1.0 - s.fit_fraction) * s.steps]
        lg = [p["log_gamma"] for p in window]
        rises = [
            f"step {b['step']}" for a, b in itertools.pairwise(window) if b["log_gamma"] >= a["log_gamma"]
        ]
        out.append(
            {
                "claim": f"{r['name']}: gamma decreases (towards 0)",
                "prediction": f"log gamma falls at every evaluation of the last {s.fit_fraction:.0%} of the steps",
                "measured": f"log gamma {curve[0]['log_gamma']:.2f} at step {curve[0]['step']}, "
                + (f"{lg[0]:.2f} at step {window[0]['step']}, " if window else "")
                + f"{curve[-1]['log_gamma']:.2f} at step {curve[-1]['step']}"
                + (f"; rises at {', '.join(rises)}" if rises else "")
                + (
                    f"; gamma follows the decoder's error (reconstruction MSE {curve[-1]['recon_mse']:.3g} at the end, "
                    f"gamma {math.exp(curve[-1]['log_gamma']):.3g}), so gamma stops falling where the MSE does"
                    if rises and curve[-1]["recon_mse"] is not None
                    else ""
                ),
                "holds": bool(window)
                and len(window) >= 2
                and not rises
                and curve[-1]["log_gamma"] < curve[0]["log_gamma"],
            }
        )
        counts = [p["active"] for p in curve]
        out.append(
            {
                "claim": f"{r['name']}: the number of active latent dimensions tends to r = {k}",
                "prediction": f"{k} of the {r['latent']} latent dimensions active at the end (A_u > {r['active_threshold']:g})",
                "measured": "active dimensions "
                + ", ".join(f"{p['active']} (step {p['step']})" for p in curve[:: max(1, len(curve) // 6)])
                + f"; {counts[-1]} at step {curve[-1]['step']}; activities at the end "
                + ", ".join(f"{a:.3g}" for a in curve[-1]["activity"]),
                "holds": counts[-1] == k,
            }
        )
        fit = r["rate_fit"]
        pred = r["predicted_rate"]
        if fit is None:
            out.append(
                {
                    "claim": f"{r['name']}: the ELBO grows at (d - r)/2 per unit of -log gamma",
                    "prediction": f"slope {pred:g} (d = {d}, r = {k}; vaetheory.linear.unboundedness_rate)",
                    "measured": "no slope: gamma did not move over the fit window",
                    "holds": False,
                }
            )
            continue
        rel = (fit["slope"] - pred) / pred
        last = curve[-1]["active"]
        out.append(
            {
                "claim": f"{r['name']}: the ELBO grows at (d - r)/2 per unit of -log gamma",
                "prediction": f"slope (d - r)/2 = {pred:g} nats per unit (d = {d}, r = {k}; vaetheory.linear.unboundedness_rate); "
                f"criterion within {RATE_TOLERANCE:.0%}",
                "measured": f"slope {fit['slope']:.3f}"
                + ("" if fit.get("slope_se") is None else f" +- {fit['slope_se']:.2f} (standard error)")
                + f" ({rel:+.1%}) over steps {fit['from_step']}-{s.steps}, -log gamma "
                f"{fit['neg_log_gamma_range'][0]:.2f} to {fit['neg_log_gamma_range'][1]:.2f} ({fit['points']} points, residual "
                f"{fit['residual_rms']:.2f} nats); with the {last} active dimensions measured the rate would be (d - {last})/2 = {(d - last) / 2:g}",
                "holds": abs(rel) <= RATE_TOLERANCE,
            }
        )
    out += C.stopped_checks(records, "(no prediction: gamma -> 0 may end in a numerical breakdown)")
    return out


def summary(records: list[dict], checks: list[dict], s: Settings, seed: int) -> str:
    """``summary.md``: the settings, the curve of the run and each verdict."""
    lines = [
        f"# {NAME}",
        "",
        f"Synthetic data: {s.n_train} points x_j = sin(a_j . u + b_j) on an r = {s.manifold_dim} dimensional manifold in "
        f"R^{s.dim} (u ~ U(-1, 1)^r), no noise. VAE: latent {s.latent}, hidden {list(s.hidden)}, one shared learned "
        f"decoder variance gamma, batch {s.batch_size}, {s.steps} Adam steps at lr {s.lr:g}, seed {seed}. ELBO: mean of "
        f"{s.n_elbo} one-sample ELBOs per point over the whole set (nats).",
        "",
        "| step | log gamma | ELBO | active dimensions | reconstruction MSE |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in records:
        for p in r["curve"]:
            lines.append(
                f"| {p['step']} | {p['log_gamma']:.3f} | {C.fmt(p['elbo'], '.2f')} | {p['active']} | {C.fmt(p['recon_mse'], '.3g')} |"
            )
    lines += ["", "## Theory against the runs", ""]
    lines += C.verdict_lines(checks)
    lines += C.disagreement_lines(checks)
    return "\n".join(lines)


def caption(result: dict) -> str:
    """The figure's caption: what is drawn and the measured numbers."""
    r = result["details"][0]
    last = r["curve"][-1]
    fit = r["rate_fit"]
    parts = [
        f"Dai & Wipf's gamma -> 0 on synthetic data on an r = {r['manifold_dim']} dimensional manifold in R^{r['dim']}: a deep VAE "
        f"(latent {r['latent']}) with one shared learned decoder variance gamma. (a) log gamma against Adam steps; (b) active "
        f"latent dimensions (A_u > {r['active_threshold']:g}) against steps, r dashed; (c) the ELBO against -log gamma "
        f"(markers), with the least-squares line over the fit window (solid) and the theory's slope (d - r)/2 = "
        f"{r['predicted_rate']:g} (thick translucent) through the window's last point.",
        f"Measured at step {last['step']}: log gamma {last['log_gamma']:.2f}, {last['active']} active dimensions, ELBO "
        f"{C.fmt(last['elbo'], '.1f')} nats"
        + (
            f"; rate {fit['slope']:.2f} per unit -log gamma (theory {r['predicted_rate']:g})." if fit else "."
        ),
    ]
    n_dis = sum(c["holds"] is False for c in result["verdicts"])
    parts.append(
        f"{n_dis} of {sum(c['holds'] is not None for c in result['verdicts'])} checked statements disagree with the theory (summary.md)."
    )
    return " ".join(parts)
