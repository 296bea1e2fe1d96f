"""The importance-weighted bound L_5000: vaetheory's chunked estimator against the naive form.

Ours: :func:`vaetheory.empirical.estimators.iwae_bound` with its default chunking. Baseline: the
naive form a user writes first, all k samples at once,
``logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log k`` with ``z`` of shape [k, n, q],
over the same model's encoder and decoder (Burda et al. 2016; theory section 4).

* Time: median of interleaved in-process repeats.
* Peak memory: each route runs in a fresh subprocess (``python -m benchmarks.bench_iwae --route
  ...``) that builds the model and data, warms up with k = 2, then reports the rise of its peak
  resident memory across the one L_k call (Linux ``VmHWM``, reset first; see
  :func:`_measure_peak`). tracemalloc cannot see torch's allocations; the peak RSS sees all of them.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import torch

from benchmarks._harness import Measurement, Row, log, paired_times, speedup_row

FLOOR_VARIANCE = 1e-3
PAGE_BYTES = 4096.0


def make_model_and_data(n: int):
    """An (untrained) floored Gaussian VAE on the digits, and its first n points."""
    from vaetheory.datasets import load_digits
    from vaetheory.empirical.model import VAEConfig, build_model

    data = load_digits(scale="unit")
    model = build_model(
        VAEConfig(
            data_dim=data.shape[1],
            latent_dim=2,
            hidden=(128,),
            variance="floor",
            floor_variance=FLOOR_VARIANCE,
        ),
        seed=0,
    )
    dtype = next(model.parameters()).dtype
    return model, torch.as_tensor(data[:n], dtype=dtype)


@torch.no_grad()
def naive_iwae(model, x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """L_k per point with all k samples drawn and decoded at once ([k, n, q] latents)."""
    q_mean, q_variance = model.encode(x)
    q_std = q_variance.sqrt()
    eps = torch.randn((k, *q_mean.shape), generator=generator, dtype=q_mean.dtype)
    z = q_mean + q_std * eps
    log_px = model.decode(z).log_prob(x)
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_qz = torch.distributions.Normal(q_mean, q_std).log_prob(z).sum(-1)
    return torch.logsumexp(log_px + log_pz - log_qz, dim=0) - math.log(k)


def chunked_iwae(model, x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    from vaetheory.empirical.estimators import iwae_bound

    with torch.no_grad():
        return iwae_bound(model, x, k, generator=generator)


ROUTES = {"ours": chunked_iwae, "naive": naive_iwae}


def _status_kib(field: str) -> float | None:
    """A ``kB`` field of /proc/self/status (``VmRSS``, ``VmHWM``), or None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def _measure_peak(route: str, n: int, k: int) -> dict[str, float]:
    """In this (fresh) process: the rise of peak resident memory over one L_k call, and its time.

    Linux: the high-water mark ``VmHWM`` is reset to the current RSS by writing 5 to
    /proc/self/clear_refs, so the rise is VmHWM after the call minus VmRSS before it.
    ``ru_maxrss`` cannot be used in a child process: Linux carries the parent's peak across exec.
    Elsewhere: ``ru_maxrss`` before and after.
    """
    model, x = make_model_and_data(n)
    fn = ROUTES[route]
    fn(model, x, 2, torch.Generator().manual_seed(1))  # warm-up: kernels and allocator pools
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        before_kib, method = _status_kib("VmRSS"), "VmHWM"
    except OSError:
        before_kib, method = None, "ru_maxrss"
    if before_kib is None:
        before_kib, method = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), "ru_maxrss"
    start = time.perf_counter()
    value = fn(model, x, k, torch.Generator().manual_seed(0))
    elapsed = time.perf_counter() - start
    after_kib = _status_kib("VmHWM") if method == "VmHWM" else None
    if after_kib is None:
        after_kib = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {
        "peak_rise_bytes": max(after_kib - before_kib, 0.0) * 1024.0,
        "seconds": elapsed,
        "mean_bound": float(value.mean()),
        "method": method,
    }


def peak_in_subprocess(route: str, n: int, k: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_iwae", "--route", route, "--n", str(n), "--k", str(k)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory subprocess for {route} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(smoke: bool) -> list[Row]:
    n, k = (20, 1000) if smoke else (100, 5000)
    repeats = 1 if smoke else 3
    model, x = make_model_and_data(n)
    gens = {"ours": torch.Generator().manual_seed(0), "naive": torch.Generator().manual_seed(0)}
    t_ours, t_naive = paired_times(
        lambda: chunked_iwae(model, x, k, gens["ours"]),
        lambda: naive_iwae(model, x, k, gens["naive"]),
        repeats,
        warmup=0 if smoke else 1,
    )
    ours_value = chunked_iwae(model, x, k, torch.Generator().manual_seed(0))
    naive_value = naive_iwae(model, x, k, torch.Generator().manual_seed(0))
    if smoke:  # checks the code path; a fresh interpreter per route is too slow for the smoke budget
        mem = {route: _measure_peak(route, n, k) for route in ("ours", "naive")}
    else:
        mem = {route: peak_in_subprocess(route, n, k) for route in ("ours", "naive")}
    log(
        f"iwae: peak rise ours {mem['ours']['peak_rise_bytes'] / 2**20:.1f} MiB, naive "
        f"{mem['naive']['peak_rise_bytes'] / 2**20:.1f} MiB"
    )
    details = {
        "n_points": n,
        "k": k,
        "data": "digits (unit scale), first n points",
        "model": "untrained floored Gaussian VAE, latent 2, hidden 128",
        "mean_L_k_ours": float(ours_value.mean()),
        "mean_L_k_naive": float(naive_value.mean()),
        "max_abs_difference_ours_vs_naive": float((ours_value - naive_value).abs().max()),
        "repeats": repeats,
    }
    ours_mem = Measurement.of("iwae_bound (chunked)", [mem["ours"]["peak_rise_bytes"]], "bytes")
    naive_mem = Measurement.of("naive, all k samples at once", [mem["naive"]["peak_rise_bytes"]], "bytes")
    return [
        speedup_row(
            "iwae",
            f"L_{k} time ({n} points)",
            Measurement.of("iwae_bound (chunked)", t_ours, "s"),
            Measurement.of("naive, all k samples at once", t_naive, "s"),
            details=details,
        ),
        Row(
            benchmark="iwae",
            name=f"L_{k} peak memory rise ({n} points)",
            ours=ours_mem,
            baseline=naive_mem,
            ratio=naive_mem.median / max(ours_mem.median, PAGE_BYTES),
            ratio_meaning="naive peak RSS rise / ours (> 1: ours is smaller; ours floored at one 4 KiB page)",
            details={
                "measured_by": "peak RSS rise over one call in a fresh subprocess (smoke: in-process)",
                **mem,
            },
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--route", choices=sorted(ROUTES), required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--k", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(_measure_peak(args.route, args.n, args.k)))
