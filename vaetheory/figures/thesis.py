"""Figures of the thesis chapter's study (chapter 5), drawn from a reproduction run.

* ``reconstructions_z<q>``: held-out originals over each configuration's reconstruction
  (chapter figures 5.4-5.5, 5.9-5.11, 5.13-5.14);
* ``latent_grid_z2``: the decoder mean \\mu(z) over a grid of z for q = 2 (figures 5.3, 5.16-5.18);
* ``samples_z<q>``: ancestral, \\mu(z) and \\mu(z) + \\alpha \\sigma(z) samples (figures 5.7, 5.12, 5.15);
* ``collapse``: measured active units against \\beta \\sigma^2 beside the linear VAE's prediction
  min(q, #{j : l_j > \\beta \\sigma^2}) (theory section 3).

:func:`draw_reproduction_figures` draws a finished run; :func:`make_figures` runs (or reuses) a
reproduction into ``out_dir`` and draws it there. Panels are labelled in math from each
configuration's typed fields (:func:`configuration_label`: ``$\\sigma = 10^{-4}$ fixed``, never the
label ``fixed-sigma0.0001-z2``); each figure's caption (sidecar ``caption``) says what is drawn,
the measured numbers and which sample panels were left out and why (:func:`sample_panels`: a
panel that would be saturated, or identical on an 8-bit display to one drawn above it). The
figures' provenance is the study's own record (:func:`figure_provenance`), built once, by the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: decimals kept for images in the figure sidecars (pixels in [0, 1]; 1/255 = 0.0039)
SIDECAR_DECIMALS = 3
#: samples per panel side in the sample figures (5 x 5 images)
SAMPLES_PER_SIDE = 5
#: two images closer than this everywhere (half an 8-bit grey level) look identical on screen and paper
IDENTICAL_PIXELS = 0.5 / 255
#: the sampling modes, in the order of the sample figure's rows, with their labels
MODE_ORDER = ("ancestral", "mean", "mean_plus_std")


def configuration_label(c) -> str:
    """A configuration's label in math, from its typed fields (policy, sigma, beta), never its name.

    ``learned $\\sigma^2(z)$``, ``$\\sigma = 1$ fixed``, ``$\\sigma = 10^{-4}$ fixed``, ``$\\beta = 4$,
    $\\sigma = 1$ fixed`` (``sigma`` is a standard deviation, as everywhere in the study).
    """
    from vaetheory.plots.style import power_of_ten

    if c.policy == "learned":
        text = r"learned $\sigma^2(z)$"
    elif c.policy == "fixed" and c.sigma is not None:
        sigma = c.sigma
        value = "1" if sigma == 1 else power_of_ten(sigma)[1:-1] if _is_power_of_ten(sigma) else f"{sigma:g}"
        text = rf"$\sigma = {value}$ fixed"
    else:
        text = c.policy
    if c.beta != 1:
        text = rf"$\beta = {c.beta:g}$, " + text
    return text


def _is_power_of_ten(v: float) -> bool:
    import math

    return v > 0 and abs(math.log10(v) - round(math.log10(v))) < 1e-12


def figure_provenance(reproduction) -> dict:
    """The figures' provenance: the study's record (``reproduction.provenance``, built once, by
    :mod:`vaetheory.studies.thesis_ch5.run`), its parameters joined by where the run lies and the data's
    source; the command and commit are the study's, which computed every number drawn."""
    record = dict(reproduction.provenance)
    record["parameters"] = {
        **dict(record.get("parameters") or {}),
        "data_source": reproduction.data_source,
        "reproduction_dir": str(reproduction.out_dir),
    }
    return record


#: the sampling modes in math, short (a panel that stands for several modes lists them)
MODE_MATH = {"ancestral": "$x$", "mean": "$\\mu(z)$", "mean_plus_std": "$\\mu(z) + \\sigma(z)$"}


def sample_panels(configuration, samples: dict, clipped: dict) -> tuple[dict, list[str]]:
    """The sample panels of one configuration worth drawing, and why each other one was left out.

    ``samples[mode]``: the images of one panel; ``clipped[mode]``: (share < 0, share > 1). A panel
    is left out when at least :data:`vaetheory.plots.thesis.SATURATED_SHARE` of its pixels are above 1
    (shown all white), or when it differs from a panel kept before it (in :data:`MODE_ORDER`) by
    less than :data:`IDENTICAL_PIXELS` everywhere (the same image on an 8-bit display). Returns
    ``(kept {mode: images}, reasons)``, each reason a sentence with the measured number.
    """
    from vaetheory.plots.thesis import SATURATED_SHARE

    kept: dict = {}
    reasons: list[str] = []
    for mode in MODE_ORDER:
        if mode not in samples:
            continue
        images = np.asarray(samples[mode], dtype=np.float64)
        above = clipped[mode][1]
        if above >= SATURATED_SHARE:
            reasons.append(f"{MODE_TEXT[mode]} is saturated ({above:.0%} of its pixels > 1)")
            continue
        same = next(
            (m for m, v in kept.items() if float(np.max(np.abs(images - v))) < IDENTICAL_PIXELS), None
        )
        if same is not None:
            diff = float(np.max(np.abs(images - kept[same])))
            reasons.append(
                f"{MODE_TEXT[mode]} equals {MODE_TEXT[same]} (largest pixel difference {diff:.1g})"
            )
            continue
        kept[mode] = images
    return kept, reasons


def _merged_labels(kept: dict, samples: dict) -> dict:
    """For a kept panel that other (left-out) modes equal on screen: ``$x$ = $\\mu(z)$ = ...``."""
    out = {}
    for mode, images in kept.items():
        equal = [
            m
            for m in MODE_ORDER
            if m != mode
            and m in samples
            and m not in kept
            and float(np.max(np.abs(np.asarray(samples[m], dtype=np.float64) - images))) < IDENTICAL_PIXELS
        ]
        if equal:
            out[mode] = " = ".join(MODE_MATH[m] for m in (mode, *equal))
    return out


#: the sampling modes in caption text
MODE_TEXT = {"ancestral": "ancestral x", "mean": "mu(z)", "mean_plus_std": "mu(z) + sigma(z)"}


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


def _plain(label: str) -> str:
    """A mathtext label as caption text (``$\\sigma = 10^{-4}$ fixed`` -> ``sigma = 10^-4 fixed``)."""
    import re

    text = label.replace(r"\sigma", "sigma").replace(r"\beta", "beta").replace(r"\mu", "mu")
    text = re.sub(r"\^\{([^}]*)\}", r"^\1", text)
    return re.sub(r"[${}\\]", "", text)


def draw_reproduction_figures(reproduction, out_dir: str | Path) -> list[Path]:
    """Draw the figures of ``reproduction``, a :class:`~vaetheory.studies.thesis_ch5.ThesisReproduction`."""
    from vaetheory.plots import thesis as plots
    from vaetheory.plots.style import prepare_output_dir, save_figure
    from vaetheory.studies.thesis_ch5.evaluation import SAMPLE_ALPHA
    from vaetheory.studies.thesis_ch5.run import load_configuration_arrays

    out = prepare_output_dir(out_dir)
    run_dir = Path(reproduction.out_dir)
    shape = tuple(reproduction.image_shape)
    prov = figure_provenance(reproduction)
    arrays = {
        c.config: load_configuration_arrays(run_dir / "configs" / c.config)
        for c in reproduction.configurations
    }
    labels = {c.config: configuration_label(c) for c in reproduction.configurations}
    latents = sorted({c.latent for c in reproduction.configurations})
    mode_labels = {
        "ancestral": "ancestral\n$x \\sim N(\\mu(z), \\sigma^2(z))$",
        "mean": "$\\mu(z)$",
        "mean_plus_std": f"$\\mu(z) + {SAMPLE_ALPHA:g}\\,\\sigma(z)$",
    }
    where = (
        f"{reproduction.data} ({reproduction.n_train} training, {reproduction.n_test} held-out images; "
        f"{reproduction.settings.get('steps')} steps, seed {reproduction.seed})"
    )
    written: list[Path] = []
    for q in latents:
        configs = [c for c in reproduction.configurations if c.latent == q]
        names = [c.config for c in configs]
        originals = arrays[names[0]]["originals"]
        recon = {labels[n]: arrays[n]["reconstructions"] for n in names}
        fig = plots.plot_reconstructions(originals, recon, shape)
        mse = "; ".join(f"{_plain(labels[c.config])} {c.recon_mse:.4f}" for c in configs)
        caption = (
            f"Held-out images of {where} (top row) and each configuration's reconstruction mu(m(x)), "
            f"latent size q = {q}; grey scale fixed at [0, 1] (black 0, white 1). Held-out "
            f"reconstruction MSE per pixel: {mse}."
        )
        data = {
            "originals": _images(originals),
            "reconstructions": {n: _images(arrays[n]["reconstructions"]) for n in names},
        }
        written += save_figure(fig, out / f"reconstructions_z{q}", prov, data, caption=caption)

        shown = {n: {m: arrays[n][f"samples_{m}"][: SAMPLES_PER_SIDE**2] for m in mode_labels} for n in names}
        clipped = {n: {m: clipped_shares(v) for m, v in s.items()} for n, s in shown.items()}
        panels, dropped, panel_labels = {}, [], {}
        for c in configs:
            kept, reasons = sample_panels(c, shown[c.config], clipped[c.config])
            panels[labels[c.config]] = kept
            dropped += [f"{_plain(labels[c.config])}: {r}" for r in reasons]
            panel_labels[labels[c.config]] = _merged_labels(kept, shown[c.config])
        fig = plots.plot_samples(
            panels,
            mode_labels,
            shape,
            per_side=SAMPLES_PER_SIDE,
            clipped={labels[n]: v for n, v in clipped.items()},
            panel_labels=panel_labels,
        )
        caption = (
            f"Samples with z ~ N(0, I), latent size q = {q}, {SAMPLES_PER_SIDE**2} per panel, the same z "
            f"in every panel of a column: ancestral x ~ N(mu(z), sigma^2(z)), the decoder mean mu(z) and "
            f"mu(z) + {SAMPLE_ALPHA:g} sigma(z); grey scale fixed at [0, 1], values outside clipped (the "
            "share clipped is written under each panel). Mean pixel variance across samples, ancestral / "
            "mu(z): "
            + "; ".join(
                f"{_plain(labels[c.config])} {c.sample_pixel_variance['ancestral']:.3g} / "
                f"{c.sample_pixel_variance['mean']:.3g}"
                for c in configs
            )
            + "."
        )
        if dropped:
            caption += (
                " Not drawn (a fixed sigma makes mu(z) + sigma(z) a constant shift of mu(z), and a tiny "
                "one makes x equal mu(z)): " + "; ".join(dropped) + "."
            )
        data = {
            "alpha": SAMPLE_ALPHA,
            "display_range": [0.0, 1.0],
            "clipped_share_below_0_above_1": clipped,
            "samples": {n: {m: _images(v) for m, v in s.items()} for n, s in shown.items()},
            "drawn": {n: list(panels[labels[n]]) for n in names},
            "not_drawn": dropped,
        }
        written += save_figure(fig, out / f"samples_z{q}", prov, data, caption=caption)

    grid_configs = [c for c in reproduction.configurations if c.latent == 2]
    if grid_configs:
        grid_names = [c.config for c in grid_configs]
        grid_z = arrays[grid_names[0]]["grid_z"]
        grids = {labels[n]: arrays[n]["grid_means"] for n in grid_names}
        fig = plots.plot_latent_grids(grids, grid_z, shape)
        spread = "; ".join(
            f"{_plain(labels[c.config])} {c.latent_grid_pixel_variance:.3g}"
            for c in grid_configs
            if c.latent_grid_pixel_variance is not None
        )
        caption = (
            f"The decoder mean mu(z) over a {len(grid_z)} x {len(grid_z)} grid of z for latent size q = 2 "
            f"(z = Phi^-1(p), p = {_p_grid_text(len(grid_z))} on each axis; z_1 left to right, z_2 top to "
            f"bottom), trained on {where}. Mean pixel variance across the grid: {spread}."
        )
        data = {
            "grid_z": grid_z.tolist(),
            "grid_means": {n: _images(arrays[n]["grid_means"]) for n in grid_names},
        }
        written += save_figure(fig, out / "latent_grid_z2", prov, data, caption=caption)

    written += _collapse_figure(reproduction, latents, out, prov, where)
    return written


def _collapse_figure(reproduction, latents, out: Path, prov: dict, where: str) -> list[Path]:
    """``collapse``: measured active units against the threshold beside the linear prediction."""
    from vaetheory.plots import thesis as plots
    from vaetheory.plots.style import save_figure

    fixed = [c for c in reproduction.configurations if c.effective_variance is not None]
    if not fixed:
        return []
    from vaetheory.studies.thesis_ch5.theory import predicted_active_curve

    learned = [c for c in reproduction.configurations if c.effective_variance is None]
    spectrum = np.asarray(reproduction.spectrum)
    measured = [(c.config, c.policy, c.latent, c.effective_variance, c.active_units) for c in fixed]
    # learned sigma(x): placed at pPCA's sigma^2_ML(q), the threshold table.md's linear-theory column uses
    # (one definition for figure and table; a per-pixel sigma^2(x) is not one threshold)
    measured += [
        (c.config, c.policy, c.latent, c.predicted_threshold_variance, c.active_units) for c in learned
    ]
    ts = [m[3] for m in measured]
    thresholds = np.logspace(np.log10(min(ts)) - 1, np.log10(max(ts)) + 1, 400)
    predicted = {q: predicted_active_curve(spectrum, q, thresholds) for q in latents}
    fig = plots.plot_collapse(thresholds, predicted, measured)
    agree = sum(c.active_units == c.predicted_active_units for c in fixed)
    runs = "; ".join(
        f"{_plain(configuration_label(c))}, q = {c.latent}: {c.active_units} active (theory "
        f"{c.predicted_active_units})"
        for c in fixed
    )
    caption = (
        f"Posterior collapse on {where}: active units (A_u = Var_x m_u(x) > 0.01) against the collapse "
        "threshold beta sigma^2 (a variance, log axis). Lines: the linear VAE's prediction "
        f"min(q, #{{j : l_j > beta sigma^2}}), l_j the eigenvalues of the data covariance (theory "
        f"section 3; thick: q = {latents[-1]}"
        + (f", dotted: q = {', '.join(str(q) for q in latents[:-1])}" if len(latents) > 1 else "")
        + f"). Markers: trained runs (filled circles q = {latents[-1]}, open squares smaller q), coloured "
        f"by policy. Fixed sigma: {agree} of {len(fixed)} runs have the predicted count ({runs})."
    )
    if learned:
        caption += (
            " A learned sigma(x) varies by pixel and input, so those runs (beta = 1) are placed at the "
            "threshold table.md uses for them, pPCA's sigma^2_ML(q) (the mean of the discarded eigenvalues), "
            "where a learned linear variance settles ("
            + "; ".join(
                f"q = {c.latent}: sigma^2_ML {c.predicted_threshold_variance:.3g}, {c.active_units} active "
                f"(mean learned variance {c.mean_decoder_variance:.3g})"
                for c in learned
            )
            + "): indicative only."
        )
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
                "threshold_is": "beta * sigma^2" if v == "fixed" else "sigma^2_ML(q) (beta = 1), as table.md",
                "active_units": a,
            }
            for n, v, q, t, a in measured
        ],
        "spectrum": list(reproduction.spectrum),
    }
    return save_figure(fig, out / "collapse", prov, data, caption=caption)


def make_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """Run (or resume/reuse) the reproduction on digits into ``out_dir`` and draw its figures there.

    Returns the figure files only (PDF, PNG and sidecar of each); the run's own files
    (``results.json``, ``study.json``, ``summary.md``, ``configs/``) stay beside them.
    """
    from vaetheory.studies.thesis_ch5.run import reproduce_thesis_chapter

    reproduction = reproduce_thesis_chapter(out_dir, data="digits", quick=quick, seed=seed)
    return draw_reproduction_figures(reproduction, out_dir)
