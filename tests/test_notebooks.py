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


def _execute(name: str, cwd: Path) -> str | None:
    """Run notebook ``name`` top to bottom in a fresh kernel with ``cwd`` as its working directory.

    Returns ``None`` when every cell ran, else the error (the failing cell and its traceback).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    cwd.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        _read(name), timeout=240, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, str | None]:
    """Every notebook executed once, two at a time (one kernel per core on a two-core CI machine)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("notebooks")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_execute, name, root / name) for name in EXPECTED}
    return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_top_to_bottom(name, executed):
    assert executed[name] is None, executed[name]
