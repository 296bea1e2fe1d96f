"""Provenance: every record names the library versions, the machine, the threads and the state of
the source tree; reading them imports nothing heavy; figures that draw no random numbers record
``seed`` null; git state is read correctly from a real repository."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from vaetheory import __version__
from vaetheory.provenance import (
    LIBRARIES,
    available_cpus,
    commit_of,
    cpu_model,
    dirty_of,
    provenance,
    thread_count,
)

#: the keys records carried before this change: a contract, kept
ORIGINAL_KEYS = {"vaetheory_version", "git_commit", "command", "seed", "parameters", "python"}
NEW_KEYS = {
    "git_dirty",
    "numpy",
    "scipy",
    "sympy",
    "matplotlib",
    "platform",
    "machine",
    "cpu",
    "cpu_count",
    "threads",
    "blas",
    "thread_environment",
}


def test_record_keeps_every_original_key_and_adds_the_machine():
    record = provenance(seed=7, parameters={"a": 1}, command="vaetheory x")
    assert ORIGINAL_KEYS | NEW_KEYS <= set(record)
    assert record["seed"] == 7 and record["parameters"] == {"a": 1} and record["command"] == "vaetheory x"
    assert record["vaetheory_version"] == __version__
    assert record["python"] == platform.python_version()
    assert record["platform"] == platform.platform() and record["machine"] == platform.machine()
    assert record["git_dirty"] in (True, False, None)
    assert isinstance(record["threads"], int) and record["threads"] >= 1
    assert record["cpu_count"] == available_cpus() >= 1
    json.dumps(record)  # JSON-ready as it is


def test_versions_are_the_installed_distributions():
    record = provenance()
    for name in LIBRARIES:
        assert record[name] == metadata.version(name), name


def test_reading_the_record_imports_none_of_the_heavy_packages():
    """In a fresh interpreter: versions come from metadata, not from importing the packages."""
    code = (
        "import sys, json; from vaetheory.provenance import provenance; r = provenance(); "
        "print(json.dumps({'loaded': [m for m in ('numpy', 'scipy', 'sympy', 'matplotlib', 'torch') "
        "if m in sys.modules], 'numpy': r['numpy'], 'has_torch': 'torch' in r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout)
    assert result["loaded"] == [] and result["numpy"] == metadata.version("numpy")
    assert result["has_torch"] is False  # torch appears only when the computation loaded it


def test_thread_count_is_torchs_when_torch_is_loaded():
    torch = pytest.importorskip("torch")
    record = provenance()
    assert record["torch"] == torch.__version__
    assert record["threads"] == torch.get_num_threads() == thread_count()


def test_thread_count_without_torch_is_the_blas_threads_or_the_cpus(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    blas = [{"user_api": "openmp", "num_threads": 5}, {"user_api": "blas", "num_threads": 3}]
    assert thread_count(blas) == 3
    assert thread_count([]) == available_cpus()


def test_blas_entries_name_the_library_and_its_threads():
    import numpy  # noqa: F401  (loads numpy's BLAS, which the record then describes)

    pytest.importorskip("threadpoolctl")
    blas = [pool for pool in provenance()["blas"] if pool.get("user_api") == "blas"]
    assert blas, "numpy's BLAS is loaded and described"
    for pool in blas:
        assert pool["internal_api"] and pool["num_threads"] >= 1
        if pool["internal_api"] == "openblas":
            assert pool.get("architecture"), "OpenBLAS names the kernel it chose"


def test_thread_environment_records_only_the_variables_that_are_set(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    env = provenance()["thread_environment"]
    assert env.get("OMP_NUM_THREADS") == "1" and "OPENBLAS_CORETYPE" not in env


def test_cpu_model_is_a_string_on_linux():
    if not Path("/proc/cpuinfo").exists():
        pytest.skip("no /proc/cpuinfo on this platform")
    model = cpu_model()
    assert isinstance(model, str) and model.strip() == model and model


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_and_dirty_state_of_a_real_repository(tmp_path):
    def git(*args):
        subprocess.run(
            ["git", "-C", str(tmp_path), *args],
            check=True,
            capture_output=True,
            env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull},
        )

    assert commit_of(tmp_path) is None and dirty_of(tmp_path) is None  # not a checkout
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty")
    (tmp_path / "f.txt").write_text("one\n")
    git("add", "f.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "f")
    commit = commit_of(tmp_path)
    assert commit is not None and len(commit) == 40
    assert dirty_of(tmp_path) is False
    (tmp_path / "untracked.txt").write_text("x\n")
    assert dirty_of(tmp_path) is False  # untracked files do not make a tree dirty
    (tmp_path / "f.txt").write_text("two\n")
    assert dirty_of(tmp_path) is True
    assert commit_of(tmp_path) == commit


def test_symbolic_figures_record_seed_null(tmp_path):
    """The algebra figures draw no random numbers: seed null, whatever seed the catalogue passes."""
    pytest.importorskip("matplotlib")
    from vaetheory.figures.symbolic import make_figures

    written = make_figures(tmp_path, quick=True, seed=123)
    sidecars = [p for p in written if p.suffix == ".json"]
    assert sidecars
    for sidecar in sidecars:
        prov = json.loads(sidecar.read_text())["provenance"]
        assert prov["seed"] is None, sidecar.name
        assert NEW_KEYS <= set(prov), sidecar.name


def test_blowup_result_records_seed_null_and_the_machine():
    """The blow-up sequence is exact quadrature of a fixed decoder: nothing random."""
    pytest.importorskip("torch")
    from vaetheory.empirical.construction import blowup_sequence

    result = blowup_sequence(ks=(0, 1, 2), floors=())
    assert result.provenance["seed"] is None
    assert NEW_KEYS <= set(result.provenance) and result.provenance["torch"]
