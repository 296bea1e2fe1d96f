"""The walk-through notebooks: one per area, stored without outputs, in step with their jupytext
percent-format twins, and each executed top to bottom (quick settings) by the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
#: one walk-through per area
EXPECTED = [
    "01_one_point_algebra_and_the_thread",
    "02_ppca_and_the_linear_vae",
    "03_blowup_and_the_floor",
    "04_thesis_reproduction",
]


def _read(name: str):
    import nbformat

    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_one_notebook_per_area():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_stored_without_outputs(name):
    for cell in _read(name).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_matches_its_percent_script(name):
    import jupytext

    script = jupytext.read(NOTEBOOKS / f"{name}.py", fmt="py:percent")
    notebook = _read(name)
    pairs = [(c.cell_type, c.source.strip()) for c in script.cells]
    assert pairs == [(c.cell_type, c.source.strip()) for c in notebook.cells], (
        f"{name}.ipynb and {name}.py differ: run `jupytext --sync notebooks/{name}.py`"
    )


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_top_to_bottom(name, tmp_path):
    from nbclient import NotebookClient

    notebook = _read(name)
    client = NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
