"""Training throughput: ``vaetheory`` ``train()`` against a bare PyTorch loop, and against the CPU's limit.

* Steps per second of :func:`vaetheory.empirical.training.train` (a floored Gaussian VAE on the
  bundled digits, logging every ``log_every`` steps and writing its log and checkpoints to a fresh
  directory, as ``vaetheory train`` does, without the progress bar) against
  :func:`benchmarks._bare.bare_train`, the same architecture, batch size and optimiser in plain
  PyTorch. Goal (issue 5): overhead under 10%.
* The training step's achieved GFLOP/s (FLOPs of the forward and backward matmuls, counted by
  :class:`torch.utils.flop_counter.FlopCounterMode` on one step of vaetheory's model, times the
  steps per second measured above) against the machine's own large-matmul GFLOP/s (``torch.mm`` of
  two 2048 x 2048 float32 matrices) measured in the same run. Goal (issue 9): at least half. The
  default model is small (64 -> 128 -> 2), so a second row shows a wide one (hidden 1024, batch 1024).

* What the step's matmuls could reach: every matrix product of one training step of the wide
  model (forward and backward, recorded with a ``TorchDispatchMode``) replayed alone on fresh
  tensors of the same shapes and strides, against the same large-matmul rate. This is the ceiling
  of the row above: the step's products are skinny (an inner or outer size of 2, 4, 64 or 128
  against 1024), so they cannot run at the rate of a square 2048 product; the row's note gives the
  share of the step's time they take (the rest: tanh and its gradient on the [1024, 1024]
  activations, the elementwise ELBO terms, Adam).

The small model runs at one thread and at the run's thread count (both shown): on 2 cores shared
with other work, one thread measured fastest for it (a second thread only adds synchronisation to
operators this small). The large matmul and the wide model use all the run's threads.
"""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import torch

from benchmarks._bare import BareGaussianVAE, bare_train
from benchmarks._harness import Measurement, Row, interleaved_times, log, timed

FLOOR_VARIANCE = 1e-3


def matmul_gflops(n: int, repeats: int, dtype: torch.dtype = torch.float32) -> list[float]:
    """GFLOP/s of ``torch.mm`` on two n x n matrices (2 n^3 FLOPs per product), one sample per repeat."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen, dtype=dtype)
    b = torch.randn(n, n, generator=gen, dtype=dtype)
    torch.mm(a, b)
    return [2.0 * n**3 / timed(lambda: torch.mm(a, b))[0] / 1e9 for _ in range(repeats)]


def step_flops(model: torch.nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one training step's forward and backward pass (matmuls; FlopCounterMode's count)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        loss = -model.elbo(x).mean()
        loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


#: the matrix products a training step runs (recorded by :func:`step_matmuls`)
_MATMULS = ("mm", "addmm", "bmm")


def step_matmuls(model: torch.nn.Module, x: torch.Tensor) -> list[tuple[Any, list[Any]]]:
    """Every matrix product of one forward and backward pass: ``(op, [(shape, stride) or value])``."""
    from torch.utils._python_dispatch import TorchDispatchMode

    ops = {getattr(torch.ops.aten, name).default for name in _MATMULS}
    calls: list[tuple[Any, list[Any]]] = []

    class _Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in ops:
                calls.append(
                    (func, [(a.shape, a.stride()) if isinstance(a, torch.Tensor) else a for a in args])
                )
            return func(*args, **(kwargs or {}))

    with _Record():
        loss = -model.elbo(x).mean()
        loss.backward()
    model.zero_grad(set_to_none=True)
    return calls


def matmul_flops(func, args: list[Any]) -> int:
    """2 m k n of one recorded product (``addmm``'s first argument is the added bias)."""
    (a, _), (b, _) = args[1:3] if func is torch.ops.aten.addmm.default else args[:2]
    return 2 * int(np.prod(a[:-1])) * int(a[-1]) * int(b[-1])


def matmul_replay(calls: list[tuple[Any, list[Any]]], dtype: torch.dtype):
    """A function running ``calls`` again on fresh tensors of the recorded shapes and strides."""
    gen = torch.Generator().manual_seed(0)

    def tensor(shape, stride):
        size = 1 + sum((n - 1) * st for n, st in zip(shape, stride))
        return torch.randn(size, generator=gen, dtype=dtype).as_strided(shape, stride)

    replay = [(f, [tensor(*a) if isinstance(a, tuple) else a for a in args]) for f, args in calls]

    def run() -> None:
        for f, args in replay:
            f(*args)

    return run


def _train_config(steps: int, hidden: tuple[int, ...], batch_size: int):
    from vaetheory.empirical.training import TrainConfig

    return TrainConfig(
        variance="floor",
        floor_variance=FLOOR_VARIANCE,
        floor_method="clamp",
        data="digits",
        latent=2,
        hidden=hidden,
        steps=steps,
        batch_size=batch_size,
        lr=1e-3,
        seed=0,
    )


def _compare(data: np.ndarray, steps: int, hidden: tuple[int, ...], batch_size: int, repeats: int):
    """Paired wall times of train() and the bare loop, and the FLOPs of one step of train()'s model."""
    from vaetheory.empirical.model import VAEConfig, build_model
    from vaetheory.empirical.training import train

    config = _train_config(steps, hidden, batch_size)
    data_t = torch.as_tensor(data, dtype=torch.float32)

    def ours() -> None:
        with tempfile.TemporaryDirectory(prefix="vaetheory-bench-train-") as out:
            result = train(config, data=data, out_dir=out, progress=False)
        if result.stopped_reason is not None:
            raise RuntimeError(f"train() stopped early: {result.stopped_reason}")

    def baseline() -> None:
        torch.manual_seed(0)
        model = BareGaussianVAE(data.shape[1], config.latent, hidden, FLOOR_VARIANCE)
        bare_train(model, data_t, steps=steps, batch_size=batch_size, lr=config.lr, seed=0)

    def bare_loop_vaetheory_model() -> None:
        model = build_model(config.model_config(data.shape[1]), seed=0)
        gen = torch.Generator().manual_seed(0)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        for _ in range(steps):
            idx = torch.randint(data_t.shape[0], (batch_size,), generator=gen)
            loss = -model.elbo(data_t[idx], beta=config.beta, generator=gen).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    t_ours, t_base, t_mixed = interleaved_times(
        [ours, baseline, bare_loop_vaetheory_model], repeats, warmup=0 if repeats == 1 else 1
    )
    model = build_model(
        VAEConfig(
            data_dim=data.shape[1],
            latent_dim=config.latent,
            hidden=hidden,
            variance="floor",
            floor_variance=FLOOR_VARIANCE,
        ),
        seed=0,
    )
    model_dtype = next(model.parameters()).dtype
    x = torch.as_tensor(data[:batch_size], dtype=model_dtype)
    flops = step_flops(model, x)
    n_ours = sum(p.numel() for p in model.parameters())
    n_bare = sum(p.numel() for p in BareGaussianVAE(data.shape[1], config.latent, hidden, 1.0).parameters())
    counts = {
        # read by benchmarks.report for the row's note: what the model does beyond the bare one
        "model_overhead_cause": (
            "one output layer per network for mean and log variance, 4 linear layers as the bare "
            "model's; the log-density from the log variance; the closed-form KL; the floor by "
            "torch.maximum, whose backward costs a few more elementwise operations than clamp's"
        ),
        "parameters_vaetheory": n_ours,
        "parameters_bare": n_bare,
        "bare_loop_with_GaussianVAE_steps_per_s": steps / float(np.median(t_mixed)),
    }
    counts["matmul_calls"] = step_matmuls(model, x)
    return t_ours, t_base, flops, counts, model_dtype


def run(smoke: bool) -> list[Row]:
    from vaetheory.datasets import load_digits

    data = load_digits(scale="unit")
    repeats = 1 if smoke else 5
    rows: list[Row] = []
    default_threads = torch.get_num_threads()

    peak_samples = matmul_gflops(256 if smoke else 2048, 1 if smoke else 9)
    peak = Measurement.of(
        "torch.mm 2048x2048 float32" if not smoke else "torch.mm 256x256", peak_samples, "GFLOP/s"
    )
    log(f"training: large-matmul {peak.median:.1f} GFLOP/s")

    # the small model at one thread and at the run's thread count (one measures best on 2 shared
    # cores: small operators gain nothing from a second thread and pay for its synchronisation)
    configs = [(5 if smoke else 300, (128,), 128, 1)]
    if default_threads > 1:
        configs.append((5 if smoke else 300, (128,), 128, default_threads))
    # the wide model at one thread too (when the run has more): the thread count's share in the rate
    if default_threads > 1:
        configs.append((2 if smoke else 30, (1024,), 1024, 1))
    configs.append((2 if smoke else 30, (1024,), 1024, default_threads))
    for steps, hidden, batch, threads in configs:
        label = f"digits, hidden {hidden[0]}, batch {batch}, {threads} thread{'s' if threads > 1 else ''}"
        torch.set_num_threads(threads)
        try:
            t_ours, t_base, flops, counts, dtype = _compare(data, steps, hidden, batch, repeats)
        finally:
            torch.set_num_threads(default_threads)
        ours = Measurement.of("train()", [steps / t for t in t_ours], "steps/s")
        bare = Measurement.of("bare PyTorch loop", [steps / t for t in t_base], "steps/s")
        calls = counts.pop("matmul_calls")
        details = {
            "steps": steps,
            "hidden": list(hidden),
            "batch_size": batch,
            "latent": 2,
            "variance": f"floor {FLOOR_VARIANCE:g} (clamp)",
            "repeats": repeats,
            "flops_per_step": flops,
            "model_dtype": str(dtype),
            "torch_threads": threads,
            **counts,
        }
        if hidden == (128,):
            rows.append(
                Row(
                    benchmark="training",
                    name=f"train() steps/s ({label})",
                    ours=ours,
                    baseline=bare,
                    ratio=bare.median / ours.median,
                    ratio_meaning="bare steps/s / our steps/s (time overhead factor)",
                    goal="overhead under 10% (ratio <= 1.10)",
                    goal_met=bare.median / ours.median <= 1.10,
                    details=details,
                )
            )
        achieved = Measurement.of("train() step", [flops * s / 1e9 for s in ours.samples], "GFLOP/s")
        alone = None
        if hidden != (128,):  # the wide model: what its step's matmuls reach alone (the ceiling)
            torch.set_num_threads(threads)
            try:
                alone = _matmuls_alone(calls, dtype, 1 if smoke else 9)
            finally:
                torch.set_num_threads(default_threads)
            step_s = 1.0 / ours.median
            details["step_matmuls"] = len(calls)
            details["step_matmul_flops"] = sum(matmul_flops(f, a) for f, a in calls)
            details["step_matmuls_alone_gflops"] = alone.median
            details["step_time_in_matmuls"] = details["step_matmul_flops"] / (alone.median * 1e9) / step_s
            details["note"] = (
                f"the step's {len(calls)} matrix products replayed alone (same shapes and strides) run "
                f"at {alone.median:.3g} GFLOP/s, {alone.median / peak.median:.2f} of the large-matmul "
                f"rate: the ceiling of this row; they take {details['step_time_in_matmuls']:.0%} of the "
                "step's time"
            )
        rows.append(
            Row(
                benchmark="training",
                name=f"training step GFLOP/s ({label})",
                ours=achieved,
                baseline=peak,
                ratio=achieved.median / peak.median,
                ratio_meaning="achieved / large-matmul GFLOP/s",
                goal="at least half of the large-matmul rate (ratio >= 0.5)",
                goal_met=achieved.median / peak.median >= 0.5,
                details=details,
            )
        )
        if alone is not None:
            rows.append(
                Row(
                    benchmark="training",
                    name=f"training step's matmuls alone GFLOP/s ({label})",
                    ours=alone,
                    baseline=peak,
                    ratio=alone.median / peak.median,
                    ratio_meaning="achieved / large-matmul GFLOP/s (the ceiling of the step's rate)",
                    details={k: details[k] for k in ("step_matmuls", "step_matmul_flops", "torch_threads")},
                )
            )
    return rows


def _matmuls_alone(calls, dtype: torch.dtype, repeats: int) -> Measurement:
    """GFLOP/s of the recorded products of one step replayed alone (:func:`matmul_replay`)."""
    total = sum(matmul_flops(f, a) for f, a in calls)
    replay = matmul_replay(calls, dtype)
    replay()
    samples = [total / timed(replay)[0] / 1e9 for _ in range(repeats)]
    return Measurement.of("the step's matmuls alone", samples, "GFLOP/s")
