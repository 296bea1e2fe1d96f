# ruff: noqa: E501  (report sentences are long f-strings; splitting them hides the text)
r"""Shared machinery of the experiments: data, stacked training with evaluations, the run directory.

* **Data** (:func:`digits_split`): scikit-learn's digits, pixels :math:`k\in\{0,\dots,16\}`,
  either dequantised, :math:`x=(k+u)/17` with :math:`u\sim U(0,1)` drawn from the seed (Theis et
  al. 2016; the data then have a density and no coordinate is constant), or raw, :math:`x=k/16`
  (three pixels are 0 in every image: the degenerate-data mechanism of Dai & Wipf 2019). A seeded
  permutation gives the training set (small on purpose) and a held-out set.
* **Training** (:func:`train_group`): runs that share an architecture and a policy are trained at
  once as a :class:`~vaetheory.empirical.sweep.StackedVAE` with one ``torch.optim.Adam``, drawing
  each run's minibatches and noise from its own generator exactly as
  :func:`~vaetheory.empirical.sweep.train_sweep` does (so the numbers equal ``train_sweep``'s,
  tested), and evaluating every run at log-spaced steps. A run whose loss or gradient stops being
  finite is *stopped*: its step and the measured cause are recorded, and its parameters are frozen
  at their last finite values (its gradient and Adam's first moment zeroed), so the other runs of
  the stack continue unchanged.
* **Evaluation** (:func:`evaluate_run`): over the WHOLE training set and the held-out set, the
  importance-weighted bound :math:`L_k` per point (Burda et al. 2016; float64, a fixed generator per
  evaluation), its mean and maximum with the argmax point, the smallest decoder variance at the
  encoder means with its point (and the variance the head asks for before a floor), and the share
  of the training log-likelihood's spread carried by the top 1% of points.

Why :math:`L_k` and not only quadrature: a decoder that isolates a point makes :math:`p(x\mid z)`
a spike in :math:`z` of width about :math:`\sigma/\lVert\partial\mu/\partial z\rVert`, which a fixed
grid over the prior can miss as :math:`\sigma^2` keeps falling; :math:`L_k` samples where the encoder
puts its mass. The unbounded-training experiment records both at its last step
(``quadrature_check``); at the quick settings (smallest variance ~6e-5) they agree within 0.15 nats.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaetheory._validation import check_int
from vaetheory.empirical.model import GaussianVAE
from vaetheory.empirical.sweep import StackedVAE, SweepRun, _draw, check_runs
from vaetheory.empirical.training import check_device, flush_denormals
from vaetheory.rundir import RunDirectory

#: share of points called "the top" in the concentration statistic
TOP_FRACTION = 0.01
#: torch intra-op threads while :func:`train_group` trains on the CPU. The experiments' networks are
#: tiny (64 x 128 layers, batches of 64): a second thread saves nothing on a quiet machine (measured
#: 3.2 ms per step on one thread against 3.9 on two), but on a shared, oversubscribed machine the
#: threads spin waiting for each other, which made one 3000-step group take 323 s instead of 13 s
#: (load 10 on 2 cores). The previous setting is restored on return.
TRAIN_THREADS = 1


def finite_or_none(value: float) -> float | None:
    """A float for JSON: non-finite values become None (JSON has no inf/nan)."""
    value = float(value)
    return value if math.isfinite(value) else None


def dequantise(levels: np.ndarray, n_levels: int, rng: np.random.Generator) -> np.ndarray:
    r""":math:`x=(k+u)/L`, :math:`u\sim U(0,1)`: integer levels ``k`` in ``[0, L)`` spread uniformly over their bin."""
    return (levels + rng.uniform(size=levels.shape)) / float(n_levels)


def digits_split(n_train: int, n_heldout: int, seed: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(train, heldout)`` rows of scikit-learn's digits, ``kind`` ``"dequantised"`` or ``"raw"``.

    The permutation and the dequantisation noise come from ``seed``; the same seed gives the same
    images in both kinds (the raw set is the dequantised one without its noise, scaled by 1/16).
    """
    from vaetheory.datasets import load_digits

    levels = load_digits(scale="none")
    n_train = check_int("n_train", n_train, low=1)
    n_heldout = check_int("n_heldout", n_heldout, low=1)
    if n_train + n_heldout > levels.shape[0]:
        raise ValueError(
            f"n_train + n_heldout must be at most {levels.shape[0]} (the digits); got {n_train + n_heldout}"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(levels.shape[0])[: n_train + n_heldout]
    chosen = levels[order]
    if kind == "dequantised":
        x = dequantise(chosen, 17, rng)
    elif kind == "raw":
        x = chosen / 16.0
    else:
        raise ValueError(f"kind must be 'dequantised' or 'raw'; got {kind!r}")
    return x[:n_train], x[n_train:]


def log_steps(steps: int, n: int) -> list[int]:
    """About ``n`` log-spaced integer steps from 1 to ``steps`` (both included, no repeats)."""
    steps = check_int("steps", steps, low=1)
    grid = np.unique(np.round(np.geomspace(1, steps, max(2, n))).astype(int))
    return sorted({int(s) for s in grid} | {1, steps})


def model_of(config, state: dict[str, torch.Tensor]) -> GaussianVAE:
    """A float64 :class:`GaussianVAE` holding ``state`` (for evaluation)."""
    model = GaussianVAE(config)
    model.load_state_dict(state)
    return model.to(torch.float64).eval()


def top_share(loglik: np.ndarray, fraction: float = TOP_FRACTION) -> float:
    r"""Share of the spread :math:`\sum_i(\ell_i-\min\ell)` carried by the top ``ceil(fraction n)`` points.

    1.0 when one point carries everything above the worst point; about ``ceil(fraction n)/n`` when
    the points are alike; defined as ``ceil(fraction n)/n`` when all points are equal.
    """
    values = np.sort(np.asarray(loglik, dtype=np.float64))[::-1]
    top = max(1, math.ceil(fraction * values.size))
    spread = values - values[-1]
    total = spread.sum()
    if not np.isfinite(total) or total <= 0:
        return top / values.size
    return float(spread[:top].sum() / total)


def evaluate_run(
    model: GaussianVAE, x_train: np.ndarray, x_heldout: np.ndarray, *, k: int, seed: int
) -> dict[str, Any]:
    """The whole-set statistics of the module docstring for one model (float64)."""
    from vaetheory.empirical.estimators import iwae_bound

    gen = torch.Generator().manual_seed(seed)
    train = iwae_bound(model, x_train, k, generator=gen, dtype=torch.float64).numpy()
    heldout = iwae_bound(model, x_heldout, k, generator=gen, dtype=torch.float64).numpy()
    xt = torch.as_tensor(x_train, dtype=torch.float64)
    xh = torch.as_tensor(x_heldout, dtype=torch.float64)
    with torch.no_grad():
        mean, _ = model.encode(xt)
        recon, variance = model.decoder_params(mean)
        unfloored = model.unfloored_variance(mean)
        mean_h, _ = model.encode(xh)
        recon_h, variance_h = model.decoder_params(mean_h)
    per_point_min = variance.min(dim=1).values.numpy()
    point = int(np.argmin(per_point_min))
    out = {
        "train_loglik": finite_or_none(np.mean(train)),
        "train_loglik_max": finite_or_none(np.max(train)),
        "train_loglik_argmax": int(np.argmax(train)) if np.all(np.isfinite(train)) else None,
        "heldout_loglik": finite_or_none(np.mean(heldout)),
        "heldout_loglik_max": finite_or_none(np.max(heldout)),
        "min_variance": finite_or_none(per_point_min.min()),
        "min_variance_point": point,
        "min_variance_dim": int(variance[point].argmin()),
        "min_unfloored_variance": None if unfloored is None else finite_or_none(unfloored.min()),
        "top1_share": top_share(train) if np.all(np.isfinite(train)) else None,
        # what the decoder does at the encoder means: how well the MEAN fits (reconstruction MSE per
        # pixel) and, on the held-out set, the misfit term sum_j (x_j - mu_j)^2 / (2 sigma_j^2)
        # (mean over points) and the median variance: a held-out log-likelihood that falls while
        # the training MSE falls is the mean memorising the training set
        "train_recon_mse": finite_or_none(((xt - recon) ** 2).mean()),
        "heldout_recon_mse": finite_or_none(((xh - recon_h) ** 2).mean()),
        "heldout_misfit": finite_or_none((((xh - recon_h) ** 2) / (2 * variance_h)).sum(dim=1).mean()),
        "heldout_median_variance": finite_or_none(variance_h.median()),
    }
    return out


@dataclasses.dataclass
class GroupOutcome:
    """What :func:`train_group` returns for one run: its curve and how it stopped (None: it did not)."""

    curve: list[dict[str, Any]]
    stopped: dict[str, Any] | None
    state: dict[str, torch.Tensor]


def _stop_reason(config, state, x_train: np.ndarray, what: str, step: int) -> dict[str, Any]:
    """The recorded breakdown of a run: the step, what was not finite, and the measured variance."""
    model = model_of(config, state)
    with torch.no_grad():
        mean, _ = model.encode(torch.as_tensor(x_train, dtype=torch.float64))
        _, variance = model.decoder_params(mean)
    smallest = float(variance.min())
    point = int(variance.min(dim=1).values.argmin())
    cause = (
        f"numerical breakdown at step {step}: the {what} is not finite (float32 training). Measured at the "
        f"last finite parameters: smallest decoder variance {smallest:.3g} (log {math.log(smallest):.1f}) "
        f"at training point {point}"
        if smallest > 0
        else f"numerical breakdown at step {step}: the {what} is not finite; the decoder variance underflowed to 0"
    )
    return {"step": step, "reason": cause, "min_variance": finite_or_none(smallest), "point": point}


class _SingleVAE(torch.nn.Module):
    """One run with :class:`StackedVAE`'s interface but no ``vmap`` (faster for a stack of one)."""

    def __init__(self, run: SweepRun, dtype: torch.dtype, device: str | torch.device = "cpu"):
        super().__init__()
        from vaetheory.empirical.model import build_model

        # drawn on the CPU (the initial weights from the seed alone, as StackedVAE does), then moved
        self.model = build_model(run.config, run.seed).to(dtype).to(device)
        self.model.train()
        self.stacked = _Leading(self.model)
        self.beta = float(run.beta)

    def elbo(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        return self.model(x[0], eps[0], self.beta)[None]

    def state_dict_of(self, k: int) -> dict[str, torch.Tensor]:
        return {name: t.detach().clone() for name, t in self.model.state_dict().items()}


class _Leading:
    """The parameters of one model seen as stacks of one (a leading axis of size 1, as views)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model

    def parameters(self):
        return list(self.model.parameters())


def quadrature_log_marginal(model: GaussianVAE, x: np.ndarray, *, max_elements: int = 2**22) -> np.ndarray:
    """:func:`~vaetheory.empirical.estimators.exact_log_marginal` on its default grid, decoding each
    node once for all points (the decoder of a non-calibrated policy does not depend on x); float64.
    Equal to ``exact_log_marginal`` to rounding (tested)."""
    from vaetheory.empirical.estimators import quadrature_rule
    from vaetheory.empirical.model import gaussian_log_density

    q = model.config.latent_dim
    nodes, logw = quadrature_rule(q, 600 if q == 1 else 24)
    nodes = torch.as_tensor(nodes, dtype=torch.float64)
    logw = torch.as_tensor(logw, dtype=torch.float64)
    xt = torch.as_tensor(x, dtype=torch.float64)
    n, d = xt.shape
    chunk = max(1, max_elements // (n * d))
    total = torch.full((n,), -math.inf, dtype=torch.float64)
    with torch.no_grad():
        for lo in range(0, nodes.shape[0], chunk):
            mean, variance, log_variance = model.decoder_moments(nodes[lo : lo + chunk])
            ll = gaussian_log_density(xt[:, None, :], mean[None], variance[None], log_variance[None]).sum(-1)
            total = torch.logaddexp(total, torch.logsumexp(ll + logw[None, lo : lo + chunk], dim=1))
    return total.numpy()


def train_group(
    runs: Sequence[SweepRun],
    x_train: np.ndarray,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    eval_steps: Sequence[int],
    evaluate: Callable[[int, GaussianVAE], dict[str, Any]],
    device: str | torch.device = "cpu",
) -> list[GroupOutcome]:
    """Train ``runs`` stacked and call ``evaluate(k, model)`` at ``eval_steps`` (:func:`_train_group`
    says how), on :data:`TRAIN_THREADS` torch threads when ``device`` is the CPU."""
    previous = torch.get_num_threads()
    limit = check_device(device, name="device").type == "cpu" and previous > TRAIN_THREADS
    if limit:
        torch.set_num_threads(TRAIN_THREADS)
    try:
        return _train_group(
            runs,
            x_train,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            eval_steps=eval_steps,
            evaluate=evaluate,
            device=device,
        )
    finally:
        if limit:
            torch.set_num_threads(previous)


@flush_denormals()
def _train_group(
    runs: Sequence[SweepRun],
    x_train: np.ndarray,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    eval_steps: Sequence[int],
    evaluate: Callable[[int, GaussianVAE], dict[str, Any]],
    device: str | torch.device = "cpu",
) -> list[GroupOutcome]:
    """Train ``runs`` stacked (module docstring) and call ``evaluate(k, model)`` at ``eval_steps``.

    Each curve point is ``{"step": s, **evaluate(k, model)}`` with the parameters after ``s`` Adam
    steps (step 0 is the initialisation when 0 is in ``eval_steps``).

    ``device`` (:func:`~vaetheory.empirical.training.check_device`, default the CPU) holds the data,
    the stacked weights, each run's generator and Adam's state; ``evaluate`` gets a float64 CPU
    model and the returned states are on the CPU. The initial weights are drawn on the CPU from each
    run's seed (the same on every device); the minibatches and the noise come from a generator on
    ``device``, and CUDA's generator draws other numbers than the CPU's from the same seed, so a
    CUDA run is a different (equally seeded) run, not the CPU run's numbers. On the CPU the results
    are those of this function before it took ``device`` (tested).
    """
    runs = check_runs(runs)
    device = check_device(device, name="device")
    dtype = torch.float32
    x = torch.as_tensor(x_train, dtype=dtype).to(device)
    n, q = x.shape[0], runs[0].config.latent_dim
    batch_size = min(batch_size, n)
    model = StackedVAE(runs, dtype, device) if len(runs) > 1 else _SingleVAE(runs[0], dtype, device)
    gens = [torch.Generator(device=device).manual_seed(run.seed) for run in runs]
    params = list(model.stacked.parameters())
    opt = torch.optim.Adam(params, lr=lr, foreach=True)
    K = len(runs)
    curves: list[list[dict[str, Any]]] = [[] for _ in range(K)]
    stopped: list[dict[str, Any] | None] = [None] * K
    wanted = set(int(s) for s in eval_steps)

    def record(step: int) -> None:
        for k in range(K):
            if stopped[k] is None:
                curves[k].append(
                    {"step": step, **evaluate(k, model_of(runs[k].config, model.state_dict_of(k)))}
                )

    if 0 in wanted:
        record(0)
    for step in range(1, steps + 1):
        draws = [_draw(g, n, batch_size, q, dtype) for g in gens]
        idx = torch.stack([d[0] for d in draws])
        eps = torch.stack([d[1] for d in draws])
        per_run = -model.elbo(x[idx], eps).mean(dim=1)
        opt.zero_grad(set_to_none=False)
        per_run.sum().backward()
        loss_ok = torch.isfinite(per_run.detach())
        grad_ok = torch.ones(K, dtype=torch.bool, device=device)
        for p in params:
            grad_ok &= torch.isfinite(p.grad).reshape(K, -1).all(dim=1)
        # one transfer of 2K booleans per step (the stop test needs them on the host)
        loss_ok, grad_ok = torch.stack([loss_ok, grad_ok]).cpu()
        for k in range(K):
            if stopped[k] is None and not (loss_ok[k] and grad_ok[k]):
                what = "loss (negative ELBO)" if not loss_ok[k] else "gradient of the loss"
                stopped[k] = _stop_reason(runs[k].config, model.state_dict_of(k), x_train, what, step)
        if any(s is not None for s in stopped):
            frozen = torch.tensor([s is not None for s in stopped], device=device)
            with torch.no_grad():
                for p in params:
                    p.grad[frozen] = 0.0
                    state = opt.state.get(p)
                    if state and "exp_avg" in state:
                        state["exp_avg"][frozen] = 0.0
        opt.step()
        if step in wanted:
            record(step)
    return [
        GroupOutcome(curve=curves[k], stopped=stopped[k], state=_on_cpu(model.state_dict_of(k)))
        for k in range(K)
    ]


def _on_cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with every tensor on the CPU (the tensors themselves when they already are)."""
    return {name: t.cpu() for name, t in state.items()}


def experiment_device(device: str | torch.device) -> torch.device:
    """An experiment's ``device`` checked (:func:`~vaetheory.empirical.training.check_device`; errors name it)."""
    return check_device(device, name="device")


def experiment_record(name: str, settings, *, seed: int, data: str, device: torch.device) -> dict[str, Any]:
    """``DIR/experiment.json``'s record: the experiment, its settings, seed and data (a resume must match it).

    A non-CPU device is part of it (another device draws other minibatches and noise, so a resume
    must run where the run began); CPU runs keep the record they always had, so their directories
    still resume.
    """
    record = {"experiment": name, "settings": settings.to_dict(), "seed": seed, "data": data}
    if device.type != "cpu":
        record["device"] = str(device)
    return record


def open_run_directory(
    out_dir, *, experiment: str, record: dict, resume: bool, overwrite: bool
) -> RunDirectory:
    """Open ``out_dir`` (locked) for ``experiment``; refuse a resume with other settings.

    ``DIR/experiment.json`` holds ``record`` (the experiment's name, settings, seed, data); a rerun
    with ``--resume`` must match it. ``--overwrite`` removes the previous run's files.
    """
    run_dir = RunDirectory(
        out_dir,
        markers=("experiment.json", "results.json", "runs/*.json"),
        resume=resume,
        overwrite=overwrite,
        what=f"{experiment} experiment",
        remove_on_overwrite=("experiment.json", "results.json", "summary.md"),
    )
    run_dir.open()
    try:
        runs = run_dir.path / "runs"
        if overwrite and runs.is_dir():
            for old in runs.glob("*.json"):
                old.unlink()
        if resume and run_dir.exists("experiment.json"):
            previous = run_dir.read_json("experiment.json", what="experiment record")
            if previous != record:
                changed = sorted(
                    key
                    for key in set(previous) | set(record)
                    if previous.get(key) != record.get(key)  # type: ignore[union-attr]
                )
                raise ValueError(
                    f"--resume: {str(run_dir.path)!r} holds a run with other options ({', '.join(changed)} "
                    "differ); rerun with the same options, or use --overwrite to start over"
                )
        runs.mkdir(exist_ok=True)
        run_dir.write_json("experiment.json", record)
    except BaseException:
        run_dir.close()
        raise
    return run_dir


def run_file(run_dir: RunDirectory, name: str) -> str:
    return f"runs/{name}.json"


def load_finished(run_dir: RunDirectory, names: Sequence[str]) -> dict[str, dict] | None:
    """The run files of ``names`` if every one exists (a finished group), else None."""
    out = {}
    for name in names:
        rel = run_file(run_dir, name)
        if not run_dir.exists(rel):
            return None
        out[name] = run_dir.read_json(rel, what=f"run file of {name}")
    return out


def progress_line(message: str, enabled: bool) -> None:
    if enabled:
        import sys

        print(message, file=sys.stderr, flush=True)


def fmt(value: float | None, spec: str = ".4g") -> str:
    return "n/a" if value is None else format(value, spec)


def path_str(path: Path | str) -> str:
    return str(path)


def stopped_checks(records: list[dict], prediction: str) -> list[dict[str, Any]]:
    """One "trained to the end" statement (no verdict) for every run that broke down."""
    return [
        {
            "claim": f"{r['name']}: trained to the end",
            "prediction": prediction,
            "measured": r["stopped"]["reason"],
            "holds": None,
        }
        for r in records
        if r["stopped"] is not None
    ]


def verdict_lines(checks: list[dict]) -> list[str]:
    """``summary.md``'s verdicts: one line per statement, theory beside measurement."""
    lines = []
    for c in checks:
        verdict = {True: "agrees", False: "DISAGREES", None: "no prediction"}[c["holds"]]
        lines.append(f"- **{verdict}**: {c['claim']}. Theory: {c['prediction']}. Measured: {c['measured']}.")
    return lines


def disagreement_lines(checks: list[dict]) -> list[str]:
    """``summary.md``'s closing count of the statements the runs contradict."""
    disagree = [c for c in checks if c["holds"] is False]
    return [
        "",
        f"{len(disagree)} of {sum(c['holds'] is not None for c in checks)} checked statements disagree with the theory"
        + (": " + "; ".join(c["claim"] for c in disagree) + "." if disagree else "."),
        "",
    ]
