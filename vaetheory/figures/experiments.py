"""Figures of the experiments (``vaetheory experiment NAME``), and their place in the catalogue.

:func:`draw_experiment` draws what an experiment returned (or wrote: :func:`load_details` reads
``DIR/runs/*.json`` back) with :mod:`vaetheory.plots.experiments` and saves it with
:func:`vaetheory.plots.style.save_figure` (PDF + PNG + JSON sidecar holding the provenance of the
run and the numbers drawn). :func:`make_figures` is the ``experiments`` area of ``vaetheory
figures``: every experiment at its quick settings, run into ``OUT/experiments/runs/<name>`` (a
finished run there is reused) and drawn into ``OUT/experiments``.
"""

from __future__ import annotations

from pathlib import Path

#: experiment -> (plot module, drawing function, figure file stem). The drawing function takes the
#: run records (``result["details"]``) and keyword ``title``; a new experiment adds one line here.
FIGURES: dict[str, tuple[str, str, str]] = {
    "unbounded-training": (
        "vaetheory.plots.experiments.training",
        "draw_unbounded_training",
        "unbounded_training",
    ),
    "floors": ("vaetheory.plots.experiments.training", "draw_floors", "floors"),
    "mechanisms": ("vaetheory.plots.experiments.mechanisms", "draw_mechanisms", "mechanisms"),
    "sigma-vae": ("vaetheory.plots.experiments.sigma_vae", "draw_sigma_vae", "sigma_vae"),
    "gamma-to-zero": ("vaetheory.plots.experiments.gamma_to_zero", "draw_gamma_to_zero", "gamma_to_zero"),
    "collapse": ("vaetheory.plots.experiments.collapse", "draw_collapse", "collapse"),
}

#: experiment -> figure file stem (kept for earlier callers; derived from FIGURES)
FIGURE_STEMS = {name: entry[2] for name, entry in FIGURES.items()}


def draw_experiment(name: str, result: dict, out_dir) -> list[Path]:
    """Draw and save the figure of experiment ``name`` from ``result`` (the value ``run`` returns).

    The caption (sidecar ``caption``) is the experiment module's ``caption(result)`` where it
    defines one: what is drawn and the measured numbers a reader needs.
    """
    import importlib

    from vaetheory.plots.style import save_figure
    from vaetheory.studies.experiments import get_experiment

    if name not in FIGURES:
        raise ValueError(f"no figure for experiment {name!r}; figures exist for: {', '.join(FIGURES)}")
    module_name, function, stem = FIGURES[name]
    draw = getattr(importlib.import_module(module_name), function)
    study = get_experiment(name)
    caption = study.caption(result) if hasattr(study, "caption") else None
    fig = draw(result["details"])
    data = {"runs": result["details"], "verdicts": result["verdicts"]}
    return save_figure(fig, Path(out_dir) / stem, result["provenance"], data, caption=caption)


def make_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """Every experiment at its quick (or default) settings; runs kept under ``out_dir/runs``."""
    from vaetheory.studies.experiments import EXPERIMENTS, run_experiment

    out_dir = Path(out_dir)
    written: list[Path] = []
    for name in EXPERIMENTS:
        run_path = out_dir / "runs" / f"{name}-{'quick' if quick else 'full'}"
        result = run_experiment(
            name,
            run_path,
            quick=quick,
            seed=seed,
            resume=(run_path / "experiment.json").exists(),
            progress=False,
        )
        written += draw_experiment(name, result, out_dir)
    return written


__all__ = ["FIGURES", "FIGURE_STEMS", "draw_experiment", "make_figures"]
