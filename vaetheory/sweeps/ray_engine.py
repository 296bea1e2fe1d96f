"""The ``ray`` engine: each group of a sweep is one Ray task; its runs' files come back to the driver.

``import ray`` happens only here, when the engine is used (the optional extra
``vaetheory[distributed]``). Without ``--address``, ``ray.init()`` starts a local cluster (or uses the
one this process already started); with it, the driver joins an existing cluster (``auto``,
``HOST:PORT`` or ``ray://HOST:10001``), whose workers need vaetheory installed.

A task requests ``threads`` CPUs (and one GPU with ``--device cuda``), trains its group with
:func:`vaetheory.sweeps.execute.execute_group` in a temporary directory of the worker (the worker
need not share the driver's disk), and returns every file of its runs; the driver writes them into
``DIR/runs/NAME/`` atomically, ``sweep_run.json`` last. A run left unfinished by an earlier
invocation travels to the worker with what it resumes from: in ``single`` mode its checkpoint, in
``stacked`` mode its group's stack checkpoint, in ``experiment`` mode its finished groups of runs. A task
whose worker dies is retried by Ray (``max_retries``) from the state it was sent with: what a lost
worker loses is its task's progress since the task started; a killed driver loses the tasks in
flight (the finished runs are on disk, and the same command continues).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: how often Ray retries a task whose worker died
MAX_RETRIES = 2
#: the files of an unfinished run sent to the worker to resume from
RESUME_FILES = ("config.json", "log.jsonl", "checkpoint.pt")


def _remote_group(task: dict[str, Any], inbound: dict[str, dict[str, bytes]]) -> list[dict[str, Any]]:
    """Run in a Ray worker: the group in a temporary directory, seeded with ``inbound`` files."""
    from vaetheory.sweeps.execute import execute_group

    with tempfile.TemporaryDirectory(prefix="vaetheory-sweep-") as tmp:
        root = Path(tmp)
        for name, files in inbound.items():
            (root / name).mkdir(parents=True)
            for filename, data in files.items():
                (root / name / filename).parent.mkdir(parents=True, exist_ok=True)
                (root / name / filename).write_bytes(data)
        return execute_group({**task, "root": str(root), "return_files": True})


def resume_files(task: dict[str, Any], root: Path) -> dict[str, dict[str, bytes]]:
    """The files of the task's unfinished runs in ``root`` that its worker resumes from (run name ->
    relative path -> bytes): a ``single`` run's :data:`RESUME_FILES`, a ``stacked`` group's stack
    checkpoint, an ``experiment`` run's files (its finished groups of runs)."""
    from vaetheory.sweeps.execute import _run_files, stack_checkpoint_name

    inbound: dict[str, dict[str, bytes]] = {}
    if task["mode"] == "single":
        for run in task["runs"]:
            present = {f: (root / run["name"] / f) for f in RESUME_FILES}
            if all(p.exists() for p in present.values()):
                inbound[run["name"]] = {f: p.read_bytes() for f, p in present.items()}
    elif task["mode"] == "stacked":
        first = task["runs"][0]["name"]
        name = stack_checkpoint_name(task["runs"])
        if (root / first / name).exists():
            inbound[first] = {name: (root / first / name).read_bytes()}
    else:
        for run in task["runs"]:
            if (root / run["name"] / "experiment.json").exists():
                inbound[run["name"]] = _run_files(root / run["name"])
    return inbound


def import_ray():
    try:
        import ray
    except ImportError:
        raise ValueError(
            "--engine ray needs Ray: pip install 'vaetheory[distributed]' (or pip install 'ray>=2.9')"
        ) from None
    return ray


def connect(address: str | None):
    """``ray`` after ``ray.init`` (a local cluster without ``address``; reused if already started)."""
    ray = import_ray()
    if not ray.is_initialized():
        try:
            if address is None:
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except ConnectionError as exc:
            raise ValueError(f"--address {address!r}: cannot join the Ray cluster: {exc}") from None
    return ray


def write_run(root: Path, outcome: dict[str, Any]) -> None:
    """Write a returned run's files into ``root/NAME`` (locked, atomic, the run record last)."""
    from vaetheory.rundir import RunDirectory
    from vaetheory.sweeps.execute import RUN_RECORD, STACK_CHECKPOINT_GLOB

    files = outcome["files"]
    with RunDirectory(root / outcome["name"], what="sweep run") as run_dir:
        for filename, data in files.items():
            if filename != RUN_RECORD:
                (run_dir.path / filename).parent.mkdir(parents=True, exist_ok=True)
                run_dir.write_bytes(filename, data)
        run_dir.write_bytes(RUN_RECORD, files[RUN_RECORD])
        for stale in run_dir.path.glob(STACK_CHECKPOINT_GLOB):  # the run is finished: nothing to resume
            stale.unlink()


def ray_engine(
    tasks: list[dict],
    root: Path,
    address: str | None,
    max_concurrent: int | None,
    on_start: Callable,
    on_done: Callable,
) -> None:
    """Submit the tasks to Ray (at most ``max_concurrent`` in flight when given) and write the results."""
    ray = connect(address)
    remote = ray.remote(_remote_group)
    pending: dict[Any, dict] = {}
    queue = list(tasks)
    limit = max_concurrent or len(tasks) or 1
    while queue or pending:
        while queue and len(pending) < limit:
            task = queue.pop(0)
            inbound = resume_files(task, root)
            options = {
                "num_cpus": task["threads"],
                "num_gpus": 1 if task["device"] == "cuda" else 0,
                "max_retries": MAX_RETRIES,
            }
            on_start(task)
            pending[remote.options(**options).remote(task, inbound)] = task
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            task = pending.pop(ref)
            try:
                outcomes = ray.get(ref)
            except ray.exceptions.RayError as exc:
                last = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                outcomes = [{"name": r["name"], "error": f"Ray task failed: {last}"} for r in task["runs"]]
            for outcome in outcomes:
                if "files" in outcome:
                    write_run(root, outcome)
                    del outcome["files"]
            on_done(task, outcomes)


__all__ = ["MAX_RETRIES", "connect", "import_ray", "ray_engine", "resume_files", "write_run"]
