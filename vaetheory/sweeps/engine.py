"""Running a sweep: plan the groups, skip finished runs, hand groups to an engine, collect one table.

``DIR`` (the sweep's directory) is a locked :class:`~vaetheory.rundir.RunDirectory` for as long as
the driver runs; it holds ``sweep.json`` (the SPEC, the engine's options, provenance),
``runs/NAME/`` (one directory per run, :mod:`vaetheory.sweeps.execute`), ``results.jsonl`` and
``results.csv``. The results table is rebuilt from the runs' ``sweep_run.json`` files, atomically,
after every group and at the end, so it always holds each finished run exactly once, in grid order.

Resume: rerunning the same command skips every run whose ``sweep_run.json`` exists (its settings
must equal the SPEC's, or the run is refused with the keys that differ) and trains the rest; a run
directory left by a killed process is resumed from its checkpoint in ``single`` mode, from its
group's stack checkpoint in ``stacked`` mode and from its finished groups of runs in ``experiment``
mode (:mod:`~vaetheory.sweeps.execute`).

Engines: ``local`` (in this process with ``max_concurrent=1``, else a pool of ``max_concurrent``
worker processes, each training one group at a time) and ``ray`` (:mod:`vaetheory.sweeps.ray_engine`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from vaetheory.sweeps.execute import MODES, RUN_RECORD
from vaetheory.sweeps.spec import RunSpec, SweepSpec, _jsonable

ENGINES = ("local", "ray")
DEVICES = ("cpu", "cuda")
SWEEP_FILE = "sweep.json"
RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
RUNS = "runs"
#: the keys of a line of results.jsonl (a contract)
RESULT_KEYS = ("name", "settings", "mode", "metrics", "bound_check", "stopped", "run_dir")
#: the keys a line of an experiment SPEC's results.jsonl adds (from which its figure is drawn)
EXPERIMENT_RESULT_KEYS = ("experiment", "records", "verdicts", "results")
DEFAULT_GROUP_SIZE = 16


@dataclasses.dataclass(frozen=True)
class SweepOutcome:
    """What a sweep invocation did: runs finished before, trained now, failed (name -> error)."""

    out_dir: str
    total: int
    done_before: int
    trained: int
    errors: dict[str, str]
    rows: tuple[dict[str, Any], ...]

    @property
    def complete(self) -> bool:
        return not self.errors and len(self.rows) == self.total


def plan_groups(runs: Iterable[RunSpec], group_size: int) -> list[list[RunSpec]]:
    """Runs grouped by architecture (first appearance order), each group cut to ``group_size`` runs."""
    by_key: dict[str, list[RunSpec]] = {}
    for run in runs:
        by_key.setdefault(run.group_key(), []).append(run)
    return [g[i : i + group_size] for g in by_key.values() for i in range(0, len(g), group_size)]


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def run_states(spec: SweepSpec, out: Path) -> dict[str, str]:
    """``name -> "done" | "partial" | "new"``; a run directory holding other settings is a ``ValueError``."""
    from vaetheory.rundir import read_json

    states = {}
    for run in spec.runs:
        path = out / RUNS / run.name
        settings = _jsonable(run.settings)
        if (path / RUN_RECORD).exists():
            record = read_json(path / RUN_RECORD, what="run record")
            theirs = record.get("settings") if isinstance(record, dict) else None
            if not isinstance(theirs, dict) or not _same(theirs, settings):
                differ = sorted(
                    k
                    for k in set(settings) | set(theirs or {})
                    if not _same((theirs or {}).get(k), settings.get(k))
                )
                raise ValueError(
                    f"run directory {str(path)!r} holds a finished run with other settings (differing in "
                    f"{', '.join(differ) or 'its record'}); the SPEC changed: choose another --out"
                )
            states[run.name] = "done"
        elif run.experiment is not None and (path / "experiment.json").exists():
            from vaetheory.sweeps.spec import experiment_settings

            record = read_json(path / "experiment.json", what="experiment record")
            settings_obj, _, seed, data = experiment_settings(run)
            mine = {"settings": _jsonable(settings_obj.to_dict()), "seed": seed, "data": data}
            theirs = {k: record.get(k) for k in mine} if isinstance(record, dict) else {}
            if not _same(theirs, mine):
                differ = [k for k in mine if not _same(theirs.get(k), mine[k])]
                raise ValueError(
                    f"run directory {str(path)!r} holds an unfinished {run.experiment} run with other "
                    f"options ({', '.join(differ)} differ); the SPEC changed: choose another --out"
                )
            states[run.name] = "partial"
        elif run.experiment is None and (path / "config.json").exists():
            record = read_json(path / "config.json", what="config")
            mine = dataclasses.asdict(run.train_config())
            theirs = record.get("train") if isinstance(record, dict) else None
            if not isinstance(theirs, dict) or not _same(theirs, _jsonable(mine)):
                raise ValueError(
                    f"run directory {str(path)!r} holds an unfinished run with other settings; the SPEC "
                    "changed: choose another --out"
                )
            states[run.name] = "partial"
        else:
            states[run.name] = "new"
    return states


def result_row(record: dict[str, Any]) -> dict[str, Any]:
    """A line of results.jsonl from a run's ``sweep_run.json`` (an experiment run's adds
    :data:`EXPERIMENT_RESULT_KEYS`)."""
    row = {
        "name": record["name"],
        "settings": record["settings"],
        "mode": record["mode"],
        "metrics": record["metrics"],
        "bound_check": record["bound_check"],
        "stopped": record["stopped"],
        "run_dir": f"{RUNS}/{record['name']}",
    }
    if record["mode"] == "experiment":
        row.update({k: record[k] for k in EXPERIMENT_RESULT_KEYS})
    return row


def collect_rows(spec: SweepSpec, out: Path) -> list[dict[str, Any]]:
    """The results rows of every finished run, in grid order."""
    from vaetheory.rundir import read_json

    rows = []
    for run in spec.runs:
        path = out / RUNS / run.name / RUN_RECORD
        if path.exists():
            rows.append(result_row(read_json(path, what="run record")))
    return rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def experiment_rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """results.csv of an experiment SPEC: one row per run of each point's experiment (``run``),
    with the point's settings (``setting_*``), the run record's numbers and text (``run_*``), the
    numbers of its last evaluated step (``final_*``: the record's ``final`` or the last point of its
    ``curve``), the step it stopped at (empty: it did not) and the point's directory."""
    flat: list[dict[str, Any]] = []
    for row in rows:
        for rec in row["records"]:
            final = rec.get("final") or (rec.get("curve") or [None])[-1] or {}
            line = {"name": row["name"], **{f"setting_{k}": v for k, v in row["settings"].items()}}
            line["run"] = rec.get("name")
            line.update({f"run_{k}": v for k, v in rec.items() if k != "name" and _scalar(v)})
            line.update({f"final_{k}": v for k, v in final.items() if _scalar(v)})
            line["stopped_step"] = (rec.get("stopped") or {}).get("step")
            line["run_dir"] = row["run_dir"]
            flat.append(line)
    header: list[str] = []
    for line in flat:
        header += [k for k in line if k not in header]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for line in flat:
        writer.writerow([_cell(line.get(k)) for k in header])
    return buffer.getvalue()


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """results.csv: one row per run; settings, metrics and the bound check flattened into columns
    (an experiment SPEC's: :func:`experiment_rows_to_csv`)."""
    if rows and all(r["mode"] == "experiment" for r in rows):
        return experiment_rows_to_csv(rows)
    setting_keys: list[str] = []
    metric_keys: list[str] = []
    for row in rows:
        setting_keys += [k for k in row["settings"] if k not in setting_keys]
        metric_keys += [k for k in row["metrics"] if k not in metric_keys]
    check_keys = ("held", "peak", "bound", "margin", "step", "point")
    header = ["name", *setting_keys, *metric_keys, *(f"bound_check_{k}" for k in check_keys)]
    header += ["stopped", "mode", "run_dir"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        check = row["bound_check"] or {}
        writer.writerow(
            [row["name"]]
            + [_cell(row["settings"].get(k)) for k in setting_keys]
            + [_cell(row["metrics"].get(k)) for k in metric_keys]
            + [_cell(check.get(k)) for k in check_keys]
            + [_cell(row["stopped"]), row["mode"], row["run_dir"]]
        )
    return buffer.getvalue()


def write_results(spec: SweepSpec, out: Path) -> list[dict[str, Any]]:
    """Rebuild results.jsonl and results.csv from the finished runs (atomically); return the rows."""
    from vaetheory.rundir import atomic_write

    rows = collect_rows(spec, out)
    atomic_write(out / RESULTS_JSONL, "".join(json.dumps(r) + "\n" for r in rows))
    atomic_write(out / RESULTS_CSV, rows_to_csv(rows))
    return rows


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


class Progress:
    """Runs done, running and left, with the time left estimated from this invocation's rate (stderr)."""

    def __init__(self, total: int, done: int, *, stream: TextIO | None = None, enabled: bool = True):
        self.total, self.done, self.running = total, done, 0
        self.done_here = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.start = time.monotonic()

    def started(self, n: int) -> None:
        self.running += n
        self.show()

    def finished(self, n: int) -> None:
        self.running -= n
        self.done += n
        self.done_here += n
        self.show()

    def eta(self) -> float | None:
        left = self.total - self.done
        if self.done_here == 0:
            return None
        return (time.monotonic() - self.start) / self.done_here * left

    def show(self) -> None:
        if not self.enabled:
            return
        left = self.total - self.done - self.running
        eta = self.eta()
        when = "unknown until a run finishes" if eta is None else _duration(eta)
        self.stream.write(
            f"sweep: {self.done}/{self.total} done, {self.running} running, {left} left; "
            f"elapsed {_duration(time.monotonic() - self.start)}, time left {when}\n"
        )
        self.stream.flush()


def _task(group: list[RunSpec], root: Path, mode: str, device: str, threads: int, files: bool) -> dict:
    return {
        "experiment": group[0].experiment,
        "runs": [{"name": r.name, "settings": _jsonable(r.settings)} for r in group],
        "root": str(root),
        "mode": mode,
        "device": device,
        "threads": threads,
        "return_files": files,
    }


def local_engine(tasks: list[dict], max_concurrent: int, on_start: Callable, on_done: Callable) -> None:
    """Run the tasks in this process (``max_concurrent == 1``) or in a pool of worker processes."""
    from vaetheory.sweeps.execute import execute_group

    if max_concurrent == 1:
        for task in tasks:
            on_start(task)
            on_done(task, execute_group(task))
        return
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=max_concurrent, mp_context=context) as pool:
        pending = {}
        queue = list(tasks)
        while queue or pending:
            while queue and len(pending) < max_concurrent:
                task = queue.pop(0)
                on_start(task)
                pending[pool.submit(execute_group, task)] = task
            finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                try:
                    outcomes = future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    raise ValueError(
                        "a worker process died (killed?); every finished run is kept: rerun the same "
                        "command to continue the sweep"
                    ) from None
                on_done(task, outcomes)


def check_options(
    engine: str, device: str, max_concurrent: int | None, group_size: int, threads: int
) -> None:
    from vaetheory._validation import check_int

    if engine not in ENGINES:
        raise ValueError(f"--engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if device not in DEVICES:
        raise ValueError(f"--device must be one of {', '.join(DEVICES)}; got {device!r}")
    if max_concurrent is not None:
        check_int("--max-concurrent", max_concurrent, low=1, high=4096)
    check_int("--group-size", group_size, low=1, high=4096)
    check_int("--threads", threads, low=1, high=4096)


def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path,
    *,
    engine: str = "local",
    address: str | None = None,
    device: str = "cpu",
    max_concurrent: int | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
    threads: int = 1,
    progress: bool = True,
    stream: TextIO | None = None,
    command: str | None = None,
) -> SweepOutcome:
    """Run (or continue) ``spec`` in ``out_dir`` (module docstring). ``max_concurrent``: groups at once
    (default: 1 for ``local``; for ``ray``, as many as the cluster's resources allow).

    ``group_size`` >= 2 trains groups stacked, 1 runs each run alone with per-run checkpoints
    (:mod:`vaetheory.sweeps.execute`); ``threads`` is the torch threads (and Ray CPUs) per group.
    """
    from vaetheory.provenance import provenance
    from vaetheory.rundir import RunDirectory
    from vaetheory.sweeps.execute import device_support

    check_options(engine, device, max_concurrent, group_size, threads)
    if address is not None and engine != "ray":
        raise ValueError("--address applies to --engine ray only")
    mode = "experiment" if spec.experiment is not None else (MODES[1] if group_size == 1 else MODES[0])
    if engine == "local":
        device_support(device)
    out = Path(out_dir)
    with RunDirectory(out, markers=(SWEEP_FILE,), resume=True, what="sweep", command=command) as sweep_dir:
        states = run_states(spec, out)
        todo = [r for r in spec.runs if states[r.name] != "done"]
        done_before = len(spec.runs) - len(todo)
        sweep_dir.write_json(
            SWEEP_FILE,
            {
                **spec.to_dict(),
                "engine": {
                    "engine": engine,
                    "address": address,
                    "device": device,
                    "max_concurrent": max_concurrent,
                    "group_size": group_size,
                    "mode": mode,
                    "threads": threads,
                },
                "provenance": provenance(parameters={"spec": spec.source}, command=command),
            },
        )
        (out / RUNS).mkdir(exist_ok=True)
        groups = plan_groups(todo, group_size)
        bar = Progress(len(spec.runs), done_before, stream=stream, enabled=progress)
        errors: dict[str, str] = {}
        trained = 0

        def on_start(task):
            bar.started(len(task["runs"]))

        def on_done(task, outcomes):
            nonlocal trained
            for outcome in outcomes:
                if "error" in outcome:
                    errors[outcome["name"]] = outcome["error"]
                else:
                    trained += 1
            bar.finished(len(task["runs"]))
            write_results(spec, out)

        try:
            if engine == "local":
                tasks = [_task(g, out / RUNS, mode, device, threads, False) for g in groups]
                local_engine(tasks, max_concurrent or 1, on_start, on_done)
            else:
                from vaetheory.sweeps.ray_engine import ray_engine

                tasks = [_task(g, Path("."), mode, device, threads, True) for g in groups]
                ray_engine(tasks, out / RUNS, address, max_concurrent, on_start, on_done)
        finally:
            rows = write_results(spec, out)
    return SweepOutcome(
        out_dir=str(out),
        total=len(spec.runs),
        done_before=done_before,
        trained=trained,
        errors=errors,
        rows=tuple(rows),
    )


__all__ = [
    "DEFAULT_GROUP_SIZE",
    "DEVICES",
    "ENGINES",
    "EXPERIMENT_RESULT_KEYS",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "RESULT_KEYS",
    "SWEEP_FILE",
    "Progress",
    "SweepOutcome",
    "collect_rows",
    "experiment_rows_to_csv",
    "plan_groups",
    "result_row",
    "rows_to_csv",
    "run_states",
    "run_sweep",
    "write_results",
]
