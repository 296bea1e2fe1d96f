"""Experiments of issue 15: training runs that show the blow-up and the floors, against the theory.

``EXPERIMENTS`` maps each name to its module; every module defines ``NAME``, ``Settings`` with
``DEFAULT``, ``QUICK`` and ``TINY`` (the tests' sizes) and
``run(out_dir, *, settings=None, quick=False, seed=0, resume=False, overwrite=False, progress=True,
data=..., device="cpu")``, which trains, evaluates, writes ``DIR/results.json``, ``DIR/runs/<name>.json`` and
``DIR/summary.md`` and returns the results (with ``details`` and ``verdicts``). Figures are drawn
by :mod:`vaetheory.figures.experiments` (the library draws nothing). The command line is
``vaetheory experiment NAME --out DIR``.

Built: ``unbounded-training``, ``floors``, ``sigma-vae``, ``gamma-to-zero``, ``mechanisms`` and
``collapse`` (all six of issue 15).
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: experiment name -> module (under vaetheory.studies.experiments)
EXPERIMENTS: dict[str, str] = {
    "unbounded-training": "unbounded_training",
    "floors": "floors",
    "sigma-vae": "sigma_vae",
    "gamma-to-zero": "gamma_to_zero",
    "mechanisms": "mechanisms",
    "collapse": "collapse",
}

DESCRIPTIONS: dict[str, str] = {
    "unbounded-training": (
        "learned variance (several Adam rates) vs floors on a small dequantised digits set, raw digits for "
        "contrast: whole-set training and held-out log-likelihood at log-spaced steps"
    ),
    "floors": (
        "clamp, softclip, softplus and gaussian_nll floors over a log grid of xi: held-out log-likelihood, "
        "largest training log p(x) against the bound, smallest unfloored variance"
    ),
    "sigma-vae": (
        "fixed decoder std over a grid, one shared learned std and the calibrated sigma*^2 = MSE (Rybkin "
        "et al. 2021): ELBO, held-out log-likelihood, reconstruction MSE and sample variance against sigma"
    ),
    "gamma-to-zero": (
        "synthetic data on an r-dimensional manifold, one shared learned variance gamma (Dai & Wipf 2019): "
        "log gamma and active latent dimensions against steps, the ELBO's rate against -log gamma vs "
        "(d - r)/2"
    ),
    "mechanisms": (
        "the two routes to +infinity told apart: per-dimension collapse (raw digits, synthetic data with "
        "constant coordinates) vs per-point collapse, with dequantised digits as the control"
    ),
    "collapse": (
        "active units and KL of deep VAEs over dense grids of beta (sigma = 1) and fixed sigma^2 spanning "
        "the data's eigenvalues, q = 2 and 20, beside the linear VAE's min(q, #{l_j > beta sigma^2}); "
        "a learned shared sigma^2 marked where it settles"
    ),
}


def get_experiment(name: str) -> ModuleType:
    """The module of experiment ``name`` (a ``ValueError`` naming the experiments otherwise)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; experiments are: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"vaetheory.studies.experiments.{EXPERIMENTS[name]}")


def run_experiment(name: str, out_dir, **kwargs):
    """Run experiment ``name`` into ``out_dir`` (keyword arguments of the module's ``run``)."""
    return get_experiment(name).run(out_dir, **kwargs)


__all__ = ["DESCRIPTIONS", "EXPERIMENTS", "get_experiment", "run_experiment"]
