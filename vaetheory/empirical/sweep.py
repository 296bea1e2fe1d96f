r"""A batched sweep: K configurations of one architecture trained at once, with stacked weights.

Researchers sweep seeds, KL weights :math:`\beta`, variance floors :math:`\xi` and fixed decoder
stds. Runs of one architecture differ only in numbers, so their weights can be stacked along a
leading axis of size K and every layer becomes one batched matrix product instead of K small ones.
The model is defined once: :class:`StackedVAE` maps
:class:`~vaetheory.empirical.model.GaussianVAE` itself over the K runs with ``torch.func``
(``stack_module_state``, ``functional_call``, ``vmap``); the policy's per-run numbers (a floor
xi, a fixed variance) are buffers of each run's model and are stacked with its weights.
:func:`train_sweep` trains the stack; :func:`train_sequential` trains the same runs one after
another with ``GaussianVAE`` unbatched. Both use one training loop (:func:`_adam_loop`) and compute
the same numbers (the same initial weights from each run's seed, the same minibatches and
reparameterisation noise from each run's generator, the same Adam update), up to the rounding of a
batched against an unbatched matrix product; ``tests/empirical/test_sweep.py`` checks this to a stated
tolerance.

The objective of run k is its mean one-sample (beta-)ELBO over a minibatch (theory section 4;
Kingma & Welling 2014, arXiv:1312.6114),

.. math:: \frac1B\sum_{i\in\text{batch}} \Big[\log p_k(x_i\mid z_i)
          - \beta_k\,\mathrm{KL}\big(q_k(z\mid x_i)\,\|\,\mathcal N(0,I)\big)\Big],
          \quad z_i = m_k(x_i)+s_k(x_i)\odot\varepsilon_i,

exactly ``GaussianVAE.elbo``.

Random numbers: run k owns ``torch.Generator().manual_seed(seed_k)``; each step draws the
minibatch indices (``torch.randint``, with replacement, ``min(batch_size, n)`` of them) and then
the noise (``torch.randn`` of shape ``[1, B, q]``, as ``GaussianVAE.elbo`` draws it), so a run's
numbers do not depend on which other runs share its sweep. This is the scheme of
:func:`vaetheory.empirical.training.train`, so in float32 a run of the sweep also reproduces
``train(TrainConfig(...))`` with the same seed, beta, batch size and learning rate (tested).

Devices: ``device=`` (:func:`~vaetheory.empirical.training.check_device`; default the CPU) holds
the data, the stacked weights and buffers, Adam's state and the runs' generators; the initial
weights are drawn on the CPU, and the losses and weights of the result come back as CPU tensors
once, after the last step. A CUDA generator is another generator than the CPU's, so on a GPU the
minibatches and noise differ from a CPU run with the same seeds.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from vaetheory._validation import check_finite_array, check_int, check_positive
from vaetheory.empirical.model import GaussianVAE, VAEConfig, build_model
from vaetheory.empirical.training import check_device, flush_denormals
from vaetheory.provenance import provenance
from vaetheory.results import Result

#: the fields of VAEConfig that may differ between the runs of one sweep (the rest is the architecture)
PER_RUN_FIELDS = ("floor_variance", "sigma")


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: a model configuration, the seed of its weights and noise, and its beta."""

    config: VAEConfig
    seed: int
    beta: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.config, VAEConfig):
            raise ValueError(f"config must be a VAEConfig; got {type(self.config).__name__}")
        object.__setattr__(self, "seed", check_int("seed", self.seed, low=0))
        object.__setattr__(self, "beta", check_positive("beta", self.beta))

    def describe(self) -> dict:
        return {"config": dataclasses.asdict(self.config), "seed": self.seed, "beta": self.beta}


@dataclasses.dataclass(frozen=True)
class SweepResult(Result):
    """Trained weights and per-step objectives of the runs of a sweep (same order as ``runs``).

    ``neg_elbo[t, k]`` is run k's minibatch loss (negative mean beta-ELBO, nats per point) at step
    ``t + 1``, before that step's update. ``state_dicts[k]`` loads into ``GaussianVAE(runs[k].config)``
    (see :meth:`models`). ``to_dict`` leaves the weights out.
    """

    runs: tuple[SweepRun, ...]
    steps: int
    batch_size: int
    lr: float
    dtype: str
    neg_elbo: np.ndarray
    state_dicts: tuple[dict[str, torch.Tensor], ...]
    provenance: dict

    def models(self) -> list[GaussianVAE]:
        """The trained runs as :class:`GaussianVAE` modules (in ``dtype``)."""
        out = []
        for run, state in zip(self.runs, self.state_dicts):
            model = GaussianVAE(run.config).to(getattr(torch, self.dtype))
            model.load_state_dict(state)
            out.append(model)
        return out

    def to_dict(self) -> dict:
        return {
            "runs": [run.describe() for run in self.runs],
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "dtype": self.dtype,
            "final_neg_elbo": self.neg_elbo[-1].tolist() if self.steps else [],
            "neg_elbo": self.neg_elbo.tolist(),
            "provenance": self.provenance,
        }


def check_runs(runs: Sequence[SweepRun]) -> tuple[SweepRun, ...]:
    """The runs, if they share one architecture (every VAEConfig field but floor_variance and sigma)."""
    runs = tuple(runs)
    if not runs:
        raise ValueError("runs must hold at least one SweepRun")
    for run in runs:
        if not isinstance(run, SweepRun):
            raise ValueError(f"runs must hold SweepRun values; got {type(run).__name__}")
    first = runs[0].config
    for i, run in enumerate(runs[1:], start=1):
        for field in dataclasses.fields(VAEConfig):
            if field.name in PER_RUN_FIELDS:
                continue
            a, b = getattr(first, field.name), getattr(run.config, field.name)
            if a != b:
                raise ValueError(
                    f"runs[{i}].config.{field.name} = {b!r} differs from runs[0]'s {a!r}: runs of one "
                    "sweep share the architecture and policy and may differ only in seed, beta, "
                    + ", ".join(PER_RUN_FIELDS)
                )
    return runs


def _check_common(runs, data, steps, batch_size, lr, dtype, device="cpu"):
    runs = check_runs(runs)
    x = check_finite_array("data", data, ndim=2, min_rows=1)
    if x.shape[1] != runs[0].config.data_dim:
        raise ValueError(f"data must have {runs[0].config.data_dim} columns (data_dim); got {x.shape[1]}")
    steps = check_int("steps", steps, low=1)
    batch_size = min(check_int("batch_size", batch_size, low=1), x.shape[0])
    lr = check_positive("lr", lr)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype}")
    device = check_device(device)
    return runs, torch.as_tensor(x, dtype=dtype).to(device), steps, batch_size, lr, device


def _draw(
    gen: torch.Generator, n: int, batch_size: int, latent_dim: int, dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step's minibatch indices and reparameterisation noise from a run's generator (in this order)."""
    idx = torch.randint(n, (batch_size,), generator=gen, device=gen.device)
    eps = torch.randn((1, batch_size, latent_dim), generator=gen, dtype=dtype, device=gen.device)
    return idx, eps


def _result(runs, steps, batch_size, lr, dtype, losses, states) -> SweepResult:
    return SweepResult(
        runs=runs,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        dtype=str(dtype).removeprefix("torch."),
        neg_elbo=np.asarray(losses, dtype=np.float64).reshape(steps, len(runs)),
        state_dicts=tuple(states),
        provenance=provenance(
            seed=runs[0].seed,
            parameters={
                "runs": [r.describe() for r in runs],
                "steps": steps,
                "batch_size": batch_size,
                "lr": lr,
                "dtype": str(dtype),
            },
        ),
    )


def _adam_loop(params, step_losses, steps: int, lr: float, bar, checkpoint=None) -> np.ndarray:
    """The training loop of the sweep and of the sequential runs: ``steps`` Adam steps (rate ``lr``).

    ``step_losses()`` draws a step's minibatches and noise and returns the K runs' losses ``[K]``;
    the loop differentiates their sum (run k's parameters get exactly run k's gradient) and returns
    the losses of every step, ``[steps, K]``, each before that step's update.

    ``checkpoint`` (a :class:`_StackCheckpoint`, or None) restores the parameters, Adam's state, the
    generators and the losses of a saved step before the first step (the loop then runs the steps
    left) and saves them every ``checkpoint.every`` steps (not after the last one).
    """
    opt = torch.optim.Adam(params, lr=lr, foreach=True)
    losses = []
    done = 0
    if checkpoint is not None:
        done, losses = checkpoint.restore(opt)
        steps -= done
        if bar is not None:
            bar.update(done)
    for _ in range(steps):
        per_run = step_losses()
        opt.zero_grad(set_to_none=True)
        per_run.sum().backward()
        opt.step()
        losses.append(per_run.detach())
        done += 1
        if bar is not None:
            bar.update(1)
        if checkpoint is not None and checkpoint.due(done):
            checkpoint.save(done, opt, losses)
    if bar is not None:
        bar.close()
    return torch.stack(losses).cpu().double().numpy()  # one read-back, after the last step


#: the format tag of a stack checkpoint (:class:`_StackCheckpoint`)
STACK_CHECKPOINT_FORMAT = "vaetheory.stack_checkpoint/1"


def _data_digest(x: torch.Tensor) -> str:
    import hashlib

    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


class _StackCheckpoint:
    """A stacked sweep's checkpoint file: the state of every run of the stack at one step.

    It holds the stacked parameters, Adam's state, each run's generator state, the losses of the
    steps done and a fingerprint (the runs, steps, batch size, learning rate, dtype, the device
    type and a SHA-256 of the data): a resume continues exactly where the saved step left off, so
    its result equals the uninterrupted run's bit for bit on the same device, threads and build.
    Written with :func:`vaetheory.rundir.atomic_write` (the previous checkpoint stays until the new
    one is whole); read with :func:`vaetheory.rundir.read_checkpoint` (tensors only, no code runs).
    A file whose fingerprint differs is refused with a ``ValueError`` naming it and the keys.
    """

    def __init__(self, path, every: int, model: StackedVAE, gens, fingerprint: dict, steps: int):
        import json
        from pathlib import Path

        self.path = Path(path)
        self.every = check_int("checkpoint_every", every, low=1)
        self.model = model
        self.gens = gens
        self.fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True))  # as it reads back
        self.steps = steps

    def due(self, step: int) -> bool:
        return step % self.every == 0 and step < self.steps

    def save(self, step: int, opt: torch.optim.Optimizer, losses: list) -> None:
        import io
        import json

        from vaetheory.rundir import atomic_write

        def to_cpu(tree):
            if isinstance(tree, torch.Tensor):
                return tree.detach().cpu().clone()
            if isinstance(tree, dict):
                return {k: to_cpu(v) for k, v in tree.items()}
            if isinstance(tree, list):
                return [to_cpu(v) for v in tree]
            return tree

        state = {
            "format": STACK_CHECKPOINT_FORMAT,
            "fingerprint": json.dumps(self.fingerprint, sort_keys=True),
            "step": step,
            "params": {name: p.detach().cpu().clone() for name, p in self.model.stacked.items()},
            "adam": to_cpu(opt.state_dict()),
            "generators": [g.get_state().clone() for g in self.gens],
            "losses": torch.stack(losses).cpu(),
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write(self.path, buffer.getvalue())

    def restore(self, opt: torch.optim.Optimizer) -> tuple[int, list]:
        """``(step, losses)`` of the saved state, loaded into the model, ``opt`` and the generators;
        ``(0, [])`` when there is no file."""
        import json

        from vaetheory.rundir import read_checkpoint

        if not self.path.exists():
            return 0, []
        where = f"stack checkpoint {str(self.path)!r}"
        state = read_checkpoint(self.path)
        if state.get("format") != STACK_CHECKPOINT_FORMAT:
            raise ValueError(f"{where} is not a stack checkpoint (format {state.get('format')!r})")
        try:
            saved = json.loads(state["fingerprint"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where} is damaged: its fingerprint is unreadable") from None
        if saved != self.fingerprint:
            mine = self.fingerprint
            keys = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
            raise ValueError(
                f"{where} was written by another sweep (it differs in {', '.join(keys)}); remove it to "
                "train from step 0, or resume with the settings and data it was written with"
            )
        step = state.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 < step < self.steps:
            raise ValueError(f"{where} is damaged: step {step!r} is not in [1, {self.steps})")
        try:
            with torch.no_grad():
                for name, p in self.model.stacked.items():
                    p.copy_(state["params"][name])
            opt.load_state_dict(state["adam"])
            for g, g_state in zip(self.gens, state["generators"], strict=True):
                g.set_state(g_state)
            losses = state["losses"]
            if tuple(losses.shape) != (step, len(self.gens)):
                raise ValueError(f"losses of shape {tuple(losses.shape)}")
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ValueError(f"{where} does not match the stack ({reason})") from None
        device = next(iter(self.model.stacked.values())).device
        return step, list(losses.to(device).unbind(0))


@flush_denormals()
def train_sequential(
    runs: Sequence[SweepRun],
    data,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
    device: str | torch.device = "cpu",
) -> SweepResult:
    """The reference: each run trained alone, one after another, with ``GaussianVAE.elbo`` and Adam.

    Run k: ``build_model(config_k, seed_k)``, its generator ``manual_seed(seed_k)``; each step draws
    minibatch indices, then ``loss = -model.elbo(x[idx], beta=beta_k, generator=gen).mean()``
    (which draws the noise), and takes one Adam step (learning rate ``lr``), in :func:`_adam_loop`.
    """
    runs, x, steps, batch_size, lr, device = _check_common(runs, data, steps, batch_size, lr, dtype, device)
    columns, states = [], []
    bar = _progress(progress, steps * len(runs), "sequential runs")
    for run in runs:
        model = build_model(run.config, run.seed).to(dtype).to(device)
        model.train()
        gen = torch.Generator(device=device).manual_seed(run.seed)

        def step_losses(model=model, gen=gen, beta=run.beta):
            idx = torch.randint(x.shape[0], (batch_size,), generator=gen, device=device)
            return -model.elbo(x[idx], beta=beta, generator=gen).mean().reshape(1)

        columns.append(_adam_loop(list(model.parameters()), step_losses, steps, lr, None)[:, 0])
        if bar is not None:
            bar.update(steps)
        states.append({name: t.detach().clone().cpu() for name, t in model.state_dict().items()})
    if bar is not None:
        bar.close()
    return _result(runs, steps, batch_size, lr, dtype, np.stack(columns, axis=1), states)


class StackedVAE(nn.Module):
    """K :class:`GaussianVAE` s of one architecture, their weights and buffers stacked on a leading axis.

    ``stacked[name][k]`` is parameter ``name`` of run k's model (``buffers`` likewise, including
    the policy's per-run floor or fixed variance). :meth:`elbo` maps ``GaussianVAE.forward`` over
    the runs with ``torch.func.vmap`` and ``functional_call``: one model definition, every layer a
    batched matrix product over the K runs.
    """

    def __init__(self, runs: tuple[SweepRun, ...], dtype: torch.dtype, device: str | torch.device = "cpu"):
        super().__init__()
        self.runs = runs
        self.config = runs[0].config
        # drawn on the CPU (each run's initial weights from its seed alone), then moved to the device
        models = [build_model(run.config, run.seed).to(dtype).to(device) for run in runs]
        params, buffers = torch.func.stack_module_state(models)
        self.stacked = nn.ParameterDict(
            {name.replace(".", "__"): nn.Parameter(p) for name, p in params.items()}
        )
        self._param_names = list(params)
        self.buffers_stacked = dict(buffers)
        self._state_names = list(models[0].state_dict())
        # the module vmap calls: run 0's structure on the meta device (weights come from the stack),
        # kept in a tuple so that its parameters are not registered here
        base = build_model(self.config, 0).to(dtype).to("meta")
        base.train()
        self._base = (base,)
        self.register_buffer("beta", torch.tensor([r.beta for r in runs], dtype=dtype).to(device))

    def _per_run(self, params, buffers, x, eps, beta):
        return torch.func.functional_call(self._base[0], (params, buffers), (x, eps, beta))

    def elbo(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Per-run, per-point one-sample beta-ELBO ``[K, B]``; ``x`` ``[K, B, d]``, noise ``[K, 1, B, q]``."""
        params = {name: self.stacked[name.replace(".", "__")] for name in self._param_names}
        return torch.func.vmap(self._per_run)(params, self.buffers_stacked, x, eps, self.beta)

    def state_dict_of(self, k: int) -> dict[str, torch.Tensor]:
        """Run k's weights and persistent buffers under GaussianVAE's state-dict names."""
        out = {}
        for name in self._state_names:
            source = (
                self.stacked[name.replace(".", "__")]
                if name in self._param_names
                else self.buffers_stacked[name]
            )
            out[name] = source[k].detach().clone()
        return out


@flush_denormals()
def train_sweep(
    runs: Sequence[SweepRun],
    data,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
    device: str | torch.device = "cpu",
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
) -> SweepResult:
    """Train the runs at once with stacked weights; the same numbers as :func:`train_sequential`.

    Parameters and result: see the module docstring and :class:`SweepResult`. The step runs
    eagerly (``benchmarks/bench_sweep.py`` measures it).

    ``checkpoint`` (a file path) with ``checkpoint_every``: the whole stack's state (stacked
    parameters, Adam's state, every run's generator, the losses so far) is written there
    atomically every ``checkpoint_every`` steps, and a call that finds the file resumes from it;
    the result equals the uninterrupted run's bit for bit (same device type, torch threads and
    build; ``tests/empirical/test_sweep_checkpoint.py``). A file written for other runs, steps,
    batch size, rate, dtype, device type or data is refused (:class:`_StackCheckpoint`). The file
    is left in place after the last step (the caller removes it once the results are saved).
    """
    runs, x, steps, batch_size, lr, device = _check_common(runs, data, steps, batch_size, lr, dtype, device)
    if (checkpoint is None) != (checkpoint_every is None):
        raise ValueError("give checkpoint (a file path) and checkpoint_every together, or neither")
    model = StackedVAE(runs, dtype, device)
    gens = [torch.Generator(device=device).manual_seed(run.seed) for run in runs]
    n, q = x.shape[0], runs[0].config.latent_dim
    saver = None
    if checkpoint is not None:
        fingerprint = {
            "runs": [r.describe() for r in runs],
            "steps": steps,
            "batch_size": batch_size,
            "lr": lr,
            "dtype": str(dtype),
            "device_type": device.type,
            "data_shape": list(x.shape),
            "data_sha256": _data_digest(x),
        }
        saver = _StackCheckpoint(checkpoint, checkpoint_every, model, gens, fingerprint, steps)

    def step_losses() -> torch.Tensor:
        draws = [_draw(g, n, batch_size, q, dtype) for g in gens]
        idx = torch.stack([d[0] for d in draws])
        eps = torch.stack([d[1] for d in draws])
        return -model.elbo(x[idx], eps).mean(dim=1)  # [K]: run k's minibatch loss

    bar = _progress(progress, steps, f"sweep of {len(runs)} runs")
    losses = _adam_loop(list(model.stacked.parameters()), step_losses, steps, lr, bar, saver)
    states = [{name: t.cpu() for name, t in model.state_dict_of(k).items()} for k in range(len(runs))]
    return _result(runs, steps, batch_size, lr, dtype, losses, states)


def _progress(enabled: bool, total: int, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=None, leave=False, mininterval=0.5)


__all__ = [
    "PER_RUN_FIELDS",
    "STACK_CHECKPOINT_FORMAT",
    "StackedVAE",
    "SweepResult",
    "SweepRun",
    "check_runs",
    "train_sequential",
    "train_sweep",
]
