"""Figures of the linear module: eigen-spectrum with collapse thresholds, linear unboundedness,
latent/noise variance split. Computed with :mod:`vaetheory.linear`, drawn with
:mod:`vaetheory.plots.linear`, saved with :func:`vaetheory.plots.style.save_figure`.

``make_figures`` (the catalogue entry) uses scikit-learn's digits with pixels scaled to [0, 1]
(``load_digits(scale="unit")``, as the thesis and empirical figures do, so that variances and
thresholds compare across a paper; the ``vaetheory linear`` command uses data as given) for the
spectrum and the split, and synthetic pPCA data drawn with ``seed`` for the unboundedness plot.
:func:`make_data_figures` draws the same three figures for any data matrix (``vaetheory linear --out``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaetheory.provenance import provenance

#: the catalogue's choices
DIGITS_Q = 10
DIGITS_BETAS = (1.0, 4.0, 10.0)
#: pixels of the catalogue's digits: raw 0..16 divided by 16
DIGITS_SCALE = "unit"
DIGITS_LABEL = "digits, pixels scaled to [0, 1]"
SYNTHETIC_SPECTRUM = (5.0, 3.0, 1.0)
SYNTHETIC_DIM = 10
SYNTHETIC_NOISE = 0.1


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def spectrum_figure(
    out_stem: Path, X, moments, q: int, betas, fixed_variances, prov_params, seed, title, ylabel=None
):
    """Eigen-spectrum with the sigma^2 and beta sigma^2 thresholds; collapse at the largest one."""
    from vaetheory.linear import beta_vae_optimum, ppca_mle
    from vaetheory.plots.linear import draw_spectrum
    from vaetheory.plots.style import save_figure

    fit = ppca_mle(moments, q)
    sigma2s = list(fixed_variances) or ([] if fit.degenerate else [fit.noise_variance])
    source = "fixed" if fixed_variances else "ML"
    thresholds, optima = [], []
    for s2 in sigma2s:
        for beta in betas or [1.0]:
            opt = beta_vae_optimum(moments, q, beta, s2)
            optima.append(opt)
            name = (
                f"$\\sigma^2_{{{source}}}$"
                if beta == 1.0
                else f"$\\beta\\sigma^2_{{{source}}}$ ($\\beta$={beta:g})"
            )
            thresholds.append(
                {
                    "value": opt.effective_variance,
                    "label": f"{name} = {_fmt(opt.effective_variance)}: "
                    f"{len(opt.active_directions)} of {q} active",
                    "short_label": f"{name}: {len(opt.active_directions)} of {q} active",
                    "beta": beta,
                    "sigma2": s2,
                    "active_directions": opt.active_directions,
                    "collapsed_directions": opt.collapsed_directions,
                }
            )
    thresholds.sort(key=lambda th: th["value"])  # drawn dark to light in increasing order
    largest = max(optima, key=lambda o: o.effective_variance) if optima else None
    collapsed = largest.collapsed_directions if largest is not None else []
    shown = moments.eigenvalues[: max(moments.rank, 1)]
    zeros = moments.dim - shown.size
    note = (
        f"{zeros} zero eigenvalue{'s' if zeros > 1 else ''} (rank {moments.rank}) not drawn"
        if zeros
        else None
    )
    extra = {} if ylabel is None else {"ylabel": ylabel}
    fig = draw_spectrum(shown, q, thresholds, collapsed, **extra)
    data = {
        "eigenvalues": shown,
        "rank": moments.rank,
        "q": q,
        "thresholds": thresholds,
        "collapsed_at_largest_threshold": collapsed,
        "note": "eigenvalues below the numerical rank (zero) are not drawn on the log axis",
    }
    described = "; ".join(
        f"{_plain(th['label'].split(' = ')[0])} = {_fmt(th['value'])} keeps "
        f"{len(th['active_directions'])} of {q}"
        for th in thresholds
    )
    caption = (
        f"{title}. Eigenvalues l_j of the sample covariance S (log axis; dots: the q = {q} directions a "
        f"linear VAE can use, open: collapsed at the largest threshold {collapsed or 'none'}, grey: j > q) "
        "and "
        f"the thresholds beta sigma^2 (dashed) above which a linear VAE keeps direction j: {described}."
        + (f" {note}." if note else "")
    )
    return save_figure(fig, out_stem, provenance(seed=seed, parameters=prov_params), data, caption=caption)


def unboundedness_figure(out_stem: Path, datasets, q: int, noise_variances, prov_params, seed, title):
    """Log-likelihood per point along sigma^2 -> 0 (W at its optimum for each sigma^2), measured on
    the data with the Woodbury log-likelihood and the closed-form ELBO, with the exact theory line."""
    from vaetheory.linear import (
        degenerate_path,
        linear_vae_elbo,
        optimal_diagonal_encoder,
        ppca_log_likelihood,
    )
    from vaetheory.linear.ppca import loading_at
    from vaetheory.plots.linear import draw_unboundedness
    from vaetheory.plots.style import save_figure

    curves, data = [], {"q": q, "curves": []}
    finite_lows, highs = [], []
    for label, X, moments in datasets:
        path = degenerate_path(moments, q, noise_variances)
        loglik, elbo = [], []
        for t in noise_variances:
            W = loading_at(moments, q, t)
            V, D = optimal_diagonal_encoder(W, t)
            loglik.append(ppca_log_likelihood(X, W, t, moments.mean))
            elbo.append(linear_vae_elbo(X, W, V, D, t, moments.mean))
        curve = {
            "label": f"{label}: $\\log p$",
            "noise_variances": np.asarray(noise_variances),
            "log_likelihood": np.asarray(loglik),
            "elbo": np.asarray(elbo),
            "elbo_label": f"{label}: ELBO",
            "below_label": "below axes",
        }
        record = {
            "label": label,
            "rank": moments.rank,
            "dim": moments.dim,
            "noise_variances": noise_variances,
            "log_likelihood_per_point": loglik,
            "elbo_per_point": elbo,
            "closed_form_profile": path.log_likelihood_per_point,
            "degenerate": path.degenerate,
        }
        if path.degenerate:
            ts = np.asarray(noise_variances)
            ts = ts[ts < path.line_valid_below]
            curve["theory_noise_variances"] = ts
            curve["theory"] = path.theory_line(ts)
            curve["theory_label"] = "theory"
            record.update(rate=path.rate, intercept=path.intercept, line_valid_below=path.line_valid_below)
            highs.append(max(loglik))
            finite_lows.append(min(loglik))
        else:
            sigma2_ml = moments.ml_noise_variance(q)
            curve["optimum"] = sigma2_ml
            curve["optimum_label"] = "$\\sigma^2_{ML}$"
            best = max(loglik)
            highs.append(best)
            # show the peak and the whole sigma^2 >= sigma^2_ML side; only the sigma^2 -> 0 side,
            # which tends to -inf, may leave the axes (marked there)
            right = [v for t, v in zip(noise_variances, loglik) if t >= sigma2_ml]
            finite_lows.append(min([best - 25.0, *right]))
            record["sigma2_ML"] = sigma2_ml
        curves.append(curve)
        data["curves"].append(record)
    span = max(highs) - min(finite_lows)
    ylim = (min(finite_lows) - 0.05 * span, max(highs) + 0.08 * span)
    data["ylim"] = ylim
    data["note"] = (
        "non-degenerate curves leave the axes downwards (they tend to -inf as sigma^2 -> 0); "
        "values below ylim are marked by triangles on the bottom edge and listed here in full"
    )
    fig = draw_unboundedness(curves, ylim=ylim)
    parts = []
    for record in data["curves"]:
        if record["degenerate"]:
            parts.append(
                f"{record['label']} (rank {record['rank']} < d = {record['dim']}): log-likelihood grows as "
                f"-(d-r)/2 log sigma^2 (rate {record['rate']:.3g}; thick line: the exact theory line), "
                "reaching "
                f"{max(record['log_likelihood_per_point']):.1f} nats at sigma^2 = {min(noise_variances):.2g}"
            )
        else:
            parts.append(
                f"{record['label']} (full rank): maximum {max(record['log_likelihood_per_point']):.2f} nats "
                f"at sigma^2_ML = {_fmt(record['sigma2_ML'])} (star), -> -inf as sigma^2 -> 0 "
                "(triangles: below the axes)"
            )
    caption = (
        f"{title}. Log-likelihood per point (filled markers) and the ELBO at the optimal encoder (open "
        "squares) "
        f"against the decoder noise variance sigma^2 (log axis), W at its optimum for each sigma^2, q = {q}: "
        + "; ".join(parts)
        + "."
    )
    return save_figure(fig, out_stem, provenance(seed=seed, parameters=prov_params), data, caption=caption)


def split_figure(out_stem: Path, moments, latent_sizes, prov_params, seed, title, ylabel=None):
    """Latent / noise split of the total variance at the pPCA optimum, against q."""
    from vaetheory.linear import variance_split
    from vaetheory.plots.linear import draw_variance_split
    from vaetheory.plots.style import save_figure

    splits = [variance_split(moments, q) for q in latent_sizes]
    latent = [s.latent_variance for s in splits]
    noise = [s.noise_variance_total for s in splits]
    extra = {} if ylabel is None else {"ylabel": ylabel}
    fig = draw_variance_split(latent_sizes, latent, noise, moments.total_variance, **extra)
    data = {
        "q": list(latent_sizes),
        "latent_variance": latent,
        "noise_variance_total": noise,
        "noise_variance": [s.noise_variance for s in splits],
        "total_variance": moments.total_variance,
    }
    caption = (
        f"{title}. At the pPCA optimum, the total variance tr S = {_fmt(moments.total_variance)} (dashed) "
        f"splits into the latent part sum_(j<=q) (l_j - sigma^2_ML) (thick) and the noise part d sigma^2_ML "
        f"(dotted), for q = {latent_sizes[0]}..{latent_sizes[-1]}: at q = {latent_sizes[0]} the latent part "
        f"is {_fmt(latent[0])}, at q = {latent_sizes[-1]} it is {_fmt(latent[-1])} (noise {_fmt(noise[-1])})."
    )
    return save_figure(fig, out_stem, provenance(seed=seed, parameters=prov_params), data, caption=caption)


def _plain(label: str) -> str:
    """A mathtext label as plain caption text."""
    import re

    text = re.sub(r"\\([a-zA-Z]+)", r"\1 ", label)
    return re.sub(r" +", " ", re.sub(r"[${}]", "", text)).replace(" ^", "^").replace(" _", "_")


def _path_grid(moments, q: int, quick: bool) -> np.ndarray:
    """sigma^2 from 1e-9 l_1 to 3 l_1, with sigma^2_ML(q) and its neighbours (the curve's peak)."""
    top = float(moments.eigenvalues[0])
    grid = np.logspace(np.log10(top) - 9.0, np.log10(top) + 0.5, 12 if quick else 28)
    sigma2_ml = moments.ml_noise_variance(q)
    if sigma2_ml > 0:
        grid = np.append(grid, sigma2_ml * np.array([0.5, 1.0, 2.0]))
    return np.unique(grid)


def make_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """The linear module's catalogue figures (cheap: seconds in either mode)."""
    from vaetheory.datasets import load_digits
    from vaetheory.linear import sample_moments, synthetic_ppca_data

    out_dir = Path(out_dir)
    written: list[Path] = []
    X = load_digits(scale=DIGITS_SCALE)
    moments = sample_moments(X)
    digits = {"data": "digits", "scale": DIGITS_SCALE, "pixels": "raw 0..16 divided by 16, in [0, 1]"}
    params = {**digits, "q": DIGITS_Q, "betas": list(DIGITS_BETAS)}
    written += spectrum_figure(
        out_dir / "linear_spectrum_digits",
        X,
        moments,
        DIGITS_Q,
        DIGITS_BETAS,
        [],
        params,
        None,
        f"Eigen-spectrum and collapse thresholds of {DIGITS_LABEL}",
        ylabel="eigenvalue $l_j$ of $S$",
    )
    qs = list(range(1, min(moments.rank, moments.dim) - 1 if not quick else 31))
    written += split_figure(
        out_dir / "linear_variance_split_digits",
        moments,
        qs,
        {**digits, "q": qs},
        None,
        f"Latent / noise variance split of {DIGITS_LABEL}",
        ylabel="variance (sum over pixels)",
    )
    n = 300 if quick else 1000
    degenerate = synthetic_ppca_data(n, SYNTHETIC_DIM, SYNTHETIC_SPECTRUM, 0.0, seed).data
    regular = synthetic_ppca_data(n, SYNTHETIC_DIM, SYNTHETIC_SPECTRUM, SYNTHETIC_NOISE, seed).data
    m_deg, m_reg = sample_moments(degenerate), sample_moments(regular)
    q = len(SYNTHETIC_SPECTRUM)
    grid = np.logspace(-8, 1, 12 if quick else 28)
    sigma2_ml = m_reg.ml_noise_variance(q)
    # the non-degenerate curve's peak and its neighbourhood, so its shape reads on the axes
    grid = np.sort(np.append(grid, sigma2_ml * np.array([0.5, 1.0, 2.0])))
    params = {
        "data": "synthetic",
        "n": n,
        "d": SYNTHETIC_DIM,
        "spectrum": list(SYNTHETIC_SPECTRUM),
        "noise": [0.0, SYNTHETIC_NOISE],
        "q": q,
        "seed": seed,
    }
    written += unboundedness_figure(
        out_dir / "linear_unboundedness",
        [("noise 0", degenerate, m_deg), (f"noise {SYNTHETIC_NOISE:g}", regular, m_reg)],
        q,
        grid,
        params,
        seed,
        f"Likelihood along sigma^2 -> 0 on synthetic pPCA data (d = {SYNTHETIC_DIM}, n = {n}, q = {q})",
    )
    return written


def make_data_figures(out_dir, X, label: str, latent_sizes, betas, fixed_variances, seed=None) -> list[Path]:
    """The three figures for a given data matrix (``vaetheory linear --out``): spectrum and
    thresholds at the largest q, the unboundedness path at the largest q, and the split for all q
    below the rank."""
    from vaetheory.linear import sample_moments

    out_dir = Path(out_dir)
    moments = sample_moments(X)
    q = max(latent_sizes)
    params = {
        "data": label,
        "latent": list(latent_sizes),
        "beta": list(betas),
        "sigma2": list(fixed_variances),
    }
    written = spectrum_figure(
        out_dir / "linear_spectrum",
        X,
        moments,
        q,
        list(betas),
        list(fixed_variances),
        params,
        seed,
        f"{label}: eigen-spectrum, q = {q}",
    )
    written += unboundedness_figure(
        out_dir / "linear_unboundedness",
        [(label, X, moments)],
        q,
        _path_grid(moments, q, False),
        params,
        seed,
        f"{label}: likelihood along sigma^2 -> 0, q = {q}",
    )
    qs = list(range(1, max(2, min(moments.rank, moments.dim - 1, 80))))
    written += split_figure(
        out_dir / "linear_variance_split", moments, qs, params, seed, f"{label}: variance split"
    )
    return written
