"""``vaetheory check``: exit codes, the --json shape, the examples, and a LaTeX report that compiles."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from vaetheory.cli import main


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_examples_names_every_shipped_example(capsys):
    code, out, _ = _run(capsys, "--list-examples")
    assert code == 0
    names = {line.split()[0] for line in out.splitlines()}
    assert names == {"thread_second_answer", "thread_corrected", "gaussian_kl", "ppca_sigma2"}


def test_failing_example_exits_1_with_json_steps_and_first_failure(capsys):
    code, out, _ = _run(capsys, "--example", "thread_second_answer", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["first_failure"] == 16
    assert [s["line"] for s in data["steps"]] == [16, 17, 18, 19]
    assert {s["verdict"] for s in data["steps"]} == {"fails"}
    first = data["steps"][0]
    assert {"line", "verdict", "reason", "counterexample", "corrected", "kind", "evidence"} <= set(first)
    assert data["provenance"]["seed"] == 0 and data["provenance"]["parameters"]["source"].startswith(
        "example:"
    )


def test_holding_file_exits_0_and_prints_verdicts(capsys, tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("# positive: x\nexp(log(x)) = x\n")
    code, out, _ = _run(capsys, str(path))
    assert code == 0
    assert "line 2: HOLDS (symbolic)" in out


def test_unusable_input_exits_2_with_line_and_column(capsys, tmp_path):
    path = tmp_path / "bad.tex"
    path.write_text("\\begin{align*}\na &= \\frac{1}{2\n\\end{align*}\n")
    code, out, err = _run(capsys, str(path), "--json")
    assert code == 2
    data = json.loads(out)
    assert data["error"]["line"] == 2 and data["error"]["column"] >= 1 and data["first_failure"] is None
    assert "line 2, column" in err


def test_missing_file_and_unknown_example_exit_2(capsys, tmp_path):
    assert _run(capsys, str(tmp_path / "nope.tex"))[0] == 2
    assert _run(capsys, "--example", "nope")[0] == 2


@pytest.mark.latex
def test_latex_report_compiles(capsys, tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not on PATH")
    report = tmp_path / "report.tex"
    code, _, _ = _run(capsys, "--example", "thread_second_answer", "--latex", str(report))
    assert code == 1
    out = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", report.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-2000:]
    assert (tmp_path / "report.pdf").stat().st_size > 0
