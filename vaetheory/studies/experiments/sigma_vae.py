# ruff: noqa: E501  (report sentences are long f-strings; splitting them hides the text)
r"""``sigma-vae``: a fixed decoder std over a grid, one shared learned std, and the calibrated one.

Rybkin, Daniilidis & Levine (ICML 2021, arXiv:2006.13202), "Simple and effective VAE training with
calibrated decoders". One decoder variance :math:`\sigma^2` shared by every dimension and point:

* ``fixed``: :math:`\sigma` on a log grid (one stacked sweep; the runs differ only in
  :math:`\sigma`). A fixed :math:`\sigma` is the :math:`\beta`-VAE with :math:`\beta=2\sigma^2`
  on the squared error (Rezende & Viola 2018);
* ``shared``: :math:`\sigma^2=e^{\lambda}` learned with the network (policy ``shared``);
* ``calibrated``: the sigma-VAE's closed form :math:`\sigma^{*2}=\mathrm{MSE}` of the batch
  (policy ``calibrated``).

Trained on the dequantised digits (``_common.digits_split``). Measured at log-spaced steps over the
whole sets, in float64: the ELBO (mean over points of ``n_elbo`` one-sample ELBOs, with its Monte
Carlo standard error), the held-out log-likelihood (:math:`L_k`), the reconstruction MSE at the
encoder mean, the ELBO's own squared error :math:`\mathbb E_{q(z\mid x)}\lVert x-\mu(z)\rVert^2/d`
(the :math:`\sigma^{*2}` of the current decoder) and the decoder variance in use; at the end the
sample statistics: the total variance :math:`\sum_j\operatorname{Var}[x_j]` of ancestral samples
(:math:`z\sim\mathcal N(0,I)`, :math:`x\sim\mathcal N(\mu(z),\sigma^2I)`) and of mean samples
:math:`\mu(z)` against the data's.

Theory. For any decoder mean the ELBO in a shared variance,
:math:`-\tfrac d2\log(2\pi\sigma^2)-\tfrac{d\,\mathrm{MSE}_q}{2\sigma^2}-\mathrm{KL}`, is maximal
exactly at :math:`\sigma^2=\mathrm{MSE}_q` (the calibration; a stationary point of the shared run
has :math:`\sigma^2=\mathrm{MSE}_q`). Maximising over :math:`\sigma` and the network jointly
dominates every fixed :math:`\sigma`, so the fixed runs' ELBO envelope peaks at the :math:`\sigma`
where the learned run settles, and the ELBO of the shared and calibrated runs is at least the best
fixed run's. A fixed :math:`\sigma` trades reconstruction against KL at :math:`\beta=2\sigma^2`:
at the optimum of :math:`D+\beta R` the distortion :math:`D` is non-decreasing in :math:`\beta`, so
the reconstruction MSE grows with :math:`\sigma`. For the linear model at its maximum (pPCA) the
model's total variance equals the data's, :math:`\operatorname{tr}(WW^\top+\sigma^2I)=\operatorname{tr}S`;
the calibrated deep model's samples are compared with that identity. :func:`verdicts` computes
every statement from the runs.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
import torch

from vaetheory.studies.experiments import _common as C

NAME = "sigma-vae"
DATA_DIM = 64
#: the criteria of this summary (stated, fixed before the runs; module docstring)
STATIONARY_RATIO = 1.1  # sigma^2 / MSE_q within a factor 1.1 of 1 (Adam's noise in log sigma^2)
SAMPLE_VARIANCE_RATIO = 1.25  # the pPCA identity tr C = tr S, within a factor 1.25
SE_MULTIPLE = 3.0  # "at least the best fixed run's ELBO" up to 3 Monte Carlo standard errors


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of one run of the experiment (``DEFAULT``, ``QUICK`` and ``TINY`` below)."""

    n_train: int = 1000
    n_heldout: int = 400
    latent: int = 8
    hidden: tuple[int, ...] = (128,)
    steps: int = 5000
    n_evals: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    sigmas: tuple[float, ...] = (0.03, 0.06, 0.12, 0.25, 0.5, 1.0)
    k: int = 128
    n_elbo: int = 8
    n_samples: int = 2000

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"], d["sigmas"] = list(self.hidden), list(self.sigmas)
        return d


DEFAULT = Settings()
QUICK = Settings(n_train=500, n_heldout=300, steps=2000, n_evals=6, k=32, n_elbo=4, n_samples=1000)
#: for the tests: seconds, not minutes
TINY = Settings(
    n_train=120,
    n_heldout=60,
    latent=4,
    hidden=(32,),
    steps=400,
    n_evals=3,
    lr=5e-3,
    sigmas=(0.08, 0.2, 0.5),
    k=8,
    n_elbo=2,
    n_samples=200,
)


def _check_settings(s: Settings) -> Settings:
    if not isinstance(s, Settings):
        raise ValueError(f"settings must be a {NAME} Settings; got {type(s).__name__}")
    if len(s.sigmas) < 2 or any(not (math.isfinite(v) and v > 0) for v in s.sigmas):
        raise ValueError(f"settings.sigmas must hold at least 2 positive finite stds; got {list(s.sigmas)}")
    if list(s.sigmas) != sorted(set(s.sigmas)):
        raise ValueError(f"settings.sigmas must be increasing and distinct; got {list(s.sigmas)}")
    return s


def _sigma_name(sigma: float) -> str:
    return f"fixed-sigma{sigma:g}"


def plan(s: Settings, seed: int) -> list[dict[str, Any]]:
    """The groups: the fixed grid stacked, then ``shared`` and ``calibrated`` alone."""
    from vaetheory.empirical.model import VAEConfig
    from vaetheory.empirical.sweep import SweepRun

    def config(**kw):
        return VAEConfig(DATA_DIM, s.latent, hidden=s.hidden, **kw)

    return [
        {"runs": [(_sigma_name(v), SweepRun(config(variance="fixed", sigma=v), seed)) for v in s.sigmas]},
        {"runs": [("shared", SweepRun(config(variance="shared"), seed))]},
        {"runs": [("calibrated", SweepRun(config(variance="calibrated"), seed))]},
    ]


def evaluate_sigma(
    model, x_train: np.ndarray, x_heldout: np.ndarray, *, k: int, n_elbo: int, seed: int
) -> dict[str, Any]:
    """The per-step statistics of the module docstring for one float64 model."""
    from vaetheory.empirical.estimators import elbo, iwae_bound

    gen = torch.Generator().manual_seed(seed)
    xt = torch.as_tensor(x_train, dtype=torch.float64)
    xh = torch.as_tensor(x_heldout, dtype=torch.float64)
    draws = torch.stack([elbo(model, xt, generator=gen, dtype=torch.float64) for _ in range(n_elbo)])
    per_point = draws.mean(dim=0)
    # Monte Carlo standard error of the whole-set mean (the points are all there: only eps varies)
    se = float(draws.mean(dim=1).std(unbiased=True) / math.sqrt(n_elbo)) if n_elbo > 1 else None
    heldout = iwae_bound(model, xh, k, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        mean, variance = model.encode(xt)
        recon, sigma2 = model.decoder_params(mean)
        mean_h, _ = model.encode(xh)
        recon_h, _ = model.decoder_params(mean_h)
        eps = torch.randn((n_elbo, *mean.shape), generator=gen, dtype=torch.float64)
        dec, _ = model.decoder_params(mean + variance.sqrt() * eps)
        mse_q = float((xt - dec).square().mean())
    return {
        "elbo": C.finite_or_none(per_point.mean()),
        "elbo_se": se,
        "heldout_loglik": C.finite_or_none(heldout.mean()),
        "recon_mse": C.finite_or_none((xt - recon).square().mean()),
        "heldout_recon_mse": C.finite_or_none((xh - recon_h).square().mean()),
        "elbo_mse": C.finite_or_none(mse_q),
        "sigma2": C.finite_or_none(sigma2.mean()),
    }


def sample_statistics(model, x_train: np.ndarray, *, n: int, seed: int) -> dict[str, Any]:
    """Total variances of ancestral and mean samples of the model and of the training data."""
    from vaetheory.empirical.sampling import sample

    anc = sample(model, n, mode="ancestral", seed=seed).numpy()
    mean = sample(model, n, mode="mean", seed=seed).numpy()
    data_total = float(np.var(x_train, axis=0).sum())
    anc_total = float(np.var(anc, axis=0).sum())
    mean_total = float(np.var(mean, axis=0).sum())
    return {
        "data_total_variance": data_total,
        "sample_total_variance": anc_total,
        "mean_sample_total_variance": mean_total,
        "sample_variance_ratio": anc_total / data_total,
        "mean_sample_variance_ratio": mean_total / data_total,
        "sample_pixel_mean_error": float(np.sqrt(np.mean((anc.mean(axis=0) - x_train.mean(axis=0)) ** 2))),
    }


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
    """Run the experiment into ``out_dir``; return the ``results.json`` value (also written).

    Files as in ``unbounded_training.run``: ``DIR/runs/<name>.json`` per run (a group's runs written
    when it finishes; ``resume=True`` skips finished groups), ``DIR/results.json``, ``DIR/summary.md``.
    """
    from vaetheory._validation import check_int
    from vaetheory.linear import ppca_mle
    from vaetheory.provenance import provenance

    if data != "digits":
        raise ValueError(f"--data: {NAME} runs on 'digits' (dequantised); got {data!r}")
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    device = C.experiment_device(device)
    s = _check_settings(settings if settings is not None else (QUICK if quick else DEFAULT))
    record = C.experiment_record(NAME, s, seed=seed, data=data, device=device)
    run_dir = C.open_run_directory(
        out_dir, experiment=NAME, record=record, resume=resume, overwrite=overwrite
    )
    try:
        x_train, x_heldout = C.digits_split(s.n_train, s.n_heldout, seed, "dequantised")
        estimator = (
            f"ELBO: mean of {s.n_elbo} one-sample ELBOs per point (analytic KL); held-out: L_k importance-weighted "
            f"bound (Burda et al. 2016), k = {s.k}; float64, whole sets"
        )
        eval_steps = C.log_steps(s.steps, s.n_evals)
        groups = plan(s, seed)
        records: dict[str, dict] = {}
        for gi, group in enumerate(groups, 1):
            names = [name for name, _ in group["runs"]]
            done = C.load_finished(run_dir, names)
            if done is not None:
                C.progress_line(
                    f"[{NAME}] group {gi}/{len(groups)} ({', '.join(names)}): finished, skipped", progress
                )
                records.update(done)
                continue
            start = time.perf_counter()
            outcomes = C.train_group(
                [r for _, r in group["runs"]],
                x_train,
                steps=s.steps,
                batch_size=s.batch_size,
                lr=s.lr,
                eval_steps=eval_steps,
                device=device,
                evaluate=lambda k, model: evaluate_sigma(
                    model, x_train, x_heldout, k=s.k, n_elbo=s.n_elbo, seed=seed + 1
                ),
            )
            for (name, sweep_run), outcome in zip(group["runs"], outcomes):
                config = sweep_run.config
                model = C.model_of(config, outcome.state)
                rec = {
                    "name": name,
                    "policy": config.variance,
                    "sigma": config.sigma,
                    "estimator": estimator,
                    "stopped": outcome.stopped,
                    "curve": outcome.curve,
                    "final": outcome.curve[-1] if outcome.curve else None,
                    "samples": sample_statistics(model, x_train, n=s.n_samples, seed=seed + 2),
                    "lr": s.lr,
                    "data": "dequantised",
                }
                run_dir.write_json(C.run_file(run_dir, name), rec)
                records[name] = rec
            C.progress_line(
                f"[{NAME}] group {gi}/{len(groups)} ({', '.join(names)}): {s.steps} steps in "
                f"{time.perf_counter() - start:.1f} s",
                progress,
            )
        ordered = [records[name] for group in groups for name, _ in group["runs"]]
        linear = ppca_mle(x_train, s.latent)
        sigma_star = {
            r["policy"]: (None if r["final"]["sigma2"] is None else math.sqrt(r["final"]["sigma2"]))
            for r in ordered
            if r["policy"] in ("shared", "calibrated")
        }
        prov = provenance(
            seed=seed,
            parameters={"experiment": NAME, **record["settings"], "data": data, "device": str(device)},
        )
        results = {
            "experiment": NAME,
            "runs": [
                {
                    "name": r["name"],
                    "policy": r["policy"],
                    "sigma": r["sigma"],
                    "estimator": r["estimator"],
                    "stopped": r["stopped"],
                    "sigma2": r["final"]["sigma2"],
                    "elbo": r["final"]["elbo"],
                    "heldout_loglik": r["final"]["heldout_loglik"],
                    "recon_mse": r["final"]["recon_mse"],
                    "heldout_recon_mse": r["final"]["heldout_recon_mse"],
                    "elbo_mse": r["final"]["elbo_mse"],
                    "samples": r["samples"],
                    "curve": r["curve"],
                }
                for r in ordered
            ],
            "sigma_star": sigma_star,
            "ppca_sigma2_ml": float(linear.noise_variance),
            "provenance": prov,
        }
        run_dir.write_json("results.json", results)
        checks = verdicts(ordered, s)
        run_dir.write_text("summary.md", summary(ordered, checks, s, seed, results))
    finally:
        run_dir.close()
    return {**results, "details": ordered, "verdicts": checks, "out_dir": str(run_dir.path)}


# -- verdicts ---------------------------------------------------------------------------------------


def _by_policy(records: list[dict], policy: str) -> dict | None:
    return next((r for r in records if r["policy"] == policy), None)


def _nearest_index(grid: list[float], value: float) -> int:
    return int(np.argmin([abs(math.log(g) - math.log(value)) for g in grid]))


def verdicts(records: list[dict], s: Settings) -> list[dict[str, Any]]:
    """One ``{"claim", "prediction", "measured", "holds"}`` per statement of the theory (computed)."""
    out: list[dict[str, Any]] = []
    fixed = sorted(
        (
            r
            for r in records
            if r["policy"] == "fixed" and r["stopped"] is None and r["final"]["elbo"] is not None
        ),
        key=lambda r: r["sigma"],
    )
    shared, calibrated = _by_policy(records, "shared"), _by_policy(records, "calibrated")
    for r in (shared, calibrated):
        if r is None or r["final"] is None or r["final"]["sigma2"] is None or r["final"]["elbo_mse"] is None:
            continue
        ratio = r["final"]["sigma2"] / r["final"]["elbo_mse"]
        travel = ""
        if r["policy"] == "shared":
            # Adam moves the one log variance by about lr per step at most: the steps it needs from 0
            need = abs(math.log(r["final"]["elbo_mse"])) / r["lr"]
            travel = (
                f"; log sigma^2 moved {math.log(r['final']['sigma2']):.2f} from its initial 0 in {r['final']['step']} steps, "
                f"and Adam moves it by about lr = {r['lr']:g} per step at most, so reaching log MSE_q = "
                f"{math.log(r['final']['elbo_mse']):.2f} needs at least {need:.0f} steps"
            )
        out.append(
            {
                "claim": f"{r['name']}: the decoder variance is calibrated, sigma^2 = the ELBO's own MSE",
                "prediction": f"sigma^2 / MSE_q = 1 (the ELBO's maximum in a shared variance); criterion within a factor {STATIONARY_RATIO:g}",
                "measured": f"sigma^2 = {r['final']['sigma2']:.4g}, MSE_q = {r['final']['elbo_mse']:.4g}, ratio {ratio:.3f}{travel}",
                "holds": 1 / STATIONARY_RATIO <= ratio <= STATIONARY_RATIO,
            }
        )
    if fixed:
        best = max(fixed, key=lambda r: r["final"]["elbo"])
        for r in (shared, calibrated):
            if r is None or r["stopped"] is not None or r["final"]["elbo"] is None:
                continue
            se = max(x for x in (r["final"]["elbo_se"], best["final"]["elbo_se"], 0.0) if x is not None)
            tol = SE_MULTIPLE * math.sqrt(2.0) * se
            diff = r["final"]["elbo"] - best["final"]["elbo"]
            out.append(
                {
                    "claim": f"{r['name']}: learning sigma dominates every fixed sigma (ELBO)",
                    "prediction": f"ELBO >= the best fixed run's ({best['name']}), up to {SE_MULTIPLE:g} Monte Carlo standard errors of the difference ({tol:.3f} nats)",
                    "measured": f"{r['final']['elbo']:.2f} against {best['final']['elbo']:.2f} (difference {diff:+.2f} nats)",
                    "holds": diff >= -tol,
                }
            )
        # sigma* of the calibrated run: the closed form MSE of the ELBO's maximum, reached at every step
        # (the shared run's sigma is still on its way down when Adam's step limits it; its own verdict)
        star = (
            None
            if calibrated is None or calibrated["final"]["sigma2"] is None
            else math.sqrt(calibrated["final"]["sigma2"])
        )
        grid = [r["sigma"] for r in fixed]
        if star is not None and len(fixed) >= 2:
            near = _nearest_index(grid, star)
            for key, what in (("elbo", "ELBO"), ("heldout_loglik", "held-out log-likelihood")):
                vals = [r["final"][key] for r in fixed]
                if any(v is None for v in vals):
                    continue
                peak = int(np.argmax(vals))
                out.append(
                    {
                        "claim": f"the fixed-sigma {what} peaks at the calibrated sigma*",
                        "prediction": f"argmax over the grid within one grid step of sigma* = {star:.4g} (calibrated; nearest grid point {grid[near]:g})",
                        "measured": f"peak {vals[peak]:.2f} at sigma = {grid[peak]:g}; "
                        + ", ".join(f"{g:g}: {v:.1f}" for g, v in zip(grid, vals)),
                        "holds": abs(peak - near) <= 1,
                    }
                )
        mses = [r["final"]["recon_mse"] for r in fixed]
        if len(fixed) >= 2 and all(m is not None for m in mses):
            bad = [
                f"{fixed[i]['sigma']:g} -> {fixed[i + 1]['sigma']:g}"
                for i in range(len(mses) - 1)
                if mses[i + 1] < mses[i]
            ]
            out.append(
                {
                    "claim": "the reconstruction MSE grows with the fixed sigma (beta = 2 sigma^2 trades reconstruction for KL)",
                    "prediction": "non-decreasing in sigma over the grid (the distortion of the optimum of D + beta R is non-decreasing in beta)",
                    "measured": ", ".join(f"{r['sigma']:g}: {m:.4g}" for r, m in zip(fixed, mses))
                    + (f"; falls at {', '.join(bad)}" if bad else ""),
                    "holds": not bad,
                }
            )
    for r in (shared, calibrated):
        if r is None or r["stopped"] is not None:
            continue
        ratio = r["samples"]["sample_variance_ratio"]
        out.append(
            {
                "claim": f"{r['name']}: ancestral samples have the data's total variance",
                "prediction": f"tr Cov[x] of the model = tr S (exact for pPCA at its maximum); criterion within a factor {SAMPLE_VARIANCE_RATIO:g}",
                "measured": f"samples {r['samples']['sample_total_variance']:.3f}, data {r['samples']['data_total_variance']:.3f} "
                f"(ratio {ratio:.3f}; mean samples mu(z) {r['samples']['mean_sample_variance_ratio']:.3f})",
                "holds": 1 / SAMPLE_VARIANCE_RATIO <= ratio <= SAMPLE_VARIANCE_RATIO,
            }
        )
    out += C.stopped_checks(records, "(none: every variance here is fixed, shared or calibrated)")
    return out


def summary(records: list[dict], checks: list[dict], s: Settings, seed: int, results: dict) -> str:
    """``summary.md``: the settings, a table of the runs' last values and each verdict."""
    star = results["sigma_star"]
    lines = [
        f"# {NAME}",
        "",
        f"Digits: {s.n_train} training and {s.n_heldout} held-out images, dequantised x = (k + u)/17; latent "
        f"{s.latent}, hidden {list(s.hidden)}, batch {s.batch_size}, {s.steps} Adam steps at lr {s.lr:g}, seed {seed}. "
        f"ELBO: mean of {s.n_elbo} one-sample ELBOs per point; held-out: L_k with k = {s.k} (nats per point, whole sets). "
        f"Samples: {s.n_samples} from the prior.",
        "",
        f"sigma* (where the learned sigma settles): shared {C.fmt(star.get('shared'), '.4g')}, calibrated "
        f"{C.fmt(star.get('calibrated'), '.4g')}. For reference (no verdict): the linear model's (pPCA, q = {s.latent}) "
        f"sigma_ML = {math.sqrt(results['ppca_sigma2_ml']):.4g} on the same training set.",
        "",
        "| run | sigma | ELBO | held-out L_k | recon MSE (train / held-out) | MSE_q | sample / data total variance | stopped |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        f = r["final"] or {}
        sig = None if f.get("sigma2") is None else math.sqrt(f["sigma2"])
        lines.append(
            f"| {r['name']} | {C.fmt(sig, '.4g')} | {C.fmt(f.get('elbo'), '.2f')} | {C.fmt(f.get('heldout_loglik'), '.2f')} | "
            f"{C.fmt(f.get('recon_mse'), '.4g')} / {C.fmt(f.get('heldout_recon_mse'), '.4g')} | {C.fmt(f.get('elbo_mse'), '.4g')} | "
            f"{r['samples']['sample_variance_ratio']:.3f} | {'no' if r['stopped'] is None else 'step ' + str(r['stopped']['step'])} |"
        )
    lines += ["", "## Theory against the runs", ""]
    lines += C.verdict_lines(checks)
    lines += C.disagreement_lines(checks)
    return "\n".join(lines)


def caption(result: dict) -> str:
    """The figure's caption: what is drawn and the measured numbers."""
    recs = result["details"]
    fixed = [r for r in recs if r["policy"] == "fixed" and r["final"] and r["final"]["elbo"] is not None]
    star = result["sigma_star"]
    parts = [
        "sigma-VAE on dequantised digits (Rybkin et al. 2021): the decoder std sigma fixed on a grid (solid "
        "line with markers), learned as one shared parameter and calibrated as sigma*^2 = MSE (single "
        "markers at the sigma each settles at, vertical lines). (a) training ELBO and held-out L_k per point; "
        "(b) reconstruction MSE at the encoder mean, with the calibration line MSE = sigma^2 (thick grey); (c) "
        "total variance of ancestral samples over the data's, the pPCA identity 1 (thick grey)."
    ]
    if fixed:
        best = max(fixed, key=lambda r: r["final"]["elbo"])
        parts.append(
            f"Measured: the fixed grid's ELBO peaks at sigma = {best['sigma']:g} ({best['final']['elbo']:.1f} nats); "
            f"sigma* = {C.fmt(star.get('shared'), '.3g')} (shared), {C.fmt(star.get('calibrated'), '.3g')} (calibrated)."
        )
    for r in recs:
        if r["policy"] in ("shared", "calibrated") and r["final"]:
            parts.append(
                f"{r['name']}: ELBO {C.fmt(r['final']['elbo'], '.1f')}, held-out {C.fmt(r['final']['heldout_loglik'], '.1f')}, "
                f"sample/data variance {r['samples']['sample_variance_ratio']:.2f}."
            )
    n_dis = sum(c["holds"] is False for c in result["verdicts"])
    parts.append(
        f"{n_dis} of {sum(c['holds'] is not None for c in result['verdicts'])} checked statements disagree with the theory (summary.md)."
    )
    return " ".join(parts)
