r"""Training a VAE with a named decoder-variance policy, recording what the blow-up theory predicts.

Each logged step records, from that step's minibatch (no extra forward pass):

``step``, ``elbo`` (mean per-point ELBO of the batch, nats), ``max_point_loglik`` (the largest
per-point log-likelihood estimate in the batch: the per-point ELBO with one reparameterised sample
and the analytic KL, a lower bound on :math:`\log p(x_i)`; under a floor
:math:`\le-\tfrac d2\log(2\pi\xi)` for every sample), ``argmax_point`` (its training index),
``min_variance`` (the smallest decoder VARIANCE used in the batch; null for Bernoulli),
``argmin_point`` (the training point it belongs to), for the ``floor`` policy
``min_unfloored_variance`` (the smallest variance the head asks for before the floor, at the
encoder means of the batch), ``bound`` (the floor's
:math:`-\tfrac d2\log(2\pi\xi)` per point, the fixed variance's, 0 for Bernoulli, null otherwise),
and ``loss``.

With ``learned`` the likelihood is unbounded (theory section 2; Mattei & Frellsen 2018): on
digits, whose border pixels are constant, the per-pixel variance of those pixels can shrink
without limit. A step whose loss or gradient is not finite stops the run with the step, the
quantity and the likely cause (``TrainResult.stopped_reason``); the log and the last good
checkpoint are kept.

Checkpoints (``checkpoint.pt``) hold only tensors, numbers and dicts and load with
``torch.load(weights_only=True)``, which executes no code; ``config.json`` holds the configuration.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaetheory._validation import check_choice, check_finite_array, check_int, check_positive
from vaetheory.empirical.model import (
    LIKELIHOODS,
    GaussianVAE,
    VAEConfig,
    build_model,
    gaussian_bound_per_point,
)
from vaetheory.empirical.policies import check_floor_method, check_policy
from vaetheory.results import Result, to_jsonable

DATA_SETS = ("digits",)
CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
LOG = "log.jsonl"
SUMMARY = "summary.json"


@dataclass(frozen=True)
class TrainConfig:
    """A training run. ``floor_variance`` is a floor on the VARIANCE; ``sigma`` the fixed decoder STD.

    ``data`` is ``"digits"`` (scikit-learn's digits scaled to [0, 1]; binarised at 0.5 for
    ``likelihood="bernoulli"``) or the path of a ``.npy``/``.csv`` file (rows are points);
    ``n_points`` keeps only its first ``n_points`` rows (a tiny data set shows the blow-up sooner).
    """

    variance: str = "learned"
    floor_variance: float | None = None
    floor_method: str = "clamp"
    sigma: float | None = None
    beta: float = 1.0
    likelihood: str = "gaussian"
    data: str = "digits"
    latent: int = 2
    hidden: tuple[int, ...] = (128,)
    steps: int = 1000
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 100
    n_points: int | None = None

    def __post_init__(self) -> None:
        check_policy(self.variance)
        check_floor_method(self.floor_method)
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        if self.floor_variance is not None:
            check_positive("floor_variance", self.floor_variance)
        if self.sigma is not None:
            check_positive("sigma", self.sigma)
        check_positive("beta", self.beta)
        check_int("latent", self.latent, low=1)
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        check_int("steps", self.steps, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_positive("lr", self.lr)
        check_int("seed", self.seed, low=0)
        check_int("log_every", self.log_every, low=1)
        check_int("checkpoint_every", self.checkpoint_every, low=1)
        if self.n_points is not None:
            check_int("n_points", self.n_points, low=2)

    def model_config(self, data_dim: int) -> VAEConfig:
        """The :class:`VAEConfig` of this run for data of ``data_dim`` columns (validates the combination)."""
        gaussian = self.likelihood == "gaussian"
        return VAEConfig(
            data_dim=data_dim,
            latent_dim=self.latent,
            hidden=self.hidden,
            likelihood=self.likelihood,
            variance=self.variance if gaussian else "learned",
            floor_variance=self.floor_variance,
            floor_method=self.floor_method,
            sigma=self.sigma,
        )


@dataclass(frozen=True)
class TrainResult(Result):
    """A finished (or stopped) run: its history, the model, and why it stopped early (None if it did not)."""

    config: TrainConfig
    model: Any
    history: list
    stopped_reason: str | None
    steps_done: int
    last_good_step: int
    bound: float | None
    out_dir: str | None
    provenance: dict

    def to_dict(self) -> dict[str, Any]:
        out = {
            f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "model"
        }
        out["config"] = to_jsonable(dataclasses.asdict(self.config))
        return out


def load_training_data(config: TrainConfig, data=None) -> np.ndarray:
    """The run's data as float64 ``[n, d]``: ``data`` if given, else ``config.data``; validated."""
    if data is None:
        if config.data == "digits":
            from vaetheory.datasets import load_digits

            data = load_digits(scale="unit", binarize=config.likelihood == "bernoulli")
        else:
            from vaetheory.datasets import load_array_file

            data = load_array_file(config.data)
    arr = check_finite_array("data", data, ndim=2, min_rows=2)
    if config.n_points is not None:
        if config.n_points > arr.shape[0]:
            raise ValueError(
                f"n_points must be <= the number of data points ({arr.shape[0]}); got {config.n_points}"
            )
        arr = arr[: config.n_points]
    if config.likelihood == "bernoulli" and not np.all((arr == 0) | (arr == 1)):
        raise ValueError("data must be binary (0 or 1) for likelihood='bernoulli'")
    return arr


def _diagnose(model: GaussianVAE, x: torch.Tensor, index: torch.Tensor) -> str:
    """The likely cause of a non-finite step, from the decoder variances on the batch."""
    with torch.no_grad():
        mean, _ = model.encode(x)
        if not torch.all(torch.isfinite(mean)):
            return "the encoder output is not finite (parameters overflowed after an unstable update)"
        _, variance = model.decoder_params(mean[None], x)
        if variance is None:
            return "the decoder logits are not finite (parameters overflowed)"
        per_point = variance[0].min(dim=1).values
        j = int(torch.argmin(torch.nan_to_num(per_point, nan=-1.0)))
        v = float(per_point[j])
        if math.isfinite(v) and v > 0:
            return (
                f"the decoder variance collapsed (smallest variance {v:.3g}, log variance {math.log(v):.1f}, "
                f"at training point {int(index[j])}): the unbounded likelihood of a learned variance "
                "(theory section 2) driven past what float32 represents"
            )
        return (
            f"the decoder variance reached {v!r} at training point {int(index[j])} (underflow to zero): "
            "the unbounded likelihood of a learned variance (theory section 2)"
        )


def _min_unfloored_variance(model: GaussianVAE, x: torch.Tensor) -> float:
    r"""The smallest variance the decoder head asks for BEFORE the floor, at the encoder means of ``x``.

    :math:`e^{\ell}` (``softplus(l)`` for the softplus method). With ``gaussian_nll`` the gradient
    passes through the floor, so this can fall far below :math:`\xi` while the floored value stays.
    """
    import torch.nn.functional as F

    mean, _ = model.encode(x)
    _, raw = model.decoder_raw(mean)
    unfloored = F.softplus(raw) if model.config.floor_method == "softplus" else raw.exp()
    return float(unfloored.min())


def _flushing_denormals() -> bool:
    """Whether the process currently flushes denormal floats to zero (torch.set_flush_denormal)."""
    return float(torch.tensor(1e-300, dtype=torch.float64) * 1e-10) == 0.0


@contextlib.contextmanager
def flush_denormals():
    """Flush denormal floats to zero inside the block (or decorated function), then restore.

    Subnormal Adam moments slow CPU training by 20-30%; ``torch.set_flush_denormal(True)`` removes
    that, but it is process-wide state (it also changes numpy's arithmetic), so every training entry
    point sets it through this context manager and gives the previous setting back.
    """
    was_flushing = _flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_flushing)


def _detached_copy(tree):
    """``tree`` (dicts, lists, tuples, tensors, numbers) with every tensor cloned: cheaper than deepcopy."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone()
    if isinstance(tree, dict):
        return {k: _detached_copy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_detached_copy(v) for v in tree)
    return copy.deepcopy(tree)


def _state(model, optimizer, generator, step: int) -> dict:
    return {
        "model": _detached_copy(model.state_dict()),
        "optimizer": _detached_copy(optimizer.state_dict()),
        "generator": generator.get_state().clone(),
        "step": step,
    }


def _config_record(config: TrainConfig, model_config: VAEConfig) -> dict:
    return {
        "train": to_jsonable(dataclasses.asdict(config)),
        "model": to_jsonable(dataclasses.asdict(model_config)),
    }


def train(
    config: TrainConfig,
    *,
    data: np.ndarray | None = None,
    out_dir=None,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train with Adam on minibatches drawn with replacement by a seeded generator (module docstring).

    ``out_dir`` (optional) receives ``log.jsonl`` (one JSON object per logged step),
    ``checkpoint.pt`` every ``checkpoint_every`` steps and at the end, ``config.json`` and
    ``summary.json``. ``resume=True`` continues from ``out_dir/checkpoint.pt`` and gives the same
    numbers as an uninterrupted run. The same seed gives the same numbers. Denormal floats are
    flushed to zero during training (``torch.set_flush_denormal``) and the previous setting is
    restored on return.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    arr = load_training_data(config, data)
    model_config = config.model_config(arr.shape[1])
    with flush_denormals():
        return _train(config, arr, model_config, out_dir=out_dir, resume=resume, progress=progress)


def _train(config: TrainConfig, arr: np.ndarray, model_config: VAEConfig, *, out_dir, resume, progress):
    from tqdm import tqdm

    from vaetheory.provenance import provenance

    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the directory holding checkpoint.pt)")
    X = torch.as_tensor(arr, dtype=torch.float32)
    n = X.shape[0]
    model = build_model(model_config, config.seed)
    params = list(model.parameters())
    # foreach: one fused update over all parameter tensors (the same numbers as the per-tensor loop)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, foreach=True)
    generator = torch.Generator().manual_seed(config.seed)
    bound = gaussian_bound_per_point(model_config)
    history: list[dict] = []
    start = 0
    out = None
    if out_dir is not None:
        from vaetheory.plots.style import prepare_output_dir

        out = prepare_output_dir(out_dir)
        record = _config_record(config, model_config)
        if resume and (out / CHECKPOINT).exists():
            saved = json.loads((out / CONFIG).read_text())
            mine = {k: v for k, v in record["train"].items() if k != "steps"}
            theirs = {k: v for k, v in saved["train"].items() if k != "steps"}
            if mine != theirs:
                changed = sorted(k for k in mine if mine.get(k) != theirs.get(k))
                raise ValueError(
                    f"cannot resume {str(out)!r}: the configuration differs in {', '.join(changed)}"
                )
            state = torch.load(out / CHECKPOINT, weights_only=True)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["generator"])
            start = int(state["step"])
            if (out / LOG).exists():
                for line in (out / LOG).read_text().splitlines():
                    entry = json.loads(line)
                    if entry["step"] <= start:
                        history.append(entry)
        elif resume:
            raise ValueError(f"cannot resume: {str(out / CHECKPOINT)!r} does not exist")
        (out / CONFIG).write_text(json.dumps(record, indent=2) + "\n")
        (out / LOG).write_text("".join(json.dumps(to_jsonable(e)) + "\n" for e in history))

    last_good = _state(model, optimizer, generator, start)
    stopped_reason = None
    step = start
    log_file = open(out / LOG, "a") if out is not None else None
    bar = tqdm(total=config.steps, initial=start, file=sys.stderr, disable=not progress, desc=config.variance)
    try:
        model.train()
        for step in range(start + 1, config.steps + 1):
            index = torch.randint(n, (min(config.batch_size, n),), generator=generator)
            xb = X[index]
            point_elbo, variance = model.elbo_terms(xb, beta=config.beta, generator=generator)
            loss = -point_elbo.mean()
            quantity = None
            if not torch.isfinite(loss):
                quantity = f"the loss (negative ELBO) is {float(loss)!r}"
            else:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grads = [p.grad for p in params if p.grad is not None]
                # one fused reduction: the norms of all gradients at once, then one finiteness test
                if not torch.isfinite(torch.stack(torch._foreach_norm(grads))).all():
                    bad = [
                        name
                        for name, p in model.named_parameters()
                        if p.grad is not None and not torch.all(torch.isfinite(p.grad))
                    ]
                    quantity = f"the gradient of {', '.join(bad)} is not finite"
            if quantity is not None:
                stopped_reason = (
                    f"numerical breakdown at step {step}: {quantity}. "
                    f"Likely cause: {_diagnose(model, xb, index)}. "
                    f"Kept: the log and the last good checkpoint (step {last_good['step']})."
                )
                break
            logging = step % config.log_every == 0 or step == config.steps
            if logging:
                with torch.no_grad():
                    j = int(torch.argmax(point_elbo))
                    entry = {
                        "step": step,
                        "elbo": float(point_elbo.mean()),
                        "max_point_loglik": float(point_elbo[j]),
                        "argmax_point": int(index[j]),
                        "min_variance": None,
                        "argmin_point": None,
                        "bound": bound,
                        "loss": float(loss),
                    }
                    if variance is not None:
                        per_point = (
                            variance.amin(dim=(0, 2)) if variance.dim() == 3 else variance.amin(dim=-1)
                        )
                        i = int(torch.argmin(per_point))
                        entry["min_variance"] = float(per_point[i])
                        entry["argmin_point"] = int(index[i])
                    if model_config.variance == "floor" and model_config.likelihood == "gaussian":
                        entry["min_unfloored_variance"] = _min_unfloored_variance(model, xb)
            optimizer.step()
            if logging:
                history.append(entry)
                if log_file is not None:
                    log_file.write(json.dumps(to_jsonable(entry)) + "\n")
                    log_file.flush()
                bar.set_postfix(elbo=f"{entry['elbo']:.4g}", max_loglik=f"{entry['max_point_loglik']:.4g}")
            # the last good state is kept (in memory, and on disk with out_dir) every checkpoint_every steps
            checkpointing = step % config.checkpoint_every == 0 or step == config.steps
            if checkpointing and torch.isfinite(torch.nn.utils.get_total_norm(params)):
                last_good = _state(model, optimizer, generator, step)
                if out is not None:
                    torch.save(last_good, out / CHECKPOINT)
            bar.update(1)
        else:
            step = config.steps
    finally:
        bar.close()
        if log_file is not None:
            log_file.close()
    if stopped_reason is not None:
        print(f"vaetheory train: {stopped_reason}", file=sys.stderr)
        model.load_state_dict(last_good["model"])
        if out is not None:
            torch.save(last_good, out / CHECKPOINT)
    prov = provenance(seed=config.seed, parameters=to_jsonable(dataclasses.asdict(config)))
    result = TrainResult(
        config=config,
        model=model,
        history=history,
        stopped_reason=stopped_reason,
        steps_done=step if stopped_reason is None else step - 1,
        last_good_step=int(last_good["step"]),
        bound=bound,
        out_dir=None if out is None else str(out),
        provenance=prov,
    )
    if out is not None:
        summary = result.to_dict()
        summary.pop("history")
        (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    return result


def load_model(out_dir) -> GaussianVAE:
    """The model saved in ``out_dir`` (``config.json`` + ``checkpoint.pt``), loaded without executing code."""
    out = Path(out_dir)
    if not (out / CHECKPOINT).exists() or not (out / CONFIG).exists():
        raise ValueError(f"{str(out)!r} holds no {CHECKPOINT} and {CONFIG} (not a training directory)")
    record = json.loads((out / CONFIG).read_text())
    model_fields = dict(record["model"])
    model_fields["hidden"] = tuple(model_fields["hidden"])
    model = GaussianVAE(VAEConfig(**model_fields))
    state = torch.load(out / CHECKPOINT, weights_only=True)
    model.load_state_dict(state["model"])
    return model


def read_log(out_dir) -> list[dict]:
    """The entries of ``out_dir/log.jsonl``."""
    path = Path(out_dir) / LOG
    if not path.exists():
        raise ValueError(f"{str(path)!r} does not exist")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
