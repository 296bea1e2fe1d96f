"""How much do vaetheory's numbers move across BLAS kernels and thread counts?

Runs a few representative computations, each in a fresh subprocess, under every combination of an
OpenBLAS kernel (``OPENBLAS_CORETYPE``: the default OpenBLAS picks for this CPU, and the kernels
named with ``--kernels``) and a thread count (``--threads``), and reports, per quantity, the
largest absolute and relative difference from the reference run (the default kernel, the first
thread count). The computations:

* ``ppca_loglik_digits``: the maximum pPCA log-likelihood per point on digits (raw pixels), q = 10,
  by the Woodbury route (:func:`vaetheory.linear.ppca_log_likelihood`);
* ``linear_vae_elbo_digits``: the linear VAE's ELBO per point at its closed-form optimum, evaluated
  on the same data (:func:`vaetheory.linear.linear_vae_elbo`);
* ``degenerate_path_loglik``: the pPCA log-likelihood per point on rank-3 data (d = 9, q = 3) at
  sigma^2 = 1e-9, the ill-conditioned end of the unbounded path (the quantity of the test that
  differed by 1.7e-8 relative on an AVX-512 machine);
* ``train_final_loss`` and ``train_final_elbo``: a 200-step Adam run of the default learned-variance
  VAE on digits (seed 0), its last logged loss and ELBO.

Usage::

    python -m benchmarks.kernels            # default, Haswell, Sandybridge, Nehalem; 1 and 2 threads
    python -m benchmarks.kernels --kernels Haswell --threads 1,2 --out kernels.json

Choose only kernels this CPU supports: OpenBLAS stops with an illegal instruction on a kernel the
CPU lacks (``SkylakeX`` needs AVX-512). Never set ``OPENBLAS_CORETYPE`` in tests or CI: the suite
must pass under whatever kernel a user's machine picks.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KERNELS = ("Haswell", "Sandybridge", "Nehalem")
QUANTITIES = (
    "ppca_loglik_digits",
    "linear_vae_elbo_digits",
    "degenerate_path_loglik",
    "train_final_loss",
    "train_final_elbo",
)
TRAIN_STEPS = 200


def compute() -> dict[str, float]:
    """The quantities, computed in this process (the worker's job)."""
    import torch

    from vaetheory.datasets import load_digits
    from vaetheory.empirical.training import TrainConfig, train
    from vaetheory.linear import (
        linear_vae_elbo,
        linear_vae_optimum,
        ppca_log_likelihood,
        ppca_mle,
        sample_moments,
        synthetic_ppca_data,
    )
    from vaetheory.linear.ppca import loading_at

    threads = int(os.environ["VAETHEORY_KERNEL_THREADS"])
    torch.set_num_threads(threads)
    X = load_digits()
    moments = sample_moments(X)
    fit = ppca_mle(moments, 10)
    out = {"ppca_loglik_digits": ppca_log_likelihood(X, fit.W, fit.noise_variance, fit.mean)}
    opt = linear_vae_optimum(moments, 10)
    out["linear_vae_elbo_digits"] = linear_vae_elbo(X, opt.W, opt.V, opt.D, opt.noise_variance, opt.mean)
    sub = synthetic_ppca_data(200, 9, (4.0, 2.0, 1.0), 0.0, 0).data + 5.0
    m_sub = sample_moments(sub)
    out["degenerate_path_loglik"] = ppca_log_likelihood(sub, loading_at(m_sub, 3, 1e-9), 1e-9, m_sub.mean)
    result = train(TrainConfig(steps=TRAIN_STEPS, log_every=50, seed=0), progress=False)
    out["train_final_loss"] = float(result.history[-1]["loss"])
    out["train_final_elbo"] = float(result.history[-1]["elbo"])
    out["_threads_seen"] = float(torch.get_num_threads())
    return out


def _run(kernel: str | None, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if kernel is not None:
        env["OPENBLAS_CORETYPE"] = kernel
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    env["VAETHEORY_KERNEL_THREADS"] = str(threads)
    code = (
        "import json; from benchmarks.kernels import compute; "
        "from threadpoolctl import threadpool_info; v = compute(); "
        "print(json.dumps({'values': {k: x.hex() for k, x in v.items()}, "
        "'blas': [(p.get('internal_api'), p.get('architecture'), p.get('num_threads')) "
        "for p in threadpool_info() if p.get('user_api') == 'blas']}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    label = f"{kernel or 'default'}, {threads} thread{'s' if threads > 1 else ''}"
    if proc.returncode != 0:
        return {"label": label, "error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    values = {k: float.fromhex(x) for k, x in record["values"].items()}
    return {"label": label, "kernel": kernel, "threads": threads, "values": values, "blas": record["blas"]}


def compare(runs: list[dict]) -> dict[str, dict]:
    """Per quantity: the reference value and the largest |difference| (absolute, relative) from it."""
    good = [r for r in runs if "values" in r]
    ref = good[0]
    out = {}
    for q in QUANTITIES:
        a = ref["values"][q]
        diffs = [(abs(r["values"][q] - a), r["label"]) for r in good[1:]]
        worst, where = max(diffs, default=(0.0, None))
        out[q] = {
            "reference": a,
            "reference_run": ref["label"],
            "max_abs_difference": worst,
            "max_rel_difference": worst / abs(a) if a else math.inf,
            "worst_run": where if worst > 0 else None,
            "bit_identical_runs": [r["label"] for r in good[1:] if r["values"][q] == a],
        }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kernels", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--kernels", default=",".join(DEFAULT_KERNELS), help="OPENBLAS_CORETYPE values")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--out", help="also write the runs and the comparison to this JSON file")
    args = parser.parse_args(argv)
    kernels = [None, *[k for k in args.kernels.split(",") if k]]
    threads = [int(t) for t in args.threads.split(",") if t]
    runs = []
    for kernel, n in itertools.product(kernels, threads):
        run = _run(kernel, n)
        runs.append(run)
        print(f"{run['label']:<26} " + (run.get("error") or json.dumps(run["blas"])), flush=True)
    if not any("values" in r for r in runs):
        print("no run succeeded", file=sys.stderr)
        return 1
    table = compare(runs)
    reference = table[QUANTITIES[0]]["reference_run"]
    print(f"\n| quantity | reference ({reference}) | max abs diff | max rel diff |")
    print("| --- | --- | --- | --- |")
    for q, row in table.items():
        print(
            f"| `{q}` | {row['reference']:.12g} | {row['max_abs_difference']:.3g} | "
            f"{row['max_rel_difference']:.3g} ({row['worst_run'] or 'all identical'}) |"
        )
    if args.out:
        from vaetheory.provenance import provenance

        record = {"runs": runs, "comparison": table, "provenance": provenance(parameters=vars(args))}
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
