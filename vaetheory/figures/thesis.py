"""Figures of the thesis chapter's study (chapter 5), drawn from a reproduction run.

* ``reconstructions_z<q>``: held-out originals over each configuration's reconstruction
  (chapter figures 5.4-5.5, 5.9-5.11, 5.13-5.14);
* ``latent_grid_z2``: the decoder mean \\mu(z) over a grid of z for q = 2 (figures 5.3, 5.16-5.18);
* ``samples_z<q>``: ancestral, \\mu(z) and \\mu(z) + \\alpha \\sigma(z) samples (figures 5.7, 5.12, 5.15);
* ``collapse``: measured active units against \\beta \\sigma^2 beside the linear VAE's prediction
  min(q, #{j : l_j > \\beta \\sigma^2}) (theory section 3).

:func:`draw_reproduction_figures` draws a finished run; :func:`make_figures` runs (or reuses) a
reproduction into ``out_dir`` and draws it there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaetheory.provenance import provenance

#: decimals kept for images in the figure sidecars (pixels in [0, 1]; 1/255 = 0.0039)
SIDECAR_DECIMALS = 3
#: samples per panel side in the sample figures (5 x 5 images)
SAMPLES_PER_SIDE = 5


def _images(a: np.ndarray) -> list:
    return np.round(np.asarray(a, dtype=np.float64), SIDECAR_DECIMALS).tolist()


def _p_grid_text(n: int) -> str:
    """The evenly spaced probabilities of :func:`vaetheory.studies.thesis_ch5.latent_grid`, in words."""
    from vaetheory.studies.thesis_ch5.evaluation import LATENT_GRID_P_RANGE

    p = np.linspace(*LATENT_GRID_P_RANGE, n)
    return ", ".join(f"{v:.2f}" for v in p) if n <= 3 else f"{p[0]:.2f}, {p[1]:.2f}, ..., {p[-1]:.2f}"


def clipped_shares(images: np.ndarray) -> tuple[float, float]:
    """Shares of the pixels below 0 and above 1: what the [0, 1] grey scale shows as black / white."""
    a = np.asarray(images, dtype=np.float64)
    return float(np.mean(a < 0.0)), float(np.mean(a > 1.0))


def _samples_note(configurations, clipped) -> str:
    """The sample figure's footnote: the fixed grey scale, and why a fixed large std saturates.

    ``clipped[name]["mean_plus_std"]``: shares below 0 / above 1 (:func:`clipped_shares`); the
    explanation is given for the fixed-std configurations whose \\mu(z) + \\alpha \\sigma(z) panel
    is saturated (share above 1 at least ``plots.thesis.SATURATED_SHARE``).
    """
    from vaetheory.plots.thesis import SATURATED_SHARE
    from vaetheory.studies.thesis_ch5.evaluation import SAMPLE_ALPHA

    text = (
        "Grey scale fixed at [0, 1] (black 0, white 1) in every panel; values outside are clipped; "
        "under each panel, the share of its pixels clipped."
    )
    stds = sorted(
        {
            c.sigma
            for c in configurations
            if c.policy == "fixed" and clipped[c.config]["mean_plus_std"][1] >= SATURATED_SHARE
        }
    )
    if stds:
        shift = ", ".join(f"{SAMPLE_ALPHA * s:g}" for s in stds)
        text += (
            f"\nWith a fixed std $\\sigma$ = {', '.join(f'{s:g}' for s in stds)}, "
            f"$\\mu(z) + {SAMPLE_ALPHA:g}\\,\\sigma(z) = \\mu(z) + {shift}$ is above 1 wherever "
            "$\\mu(z) > 0$: that image saturates to white (its shapes are those of the $\\mu(z)$ row)."
        )
    return text


def draw_reproduction_figures(reproduction, out_dir: str | Path) -> list[Path]:
    """Draw the figures of ``reproduction``, a :class:`~vaetheory.studies.thesis_ch5.ThesisReproduction`."""
    from vaetheory.plots import thesis as plots
    from vaetheory.plots.style import prepare_output_dir, save_figure
    from vaetheory.studies.thesis_ch5.evaluation import SAMPLE_ALPHA
    from vaetheory.studies.thesis_ch5.run import load_configuration_arrays

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

        shown = {n: {m: arrays[n][f"samples_{m}"][: SAMPLES_PER_SIDE**2] for m in mode_labels} for n in names}
        clipped = {n: {m: clipped_shares(v) for m, v in s.items()} for n, s in shown.items()}
        fig = plots.plot_samples(
            shown,
            mode_labels,
            shape,
            title=f"Samples with $z \\sim N(0, I)$, latent size q = {q}",
            per_side=SAMPLES_PER_SIDE,
            clipped=clipped,
            note=_samples_note([c for c in reproduction.configurations if c.latent == q], clipped),
        )
        data = {
            "alpha": SAMPLE_ALPHA,
            "display_range": [0.0, 1.0],
            "clipped_share_below_0_above_1": clipped,
            "samples": {n: {m: _images(v) for m, v in s.items()} for n, s in shown.items()},
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
            title=(
                "Decoder mean $\\mu(z)$ over a grid of $z$ (q = 2; $z = \\Phi^{-1}(p)$, "
                f"p = {_p_grid_text(len(grid_z))} on each axis)"
            ),
        )
        data = {"grid_z": grid_z.tolist(), "grid_means": {n: _images(v) for n, v in grids.items()}}
        written += save_figure(fig, out / "latent_grid_z2", prov, data)

    fixed = [c for c in reproduction.configurations if c.effective_variance is not None]
    if fixed:
        from vaetheory.studies.thesis_ch5.theory import predicted_active_curve

        learned = [c for c in reproduction.configurations if c.effective_variance is None]
        spectrum = np.asarray(reproduction.spectrum)
        measured = [(c.config, c.policy, c.latent, c.effective_variance, c.active_units) for c in fixed]
        # learned sigma(x): beta = 1 times the mean learned variance (the threshold needs a fixed sigma)
        measured += [(c.config, c.policy, c.latent, c.mean_decoder_variance, c.active_units) for c in learned]
        ts = [m[3] for m in measured]
        thresholds = np.logspace(np.log10(min(ts)) - 1, np.log10(max(ts)) + 1, 400)
        predicted = {q: predicted_active_curve(spectrum, q, thresholds) for q in latents}
        note = (
            "Linear theory: direction j is active iff $l_j > \\beta\\sigma^2$ ($l_j$: the\n"
            "data covariance's eigenvalues) for one fixed std $\\sigma$. A learned\n"
            "$\\sigma(x)$ varies by pixel and input, so those runs ($\\beta$ = 1) are\n"
            "placed at their mean learned variance, mean of $\\sigma^2(m(x))$:\n"
            "indicative only."
            if learned
            else None
        )
        fig = plots.plot_collapse(thresholds, predicted, measured, data_label=reproduction.data, note=note)
        data = {
            "thresholds": thresholds.tolist(),
            "predicted_active_units": {str(q): v.tolist() for q, v in predicted.items()},
            "measured": [
                {
                    "config": n,
                    "variance": v,
                    "policy": v,
                    "latent": q,
                    "threshold": t,
                    "threshold_is": "beta * sigma^2" if v == "fixed" else "mean learned variance (beta = 1)",
                    "active_units": a,
                }
                for n, v, q, t, a in measured
            ],
            "spectrum": list(reproduction.spectrum),
        }
        written += save_figure(fig, out / "collapse", prov, data)
    return written


def make_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """Run (or resume/reuse) the reproduction on digits into ``out_dir`` and draw its figures there.

    Returns the figure files only (PDF, PNG and sidecar of each); the run's own files
    (``results.json``, ``study.json``, ``summary.md``, ``configs/``) stay beside them.
    """
    from vaetheory.studies.thesis_ch5.run import reproduce_thesis_chapter

    reproduction = reproduce_thesis_chapter(out_dir, data="digits", quick=quick, seed=seed)
    return draw_reproduction_figures(reproduction, out_dir)
