"""Names that say what they hold (issue 13 item 9) and the flat public surface (item 10).

Each new name is checked to be the same object or value as the old one it aliases, and every old
public name still works.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import warnings

import numpy as np


def test_empirical_exports_every_public_name_flat_without_importing_torch():
    script = (
        "import sys, vaetheory.empirical as e\n"
        "assert 'torch' not in sys.modules, 'importing vaetheory.empirical imported torch'\n"
        "assert e.__all__ == sorted(e.__all__) and len(e.__all__) > 30\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import vaetheory.empirical as e
    from vaetheory.empirical import diagnostics, model, policies, sampling, training

    for name in e.__all__:
        assert getattr(e, name) is not None, name
    assert e.VAE is model.VAE is model.GaussianVAE
    assert e.train is training.train and e.TrainConfig is training.TrainConfig
    assert e.floor_report is policies.floor_report and e.sample is sampling.sample
    assert e.VarianceMonitor is diagnostics.VarianceMonitor
    assert "VAE" in dir(e)


def test_policy_is_an_alias_of_variance_on_the_train_command():
    from vaetheory.cli import build_parser

    parser = build_parser()
    base = ["train", "--out", "x"]
    assert parser.parse_args([*base, "--policy", "floor"]).variance == "floor"
    assert parser.parse_args([*base, "--variance", "floor"]).variance == "floor"
    assert parser.parse_args(base).variance == "learned"


def test_the_log_carries_max_point_elbo_beside_its_old_name(tmp_path):
    from vaetheory.empirical import TrainConfig, read_log, train

    cfg = TrainConfig(latent=1, hidden=(3,), steps=3, batch_size=4, log_every=1)
    data = np.random.default_rng(0).uniform(size=(8, 3))
    train(cfg, data=data, out_dir=tmp_path, progress=False)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines and all(line["max_point_elbo"] == line["max_point_loglik"] for line in lines)
    assert [e["max_point_loglik"] for e in read_log(tmp_path)] == [line["max_point_loglik"] for line in lines]


def test_the_symbolic_derivation_has_one_name_and_the_old_one_aliases_it():
    import vaetheory.symbolic as symbolic
    from vaetheory.symbolic.checker import document

    assert symbolic.Derivation is symbolic.SymbolicDerivation
    assert type(symbolic.derive()) is symbolic.SymbolicDerivation
    assert document.Derivation is not symbolic.SymbolicDerivation  # the checker's parsed document


def test_the_sigma_star_module_is_named_for_what_it_holds_and_the_old_path_warns():
    from vaetheory.symbolic import sigma_star

    sys.modules.pop("vaetheory.symbolic.thread", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("vaetheory.symbolic.thread")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert old.analyse_sigma_star is sigma_star.analyse_sigma_star
    assert old.SigmaStarAnalysis is sigma_star.SigmaStarAnalysis


def test_both_digits_commands_say_which_pixel_scale_they_use(capsys):
    from vaetheory.cli import main

    for command, says in (("linear", "raw pixels 0..16"), ("train", "DIVIDED BY 16")):
        try:
            main([command, "--help"])
        except SystemExit:
            pass
        assert says in " ".join(capsys.readouterr().out.split()), command
