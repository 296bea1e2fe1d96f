# ruff: noqa: E501  (report sentences are long f-strings; splitting them hides the text)
r"""``floors``: which floor on the decoder variance really bounds, and how to choose :math:`\xi`.

Every registered way of flooring the variance that the issue names (``clamp``, ``softclip``,
``softplus``, ``gaussian_nll``; :mod:`vaetheory.empirical.policies`) over a log grid of
:math:`\xi`, trained on the small dequantised digits set of ``unbounded-training`` (one stacked
sweep per method: the runs of a method differ only in :math:`\xi`). Measured over the whole sets
(``_common.evaluate_run``): the held-out log-likelihood at the end, the largest training
log-likelihood over all evaluated steps, and the smallest variance the head asks for before the
floor (``min_unfloored_variance``).

Theory (section 2; :func:`vaetheory.empirical.policies.floor_report`): every method bounds the
value, so the largest training log-likelihood stays under :math:`-\tfrac d2\log(2\pi\xi)`; only
``gaussian_nll`` (``torch.nn.GaussianNLLLoss``'s clamp under ``no_grad``) passes the gradient
through, so its underlying variance keeps being pushed down, far below :math:`\xi`, while the
others stop getting a gradient (clamp: zero; softplus / softclip: vanishing) once below.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from vaetheory.densities import variance_floor_bound
from vaetheory.studies.experiments import _common as C

NAME = "floors"
DATA_DIM = 64
METHODS = ("clamp", "softclip", "softplus", "gaussian_nll")


@dataclasses.dataclass(frozen=True)
class Settings:
    n_train: int = 16
    n_heldout: int = 300
    latent: int = 2
    hidden: tuple[int, ...] = (128,)
    steps: int = 6000
    n_evals: int = 8
    batch_size: int = 64
    lr: float = 3e-3
    floors: tuple[float, ...] = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
    methods: tuple[str, ...] = METHODS
    k: int = 128

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"], d["floors"], d["methods"] = list(self.hidden), list(self.floors), list(self.methods)
        return d


DEFAULT = Settings()
#: 800 quick steps left every floored run far from converged (held-out still falling; see
#: unbounded_training's docstring): the lengths are those at which the clamp floors' training mean
#: levels off (measured, xi = 1e-2: from about 1000 steps at lr 3e-3), within the time budgets
QUICK = Settings(n_heldout=200, steps=2000, n_evals=6, floors=(1e-1, 1e-2, 1e-3, 1e-4), k=64)
TINY = Settings(n_train=8, n_heldout=40, hidden=(32,), steps=150, n_evals=3, floors=(1e-2, 1e-4), k=16)


def run(
    out_dir,
    *,
    settings: Settings | None = None,
    quick: bool = False,
    seed: int = 0,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    data: str = "digits",
    device: str = "cpu",
) -> dict[str, Any]:
    """Run the experiment into ``out_dir`` (files as in ``unbounded_training.run``)."""
    from vaetheory._validation import check_int
    from vaetheory.empirical.model import VAEConfig
    from vaetheory.empirical.sweep import SweepRun
    from vaetheory.provenance import provenance

    if data != "digits":
        raise ValueError(f"--data: {NAME} runs on 'digits' (dequantised); got {data!r}")
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    device = C.experiment_device(device)
    s = settings if settings is not None else (QUICK if quick else DEFAULT)
    record = C.experiment_record(NAME, s, seed=seed, data=data, device=device)
    run_dir = C.open_run_directory(
        out_dir, experiment=NAME, record=record, resume=resume, overwrite=overwrite
    )
    try:
        x_train, x_heldout = C.digits_split(s.n_train, s.n_heldout, seed, "dequantised")
        estimator = f"L_k importance-weighted bound (Burda et al. 2016), k = {s.k}, float64"
        eval_steps = C.log_steps(s.steps, s.n_evals)
        records: dict[str, dict] = {}
        names_all = []
        for gi, method in enumerate(s.methods, 1):
            runs = [
                (
                    f"floor{xi:.0e}-{method}".replace("e-0", "e-"),
                    SweepRun(
                        VAEConfig(
                            DATA_DIM,
                            s.latent,
                            hidden=s.hidden,
                            variance="floor",
                            floor_variance=xi,
                            floor_method=method,
                        ),
                        seed,
                    ),
                )
                for xi in s.floors
            ]
            names = [n for n, _ in runs]
            names_all += names
            done = C.load_finished(run_dir, names)
            if done is not None:
                records.update(done)
                C.progress_line(f"[{NAME}] {gi}/{len(s.methods)} {method}: finished, skipped", progress)
                continue
            start = time.perf_counter()
            outcomes = C.train_group(
                [r for _, r in runs],
                x_train,
                steps=s.steps,
                batch_size=s.batch_size,
                lr=s.lr,
                eval_steps=eval_steps,
                device=device,
                evaluate=lambda k, model: C.evaluate_run(model, x_train, x_heldout, k=s.k, seed=seed + 1),
            )
            for (name, sweep_run), outcome in zip(runs, outcomes):
                xi = sweep_run.config.floor_variance
                peaks = [p["train_loglik_max"] for p in outcome.curve if p["train_loglik_max"] is not None]
                rec = {
                    "name": name,
                    "policy": "floor",
                    "floor": xi,
                    "floor_method": method,
                    "bound": variance_floor_bound(DATA_DIM, xi),
                    "estimator": estimator,
                    "stopped": outcome.stopped,
                    "curve": outcome.curve,
                    "final": outcome.curve[-1] if outcome.curve else None,
                    "train_loglik_max_all": max(peaks) if peaks else None,
                    "lr": s.lr,
                    "data": "dequantised",
                }
                run_dir.write_json(C.run_file(run_dir, name), rec)
                records[name] = rec
            C.progress_line(
                f"[{NAME}] {gi}/{len(s.methods)} {method}: {len(runs)} floors, {s.steps} steps in "
                f"{time.perf_counter() - start:.1f} s",
                progress,
            )
        ordered = [records[n] for n in names_all]
        prov = provenance(
            seed=seed,
            parameters={"experiment": NAME, **record["settings"], "data": data, "device": str(device)},
        )
        results = {
            "experiment": NAME,
            "runs": [
                {
                    **{
                        k: r[k]
                        for k in ("name", "policy", "floor", "floor_method", "bound", "estimator", "stopped")
                    },
                    "train_loglik_max": r["train_loglik_max_all"],
                    "heldout_loglik": r["final"]["heldout_loglik"],
                    "min_variance": r["final"]["min_variance"],
                    "min_unfloored_variance": r["final"]["min_unfloored_variance"],
                    "curve": [
                        {
                            k: p[k]
                            for k in (
                                "step",
                                "train_loglik",
                                "train_loglik_max",
                                "heldout_loglik",
                                "min_variance",
                                "min_unfloored_variance",
                            )
                        }
                        for p in r["curve"]
                    ],
                }
                for r in ordered
            ],
            "provenance": prov,
        }
        run_dir.write_json("results.json", results)
        checks = verdicts(ordered, s)
        run_dir.write_text("summary.md", summary(ordered, checks, s, seed))
    finally:
        run_dir.close()
    return {**results, "details": ordered, "verdicts": checks, "out_dir": str(run_dir.path)}


def verdicts(records: list[dict], s: Settings) -> list[dict[str, Any]]:
    """The theory's statements against the runs (computed, see the module docstring)."""
    out = []
    for r in records:
        peak = r["train_loglik_max_all"]
        out.append(
            {
                "claim": f"{r['name']}: the largest training log-likelihood stays under the bound",
                "prediction": f"<= {r['bound']:.2f} nats",
                "measured": f"{C.fmt(peak, '.2f')} ({C.fmt(None if peak is None else 100 * peak / r['bound'], '.0f')}% of the bound)",
                "holds": peak is not None and peak <= r["bound"],
            }
        )
    if "gaussian_nll" in s.methods:
        for xi in s.floors:
            at = {
                r["floor_method"]: r["final"]["min_unfloored_variance"] for r in records if r["floor"] == xi
            }
            g = at.get("gaussian_nll")
            out.append(
                {
                    "claim": f"xi = {xi:g}: gaussian_nll's underlying variance falls far below xi (the gradient passes "
                    "the floor) while its likelihood stays bounded",
                    "prediction": "smallest unfloored variance < xi/10 (the other methods beside it for comparison)",
                    "measured": "; ".join(
                        f"{m} {C.fmt(v, '.2e')} ({C.fmt(None if v is None else v / xi, '.1e')} xi)"
                        for m, v in at.items()
                    ),
                    "holds": g is not None and g < 0.1 * xi,
                }
            )
    out += C.stopped_checks(records, "(none)")
    return out


def summary(records: list[dict], checks: list[dict], s: Settings, seed: int) -> str:
    lines = [
        f"# {NAME}",
        "",
        f"{s.n_train} dequantised digits for training, {s.n_heldout} held out; latent {s.latent}, hidden "
        f"{list(s.hidden)}, Adam lr {s.lr:g}, {s.steps} steps, seed {seed}; L_k with k = {s.k} (nats per point).",
        "",
        "| method | xi | bound | largest training (all steps) | held-out (end) | smallest unfloored variance |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        lines.append(
            f"| {r['floor_method']} | {r['floor']:g} | {r['bound']:.2f} | {C.fmt(r['train_loglik_max_all'], '.2f')} | "
            f"{C.fmt(r['final']['heldout_loglik'], '.1f')} | {C.fmt(r['final']['min_unfloored_variance'], '.2e')} |"
        )
    lines += ["", "## How to choose xi (measured)", ""]
    for m in s.methods:
        rs = [r for r in records if r["floor_method"] == m and r["final"]["heldout_loglik"] is not None]
        if rs:
            best = max(rs, key=lambda r: r["final"]["heldout_loglik"])
            lines.append(
                f"- {m}: the best held-out log-likelihood, {best['final']['heldout_loglik']:.1f}, at xi = {best['floor']:g} "
                f"(its bound {best['bound']:.1f}; largest training value {C.fmt(best['train_loglik_max_all'], '.1f')})."
            )
    lines += ["", "## Theory against the runs", ""]
    lines += C.verdict_lines(checks)
    why = []
    for xi in s.floors:
        at = {r["floor_method"]: r for r in records if r["floor"] == xi}
        g = at.get("gaussian_nll")
        v = None if g is None else g["final"]["min_unfloored_variance"]
        if v is not None and v >= 0.1 * xi:
            others = "; ".join(
                f"{m} {C.fmt(r['final']['min_unfloored_variance'], '.2e')}"
                for m, r in at.items()
                if m != "gaussian_nll"
            )
            smallest = min(
                (
                    r["final"]["min_unfloored_variance"]
                    for r in records
                    if r["floor_method"] == "gaussian_nll"
                    and r["final"]["min_unfloored_variance"] is not None
                ),
                default=None,
            )
            why.append(
                f"- xi = {xi:g}: gaussian_nll's head asks for {v:.2e} ({v / xi:.2f} xi), not below xi/10 (the other "
                f"heads: {others}). Its training mean is {C.fmt(g['final']['train_loglik'], '.1f')} against the bound "
                f"{g['bound']:.1f}: in {s.steps} steps the variance has barely reached this floor, so the "
                "straight-through clamp has had little gradient to pass below it (at the larger floors, reached "
                f"early, its head fell to {C.fmt(smallest, '.1e')}). A longer run is needed at this xi; the "
                "likelihood stays under the bound either way."
            )
    if why:
        lines += ["", "## Why (measured)", "", *why]
    lines += C.disagreement_lines(checks)
    return "\n".join(lines)


def caption(result: dict[str, Any]) -> str:
    """The figure's caption (sidecar): what is drawn, the line styles and the measured numbers."""
    records = result["details"]
    checks = result["verdicts"]
    params = result["provenance"].get("parameters", {})
    methods = list(dict.fromkeys(r["floor_method"] for r in records))
    parts = []
    for m in methods:
        rs = [r for r in records if r["floor_method"] == m]
        held = [r for r in rs if r["final"]["heldout_loglik"] is not None]
        best = max(held, key=lambda r: r["final"]["heldout_loglik"]) if held else None
        worst = max(
            (r["train_loglik_max_all"] / r["bound"] for r in rs if r["train_loglik_max_all"] is not None),
            default=None,
        )
        text = f"{m}: largest training value at most {C.fmt(None if worst is None else 100 * worst, '.0f')}% of its bound"
        if best is not None:
            text += (
                f", best held-out {best['final']['heldout_loglik']:.1f} at xi = {best['floor']:g}"
                f" (held-out from {min(r['final']['heldout_loglik'] for r in held):.1f} to {best['final']['heldout_loglik']:.1f} over the grid)"
            )
        ratios = [
            r["final"]["min_unfloored_variance"] / r["floor"]
            for r in rs
            if r["final"]["min_unfloored_variance"] is not None
        ]
        if ratios:
            text += f", smallest unfloored variance {min(ratios):.1e} to {max(ratios):.1e} xi"
        parts.append(text)
    disagree = [c["claim"] for c in checks if c["holds"] is False]
    checked = sum(c["holds"] is not None for c in checks)
    return (
        f"Four ways of flooring the decoder variance (one colour and marker each) over a log grid of xi, "
        f"each trained {params.get('steps')} Adam steps (lr {params.get('lr')}) on {params.get('n_train')} "
        f"dequantised digits (d = {DATA_DIM}) and evaluated with L_k (k = {params.get('k')}) over the whole "
        f"training set and {params.get('n_heldout')} held-out digits. (a) Held-out mean L_k at the end. "
        "(b) The largest training L_k over all evaluated steps; dashed: the bound -(d/2) log(2 pi xi). "
        "(c) The smallest variance the head asks for before the floor; dashed: sigma^2 = xi (below it: "
        "the floor is active; gaussian_nll's straight-through clamp lets it fall far below). Nats per "
        "point. Measured: "
        + "; ".join(parts)
        + f". {checked - len(disagree)} of {checked} statements of the theory agree with the runs"
        + (f"; disagreeing: {'; '.join(disagree)}." if disagree else ".")
        + f" Made by: {result['provenance'].get('command') or 'vaetheory experiment ' + NAME} "
        f"(seed {result['provenance'].get('seed')})."
    )
