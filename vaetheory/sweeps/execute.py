"""Training one group of a sweep, in whatever process an engine gives it: stacked, one run at a time,
or one experiment run.

A *group* is a list of runs that share an architecture (:meth:`RunSpec.group_key`). Three modes:

``stacked`` (``--group-size`` >= 2, the default 16)
    the group is trained at once by :func:`vaetheory.empirical.sweep.train_sweep` (stacked weights,
    the same numbers as runs trained alone up to the rounding of a batched matrix product). Each
    run's directory gets ``config.json`` (the ``train``/``model`` record ``vaetheory train``
    writes), ``checkpoint.pt`` (the final weights; :func:`~vaetheory.empirical.training.load_model`
    loads it), ``losses.json`` (the minibatch loss of every step) and ``summary.json``. While the
    group trains, the whole stack (weights, Adam's state, every run's generator, the losses so
    far) is checkpointed every ``checkpoint_every`` steps into ``stack-<hash>.pt`` in the group's
    first run directory (:func:`stack_checkpoint_name`); a group interrupted part-way resumes from
    its last checkpoint, bit for bit the uninterrupted group, and the file is removed once every
    run of the group is finished. Its ``bound_check`` is computed at the final weights, over every
    training point with one seeded sample (:data:`FINAL_STATISTIC`), since ``train_sweep`` does not
    expose per-point values during training.
``single`` (``--group-size 1``)
    each run is one :func:`vaetheory.empirical.training.train` with its run directory: a log,
    checkpoints every ``checkpoint_every`` steps, resumed from its checkpoint after a kill (bit for
    bit the uninterrupted run), and the ``bound_check`` of every training step.
``experiment`` (a SPEC with ``experiment: NAME``)
    each point is one :func:`vaetheory.studies.experiments.run_experiment` into its run directory
    (the experiment's own lock, files and resume: a rerun skips its finished groups of runs); the
    run record adds ``experiment``, ``records`` (the experiment's per-run records, ``details``),
    ``verdicts`` and ``results`` (its ``results.json`` value), from which its figure is drawn.

Either way the run's directory is locked while it is written, every file is written atomically, and
``sweep_run.json`` (:data:`RUN_RECORD`) is written last: its presence is what "finished" means.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import socket
import time
from pathlib import Path
from typing import Any

#: the file whose presence marks a finished run of a sweep (written last, atomically)
RUN_RECORD = "sweep_run.json"
LOSSES = "losses.json"
MODES = ("stacked", "single", "experiment")
#: the stack checkpoint of a stacked group: ``stack-<hash of the group>.pt`` in its first run's directory
STACK_CHECKPOINT_GLOB = "stack-*.pt"
#: the bound check statistic of a stacked run
FINAL_STATISTIC = (
    "the largest one-sample per-point ELBO, log p(x_i | z) - beta KL(q(z | x_i) || p(z)) with one "
    "reparameterised z (generator seeded with the run's seed) and the analytic KL, in float32, at the "
    "FINAL weights, over every training point (a stacked sweep does not expose per-point values during "
    "training; run with --group-size 1 for the check at every step)"
)


def device_support(device: str) -> None:
    """Refuse a device this installation cannot train on (a ``ValueError`` naming ``--device``).

    ``cpu``, or ``cuda`` where ``torch.cuda.is_available()``
    (:func:`vaetheory.empirical.training.check_device`); nothing falls back to the CPU.
    """
    if device == "cpu":
        return
    if device != "cuda":
        raise ValueError(f"--device must be cpu or cuda; got {device!r}")
    from vaetheory.empirical.sweep import train_sweep
    from vaetheory.empirical.training import check_device, train

    for fn in (train, train_sweep):
        if "device" not in inspect.signature(fn).parameters:
            raise ValueError(
                f"--device cuda: {fn.__module__}.{fn.__name__}() takes no device in this version of "
                "vaetheory (training runs on the CPU); accepted here: --device cpu"
            )
    check_device(device, name="--device")


def _run_files(path: Path) -> dict[str, bytes]:
    """Every file of a run's directory (subdirectories included) by its relative path, but the
    lock file and temporary files of unfinished writes."""
    from vaetheory.rundir import LOCK_NAME

    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME and not p.name.endswith(".tmp")
    }


def stack_checkpoint_name(runs: list[dict[str, Any]]) -> str:
    """The stack checkpoint's file name of a group: a hash of its runs' names and settings, so that
    another grouping of the same runs (another ``--group-size``) never resumes from it."""
    import hashlib
    import json

    key = json.dumps([[r["name"], r["settings"]] for r in runs], sort_keys=True)
    return f"stack-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"


def execute_group(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Train the runs of ``task`` and write their directories under ``task['root']``.

    ``task``: ``runs`` (``[{"name", "settings"}]``), ``root`` (the directory holding the runs'
    directories), ``mode`` (:data:`MODES`), ``device``, ``threads`` (torch threads, restored after),
    ``return_files`` (also return each run's files, for an engine whose workers do not share the
    driver's disk). Returns one outcome per run: ``{"name", "record"}`` (the contents of
    :data:`RUN_RECORD`) or ``{"name", "error"}``; with ``return_files`` also ``"files"``.
    """
    import torch

    threads_before = torch.get_num_threads()
    torch.set_num_threads(int(task.get("threads", 1)))
    try:
        device_support(task.get("device", "cpu"))
        if task["mode"] == "single":
            outcomes = [_single(task, run) for run in task["runs"]]
        elif task["mode"] == "experiment":
            outcomes = [_experiment(task, run) for run in task["runs"]]
        else:
            outcomes = _stacked(task)
    finally:
        torch.set_num_threads(threads_before)
    if task.get("return_files"):
        for outcome in outcomes:
            if "record" in outcome:
                outcome["files"] = _run_files(Path(task["root"]) / outcome["name"])
    return outcomes


def _trained_by(start: float) -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "wall_s": round(time.perf_counter() - start, 3)}


def _record(run, mode, metrics, bound_check, stopped, start) -> dict[str, Any]:
    from vaetheory.results import to_jsonable

    return {
        "name": run["name"],
        "settings": run["settings"],
        "mode": mode,
        "metrics": to_jsonable(metrics),
        "bound_check": None if bound_check is None else to_jsonable(bound_check),
        "stopped": stopped,
        "trained_by": _trained_by(start),
    }


def _single(task, run) -> dict[str, Any]:
    from vaetheory.empirical.training import CHECKPOINT, CONFIG, open_training_dir, train
    from vaetheory.sweeps.spec import settings_to_config

    start = time.perf_counter()
    path = Path(task["root"]) / run["name"]
    try:
        config = settings_to_config(run["settings"])
        resume = (path / CHECKPOINT).exists() and (path / CONFIG).exists()
        with open_training_dir(path, resume=resume, overwrite=not resume) as run_dir:
            result = train(config, out_dir=run_dir, progress=False, device=task.get("device", "cpu"))
            last = result.history[-1] if result.history else {}
            metrics = {
                "final_loss": last.get("loss"),
                "elbo": last.get("elbo"),
                "max_point_loglik": last.get("max_point_loglik"),
                "min_variance": last.get("min_variance"),
                "steps_done": result.steps_done,
                "last_good_step": result.last_good_step,
                "bound": result.bound,
            }
            record = _record(run, "single", metrics, result.bound_check, result.stopped_reason, start)
            run_dir.write_json(RUN_RECORD, record)
        return {"name": run["name"], "record": record}
    except ValueError as exc:
        return {"name": run["name"], "error": str(exc)}


def _final_bound_check(model, x, beta, seed, bound, step, data_dim):
    import torch

    from vaetheory.empirical.training import BoundCheck

    model.eval()
    with torch.no_grad():
        elbo = model.elbo(x, beta=beta, generator=torch.Generator().manual_seed(seed))
    if not bool(torch.isfinite(elbo).all()):
        check = BoundCheck.of(bound, None, step, None, data_dim)
    else:
        point = int(torch.argmax(elbo))
        check = BoundCheck.of(bound, float(elbo[point]), step, point, data_dim)
    return dataclasses.replace(check, statistic=FINAL_STATISTIC)


def _stacked(task) -> list[dict[str, Any]]:
    from vaetheory.empirical.training import load_training_data
    from vaetheory.sweeps.spec import settings_to_config

    start = time.perf_counter()
    runs = task["runs"]
    try:
        configs = [settings_to_config(r["settings"]) for r in runs]
        arr = load_training_data(configs[0])
        model_configs = [c.model_config(arr.shape[1]) for c in configs]
    except ValueError as exc:
        return [{"name": r["name"], "error": str(exc)} for r in runs]
    c0 = configs[0]
    try:
        return _stacked_group(task, runs, configs, arr, model_configs, c0, start)
    except ValueError as exc:
        return [{"name": r["name"], "error": str(exc)} for r in runs]


def _stacked_group(task, runs, configs, arr, model_configs, c0, start) -> list[dict[str, Any]]:
    import contextlib

    import numpy as np
    import torch

    from vaetheory.empirical.model import gaussian_bound_per_point
    from vaetheory.empirical.sweep import SweepRun, train_sweep
    from vaetheory.empirical.training import CHECKPOINT, CONFIG, RUN_FILES, SUMMARY, flush_denormals
    from vaetheory.provenance import provenance
    from vaetheory.results import to_jsonable
    from vaetheory.rundir import RunDirectory

    with contextlib.ExitStack() as stack:
        dirs = []
        for r in runs:
            d = RunDirectory(
                Path(task["root"]) / r["name"],
                markers=(*RUN_FILES, LOSSES),
                overwrite=True,
                what="sweep run",
                remove_on_overwrite=(*RUN_FILES, LOSSES),
            )
            dirs.append(stack.enter_context(d))
        # the group's checkpoint lives in its first run's directory; one of another grouping is stale
        stack_file = dirs[0].path / stack_checkpoint_name(runs)
        for stale in dirs[0].path.glob(STACK_CHECKPOINT_GLOB):
            if stale != stack_file:
                stale.unlink()
        result = train_sweep(
            [SweepRun(mc, seed=c.seed, beta=c.beta) for mc, c in zip(model_configs, configs)],
            arr,
            steps=c0.steps,
            batch_size=c0.batch_size,
            lr=c0.lr,
            device=task.get("device", "cpu"),
            checkpoint=stack_file,
            checkpoint_every=c0.checkpoint_every,
        )
        # the bound check at the final weights runs on the CPU (result.models() are CPU modules)
        x = torch.as_tensor(arr, dtype=torch.float32)
        outcomes = []
        with flush_denormals():
            models = result.models()
            for k, (r, config, mc, d) in enumerate(zip(runs, configs, model_configs, dirs)):
                losses = result.neg_elbo[:, k]
                bad = np.flatnonzero(~np.isfinite(losses))
                stopped = None
                if bad.size:
                    stopped = (
                        f"non-finite loss from step {int(bad[0]) + 1} (a stacked run is not stopped; its "
                        "weights after that step are not meaningful)"
                    )
                bound = gaussian_bound_per_point(mc)
                check = _final_bound_check(
                    models[k], x, config.beta, config.seed, bound, c0.steps, arr.shape[1]
                )
                metrics = {
                    "final_loss": float(losses[-1]),
                    "elbo": None,
                    "max_point_loglik": None,
                    "min_variance": None,
                    "steps_done": c0.steps,
                    "last_good_step": c0.steps if stopped is None else int(bad[0]),
                    "bound": bound,
                }
                train_record = to_jsonable(dataclasses.asdict(config))
                d.write_json(CONFIG, {"train": train_record, "model": to_jsonable(dataclasses.asdict(mc))})
                d.write_json(
                    LOSSES,
                    {
                        "neg_elbo": [float(v) for v in losses],
                        "statistic": "minibatch loss "
                        "(negative mean beta-ELBO, nats per point) of each step, before its update",
                    },
                )
                d.write_checkpoint(
                    CHECKPOINT, {"model": result.state_dicts[k], "step": c0.steps, "mode": "stacked"}
                )
                d.write_json(
                    SUMMARY,
                    {
                        "config": train_record,
                        "mode": "stacked",
                        "group": [g["name"] for g in runs],
                        "stopped_reason": stopped,
                        "steps_done": c0.steps,
                        "bound": bound,
                        "bound_check": to_jsonable(check),
                        "final_loss": metrics["final_loss"],
                        "provenance": provenance(seed=config.seed, parameters=train_record),
                    },
                )
                record = _record(r, "stacked", metrics, check, stopped, start)
                d.write_json(RUN_RECORD, record)
                outcomes.append({"name": r["name"], "record": record})
        stack_file.unlink(missing_ok=True)  # every run of the group is finished: nothing to resume
    return outcomes


def _experiment(task, run) -> dict[str, Any]:
    """One point of an experiment SPEC: ``run_experiment`` in the run's directory (its own lock and
    resume: finished groups of its runs are skipped), then the run record with its per-run records."""
    from vaetheory.results import to_jsonable
    from vaetheory.rundir import RunDirectory
    from vaetheory.studies.experiments import run_experiment
    from vaetheory.sweeps.spec import RunSpec, experiment_settings

    start = time.perf_counter()
    path = Path(task["root"]) / run["name"]
    try:
        spec = RunSpec(run["name"], run["settings"], {}, experiment=task["experiment"])
        settings, quick, seed, data = experiment_settings(spec)
        result = run_experiment(
            task["experiment"],
            path,
            settings=settings,
            quick=quick,
            seed=seed,
            resume=(path / "experiment.json").exists(),
            progress=False,
            data=data,
            device=task.get("device", "cpu"),
        )
        records = to_jsonable(result["details"])
        verdicts = to_jsonable(result["verdicts"])
        stopped = [{"run": r.get("name"), **r["stopped"]} for r in records if r.get("stopped")]
        metrics = {
            "runs": len(records),
            "statements_checked": sum(v.get("holds") is not None for v in verdicts),
            "statements_disagreeing": sum(v.get("holds") is False for v in verdicts),
            "runs_stopped": len(stopped),
        }
        record = _record(run, "experiment", metrics, None, stopped or None, start)
        record.update(
            {
                "experiment": task["experiment"],
                "records": records,
                "verdicts": verdicts,
                "results": to_jsonable(
                    {k: v for k, v in result.items() if k not in ("details", "verdicts", "out_dir")}
                ),
            }
        )
        with RunDirectory(path, what="sweep run") as run_dir:
            run_dir.write_json(RUN_RECORD, record)
        return {"name": run["name"], "record": record}
    except ValueError as exc:
        return {"name": run["name"], "error": str(exc)}


__all__ = [
    "FINAL_STATISTIC",
    "LOSSES",
    "MODES",
    "RUN_RECORD",
    "STACK_CHECKPOINT_GLOB",
    "device_support",
    "execute_group",
    "stack_checkpoint_name",
]
