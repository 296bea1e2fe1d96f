"""Experiment SPECs: each point one run of an experiment, one table, its figures drawn from the table.

The experiment is ``floors`` at settings smaller than its ``TINY`` (two methods, two floors, 60
steps): what is tested is the sweep around it, not the experiment's findings.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from vaetheory.cli import main
from vaetheory.sweeps import parse_spec
from vaetheory.sweeps.engine import EXPERIMENT_RESULT_KEYS, RESULT_KEYS
from vaetheory.sweeps.execute import RUN_RECORD

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {
    "n_train": 8,
    "n_heldout": 20,
    "hidden": 16,
    "steps": 60,
    "n_evals": 2,
    "k": 8,
    "floors": [1.0e-2, 1.0e-4],
    "methods": ["clamp", "gaussian_nll"],
}
SPEC = {
    "name": "floors-seeds",
    "experiment": "floors",
    "base": {"quick": True, **SMALL},
    "grid": {"seed": [0, 1]},
}


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The sweep run once through the CLI (with --figures) for every assertion of this module."""
    import torch

    root = tmp_path_factory.mktemp("experiment-sweep")
    spec_path = root / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(SPEC))
    out = root / "out"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        status = main(["sweep", str(spec_path), "--out", str(out), "--figures", "--no-progress"])
    finally:
        torch.set_num_threads(threads)
    return {"root": root, "spec": spec_path, "out": out, "status": status, "rows": rows(out)}


def test_each_point_is_one_experiment_run_with_its_records_in_the_table(swept):
    assert swept["status"] == 0
    table = swept["rows"]
    assert [r["name"] for r in table] == ["seed-0", "seed-1"]
    for row in table:
        assert tuple(row) == RESULT_KEYS + EXPERIMENT_RESULT_KEYS
        assert row["mode"] == "experiment" and row["experiment"] == "floors"
        assert row["settings"]["quick"] is True and row["settings"]["steps"] == 60
        assert row["settings"]["floors"] == [0.01, 0.0001] and row["settings"]["hidden"] == [16]
        # the point's directory is the experiment's run directory, and the table holds its numbers
        run_dir = swept["out"] / row["run_dir"]
        written = json.loads((run_dir / "results.json").read_text())
        assert row["results"] == written
        for rec in row["records"]:
            assert json.loads((run_dir / "runs" / f"{rec['name']}.json").read_text()) == rec
        assert [r["name"] for r in row["records"]] == [
            "floor1e-2-clamp",
            "floor1e-4-clamp",
            "floor1e-2-gaussian_nll",
            "floor1e-4-gaussian_nll",
        ]
        assert row["metrics"]["runs"] == 4
        assert row["metrics"]["statements_checked"] == sum(v["holds"] is not None for v in row["verdicts"])
        assert row["stopped"] is None and row["bound_check"] is None
    # the seeds are different runs (another split, other weights)
    assert table[0]["records"][0]["final"] != table[1]["records"][0]["final"]
    # results.csv: one line per run of each point
    lines = (swept["out"] / "results.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 4
    header = lines[0].split(",")
    assert header[:3] == ["name", "setting_quick", "setting_seed"]
    assert {"run", "run_floor", "run_bound", "final_heldout_loglik", "stopped_step", "run_dir"} <= set(header)


def test_a_point_equals_the_experiment_run_alone_and_draws_the_same_figure(swept, tmp_path):
    import dataclasses

    from vaetheory.figures.experiments import draw_experiment
    from vaetheory.studies.experiments import floors, run_experiment

    settings = dataclasses.replace(
        floors.QUICK,
        **{k: tuple(v) if isinstance(v, list) else v for k, v in SMALL.items() if k != "hidden"},
        hidden=(16,),
    )
    alone = run_experiment("floors", tmp_path / "alone", settings=settings, seed=1, progress=False)
    row = swept["rows"][1]
    # the same code with the same settings and seed in one process: the same numbers, exactly
    assert row["records"] == json.loads(json.dumps(alone["details"]))
    assert row["verdicts"] == alone["verdicts"]
    draw_experiment("floors", alone, tmp_path / "fig")
    theirs = json.loads((swept["out"] / "figures" / "seed-1" / "floors.json").read_text())
    mine = json.loads((tmp_path / "fig" / "floors.json").read_text())
    assert theirs["data"] == mine["data"]
    assert theirs["caption"] == mine["caption"]
    for suffix in ("pdf", "png"):
        assert (swept["out"] / "figures" / "seed-1" / f"floors.{suffix}").stat().st_size > 0


def test_the_mean_over_seeds_is_drawn_from_the_table(swept):
    path = swept["out"] / "figures" / "mean-over-seeds" / "floors.json"
    sidecar = json.loads(path.read_text())
    assert sidecar["caption"].startswith("Mean over seeds 0, 1 (points seed-0, seed-1): arithmetic mean")
    a, b = (r["records"] for r in swept["rows"])
    mean = sidecar["data"]["runs"]
    for ra, rb, rm in zip(a, b, mean, strict=True):
        assert rm["name"] == ra["name"] and rm["bound"] == ra["bound"] == rb["bound"]
        # float64 mean of two floats: (x + y) / 2 rounded once (fsum is exact)
        x, y = ra["final"]["heldout_loglik"], rb["final"]["heldout_loglik"]
        assert rm["final"]["heldout_loglik"] == math.fsum([x, y]) / 2
        assert [p["step"] for p in rm["curve"]] == [p["step"] for p in ra["curve"]]
    assert sidecar["provenance"]["parameters"]["seeds"] == [0, 1]


def test_a_rerun_trains_nothing_and_a_half_finished_point_resumes_its_missing_group(swept, capsys):
    out = swept["out"]
    before = swept["rows"]
    capsys.readouterr()
    assert main(["sweep", str(swept["spec"]), "--out", str(out), "--no-progress"]) == 0
    assert "2 finished before, 0 trained now" in capsys.readouterr().out
    assert rows(out) == before

    # a point killed after its first group (clamp) finished: its record and the second group's files gone
    point = out / "runs" / "seed-1"
    (point / RUN_RECORD).unlink()
    for name in ("floor1e-2-gaussian_nll", "floor1e-4-gaussian_nll"):
        (point / "runs" / f"{name}.json").unlink()
    kept = point / "runs" / "floor1e-2-clamp.json"
    stamp = kept.stat().st_mtime_ns, kept.read_bytes()
    assert main(["sweep", str(swept["spec"]), "--out", str(out), "--no-progress"]) == 0
    assert "1 finished before, 1 trained now" in capsys.readouterr().out
    assert (kept.stat().st_mtime_ns, kept.read_bytes()) == stamp  # the finished group was not retrained
    assert rows(out) == before  # and the resumed point has the uninterrupted numbers


def test_a_changed_spec_is_refused_on_a_partial_point(swept, tmp_path):
    from vaetheory.sweeps import run_sweep

    out = tmp_path / "out"
    point = out / "runs" / "seed-0"
    point.mkdir(parents=True)
    record = json.loads((swept["out"] / "runs" / "seed-0" / "experiment.json").read_text())
    (point / "experiment.json").write_text(json.dumps({**record, "settings": {**record["settings"], "k": 9}}))
    spec = parse_spec({**SPEC, "grid": {"seed": [0]}})
    with pytest.raises(ValueError, match=r"unfinished floors run with other options \(settings differ\)"):
        run_sweep(spec, out, progress=False)


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (
            {"grid": {"nsteps": [10]}},
            ["grid: unknown option 'nsteps' of experiment floors", "accepted: quick, seed"],
        ),
        ({"grid": {"batch_size": [0]}}, ["grid.batch_size[0]: batch_size must be an integer > 0; got 0"]),
        ({"grid": {"lr": ["fast"]}}, ["grid.lr[0]: lr must be a finite number > 0; got 'fast'"]),
        ({"grid": {"batch_size": [10.5]}}, ["batch_size must be an integer > 0; got 10.5 (float)"]),
        (
            {"base": {"methods": ["clamp", "abs"]}, "grid": {"seed": [0]}},
            ["methods must be", "clamp, softclip, softplus, gaussian_nll"],
        ),
        ({"grid": {"seed": []}}, ["grid.seed: axis seed is empty"]),
        ({"base": {}, "grid": {"quick": ["yes"]}}, ["quick must be true or false; got 'yes'"]),
        ({"grid": {"latent": [[2, 3]]}}, ["latent must be an integer > 0; got [2, 3]"]),
        ({"base": {"steps": [1, 2]}, "grid": {"seed": [0]}}, ["base.steps is a list"]),
        ({"base": {"floors": [0.1, 0.1]}, "grid": {"seed": [0]}}, ["base.floors: floors repeats a value"]),
        ({"experiment": "no-such"}, ["experiment: unknown experiment 'no-such'; experiments are: "]),
        ({"experiment": 3}, ["unknown experiment 3"]),
    ],
)
def test_bad_experiment_specs_exit_2_naming_the_key_before_anything_runs(tmp_path, capsys, change, needles):
    spec = {**SPEC, **change}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaetheory sweep: error: ")
    for needle in needles:
        assert needle in err
    assert not out.exists()


def test_figures_need_an_experiment_spec(tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"base": {"steps": 5, "points": 50}, "grid": {"seed": [0]}}))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--figures"]) == 2
    assert "--figures applies to a SPEC with experiment: NAME" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_no_aggregate_when_the_seeds_do_not_line_up(swept):
    from vaetheory.sweeps.figures import figure_inputs

    a, b = (json.loads(json.dumps(r)) for r in swept["rows"])
    b["records"][1]["curve"] = b["records"][1]["curve"][:-1]
    figures, skipped = figure_inputs([a, b])
    assert [label for label, _, _ in figures] == ["seed-0", "seed-1"]
    assert skipped == [
        "mean-over-seeds (seeds [0, 1]): no aggregate: run floor1e-4-clamp was evaluated at other steps"
    ]
    b = json.loads(json.dumps(swept["rows"][1]))
    b["records"][2]["stopped"] = {"step": 7, "reason": "x", "min_variance": None, "point": 0}
    _, skipped = figure_inputs([a, b])
    assert "runs stopped (numerical breakdown): seed-1/floor1e-2-gaussian_nll" in skipped[0]


def test_dry_run_lists_the_points(tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "vaetheory sweep: 2 points, each one run of experiment floors",
        "  seed-0",
        "  seed-1",
    ]
    assert not (tmp_path / "out").exists()
