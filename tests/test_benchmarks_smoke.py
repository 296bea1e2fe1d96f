"""The benchmarks execute: ``python -m benchmarks --smoke`` runs every one at a tiny size.

Benchmarks are not tests and no timing is checked here; this checks that each benchmark runs to
the end, writes a well-formed results file and Markdown table, and leaves the committed
``benchmarks/results.json`` alone.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import BENCHMARKS
from benchmarks.report import SECTION_TITLE, render_markdown, update_readme

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "benchmarks" / "results.json"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-smoke")
    before = COMMITTED.read_bytes() if COMMITTED.exists() else None
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    after = COMMITTED.read_bytes() if COMMITTED.exists() else None
    return proc, out, before, after


def test_every_benchmark_runs_in_smoke_mode(smoke_run):
    proc, out, _, _ = smoke_run
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == "smoke"
    assert results["errors"] == []
    assert {row["benchmark"] for row in results["rows"]} == set(BENCHMARKS)


def test_every_row_is_a_finite_ratio_of_two_medians(smoke_run):
    _, out, _, _ = smoke_run
    for row in json.loads((out / "results.json").read_text())["rows"]:
        for side in ("ours", "baseline"):
            assert math.isfinite(row[side]["median"]) and row[side]["median"] >= 0, row["name"]
        assert math.isfinite(row["ratio"]) and row["ratio"] >= 0 and row["ratio_meaning"], row["name"]
        assert len(row["ours"]["samples"]) >= 1 and len(row["baseline"]["samples"]) >= 1


def test_smoke_mode_leaves_the_committed_results_alone(smoke_run):
    _, _, before, after = smoke_run
    assert before == after


def test_results_record_the_machine_and_render_as_a_table(smoke_run, tmp_path):
    _, out, _, _ = smoke_run
    results = json.loads((out / "results.json").read_text())
    machine = results["machine"]
    for key in ("cpu_model", "usable_cores", "torch", "numpy", "torch_threads", "load_average_start"):
        assert key in machine
    table = (out / "results.md").read_text()
    assert table.strip() == render_markdown(results).strip()
    assert table.count("\n| ") >= len(results["rows"])
    readme = tmp_path / "README.md"
    readme.write_text("# t\n\n## Performance\n\nSTALE-TABLE\n\n## Next\n\nkept\n")
    update_readme(readme, results)
    text = readme.read_text()
    assert text.count(SECTION_TITLE) == 1 and "STALE-TABLE" not in text and "## Next\n\nkept" in text
