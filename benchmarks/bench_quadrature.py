"""Peak memory of the exact log-likelihood by quadrature (``vaetheory blowup``): flat in the points.

:func:`vaetheory.empirical.estimators.exact_log_marginal` on the blow-up construction's decoder
(:func:`vaetheory.empirical.construction.construction_model`, k = 5, latent 1, 400 panels of 8
Gauss-Legendre nodes, float64) for the first n digits scaled to [0, 1] (d = 64), chunked over points
and nodes (default ``max_elements`` = 2^21 entries per decoded tensor). The baseline is the former
route, chunked over nodes only (4096 nodes x all n points per tensor: ``max_elements`` unbounded),
feasible only at small n: at n = 1797 one such tensor alone is 4096 x 1797 x 64 x 8 B = 3.8 GB.

Each measurement runs in a fresh Python subprocess and reports the growth of the peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, Linux kB) during the call, beyond the peak already
reached after importing torch and building the model; torch's allocations are invisible to
tracemalloc, so the resident set is the honest measure. Rows: at 100 points, ours against the
baseline (ratio baseline / ours, > 1: less memory); at 1797 points, ours against ours at 100
points (ratio peak(1797) / peak(100): ~1 is flat). Wall time of each call in the details.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks._harness import Measurement, Row, log

_CHILD = r"""
import json, resource, sys, time
import torch
torch.set_num_threads(1)
from vaetheory.empirical.construction import construction_data, construction_model
from vaetheory.empirical.estimators import exact_log_marginal
n, n_panels, max_elements = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
X = construction_data(n)
model = construction_model(X[0], 5.0)
exact_log_marginal(model, X[:2], n_panels=2)  # warm up torch's kernels before the peak is read
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
out = exact_log_marginal(model, X, n_panels=n_panels, max_elements=max_elements)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_growth_mib": (peak - before) / 1024.0, "seconds": seconds,
                  "first": float(out[0]), "finite": bool(torch.isfinite(out).all())}))
"""

#: "unbounded" max_elements: the former route (chunked over nodes only)
UNCHUNKED = 2**62


def _measure(n: int, n_panels: int, max_elements: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n), str(n_panels), str(max_elements)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(smoke: bool) -> list[Row]:
    from vaetheory.empirical.estimators import exact_log_marginal

    default_elements = exact_log_marginal.__kwdefaults__["max_elements"]
    small, large, n_panels = (10, 60, 20) if smoke else (100, 1797, 400)
    repeats = 1 if smoke else 2
    ours_small = [_measure(small, n_panels, default_elements) for _ in range(repeats)]
    base_small = [_measure(small, n_panels, UNCHUNKED) for _ in range(repeats)]
    ours_large = [_measure(large, n_panels, default_elements) for _ in range(repeats)]
    for label, runs in (
        ("ours small", ours_small),
        ("baseline small", base_small),
        ("ours large", ours_large),
    ):
        log(
            f"quadrature: {label}: "
            + ", ".join(f"{r['peak_growth_mib']:.0f} MiB {r['seconds']:.2f} s" for r in runs)
        )
    same = abs(ours_small[0]["first"] - base_small[0]["first"])

    def mib(runs, label):
        return Measurement.of(label, [r["peak_growth_mib"] for r in runs], "MiB")

    ours_s = mib(ours_small, f"chunked (max_elements={default_elements}), n={small}")
    base_s = mib(base_small, f"nodes-only chunks (4096 nodes x all points), n={small}")
    ours_l = mib(ours_large, f"chunked (max_elements={default_elements}), n={large}")
    details = {
        "n_panels": n_panels,
        "nodes": 8 * n_panels,
        "dim": 64,
        "seconds_ours_small": [r["seconds"] for r in ours_small],
        "seconds_baseline_small": [r["seconds"] for r in base_small],
        "seconds_ours_large": [r["seconds"] for r in ours_large],
        "abs_difference_first_point_nats": same,
        "all_finite": all(r["finite"] for r in ours_small + base_small + ours_large),
    }
    return [
        Row(
            benchmark="quadrature",
            name=f"exact_log_marginal peak memory growth at n={small}: chunked vs nodes-only chunks",
            ours=ours_s,
            baseline=base_s,
            ratio=base_s.median / max(ours_s.median, 1e-9),
            ratio_meaning="baseline peak / our peak (> 1: less memory)",
            details=details,
        ),
        Row(
            benchmark="quadrature",
            name=f"exact_log_marginal peak memory growth at n={large} against n={small} (both chunked)",
            ours=ours_l,
            baseline=ours_s,
            ratio=ours_l.median / max(ours_s.median, 1e-9),
            ratio_meaning=f"peak at n={large} / peak at n={small} (about 1: flat in the number of points)",
            goal="flat: at most 2x from 100 to 1797 points",
            goal_met=ours_l.median <= 2.0 * max(ours_s.median, 1.0),
            details=details,
        ),
    ]
