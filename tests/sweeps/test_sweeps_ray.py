"""The Ray engine on a real local cluster (2 CPUs) gives the local engine's per-run results."""

from __future__ import annotations

import pytest

from vaetheory.sweeps import parse_spec, run_sweep

ray = pytest.importorskip("ray", reason="the Ray engine needs the distributed extra (in the test extra)")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_engine_equals_local_engine_bit_for_bit(cluster, tmp_path):
    spec = parse_spec(
        {
            "base": {"variance": "floor", "latent": 2, "hidden": 32, "steps": 15, "points": 100},
            "grid": {"floor": [0.1, 0.01], "seed": [0, 1]},
        }
    )
    local = run_sweep(spec, tmp_path / "local", progress=False, group_size=2)
    remote = run_sweep(spec, tmp_path / "ray", engine="ray", progress=False, group_size=2)
    assert local.complete and remote.complete
    # Bit for bit, not within a tolerance: a Ray worker runs the same execute_group on the same CPU
    # with one torch thread (the task's threads), so the float32 operations are the same, in order.
    for a, b in zip(local.rows, remote.rows):
        assert a["name"] == b["name"]
        assert a["metrics"] == b["metrics"]
        assert a["bound_check"] == b["bound_check"]
    import torch

    for row in local.rows:
        wa = torch.load(tmp_path / "local" / row["run_dir"] / "checkpoint.pt", weights_only=True)["model"]
        wb = torch.load(tmp_path / "ray" / row["run_dir"] / "checkpoint.pt", weights_only=True)["model"]
        assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # the runs' files came back to the driver's directory; a rerun trains nothing
    again = run_sweep(spec, tmp_path / "ray", engine="ray", progress=False, group_size=2)
    assert again.done_before == 4 and again.trained == 0


def test_an_experiment_point_on_ray_equals_the_local_engine(cluster, tmp_path):
    spec = parse_spec(
        {
            "experiment": "floors",
            "base": {
                "quick": True,
                "n_train": 8,
                "n_heldout": 20,
                "hidden": 16,
                "steps": 30,
                "n_evals": 2,
                "k": 8,
                "floors": [1.0e-2],
                "methods": ["clamp", "gaussian_nll"],
            },
            "grid": {"seed": [0]},
        }
    )
    local = run_sweep(spec, tmp_path / "local", progress=False)
    remote = run_sweep(spec, tmp_path / "ray", engine="ray", progress=False)
    assert local.complete and remote.complete
    # the same run_experiment on the same CPU with one torch thread: the same records, exactly
    (a,), (b,) = local.rows, remote.rows
    assert a["records"] == b["records"] and a["verdicts"] == b["verdicts"]
    # the experiment's run directory (with its runs/ subdirectory) came back to the driver
    for name in (
        "experiment.json",
        "summary.md",
        "runs/floor1e-2-clamp.json",
        "runs/floor1e-2-gaussian_nll.json",
    ):
        assert (tmp_path / "ray" / b["run_dir"] / name).is_file(), name
