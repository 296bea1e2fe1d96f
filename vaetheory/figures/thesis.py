"""Figures of the thesis chapter's study (seed 004, chapter 5), drawn from a reproduction run.

* ``reconstructions_z<q>``: held-out originals over each configuration's reconstruction
  (chapter figures 5.4-5.5, 5.9-5.11, 5.13-5.14);
* ``latent_grid_z2``: the decoder mean \\mu(z) over a grid of z for q = 2 (figures 5.3, 5.16-5.18);
* ``samples_z<q>``: ancestral, \\mu(z) and \\mu(z) + \\alpha \\sigma(z) samples (figures 5.7, 5.12, 5.15);
* ``collapse``: measured active units against \\beta \\sigma^2 beside the linear VAE's prediction
  min(q, #{j : l_j > \\beta \\sigma^2}) (THEORY.md section 3).

:func:`draw_reproduction_figures` draws a finished run; :func:`make_figures` runs (or reuses) a
reproduction into ``out_dir`` and draws it there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaetheory.provenance import provenance

#: decimals kept for images in the figure sidecars (pixels in [0, 1]; 1/255 = 0.0039)
SIDECAR_DECIMALS = 3


def _images(a: np.ndarray) -> list:
    return np.round(np.asarray(a, dtype=np.float64), SIDECAR_DECIMALS).tolist()


def draw_reproduction_figures(reproduction, out_dir: str | Path) -> list[Path]:
    """Draw the figures of ``reproduction``, a :class:`~vaetheory.empirical.thesis_run.ThesisReproduction`."""
    from vaetheory.empirical.thesis import SAMPLE_ALPHA
    from vaetheory.empirical.thesis_run import load_configuration_arrays
    from vaetheory.plots import thesis as plots
    from vaetheory.plots.style import prepare_output_dir, save_figure

    out = prepare_output_dir(out_dir)
    run_dir = Path(reproduction.out_dir)
    shape = tuple(reproduction.image_shape)
    prov = provenance(
        seed=reproduction.seed,
        parameters={
            "data": reproduction.data,
            "data_source": reproduction.data_source,
            "n_train": reproduction.n_train,
            "n_test": reproduction.n_test,
            "quick": reproduction.quick,
            "settings": reproduction.settings,
            "reproduction_dir": str(run_dir),
        },
    )
    arrays = {
        c.config: load_configuration_arrays(run_dir / "configs" / c.config)
        for c in reproduction.configurations
    }
    latents = sorted({c.latent for c in reproduction.configurations})
    mode_labels = {
        "ancestral": "ancestral\n$x \\sim N(\\mu(z), \\sigma^2(z))$",
        "mean": "$\\mu(z)$",
        "mean_plus_std": f"$\\mu(z) + {SAMPLE_ALPHA:g}\\,\\sigma(z)$",
    }
    written: list[Path] = []
    for q in latents:
        names = [c.config for c in reproduction.configurations if c.latent == q]
        originals = arrays[names[0]]["originals"]
        recon = {n: arrays[n]["reconstructions"] for n in names}
        fig = plots.plot_reconstructions(
            originals,
            recon,
            shape,
            title=f"Held-out images (top) and reconstructions $\\mu(m(x))$, latent size q = {q}",
        )
        data = {"originals": _images(originals), "reconstructions": {n: _images(v) for n, v in recon.items()}}
        written += save_figure(fig, out / f"reconstructions_z{q}", prov, data)

        samples = {n: {m: arrays[n][f"samples_{m}"] for m in mode_labels} for n in names}
        fig = plots.plot_samples(
            samples,
            mode_labels,
            shape,
            title=f"Samples with $z \\sim N(0, I)$, latent size q = {q} (display clipped to [0, 1])",
        )
        data = {
            "alpha": SAMPLE_ALPHA,
            "samples": {n: {m: _images(v) for m, v in s.items()} for n, s in samples.items()},
        }
        written += save_figure(fig, out / f"samples_z{q}", prov, data)

    grid_names = [c.config for c in reproduction.configurations if c.latent == 2]
    if grid_names:
        grid_z = arrays[grid_names[0]]["grid_z"]
        grids = {n: arrays[n]["grid_means"] for n in grid_names}
        fig = plots.plot_latent_grids(
            grids,
            grid_z,
            shape,
            title="Decoder mean $\\mu(z)$ over a grid of $z$ (q = 2; $z = \\Phi^{-1}(p)$)",
        )
        data = {"grid_z": grid_z.tolist(), "grid_means": {n: _images(v) for n, v in grids.items()}}
        written += save_figure(fig, out / "latent_grid_z2", prov, data)

    fixed = [c for c in reproduction.configurations if c.effective_variance is not None]
    if fixed:
        from vaetheory.empirical.thesis import predicted_active_curve

        spectrum = np.asarray(reproduction.spectrum)
        ts = [c.effective_variance for c in fixed]
        thresholds = np.logspace(np.log10(min(ts)) - 1, np.log10(max(ts)) + 1, 400)
        predicted = {q: predicted_active_curve(spectrum, q, thresholds) for q in latents}
        measured = [(c.config, c.variance, c.latent, c.effective_variance, c.active_units) for c in fixed]
        fig = plots.plot_collapse(thresholds, predicted, measured, data_label=reproduction.data)
        data = {
            "thresholds": thresholds.tolist(),
            "predicted_active_units": {str(q): v.tolist() for q, v in predicted.items()},
            "measured": [
                {"config": n, "latent": q, "threshold": t, "active_units": a} for n, _, q, t, a in measured
            ],
            "spectrum": list(reproduction.spectrum),
        }
        written += save_figure(fig, out / "collapse", prov, data)
    return written


def make_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """Run (or resume/reuse) the reproduction on digits into ``out_dir`` and draw its figures there.

    Returns the figure files only (PDF, PNG and sidecar of each); the run's own files
    (``results.json``, ``summary.md``, ``configs/``) stay beside them.
    """
    from vaetheory.empirical.thesis_run import reproduce_thesis_chapter

    reproduction = reproduce_thesis_chapter(out_dir, data="digits", quick=quick, seed=seed)
    return draw_reproduction_figures(reproduction, out_dir)
