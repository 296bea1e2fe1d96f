"""``vaetheory sweep`` throughput: a 32-run grid on the local engine, on Ray, and as 32 sequential runs.

The grid: floors xi in {1e-2, 1e-3} x beta in {1, 0.5} x seeds 0..7 (32 runs), a floored Gaussian
VAE on the digits (latent 2, hidden 128, batch 128, Adam 1e-3). Routes, each a full
:func:`vaetheory.sweeps.run_sweep` into a fresh directory (run directories, checkpoints, results
table included), timed in one process, interleaved:

* local engine, stacked: ``--group-size 16`` (2 groups, in this process; each group writes its
  stack checkpoint every ``checkpoint_every`` = 100 steps, so once at these 200 steps);
* Ray engine on a local cluster: ``--group-size 16``, 2 tasks on a cluster of 2 CPUs started once
  before timing (its start-up time is reported in the details, not timed);
* 32 sequential runs: ``--group-size 1`` (each run one ``train()``, one after another).

Throughput is runs per hour (32 / wall time x 3600). Ray's overhead per task is the round trip of
an empty task (``ray.get`` of 20 no-op tasks, per task) on the warm cluster. The local engine here
trains its 2 groups one after another in one process (``--max-concurrent 1``), while Ray runs its 2
tasks at once on the cluster's 2 CPUs: the difference of the two times is parallelism, not overhead,
and is not reported as one.

The GPU row (steps per second CPU against GPU at hidden 1024, batch 1024) is
:mod:`benchmarks.bench_device`, measured only where ``torch.cuda.is_available()`` and otherwise
skipped with the reason recorded (``vaetheory sweep --device cuda`` is refused there, exit 2).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._harness import Measurement, Row, interleaved_times, log, speedup_row


def grid_spec(steps: int) -> dict:
    return {
        "name": "bench-32",
        "base": {"variance": "floor", "latent": 2, "hidden": 128, "steps": steps, "batch_size": 128},
        "grid": {"floor": [1e-2, 1e-3], "beta": [1.0, 0.5], "seed": list(range(8))},
    }


def run(smoke: bool) -> list[Row]:
    import time

    import ray

    from vaetheory.sweeps import parse_spec, run_sweep

    steps = 3 if smoke else 200
    repeats = 1 if smoke else 3
    spec = parse_spec(grid_spec(steps))
    n = len(spec.runs)
    root = Path(tempfile.mkdtemp(prefix="vaetheory-bench-sweeps-"))
    counter = iter(range(10**6))

    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - started
    try:

        def sweep(**options):
            def go():
                out = root / f"s{next(counter)}"
                outcome = run_sweep(spec, out, progress=False, **options)
                if not outcome.complete:
                    raise RuntimeError(f"sweep incomplete: {outcome.errors}")
                shutil.rmtree(out)

            return go

        # an untimed first Ray sweep starts the cluster's workers (imports torch and vaetheory there)
        sweep(engine="ray", group_size=16)()
        t_local, t_ray, t_seq = interleaved_times(
            [sweep(group_size=16), sweep(engine="ray", group_size=16), sweep(group_size=1)],
            repeats,
            warmup=0,
        )

        @ray.remote(num_cpus=1)
        def noop():
            return None

        ray.get(noop.remote())
        trips = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ray.get([noop.remote() for _ in range(20)])
            trips.append((time.perf_counter() - t0) / 20)
    finally:
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)

    per_hour = {
        k: n / float(np.median(t)) * 3600 for k, t in (("local", t_local), ("ray", t_ray), ("seq", t_seq))
    }
    details = {
        "runs": n,
        "steps": steps,
        "grid": "floor {1e-2, 1e-3} x beta {1, 0.5} x seeds 0-7; latent 2, hidden 128, batch 128, digits",
        "runs_per_hour_local_stacked": per_hour["local"],
        "runs_per_hour_ray_local_cluster": per_hour["ray"],
        "runs_per_hour_sequential": per_hour["seq"],
        "ray_cluster_start_s": ray_start,
        "ray_empty_task_round_trip_s": float(np.median(trips)),
        "ray_cluster_cpus": 2,
        "group_size": 16,
        "repeats": repeats,
    }
    log(
        f"sweeps: runs/hour local {per_hour['local']:.0f}, ray {per_hour['ray']:.0f}, sequential "
        f"{per_hour['seq']:.0f}; ray empty task {np.median(trips) * 1e3:.2f} ms"
    )
    local = Measurement.of("local engine, 2 stacked groups of 16", t_local, "s")
    return [
        speedup_row(
            "sweeps",
            "32-run sweep: local engine stacked vs 32 sequential runs",
            local,
            Measurement.of("32 sequential runs (--group-size 1)", t_seq, "s"),
            details=details,
        ),
        speedup_row(
            "sweeps",
            "32-run sweep: Ray (local 2-CPU cluster, 2 tasks) vs 32 sequential runs",
            Measurement.of("ray engine, 2 tasks of 16 stacked", t_ray, "s"),
            Measurement.of("32 sequential runs (--group-size 1)", t_seq, "s"),
            details=details,
        ),
        Row(
            benchmark="sweeps",
            name="Ray overhead per task (local cluster)",
            ours=Measurement.of("empty Ray task round trip", trips, "s"),
            baseline=local,
            ratio=float(np.median(trips)) / local.median,
            ratio_meaning="empty-task round trip / local stacked sweep time (fraction of the sweep)",
            details=details,
        ),
    ]
