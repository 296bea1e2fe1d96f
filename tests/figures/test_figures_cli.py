"""``vaetheory figures``: every registered area writes non-empty PDF + PNG + a sidecar holding the
provenance (also in the PDF's metadata); the same seed gives the same data; bad output directories
give a clear error and exit code 2."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import vaetheory.figures
from vaetheory import __version__
from vaetheory.cli import main
from vaetheory.figures import FIGURE_MODULES

#: areas whose quick run trains networks for a while: run once, not twice (the thesis reproduction)
EXPENSIVE_AREAS = {"thesis", "experiments"}  # experiments: tests/studies/experiments/test_experiments_*.py
SEED = 3
PROVENANCE_FIELDS = {"vaetheory_version", "git_commit", "command", "seed", "parameters"}


# --- the command's plumbing, on a tiny stand-in area -------------------------------------------


@pytest.fixture
def tiny_area(monkeypatch):
    """Register a stand-in area ``tiny`` whose figure is a line through seeded random points."""

    def make_figures(out_dir, *, quick, seed):
        import numpy as np

        from vaetheory.plots.style import MEASURED_LINE, new_figure, save_figure
        from vaetheory.provenance import provenance

        y = np.random.default_rng(seed).normal(size=5)
        fig, ax = new_figure("column")
        ax.plot(y, **MEASURED_LINE)
        prov = provenance(seed=seed, parameters={"quick": quick, "n": 5})
        return save_figure(fig, Path(out_dir) / "tiny_line", prov, {"y": y})

    module = types.ModuleType("vaetheory.figures.tiny")
    module.make_figures = make_figures
    monkeypatch.setitem(sys.modules, "vaetheory.figures.tiny", module)
    monkeypatch.setattr(vaetheory.figures, "FIGURE_MODULES", ["tiny"])
    return "tiny"


def test_figures_prints_every_file_it_wrote(tiny_area, tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path / "figs"), "--quick", "--seed", "1"]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == ["tiny_line.json", "tiny_line.pdf", "tiny_line.png"]
    assert all(Path(p).is_file() and Path(p).parent == tmp_path / "figs" / "tiny" for p in printed)
    sidecar = tmp_path / "figs" / "tiny" / "tiny_line.json"
    pdf = sidecar.with_suffix(".pdf").read_bytes()
    assert json.loads(_pdf_subject(pdf)) == json.loads(sidecar.read_text())["provenance"]


def test_figures_only_unknown_area_exits_2_naming_the_areas(tiny_area, tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path), "--only", "tiny,nonexistent"]) == 2
    err = capsys.readouterr().err
    assert "vaetheory figures: error: --only: unknown area nonexistent; areas are: tiny" in err


def test_figures_file_in_the_way_exits_2(tiny_area, tmp_path, capsys):
    target = tmp_path / "figs"
    target.write_text("not a directory")
    assert main(["figures", "--out", str(target)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    assert target.read_text() == "not a directory"


def test_figures_area_folder_blocked_by_a_file_exits_2(tiny_area, tmp_path, capsys):
    (tmp_path / "tiny").write_text("in the way")
    assert main(["figures", "--out", str(tmp_path)]) == 2
    assert "tiny' exists and is not a directory" in capsys.readouterr().err


def test_figures_out_below_a_file_exits_2(tiny_area, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["figures", "--out", str(tmp_path / "file" / "figs")]) == 2
    assert "cannot create output directory" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_figures_read_only_directory_exits_2(tiny_area, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["figures", "--out", str(locked)]) == 2
        assert "is not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_figures_uncreatable_directory_exits_2(tiny_area, capsys):
    assert main(["figures", "--out", "/proc/vaetheory-figures/out"]) == 2
    assert "cannot create output directory '/proc/vaetheory-figures/out'" in capsys.readouterr().err


# --- every registered area, through the real command -------------------------------------------


def _figures_command(out: Path, areas: list[str]) -> list[str]:
    script = shutil.which("vaetheory")
    prefix = [script] if script else [sys.executable, "-m", "vaetheory"]
    return [*prefix, "figures", "--quick", "--seed", str(SEED), "--out", str(out), "--only", ",".join(areas)]


def _cheap_areas() -> list[str]:
    return [a for a in FIGURE_MODULES if a not in EXPENSIVE_AREAS]


@pytest.fixture(scope="module")
def cheap_runs(tmp_path_factory):
    """Two ``vaetheory figures --quick`` runs with the same seed of every registered area but the
    thesis, side by side (one per core): the first is checked, the pair shows the determinism."""
    if not _cheap_areas():
        pytest.skip("no cheap figure area is registered yet")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # small networks: one thread each, no contention
    outs = [tmp_path_factory.mktemp("figures"), tmp_path_factory.mktemp("figures-again")]
    procs = [
        subprocess.Popen(
            _figures_command(out, _cheap_areas()),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for out in outs
    ]
    runs = []
    for out, proc in zip(outs, procs):
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]
        runs.append((out, [Path(line) for line in stdout.split()]))
    return runs


@pytest.fixture(scope="module")
def cheap_run(cheap_runs):
    out, written = cheap_runs[0]
    return out, written, _cheap_areas()


@pytest.fixture(scope="module")
def thesis_run(tmp_path_factory):
    """``vaetheory figures --quick --only thesis``, run once, in-process, on a smaller study.

    The thesis area's quick figures train ten networks (minutes on two cores), so here its quick
    settings are swapped for a tiny study of the five q = 2 configurations; everything else (the
    command, the reproduction driver, the drawing, the saving with provenance) is the real path.
    """
    if "thesis" not in FIGURE_MODULES:
        pytest.skip("the thesis area is not registered yet")
    import dataclasses

    import vaetheory.studies.thesis_ch5.run as thesis_run_module

    tiny = dataclasses.replace(
        thesis_run_module.QUICK_SETTINGS,
        steps=60,
        hidden=(16,),
        iwae_k=5,
        elbo_samples=1,
        n_generated=20,
        max_train=300,
        max_test=60,
    )
    out = tmp_path_factory.mktemp("figures-thesis")
    argv = ["vaetheory", "figures", "--quick", "--seed", str(SEED), "--out", str(out), "--only", "thesis"]
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: one thread is faster than two that contend
    stdout = io.StringIO()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(thesis_run_module, "QUICK_SETTINGS", tiny)
            every = thesis_run_module.thesis_configurations
            patch.setattr(thesis_run_module, "thesis_configurations", lambda: every(latents=(2,)))
            patch.setattr(sys, "argv", argv)
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
                assert main(argv[1:]) == 0
    finally:
        torch.set_num_threads(threads)
    return out, [Path(line) for line in stdout.getvalue().split()], ["thesis"]


@pytest.fixture(scope="module", params=["cheap areas", "thesis"])
def quick_run(request):
    return request.getfixturevalue("cheap_run" if request.param == "cheap areas" else "thesis_run")


def _sidecars(paths: list[Path]) -> list[Path]:
    return sorted(p for p in paths if p.suffix == ".json")


def _pdf_subject(pdf: bytes) -> str:
    """The Subject string of a PDF's Info dictionary (a literal string, as matplotlib writes it)."""
    start = pdf.index(b"/Subject (") + len(b"/Subject (")
    out, i, depth = bytearray(), start, 0
    while True:
        c = pdf[i : i + 1]
        if c == b"\\":
            out += pdf[i + 1 : i + 2]
            i += 2
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            if depth == 0:
                return out.decode("ascii")
            depth -= 1
        out += c
        i += 1


def test_every_area_writes_figures(quick_run):
    out, written, areas = quick_run
    for area in areas:
        assert _sidecars([p for p in written if p.parent == out / area]), f"area {area} wrote no figure"
    assert all(p.is_file() for p in written)


def test_every_figure_has_nonempty_pdf_and_png(quick_run):
    _, written, _ = quick_run
    for sidecar in _sidecars(written):
        pdf, png = sidecar.with_suffix(".pdf"), sidecar.with_suffix(".png")
        assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 1000, pdf
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 1000, png


def test_every_sidecar_holds_the_provenance(quick_run):
    _, written, _ = quick_run
    for sidecar in _sidecars(written):
        record = json.loads(sidecar.read_text())
        prov = record["provenance"]
        assert PROVENANCE_FIELDS <= set(prov), f"{sidecar}: missing {PROVENANCE_FIELDS - set(prov)}"
        assert prov["vaetheory_version"] == __version__
        assert prov["git_commit"] is None or len(prov["git_commit"]) == 40
        assert "figures --quick --seed" in prov["command"], f"{sidecar}: command {prov['command']!r}"
        # the seed given, or null for a figure that draws no random numbers (digits spectra, algebra)
        assert prov["seed"] in (SEED, None), f"{sidecar}: seed {prov['seed']} recorded, {SEED} given"
        assert isinstance(prov["parameters"], dict) and prov["parameters"], f"{sidecar}: no parameters"
        assert record["data"], f"{sidecar}: no data behind the figure"


def test_every_pdf_carries_the_provenance_in_its_metadata(quick_run):
    _, written, _ = quick_run
    for sidecar in _sidecars(written):
        prov = json.loads(sidecar.read_text())["provenance"]
        subject = json.loads(_pdf_subject(sidecar.with_suffix(".pdf").read_bytes()))
        assert subject == prov, sidecar


def test_same_seed_gives_same_data(cheap_runs):
    """The cheap areas run twice (the thesis study is run once: its training is the expensive part)."""
    (out, written), (out_again, written_again) = cheap_runs
    first = {p.relative_to(out): p for p in _sidecars(written)}
    second = {p.relative_to(out_again): p for p in _sidecars(written_again)}
    assert first and set(first) == set(second)
    for rel, path in first.items():
        assert json.loads(path.read_text())["data"] == json.loads(second[rel].read_text())["data"], rel


def test_readme_figures_exist_and_were_made_by_the_command_it_states():
    root = Path(__file__).resolve().parents[2]
    section = (root / "README.md").read_text().split("## Figures", 1)[1].split("\n## ", 1)[0]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", section)
    stated = re.search(r"were made by `(vaetheory figures [^`]+)`", section).group(1)
    commit = re.search(r"at commit\s+`(\w+)`", section).group(1)
    assert images
    for image in images:
        png = root / image
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), image
        prov = json.loads(png.with_suffix(".json").read_text())["provenance"]
        assert prov["command"] == stated, image
        assert (prov["git_commit"] or "").startswith(commit), image
