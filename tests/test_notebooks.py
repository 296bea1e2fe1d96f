"""The walk-through notebooks: one per area, stored without outputs, in step with their jupytext
percent-format twins, each executed top to bottom (quick settings) by the test suite, and each drawing
the figures of its area inline (with the library's figure functions)."""

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
#: the figures each notebook draws inline: its area's figures (``vaetheory figures --only AREA``)
FIGURES_DRAWN = {
    "01_one_point_algebra_and_the_thread": {"symbolic_sigma_star", "symbolic_unboundedness"},
    "02_ppca_and_the_linear_vae": {
        "linear_spectrum_digits",
        "linear_variance_split_digits",
        "linear_unboundedness",
    },
    "03_blowup_and_the_floor": {"empirical_blowup", "empirical_training"},
    "04_thesis_reproduction": {"reconstructions_z2", "samples_z2", "latent_grid_z2", "collapse"},
}


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


def _execute(name: str, cwd: Path):
    """Run notebook ``name`` top to bottom in a fresh kernel with ``cwd`` as its working directory.

    Returns ``(error, notebook)``: ``error`` is ``None`` when every cell ran, else the failing cell and
    its traceback; ``notebook`` holds the outputs.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    cwd.mkdir(parents=True, exist_ok=True)
    notebook = _read(name)
    client = NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        return str(exc), notebook
    return None, notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    """Every notebook executed once, two at a time (one kernel per core on a two-core CI machine)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("notebooks")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_execute, name, root / name) for name in EXPECTED}
    return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_top_to_bottom(name, executed):
    error, _ = executed[name]
    assert error is None, error


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_draws_the_figures_of_its_area(name, executed):
    """Each area's figures are shown inline as PNGs, each followed by its caption; the captions name
    what is drawn, so each expected figure is recognised by its stem printed with its caption."""
    import re

    _, notebook = executed[name]
    images, captions = 0, []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                images += 1
            if output.get("name") == "stdout":
                captions.append(output.get("text", ""))
    assert images == len(FIGURES_DRAWN[name]), (name, images)
    printed = "".join(captions)
    for stem in FIGURES_DRAWN[name]:  # each figure's caption, printed under it as "stem: caption"
        assert re.search(rf"^{stem}: \S.{{100,}}", printed, flags=re.M), (name, stem)
    source = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert re.search(r"vaetheory\.figures", source), "the figures come from the library's figure functions"
