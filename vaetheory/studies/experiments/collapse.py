# ruff: noqa: E501  (report sentences are long f-strings; splitting them hides the text)
r"""``collapse``: posterior collapse of trained deep VAEs against the linear VAE's threshold rule.

The linear VAE with a fixed decoder VARIANCE :math:`\sigma^2` and KL weight :math:`\beta` keeps
latent direction :math:`j` iff :math:`l_j > \beta\sigma^2` (Lucas et al. 2019; theory section 3;
:func:`vaetheory.linear.moments.active_mask`), so it predicts
:math:`\min(q, \#\{j : l_j > \beta\sigma^2\})` active units, :math:`l_j` the eigenvalues of the
training data's covariance, and a KL of :math:`\tfrac12\log(l_j/\beta\sigma^2)` in each kept
direction (0 in a collapsed one). With a learned variance it settles at :math:`\sigma^2_{ML}(q)`.

The experiment trains deep VAEs (``_common.train_group``, one stack per latent size ``q`` of the
fixed-variance runs) on dequantised digits over a dense log grid of thresholds spanning the
eigenvalues (from half the smallest kept eigenvalue :math:`l_{q_{max}}` to twice :math:`l_1`, set
from the training split), alternating between the two ways of setting it: ``beta`` runs
(:math:`\sigma = 1`, the KL weight :math:`\beta` on the grid) and ``sigma2`` runs (:math:`\beta = 1`,
the fixed variance on the grid); plus, per ``q``, one run with a learned variance shared by all
pixels (policy ``shared``, :math:`\beta=1`), whose settled :math:`\sigma^2` is a collapse threshold
like a fixed one (a per-pixel learned :math:`\sigma^2(x)` is not). The prediction at each run's
threshold comes from the closed-form optimum of :mod:`vaetheory.linear`
(:func:`~vaetheory.linear.variants.beta_vae_optimum`,
:func:`~vaetheory.linear.variants.fixed_variance_optimum`), never re-derived here.

**Active unit** (one definition, :func:`active_units_of`, used by the table, the verdicts and the
figure): Burda et al. (2016)'s activity :math:`A_u=\operatorname{Var}_x(\mathbb E_q[z_u\mid x])`
over the training points, unit active iff :math:`A_u >` :data:`ACTIVE_UNIT_THRESHOLD` (0.01;
:func:`vaetheory.empirical.diagnostics.active_units`). At the linear optimum
:math:`A_j = 1 - \beta\sigma^2/l_j`, so this rule calls direction :math:`j` active iff
:math:`l_j > \beta\sigma^2/0.99`: 1% from the theory's threshold, inside the 20% margin below (the
rule applied to the closed-form encoder is recorded beside the prediction, ``linear_active_units``).

**Verdicts.** Where every eigenvalue :math:`l_1..l_q` is at least :data:`MARGIN` (20%) away from
the threshold (:math:`l_j\ge1.2\,t` or :math:`l_j\le0.8\,t`), the measured count must equal the
prediction (issue 15). Where some :math:`l_j` is within 20%, those directions are left undecided:
the count must lie in :math:`[\#\{l_j\ge1.2t\}, \#\{l_j>0.8t\}]` (capped at ``q``), stated
separately.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from vaetheory.studies.experiments import _common as C

NAME = "collapse"
DATA_DIM = 64
#: Burda et al. (2016)'s activity threshold: unit u is active iff A_u = Var_x(E_q[z_u | x]) > this
ACTIVE_UNIT_THRESHOLD = 0.01
#: the rule in words (results.json, summary.md, the figure's axis label and caption)
ACTIVE_UNIT_RULE = "A_u = Var_x(E_q[z_u | x]) > 0.01 over the training points (Burda et al. 2016)"
#: an eigenvalue at least this far (relative) from the threshold decides its direction
MARGIN = 0.2
#: points of the linear theory's curves (log grid over the figure's threshold range)
THEORY_POINTS = 241


@dataclasses.dataclass(frozen=True)
class Settings:
    n_train: int = 1200
    n_heldout: int = 400
    latents: tuple[int, ...] = (2, 20)
    hidden: tuple[int, ...] = (128,)
    #: thresholds on the grid; they alternate beta (sigma = 1) and sigma^2 (beta = 1), beta first
    n_grid: int = 25
    grid_low: float = 0.5  # times the smallest eigenvalue l_{max q} kept by the largest latent size
    grid_high: float = 2.0  # times l_1
    steps: int = 6000
    n_evals: int = 8
    batch_size: int = 128
    lr: float = 2e-3
    learned: bool = True

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["latents"], d["hidden"] = list(self.latents), list(self.hidden)
        return d


DEFAULT = Settings()
QUICK = Settings(n_train=1000, n_heldout=300, n_grid=15, steps=2500, n_evals=6)
TINY = Settings(n_train=200, n_heldout=50, hidden=(32,), n_grid=5, steps=150, n_evals=3, lr=3e-3)


def check_settings(s: Settings) -> Settings:
    """``s`` if every field is in range (a ``ValueError`` naming the field otherwise)."""
    from vaetheory._validation import check_int, check_positive

    if not isinstance(s, Settings):
        raise ValueError(f"settings must be a collapse.Settings; got {type(s).__name__}")
    if not s.latents or len(set(s.latents)) != len(s.latents):
        raise ValueError(f"settings.latents must be distinct latent sizes; got {list(s.latents)}")
    for q in s.latents:
        check_int("settings.latents", q, low=1, high=DATA_DIM - 1)
    for name in ("n_train", "n_heldout", "steps", "batch_size"):
        check_int(f"settings.{name}", getattr(s, name), low=1)
    check_int("settings.n_grid", s.n_grid, low=2)
    check_int("settings.n_evals", s.n_evals, low=2)
    for name in ("grid_low", "grid_high", "lr"):
        check_positive(f"settings.{name}", getattr(s, name))
    if not s.grid_low < 1.0 < s.grid_high:
        raise ValueError(
            f"settings.grid_low must be < 1 < settings.grid_high (the grid must span the eigenvalues); got "
            f"{s.grid_low:g}, {s.grid_high:g}"
        )
    return s


# -- the one definition of an active unit, and the prediction at a threshold --------------------


def active_units_of(activity) -> int:
    """The number of active units: #{u : A_u > ACTIVE_UNIT_THRESHOLD} (module docstring)."""
    return int(np.sum(np.asarray(activity, dtype=np.float64) > ACTIVE_UNIT_THRESHOLD))


def marginal_units_of(activity) -> int:
    """Units counted active with A_u at most 5 times the threshold (0.01 < A_u <= 0.05): nearly collapsed."""
    a = np.asarray(activity, dtype=np.float64)
    return int(np.sum((a > ACTIVE_UNIT_THRESHOLD) & (a <= 5 * ACTIVE_UNIT_THRESHOLD)))


def threshold_grid(eigenvalues: np.ndarray, s: Settings) -> np.ndarray:
    """``s.n_grid`` log-spaced thresholds from ``grid_low * l_{max q}`` to ``grid_high * l_1``."""
    low = s.grid_low * float(eigenvalues[max(s.latents) - 1])
    high = s.grid_high * float(eigenvalues[0])
    return np.geomspace(low, high, s.n_grid)


def decided_band(eigenvalues: np.ndarray, q: int, threshold: float) -> tuple[int, int, bool]:
    r"""``(lower, upper, decided)`` at threshold t: directions with :math:`l_j\ge(1+m)t` must be active,
    those with :math:`l_j\le(1-m)t` collapsed (m = :data:`MARGIN`), the rest are undecided;
    ``decided`` when none is (then lower = upper = the prediction). Only :math:`l_1..l_q` count."""
    from vaetheory.linear.moments import active_mask  # the collapse rule, written once in linear

    lam = np.asarray(eigenvalues[:q], dtype=np.float64)
    lower = int(np.sum(active_mask(lam, (1.0 + MARGIN) * threshold) | (lam == (1.0 + MARGIN) * threshold)))
    upper = int(np.sum(active_mask(lam, (1.0 - MARGIN) * threshold)))
    return lower, upper, lower == upper


def linear_at(moments, x_train: np.ndarray, q: int, *, beta: float, sigma2: float) -> dict[str, Any]:
    """The linear VAE's closed-form optimum at (beta, sigma^2): its prediction and, by the same rule as
    the deep runs, the activity and KL per direction of its encoder on the training points."""
    from vaetheory.densities import kl_gaussian_standard
    from vaetheory.linear.variants import beta_vae_optimum

    opt = beta_vae_optimum(moments, q, beta, sigma2)
    m = (x_train - opt.mean) @ opt.V.T
    activity = np.var(m, axis=0)  # 1/n, as diagnostics.active_units
    kl = np.mean(kl_gaussian_standard(m, opt.D[None, :]), axis=0)
    return {
        "threshold": opt.effective_variance,
        "predicted_active_units": int(np.sum(opt.active)),  # min(q, #{j : l_j > beta sigma^2})
        "linear_active_units": active_units_of(activity),
        "linear_activity": activity.tolist(),
        "linear_kl_per_dimension": kl.tolist(),
        "predicted_kl_total": float(np.sum(kl)),
    }


def theory_curves(moments, x_train: np.ndarray, s: Settings, grid: np.ndarray) -> list[dict[str, Any]]:
    """Per latent size: the linear prediction (active units, total KL) on a fine grid of thresholds,
    the eigenvalues l_1..l_q and sigma^2_ML(q) (where a learned linear variance settles)."""
    from vaetheory.studies.thesis_ch5.theory import predicted_active_curve

    low = min(float(grid[0]), *(moments.ml_noise_variance(q) for q in s.latents)) / 1.5
    ts = np.geomspace(low, grid[-1] * 1.5, THEORY_POINTS)  # sigma^2_ML(q) inside the range
    out = []
    for q in s.latents:
        kl = [linear_at(moments, x_train, q, beta=1.0, sigma2=float(t))["predicted_kl_total"] for t in ts]
        out.append(
            {
                "kind": "linear-theory",
                "name": f"linear-q{q}",
                "q": q,
                "thresholds": ts.tolist(),
                "active_units": predicted_active_curve(moments.eigenvalues, q, ts).tolist(),
                "kl_total": kl,
                "eigenvalues": moments.eigenvalues[:q].tolist(),
                "sigma2_ml": moments.ml_noise_variance(q),
                "margin": MARGIN,
                "active_unit_rule": ACTIVE_UNIT_RULE,
            }
        )
    return out


def _evaluate(model, x_train: np.ndarray, x_heldout: np.ndarray) -> dict[str, Any]:
    """Activity, active units (train and held-out), KL per unit, reconstruction MSE, decoder variance."""
    import torch

    from vaetheory.empirical import diagnostics

    activity = diagnostics.active_units(model, x_train, threshold=ACTIVE_UNIT_THRESHOLD).activity
    held = diagnostics.active_units(model, x_heldout, threshold=ACTIVE_UNIT_THRESHOLD).activity
    kl = np.asarray(diagnostics.kl_per_dimension(model, x_train), dtype=np.float64)
    xt = torch.as_tensor(x_train, dtype=torch.float64)
    with torch.no_grad():
        mean, _ = model.encode(xt)
        recon, variance = model.decoder_params(mean)
    return {
        "active_units": active_units_of(activity),
        "active_units_heldout": active_units_of(held),
        "activity": [float(a) for a in activity],
        "kl_per_dimension": kl.tolist(),
        "kl_total": float(np.sum(kl)),
        "recon_mse": float(torch.mean((recon - xt) ** 2)),
        "decoder_variance": float(torch.mean(variance)),
    }


def _name(q: int, family: str, value: float | None) -> str:
    return f"q{q}-learned" if value is None else f"q{q}-{family}{value:.3g}"


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
    from vaetheory.linear.moments import sample_moments
    from vaetheory.provenance import provenance

    if data != "digits":
        raise ValueError(f"--data: {NAME} runs on 'digits' (dequantised); got {data!r}")
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    device = C.experiment_device(device)
    s = check_settings(settings if settings is not None else (QUICK if quick else DEFAULT))
    record = C.experiment_record(NAME, s, seed=seed, data=data, device=device)
    x_train, x_heldout = C.digits_split(s.n_train, s.n_heldout, seed, "dequantised")
    moments = sample_moments(x_train, name="training digits")
    grid = threshold_grid(moments.eigenvalues, s)
    run_dir = C.open_run_directory(
        out_dir, experiment=NAME, record=record, resume=resume, overwrite=overwrite
    )
    try:
        eval_steps = C.log_steps(s.steps, s.n_evals)
        records: dict[str, dict] = {}
        names_all: list[str] = []
        groups = []
        for q in s.latents:
            fixed = []
            for i, t in enumerate(grid):
                t = float(t)
                family, beta, sigma2 = ("beta", t, 1.0) if i % 2 == 0 else ("sigma2", 1.0, t)
                config = VAEConfig(DATA_DIM, q, hidden=s.hidden, variance="fixed", sigma=math.sqrt(sigma2))
                fixed.append((_name(q, family, t), family, SweepRun(config, seed, beta=beta)))
            groups.append((q, "fixed", fixed))
            if s.learned:
                config = VAEConfig(DATA_DIM, q, hidden=s.hidden, variance="shared")
                groups.append((q, "shared", [(_name(q, "learned", None), "learned", SweepRun(config, seed))]))
        for gi, (q, policy, runs) in enumerate(groups, 1):
            names = [n for n, _, _ in runs]
            names_all += names
            done = C.load_finished(run_dir, names)
            if done is not None:
                records.update(done)
                C.progress_line(f"[{NAME}] {gi}/{len(groups)} q = {q} {policy}: finished, skipped", progress)
                continue
            start = time.perf_counter()
            outcomes = C.train_group(
                [r for _, _, r in runs],
                x_train,
                steps=s.steps,
                batch_size=s.batch_size,
                lr=s.lr,
                eval_steps=eval_steps,
                device=device,
                evaluate=lambda k, model: _evaluate(model, x_train, x_heldout),
            )
            for (name, family, sweep_run), outcome in zip(runs, outcomes):
                final = outcome.curve[-1] if outcome.curve else None
                rec = _record(name, family, sweep_run, outcome, final, moments, x_train, q)
                run_dir.write_json(C.run_file(run_dir, name), rec)
                records[name] = rec
            C.progress_line(
                f"[{NAME}] {gi}/{len(groups)} q = {q} {policy}: {len(runs)} runs, {s.steps} steps in "
                f"{time.perf_counter() - start:.1f} s",
                progress,
            )
        ordered = [records[n] for n in names_all]
        curves = theory_curves(moments, x_train, s, grid)
        prov = provenance(
            seed=seed,
            parameters={"experiment": NAME, **record["settings"], "data": data, "device": str(device)},
        )
        results = {
            "experiment": NAME,
            "runs": [_public(r) for r in ordered],
            "active_unit_rule": ACTIVE_UNIT_RULE,
            "active_unit_threshold": ACTIVE_UNIT_THRESHOLD,
            "margin": MARGIN,
            "eigenvalues": moments.eigenvalues.tolist(),
            "sigma2_ml": {str(q): moments.ml_noise_variance(q) for q in s.latents},
            "thresholds": grid.tolist(),
            "provenance": prov,
        }
        run_dir.write_json("results.json", results)
        checks = verdicts(ordered, s)
        details = ordered + curves
        run_dir.write_text("summary.md", summary(details, checks, s, seed))
    finally:
        run_dir.close()
    return {**results, "details": details, "verdicts": checks, "out_dir": str(run_dir.path)}


#: the keys of a run in results.json (the run files hold these and the per-step curve's details)
PUBLIC_KEYS = (
    "name",
    "q",
    "family",
    "policy",
    "beta",
    "sigma2",
    "threshold",
    "active_units",
    "active_units_heldout",
    "predicted_active_units",
    "linear_active_units",
    "band",
    "decided",
    "kl_total",
    "predicted_kl_total",
    "kl_per_dimension",
    "activity",
    "recon_mse",
    "stopped",
)


def _public(r: dict) -> dict:
    return {
        **{k: r[k] for k in PUBLIC_KEYS},
        "curve": [
            {k: p[k] for k in ("step", "active_units", "kl_total", "recon_mse", "decoder_variance")}
            for p in r["curve"]
        ],
    }


def _record(name, family, sweep_run, outcome, final, moments, x_train, q) -> dict[str, Any]:
    config = sweep_run.config
    if config.variance == "fixed":
        beta, sigma2 = sweep_run.beta, config.sigma**2
    else:  # shared learned variance: where it settled, beta = 1
        beta, sigma2 = 1.0, None if final is None else final["decoder_variance"]
    rec: dict[str, Any] = {
        "kind": "run",
        "name": name,
        "q": q,
        "family": family,
        "policy": config.variance,
        "beta": beta,
        "sigma2": sigma2,
        "stopped": outcome.stopped,
        "curve": outcome.curve,
        "active_unit_rule": ACTIVE_UNIT_RULE,
    }
    if final is None or sigma2 is None or not sigma2 > 0:
        rec.update(
            {k: None for k in PUBLIC_KEYS if k not in rec},
            band=None,
            decided=False,
            sigma2_ml=moments.ml_noise_variance(q),
        )
        return rec
    linear = linear_at(moments, x_train, q, beta=beta, sigma2=sigma2)
    lower, upper, decided = decided_band(moments.eigenvalues, q, linear["threshold"])
    rec.update(
        {k: final[k] for k in ("active_units", "active_units_heldout", "activity", "kl_per_dimension")},
        kl_total=final["kl_total"],
        recon_mse=final["recon_mse"],
        **linear,
        band=[lower, upper],
        decided=decided,
        sigma2_ml=moments.ml_noise_variance(q),
    )
    return rec


def _fmt_t(t: float) -> str:
    return f"{t:.3g}"


def verdicts(records: list[dict], s: Settings) -> list[dict[str, Any]]:
    """The theory's statements against the runs (computed from the records; module docstring)."""
    out = []
    runs = [r for r in records if r.get("kind", "run") == "run"]
    for r in runs:
        if r["active_units"] is None:
            continue
        what = (
            f"learned shared sigma^2 settled at {_fmt_t(r['sigma2'])}"
            if r["family"] == "learned"
            else f"beta = {_fmt_t(r['beta'])}, sigma^2 = {_fmt_t(r['sigma2'])}"
        )
        if r["decided"]:
            out.append(
                {
                    "claim": f"{r['name']} ({what}; every l_j, j <= {r['q']}, at least {MARGIN:.0%} from beta sigma^2 = "
                    f"{_fmt_t(r['threshold'])}): active units = min(q, #{{j : l_j > beta sigma^2}})",
                    "prediction": f"{r['predicted_active_units']} of {r['q']}",
                    "measured": f"{r['active_units']} of {r['q']}, {marginal_units_of(r['activity'])} of them marginal "
                    f"(0.01 < A_u <= 0.05) (KL {r['kl_total']:.3g} nats; linear optimum {r['predicted_kl_total']:.3g})",
                    "holds": r["active_units"] == r["predicted_active_units"],
                }
            )
    for q in s.latents:
        undecided = [r for r in runs if r["q"] == q and r["active_units"] is not None and not r["decided"]]
        if not undecided:
            continue
        outside = [r for r in undecided if not r["band"][0] <= r["active_units"] <= r["band"][1]]
        out.append(
            {
                "claim": f"q = {q}, the {len(undecided)} runs with some l_j within {MARGIN:.0%} of beta sigma^2: the directions "
                f"with l_j >= {1 + MARGIN:g} t active, those with l_j <= {1 - MARGIN:g} t collapsed",
                "prediction": "active units in [#{l_j >= 1.2 t}, #{l_j > 0.8 t}] (capped at q) at each t",
                "measured": "; ".join(
                    f"t = {_fmt_t(r['threshold'])}: {r['active_units']} in [{r['band'][0]}, {r['band'][1]}]"
                    f" ({marginal_units_of(r['activity'])} marginal)"
                    for r in undecided
                ),
                "holds": not outside,
            }
        )
    for r in runs:
        if r["family"] == "learned" and r["sigma2"] is not None:
            out.append(
                {
                    "claim": f"{r['name']}: where a learned (shared) sigma^2 settles",
                    "prediction": f"linear VAE: sigma^2_ML(q = {r['q']}) = {_fmt_t(r['sigma2_ml'])}, all {r['q']} directions "
                    "kept (the deep decoder is not linear: no prediction for its value)",
                    "measured": f"sigma^2 = {_fmt_t(r['sigma2'])} ({r['sigma2'] / r['sigma2_ml']:.2g} sigma^2_ML) at step "
                    f"{r['curve'][-1]['step']}"
                    + (
                        f" ({_fmt_t(r['curve'][-2]['decoder_variance'])} at step {r['curve'][-2]['step']})"
                        if len(r["curve"]) >= 2
                        else ""
                    )
                    + f", {r['active_units']} of {r['q']} active",
                    "holds": None,
                }
            )
    out += C.stopped_checks(runs, "(none)")
    return out


def summary(details: list[dict], checks: list[dict], s: Settings, seed: int) -> str:
    runs = [r for r in details if r.get("kind", "run") == "run"]
    curves = {c["q"]: c for c in details if c.get("kind") == "linear-theory"}
    lines = [
        f"# {NAME}",
        "",
        f"{s.n_train} dequantised digits for training ({s.n_heldout} held out); deep VAEs with hidden {list(s.hidden)} "
        f"(tanh), latent sizes {list(s.latents)}; Adam lr {s.lr:g}, batch {s.batch_size}, {s.steps} steps, seed {seed}. "
        f"Thresholds beta sigma^2 on a log grid of {s.n_grid} from {s.grid_low:g} l_{max(s.latents)} to {s.grid_high:g} l_1, "
        "alternating beta runs (sigma = 1) and sigma^2 runs (beta = 1).",
        "",
        f"Active unit (figure, table and verdicts): {ACTIVE_UNIT_RULE}. Linear prediction: min(q, #{{j : l_j > beta sigma^2}}) "
        "(Lucas et al. 2019), KL of the closed-form optimum's encoder on the training points; 'linear (rule)': the same "
        f"active-unit rule applied to that encoder. 'decided': every l_j (j <= q) at least {MARGIN:.0%} from the threshold.",
        "",
    ]
    for q, c in curves.items():
        lam = ", ".join(f"{v:.3g}" for v in c["eigenvalues"])
        lines.append(f"- q = {q}: l_1..l_{q} = {lam}; sigma^2_ML(q) = {c['sigma2_ml']:.3g}.")
    lines += [
        "",
        "| run | q | beta | sigma^2 | beta sigma^2 | active (train / held-out) | linear: predicted (rule) | decided | KL (nats) | linear KL | KL per unit, largest first |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in runs:
        if r["active_units"] is None:
            lines.append(f"| {r['name']} | {r['q']} | - | - | - | stopped | - | - | - | - | - |")
            continue
        kl = ", ".join(f"{v:.2g}" for v in sorted(r["kl_per_dimension"], reverse=True)[:8])
        more = "" if len(r["kl_per_dimension"]) <= 8 else ", ..."
        lines.append(
            f"| {r['name']} | {r['q']} | {r['beta']:.3g} | {r['sigma2']:.3g} | {r['threshold']:.3g} | "
            f"{r['active_units']} / {r['active_units_heldout']} | {r['predicted_active_units']} ({r['linear_active_units']}) | "
            f"{'yes' if r['decided'] else 'no'} | {r['kl_total']:.3g} | {r['predicted_kl_total']:.3g} | {kl}{more} |"
        )
    steps = [p["step"] for p in runs[0]["curve"]] if runs else []
    if len(steps) >= 2:
        changed = [
            r["name"]
            for r in runs
            if len(r["curve"]) >= 2 and r["curve"][-1]["active_units"] != r["curve"][-2]["active_units"]
        ]
        lines += [
            "",
            f"Convergence: active units changed between steps {steps[-2]} and {steps[-1]} in {len(changed)} of {len(runs)} runs"
            + (f" ({', '.join(changed)})." if changed else "."),
        ]
    lines += ["", "## Theory against the runs", ""]
    lines += C.verdict_lines(checks)
    lines += C.disagreement_lines(checks)
    return "\n".join(lines)


def caption(result: dict) -> str:
    """The figure's caption: what is drawn and the measured numbers a reader needs."""
    runs = [r for r in result["details"] if r.get("kind", "run") == "run" and r["active_units"] is not None]
    checked = [c for c in result["verdicts"] if c["holds"] is not None]
    agree = sum(c["holds"] is True for c in checked)
    learned = [r for r in runs if r["family"] == "learned"]
    parts = [
        "Posterior collapse in deep VAEs on dequantised digits against the linear VAE (Lucas et al. 2019). "
        "Top row q = 2, bottom row q = 20; left: active units (A_u = Var_x(E_q[z_u|x]) > 0.01) against the "
        "collapse threshold beta sigma^2 (log axis); right: total KL(q(z|x) || p(z)) in nats. Thick translucent "
        "lines: the linear VAE's closed-form optimum (min(q, #{l_j > beta sigma^2}); its KL); dashed vertical "
        "lines: sigma^2_ML(q), where a learned linear variance settles. Markers: trained runs, circles beta runs "
        "(sigma = 1), squares sigma^2 runs (beta = 1), stars a learned shared sigma^2 placed at the value it "
        "settled at (beta = 1); filled where every l_j (j <= q) is at least 20% from the threshold (the "
        "prediction is exact there), open otherwise.",
        f"{agree} of {len(checked)} checked statements agree with the theory.",
    ]
    for r in learned:
        parts.append(
            f"q = {r['q']}: the learned sigma^2 settled at {r['sigma2']:.3g} (sigma^2_ML = {r['sigma2_ml']:.3g}) with "
            f"{r['active_units']} of {r['q']} units active."
        )
    return " ".join(parts)


__all__ = [
    "ACTIVE_UNIT_RULE",
    "ACTIVE_UNIT_THRESHOLD",
    "DEFAULT",
    "MARGIN",
    "NAME",
    "QUICK",
    "TINY",
    "Settings",
    "active_units_of",
    "caption",
    "decided_band",
    "linear_at",
    "marginal_units_of",
    "run",
    "summary",
    "theory_curves",
    "threshold_grid",
    "verdicts",
]
