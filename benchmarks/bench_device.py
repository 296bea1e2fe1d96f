"""Training on a GPU against the CPU: steps per second of ``train()`` at hidden 1024, batch 1024.

* CPU row (always measured): :func:`vaetheory.empirical.training.train` with ``device="cpu"``
  (a floored Gaussian VAE on the bundled digits, latent 2, hidden 1024, batch 1024, logging every
  10 steps, no output directory) against :func:`benchmarks._bare.bare_train`, the same
  architecture in plain PyTorch on the CPU. This is the CPU side of the GPU row, and says what the
  device-clean loop (one boolean read back per step) costs there.
* GPU row (only where ``torch.cuda.is_available()``): the same ``train()`` with ``device="cuda"``
  against ``device="cpu"``, measured in the same run; the ratio is the GPU's speed-up. Without a
  GPU no GPU number exists: the row is left out and the reason is recorded in the CPU row's
  ``details["gpu"]`` (``measured: false``, ``reason``) and on stderr; nothing is estimated.

A sample is the time per step: a run of ``LONG`` steps and one of ``SHORT`` steps are timed
(whole ``train()`` calls, interleaved), and their difference over ``LONG - SHORT`` steps removes
the setup (data check, model built and moved, provenance). A first, untimed call warms up (on a
GPU it also initialises CUDA); a GPU call ends with ``torch.cuda.synchronize()``. The smoke mode
divides one whole call by its steps (it checks that the code runs; its numbers mean nothing).
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks._bare import BareGaussianVAE, bare_train
from benchmarks._harness import Measurement, Row, interleaved_times, log, speedup_row

FLOOR_VARIANCE = 1e-3
HIDDEN = (1024,)
BATCH = 1024
LONG, SHORT = 120, 40


def gpu_unavailable_reason() -> str | None:
    """Why no GPU row is measured (None when CUDA is available)."""
    if torch.cuda.is_available():
        return None
    build = torch.version.cuda
    why = f"built with CUDA {build}, but no device is visible" if build else "a CPU-only build"
    return f"no GPU: torch.cuda.is_available() is False (torch {torch.__version__}, {why})"


def _config(steps: int, hidden: tuple[int, ...], batch_size: int):
    from vaetheory.empirical.training import TrainConfig

    return TrainConfig(
        variance="floor",
        floor_variance=FLOOR_VARIANCE,
        latent=2,
        hidden=hidden,
        steps=steps,
        batch_size=batch_size,
        log_every=10,
        checkpoint_every=max(steps, 1),
        seed=0,
    )


def _train_on(device: str, config, data):
    from vaetheory.empirical.training import train

    def once() -> None:
        result = train(config, data=data, progress=False, device=device)
        if device != "cpu":
            torch.cuda.synchronize()
        if result.stopped_reason is not None:
            raise RuntimeError(f"train(device={device!r}) stopped early: {result.stopped_reason}")

    return once


def run(smoke: bool) -> list[Row]:
    from vaetheory.datasets import load_digits

    data = load_digits(scale="unit")
    hidden, batch = ((32,), 64) if smoke else (HIDDEN, BATCH)
    repeats = 1 if smoke else 3
    lengths = (3,) if smoke else (LONG, SHORT)
    data_t = torch.as_tensor(data, dtype=torch.float32)

    def bare(steps: int):
        def once() -> None:
            torch.manual_seed(0)
            model = BareGaussianVAE(data.shape[1], 2, hidden, FLOOR_VARIANCE)
            bare_train(model, data_t, steps=steps, batch_size=batch, lr=1e-3, seed=0)

        return once

    def per_step(make) -> list:
        """The per-step samples of the routes ``make(steps)`` (module docstring)."""
        return [make(n) for n in lengths]

    def samples(times: list[list[float]], k: int) -> list[float]:
        if smoke:  # one route per length: times[k] is route k's
            return [t / lengths[0] for t in times[k]]
        out = [(a - b) / (LONG - SHORT) for a, b in zip(times[2 * k], times[2 * k + 1])]
        if min(out) <= 0:  # the machine's load changed more than the extra steps took: no measurement
            raise RuntimeError(
                f"a per-step time came out <= 0 ({out}): the load on this machine varies more than "
                f"{LONG - SHORT} steps take; rerun on a quieter machine (nothing is reported from this run)"
            )
        return out

    def train_route(device: str):
        return lambda n: _train_on(device, _config(n, hidden, batch), data)

    times = interleaved_times(
        [*per_step(train_route("cpu")), *per_step(bare)], repeats, warmup=0 if smoke else 1
    )
    t_cpu, t_bare = samples(times, 0), samples(times, 1)
    reason = gpu_unavailable_reason()
    details = {
        "per_step": "whole call / steps (smoke)"
        if smoke
        else f"(time of {LONG} steps - of {SHORT}) / {LONG - SHORT}",
        "hidden": list(hidden),
        "batch_size": batch,
        "data": "digits (1797 x 64, divided by 16)",
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        "cpu_steps_per_s": 1.0 / float(np.median(t_cpu)),
        "bare_cpu_steps_per_s": 1.0 / float(np.median(t_bare)),
        "gpu": {"measured": reason is None, "reason": reason},
    }
    rows = [
        speedup_row(
            "device",
            f"train() on the CPU vs a bare PyTorch loop, hidden {hidden[0]}, batch {batch}",
            Measurement.of("train(device='cpu'), one step", t_cpu, "s"),
            Measurement.of("bare loop on the CPU, one step", t_bare, "s"),
            details=details,
        )
    ]
    if reason is not None:
        log(f"device: GPU row skipped: {reason}")
        return rows
    times = interleaved_times(
        [*per_step(train_route("cuda")), *per_step(train_route("cpu"))], repeats, warmup=1
    )
    t_gpu, t_cpu2 = samples(times, 0), samples(times, 1)
    name = torch.cuda.get_device_name(0)
    rows.append(
        speedup_row(
            "device",
            f"train() on the GPU vs on the CPU, hidden {hidden[0]}, batch {batch}",
            Measurement.of(f"train(device='cuda'), one step ({name})", t_gpu, "s"),
            Measurement.of("train(device='cpu'), one step", t_cpu2, "s"),
            details={
                **details,
                "gpu": {"measured": True, "reason": None, "name": name, "cuda": torch.version.cuda},
                "gpu_steps_per_s": 1.0 / float(np.median(t_gpu)),
                "cpu_steps_per_s_paired": 1.0 / float(np.median(t_cpu2)),
            },
        )
    )
    return rows
