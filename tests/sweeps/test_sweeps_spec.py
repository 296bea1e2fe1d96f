"""Sweep SPECs: parsing, validation (exit 2 before anything runs), grid expansion, names, groups."""

from __future__ import annotations

import pytest
import yaml

from vaetheory.cli import main
from vaetheory.sweeps.engine import plan_groups
from vaetheory.sweeps.spec import MAX_SPEC_BYTES, OPTIONS, load_spec, parse_spec

BASE = {"variance": "floor", "latent": 2, "steps": 5, "points": 50}


def spec_of(**top):
    return {"base": dict(BASE), **top}


def write(tmp_path, value, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else yaml.safe_dump(value))
    return path


def test_grid_is_the_cross_product_in_order_with_names_from_settings():
    spec = parse_spec(spec_of(grid={"floor": [0.1, 0.01], "seed": [0, 1, 2]}))
    assert [r.name for r in spec.runs] == [
        f"floor-{xi}_seed-{s}" for xi in ("0.1", "0.01") for s in (0, 1, 2)
    ]
    assert spec.runs[4].settings["floor"] == 0.01 and spec.runs[4].settings["seed"] == 1
    # every option is in a run's settings, with train's defaults where the SPEC says nothing
    assert set(spec.runs[0].settings) == set(OPTIONS)
    assert spec.runs[0].settings["lr"] == 1e-3 and spec.runs[0].settings["hidden"] == (128,)
    assert spec.axes == ("floor", "seed")


def test_zip_and_exclude():
    spec = parse_spec(
        spec_of(
            grid={"seed": [0, 1]},
            zip=[{"floor": [0.1, 0.01, 0.001], "beta": [1, 0.5, 0.25]}],
            exclude=[{"seed": 1, "floor": [0.01, 0.001]}],
        )
    )
    points = [(r.settings["seed"], r.settings["floor"], r.settings["beta"]) for r in spec.runs]
    assert points == [(0, 0.1, 1.0), (0, 0.01, 0.5), (0, 0.001, 0.25), (1, 0.1, 1.0)]


def test_groups_share_an_architecture_and_respect_the_group_size():
    base = {k: v for k, v in BASE.items() if k != "latent"}
    spec = parse_spec({"base": base, "grid": {"latent": [2, 3], "floor": [0.1, 0.01], "seed": [0, 1, 2]}})
    groups = plan_groups(spec.runs, 4)
    assert [len(g) for g in groups] == [4, 2, 4, 2]
    for group in groups:
        assert len({r.settings["latent"] for r in group}) == 1
    assert sorted(r.name for g in groups for r in g) == sorted(r.name for r in spec.runs)


def test_colliding_names_get_a_hash_and_stay_unique(tmp_path):
    a, b = tmp_path / "a" / "x.npy", tmp_path / "b" / "x.npy"
    spec = parse_spec(spec_of(grid={"data": [str(a), str(b)]}), check_data=False)
    names = [r.name for r in spec.runs]
    assert len(set(names)) == 2 and all(n.startswith("data-x.npy-") for n in names)


def test_exponent_text_is_a_number_other_text_is_not():
    # PyYAML (YAML 1.1) reads 1e-3 without a dot as the string '1e-3'
    raw = yaml.safe_load("base: {variance: floor, points: 50, steps: 5}\ngrid: {floor: [1e-3, 1.0e-2]}")
    assert raw["grid"]["floor"][0] == "1e-3"
    assert [r.settings["floor"] for r in parse_spec(raw).runs] == [1e-3, 1e-2]
    with pytest.raises(ValueError, match=r"grid.floor\[0\]: floor must be a variance floor xi > 0"):
        parse_spec(spec_of(grid={"floor": ["0.1"]}))


@pytest.mark.parametrize(
    ("spec", "needles"),
    [
        (spec_of(grid={"flor": [0.1]}), ["unknown option 'flor'", "accepted: variance, floor"]),
        (spec_of(grid={"floor": []}), ["axis floor is empty", "a variance floor xi > 0"]),
        (spec_of(grid={"floor": 0.1}), ["axis floor must be a list"]),
        (spec_of(grid={"seed": [0, "one"]}), ["grid.seed[1]", "an integer in [0, 2**63 - 1]", "(str)"]),
        (spec_of(grid={"seed": [True]}), ["grid.seed[0]", "(bool)"]),
        (spec_of(grid={"floor": [0.1, -1.0]}), ["grid.floor[1]", "xi > 0", "-1.0"]),
        (spec_of(grid={"batch_size": [0]}), ["grid.batch_size[0]", "an integer >= 1"]),
        (spec_of(grid={"seed": [-1]}), ["grid.seed[0]", "[0, 2**63 - 1]"]),
        (spec_of(grid={"floor_method": ["clip"]}), ["floor_method must be one of", "clamp", "softclip"]),
        ({"base": {"points": 50}, "grid": {"variance": ["wild"]}}, ["variance must be one of", "learned"]),
        (spec_of(grid={"floor": [0.1]}, engine="ray"), ["unknown top-level key 'engine'", "accepted: name"]),
        ({"grid": {"seed": [0]}}, ["the key 'base' is missing"]),
        (spec_of(grid={"floor": [1e-50]}), ["run floor-1e-50", "floor_variance must lie in"]),
        (spec_of(grid={"seed": [0, 0]}), ["grid.seed[1]", "repeats the value 0"]),
        (spec_of(grid={"floor": [0.1]}, exclude=[{"floor": 0.2}]), ["exclude[0] matches no point"]),
        (spec_of(grid={"floor": [0.1]}, exclude=[{"seed": 1}]), ["exclude[0]", "not an axis", "floor"]),
        (spec_of(grid={"steps": [3]}, zip=[{"steps": [1]}]), ["option steps is set twice"]),
        (spec_of(grid={"seed": [0]}, zip=[{"floor": [0.1, 0.2], "beta": [1]}]), ["one length", "floor: 2"]),
        ({"base": {**BASE, "floor": [0.1, 0.2]}, "grid": {"seed": [0]}}, ["base.floor is a list"]),
        ({"base": {**BASE, "variance": "learned"}, "grid": {"floor": [0.1]}}, ["need variance floor"]),
        ({"base": {**BASE, "points": 5000}, "grid": {"floor": [0.1]}}, ["n_points must be <="]),
        (spec_of(grid={"floor": [0.1, 0.2]}, name=3), ["name must be text"]),
        ([1, 2], ["is a mapping with the keys"]),
    ],
)
def test_spec_errors_exit_2_naming_the_key_before_anything_runs(tmp_path, capsys, spec, needles):
    path = write(tmp_path, spec)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaetheory sweep: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not out.exists()  # nothing ran, nothing was created


def test_file_errors(tmp_path, capsys):
    out = str(tmp_path / "out")
    cases = [
        (tmp_path / "missing.yaml", "does not exist"),
        (write(tmp_path, "base: {a: [1\n", "bad.yaml"), "is not valid YAML at line"),
        (write(tmp_path, "!!python/object/apply:os.system ['true']\n", "unsafe.yaml"), "not valid YAML"),
        (write(tmp_path, "#" * (MAX_SPEC_BYTES + 1), "big.yaml"), f"at most {MAX_SPEC_BYTES} bytes"),
    ]
    for path, needle in cases:
        assert main(["sweep", str(path), "--out", out]) == 2
        assert needle in capsys.readouterr().err
    good = write(tmp_path, spec_of(grid={"floor": [0.1]}))
    for option, needle in [
        (["--engine", "slurm"], "--engine must be one of local, ray"),
        (["--device", "tpu"], "--device must be one of cpu, cuda"),
        (["--max-concurrent", "0"], "--max-concurrent"),
        (["--group-size", "0"], "--group-size"),
        (["--address", "auto"], "--address applies to --engine ray only"),
    ]:
        assert main(["sweep", str(good), "--out", out, *option]) == 2
        assert needle in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not (tmp_path / "out" / "runs").exists()


def test_dry_run_lists_runs_and_groups(tmp_path, capsys):
    path = write(tmp_path, spec_of(grid={"floor": [0.1, 0.2], "seed": [0, 1]}))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run", "--group-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "4 runs in 2 groups" in out and "floor-0.2_seed-1" in out
    assert not (tmp_path / "o").exists()


def test_load_spec_reads_a_file(tmp_path):
    path = write(tmp_path, "name: floors\nbase: {variance: floor, points: 50}\ngrid: {floor: [0.1, 0.01]}\n")
    spec = load_spec(path)
    assert spec.name == "floors" and len(spec.runs) == 2
