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

#: experiment -> figure file stem
FIGURE_STEMS = {"unbounded-training": "unbounded_training", "floors": "floors"}


def draw_experiment(name: str, result: dict, out_dir) -> list[Path]:
    """Draw and save the figure of experiment ``name`` from ``result`` (the value ``run`` returns)."""
    from vaetheory.plots.experiments import draw_floors, draw_unbounded_training
    from vaetheory.plots.style import save_figure

    out_dir = Path(out_dir)
    details = result["details"]
    settings = result["provenance"]["parameters"]
    if name == "unbounded-training":
        fig = draw_unbounded_training(
            details,
            title=(
                f"Digits, {settings['n_train']} training / {settings['n_heldout']} held-out images, latent "
                f"{settings['latent']}: learned variance vs floors (L_k, k = {settings['k']})"
            ),
        )
    elif name == "floors":
        fig = draw_floors(
            details,
            title=(
                f"Floors on the decoder variance: {settings['n_train']} dequantised digits, "
                f"{settings['steps']} Adam steps (L_k, k = {settings['k']})"
            ),
        )
    else:
        raise ValueError(f"no figure for experiment {name!r}")
    data = {"runs": details, "verdicts": result["verdicts"]}
    return save_figure(fig, out_dir / FIGURE_STEMS[name], result["provenance"], data)


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


__all__ = ["FIGURE_STEMS", "draw_experiment", "make_figures"]
