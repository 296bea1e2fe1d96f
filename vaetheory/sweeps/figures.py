"""An experiment sweep's figures, drawn from its results table (``DIR/results.jsonl``) alone.

A line of an experiment SPEC's ``results.jsonl`` holds what the experiment's figure is drawn from:
``records`` (its per-run records, the ``details`` of ``run_experiment``), ``verdicts`` and
``results`` (its ``results.json`` value, with the provenance). :func:`figure_inputs` turns the table
into the ``result`` values :func:`vaetheory.figures.experiments.draw_experiment` takes:

* one per point, labelled with the point's name: the figure ``vaetheory experiment`` draws for
  that run (the same records, so the same figure);
* one per set of points that differ only in ``seed`` (two seeds or more), labelled
  ``mean-over-seeds`` (plus the other axes' values), when the points' records line up (the same
  runs, in the same order, with curves at the same steps, no run stopped): each float is the
  arithmetic mean over the seeds of that float in the per-seed records, an integer or a text is
  kept where every seed has the same one and is null otherwise, and the verdicts are the
  per-seed verdicts, each prefixed with its seed. Points that do not line up get no aggregate, and
  :func:`figure_inputs` says why (``skipped``). The drawing is the experiment's own plot, so the
  aggregate is a mean curve, without a spread.

This module computes only; :func:`draw_sweep_figures` imports the figure code when called.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

#: the label of an aggregate over seeds (then the other axes' values, if any)
MEAN_LABEL = "mean-over-seeds"
#: what an aggregate's numbers are (recorded in its provenance)
MEAN_STATISTIC = (
    "arithmetic mean over the seeds of every float of the per-seed run records (curves point by point); "
    "integers and text kept where every seed has the same value, else null"
)


def read_table(out_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of ``DIR/results.jsonl`` (a ``ValueError`` naming the file if missing or damaged)."""
    from vaetheory.rundir import read_jsonl
    from vaetheory.sweeps.engine import RESULTS_JSONL

    path = Path(out_dir) / RESULTS_JSONL
    rows, torn = read_jsonl(path, what="results table")
    if torn:
        raise ValueError(f"results table {str(path)!r} is damaged: its last line is cut short")
    return rows


def point_result(row: dict[str, Any]) -> dict[str, Any]:
    """The ``result`` of one experiment point for ``draw_experiment`` (from its table row)."""
    if row.get("mode") != "experiment":
        raise ValueError(f"row {row.get('name')!r} of the results table is not an experiment run")
    return {**row["results"], "details": row["records"], "verdicts": row["verdicts"]}


def _mean(values: list[Any]) -> Any:
    first = json.dumps(values[0], sort_keys=True)
    if all(json.dumps(v, sort_keys=True) == first for v in values):
        return values[0]  # the same in every seed (a floor, a bound, a name): kept exactly
    if all(isinstance(v, dict) for v in values):
        keys = list(values[0])
        if any(list(v) != keys for v in values):
            raise _Misaligned("records with other keys")
        return {k: _mean([v[k] for v in values]) for k in keys}
    if all(isinstance(v, list) for v in values):
        if len({len(v) for v in values}) != 1:
            raise _Misaligned("lists of other lengths (curves at other steps?)")
        return [_mean(list(items)) for items in zip(*values)]
    if all(isinstance(v, float) and math.isfinite(v) for v in values):
        return math.fsum(values) / len(values)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) and any(
        isinstance(v, float) for v in values
    ):
        return math.fsum(float(v) for v in values) / len(values)
    return None  # integers, text or nulls that differ between the seeds


class _Misaligned(ValueError):
    pass


def _aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = [[r.get("name") for r in row["records"]] for row in rows]
    if any(n != names[0] for n in names):
        raise _Misaligned("the seeds' experiments have other runs")
    stopped = [f"{row['name']}/{r.get('name')}" for row in rows for r in row["records"] if r.get("stopped")]
    if stopped:
        raise _Misaligned(f"runs stopped (numerical breakdown): {', '.join(stopped)}")
    for row in rows:
        for i, rec in enumerate(row["records"]):
            steps = [p.get("step") for p in rec.get("curve") or []]
            first = [p.get("step") for p in rows[0]["records"][i].get("curve") or []]
            if steps != first:
                raise _Misaligned(f"run {rec.get('name')} was evaluated at other steps")
    records = [_mean([row["records"][i] for row in rows]) for i in range(len(names[0]))]
    verdicts = [
        {**v, "claim": f"seed {row['settings']['seed']}: {v['claim']}"}
        for row in rows
        for v in row["verdicts"]
    ]
    return {"records": records, "verdicts": verdicts}


def figure_inputs(rows: list[dict[str, Any]]) -> tuple[list[tuple[str, str, dict]], list[str]]:
    """``(figures, skipped)``: ``(label, experiment, result)`` for every point and every aggregate over
    seeds (module docstring), and a sentence for each set of seeds that got no aggregate."""
    from vaetheory.provenance import provenance

    rows = [r for r in rows if r.get("mode") == "experiment"]
    figures = [(r["name"], r["experiment"], point_result(r)) for r in rows]
    by_rest: dict[str, list[dict]] = {}
    for r in rows:
        rest = {k: v for k, v in r["settings"].items() if k != "seed"}
        by_rest.setdefault(json.dumps([r["experiment"], rest], sort_keys=True), []).append(r)
    skipped = []
    for group in by_rest.values():
        if len(group) < 2:
            continue
        seeds = [r["settings"]["seed"] for r in group]
        # the other axes' values, from the first point's name (its parts that are not the seed)
        parts = [p for p in group[0]["name"].split("_") if not p.startswith("seed-")]
        label = "_".join([MEAN_LABEL, *parts])
        try:
            agg = _aggregate(group)
        except _Misaligned as exc:
            skipped.append(f"{label} (seeds {seeds}): no aggregate: {exc}")
            continue
        first = group[0]["results"]
        result = {
            **{k: v for k, v in first.items() if k not in ("runs", "provenance")},
            "runs": agg["records"],
            "details": agg["records"],
            "verdicts": agg["verdicts"],
            "aggregate": {"statistic": MEAN_STATISTIC, "seeds": seeds, "points": [r["name"] for r in group]},
            "provenance": provenance(
                seed=seeds[0],
                parameters={
                    "aggregate": MEAN_STATISTIC,
                    "seeds": seeds,
                    "points": [r["name"] for r in group],
                    "experiment": group[0]["experiment"],
                    "settings": {k: v for k, v in group[0]["settings"].items() if k != "seed"},
                    "provenance_of_points": [r["results"].get("provenance") for r in group],
                },
            ),
        }
        figures.append((label, group[0]["experiment"], result))
    return figures, skipped


def draw_sweep_figures(out_dir: str | Path) -> tuple[list[Path], list[str]]:
    """Draw every figure of :func:`figure_inputs` from ``DIR/results.jsonl`` into
    ``DIR/figures/LABEL/`` (PDF + PNG + JSON sidecar each); returns the files and the skipped sets."""
    from vaetheory.figures.experiments import draw_experiment

    out = Path(out_dir)
    rows = read_table(out)
    if not rows:
        raise ValueError(f"results table {str(out / 'results.jsonl')!r} has no finished run to draw")
    if any(r.get("mode") != "experiment" for r in rows):
        raise ValueError(
            "--figures: the sweep's runs are training runs; figures are drawn for a SPEC with experiment:"
        )
    figures, skipped = figure_inputs(rows)
    written: list[Path] = []
    for label, experiment, result in figures:
        target = out / "figures" / label
        target.mkdir(parents=True, exist_ok=True)
        paths = draw_experiment(experiment, result, target)
        if "aggregate" in result:
            _caption_aggregate(paths, result["aggregate"])
        written += paths
    return written, skipped


def _caption_aggregate(paths: list[Path], aggregate: dict[str, Any]) -> None:
    """Say in the sidecar's caption that the figure is a mean over seeds, and of what."""
    from vaetheory.rundir import atomic_write_json, read_json

    for path in paths:
        if path.suffix == ".json":
            sidecar = read_json(path, what="figure sidecar")
            said = (
                f"Mean over seeds {', '.join(map(str, aggregate['seeds']))} (points "
                f"{', '.join(aggregate['points'])}): {aggregate['statistic']}; no spread is drawn."
            )
            sidecar["caption"] = said + (f" {sidecar['caption']}" if sidecar.get("caption") else "")
            atomic_write_json(path, sidecar)


__all__ = [
    "MEAN_LABEL",
    "MEAN_STATISTIC",
    "draw_sweep_figures",
    "figure_inputs",
    "point_result",
    "read_table",
]
