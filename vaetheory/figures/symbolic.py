"""Figures of the symbolic module (theory sections 1-2): the thread's lambda-vs-sigma* question
and the 1-D unboundedness plot. Computed with :mod:`vaetheory.symbolic` (each value a float64
evaluation of a sympy-derived :class:`~vaetheory.symbolic.formula.Formula`), drawn with
:mod:`vaetheory.plots.symbolic`, saved with :func:`vaetheory.plots.style.save_figure`.

Nothing here is random: the provenance records ``seed`` as null.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaetheory.provenance import provenance

#: the lambdas drawn as ELBO(s) curves
CURVE_LAMBDAS = (0.25, 0.75, 2.0, 8.0, 64.0)
#: variance floors drawn on the unboundedness plot (floors on the VARIANCE)
FLOORS = (1e-6, 1e-4, 1e-2)
#: the n >= 2 data set of the unboundedness plot: two points at -1 and 1 (S_n = 1)
NPOINT_DATA = (-1.0, 1.0)


def sigma_star_figure(out_stem: Path, *, quick: bool, seed: int) -> list[Path]:
    """s*(lambda), correct and claimed; ELBO(s) curves with their maxima (theory section 1)."""
    from vaetheory.plots.style import save_figure
    from vaetheory.plots.symbolic import draw_sigma_star
    from vaetheory.symbolic import analyse_sigma_star

    thr = analyse_sigma_star()
    lambdas = np.logspace(-2, 3, 120 if quick else 400)
    s_true = thr.sigma_star.evaluate(lam=lambdas)
    s_claimed = thr.sigma_star_claimed.evaluate(lam=lambdas)
    s_claimed = np.where(lambdas > 0.5, s_claimed, np.nan)  # the formula needs lambda' > 0
    s_grid = np.logspace(-2.3, 0.6, 150 if quick else 500)
    curves = []
    for lam in CURVE_LAMBDAS:
        s_star = thr.sigma_star.evaluate(lam=lam)
        curve = {
            "lam": lam,
            "s": s_grid,
            "elbo": thr.elbo.evaluate(lam=lam, s=s_grid),
            "s_star": s_star,
            "elbo_star": thr.elbo_at_sigma_star.evaluate(lam=lam),
            "s_claimed": None,
            "elbo_claimed": None,
        }
        if lam > 0.5:
            s_c = thr.sigma_star_claimed.evaluate(lam=lam)
            curve.update(s_claimed=s_c, elbo_claimed=thr.elbo.evaluate(lam=lam, s=s_c))
        curves.append(curve)
    limit = float(thr.elbo_at_sigma_star_limit.expression)
    fig = draw_sigma_star(lambdas, s_true, s_claimed, curves, limit)
    data = {
        "setting": "w = 1, b = 0, x = 0, m = 0, v = 1/(2 lambda); theory section 1",
        "sigma_star": str(thr.sigma_star.expression),
        "sigma_star_claimed": str(thr.sigma_star_claimed.expression),
        "elbo": str(thr.elbo.expression),
        "lambda": lambdas,
        "sigma_star_values": s_true,
        "sigma_star_claimed_values": s_claimed,
        "curves": curves,
        "elbo_limit": limit,
    }
    params = {"curve_lambdas": list(CURVE_LAMBDAS), "quick": quick}
    maxima = "; ".join(
        f"lambda = {c['lam']:g}: s* = {c['s_star']:.3f}, ELBO {c['elbo_star']:.3f}" for c in curves
    )
    caption = (
        "The Cross Validated thread's question, identity decoder (w = 1, b = 0, x = 0, v = 1/(2 lambda); "
        "theory section 1). (a) The optimal encoder std s*(lambda) = (2 lambda + 1)^(-1/2) (thick) against "
        "the answer's (2 lambda')^(-1/2), lambda' = lambda - 1/2 (dotted), undefined for lambda <= 1/2 "
        f"(shaded); lambda = 1/(2v) is half the decoder precision, drawn for lambda = {lambdas[0]:g}.."
        f"{lambdas[-1]:g} (log-log). (b) ELBO(s) for several lambda (greys, labelled), each maximum a dot "
        f"and the answer's s* a cross: {maxima}; all stay below the supremum -(1/2) log(2 pi) = "
        f"{limit:.3f} (dashed), approached as lambda -> infinity: the ELBO is bounded."
    )
    prov = provenance(seed=None, parameters=params)  # nothing random
    return save_figure(fig, out_stem, prov, data, caption=caption)


def unboundedness_figure(out_stem: Path, *, quick: bool, seed: int) -> list[Path]:
    """The ELBO along the blow-up path against v, the floor bounds, the finite n >= 2 supremum."""
    from vaetheory.plots.style import save_figure
    from vaetheory.plots.symbolic import draw_unboundedness
    from vaetheory.symbolic import derive_supremum

    sup = derive_supremum()
    variances = np.logspace(-8, 1, 60 if quick else 200)
    path = sup.blowup_path_elbo.evaluate(v=variances)
    floors = []
    for xi in FLOORS:
        floors.append({"xi": xi, "bound": sup.floor_bound(xi)})
    points = np.asarray(NPOINT_DATA)
    s_n = float(np.var(points))
    npoint = {
        "n": points.size,
        "S_n": s_n,
        "points": points,
        "value": sup.npoint_supremum.evaluate(n=points.size, S_n=s_n) / points.size,
    }
    fig = draw_unboundedness(variances, path, floors, npoint)
    data = {
        "path": "w = 0, b = x, m = 0, s = 1 (q = prior); ELBO = -(1/2) log(2 pi v); theory section 1",
        "rate_per_unit_log_v": float(sup.blowup_rate.expression),
        "variances": variances,
        "path_elbo": path,
        "floors": floors,
        "npoint_supremum_per_point": npoint,
        "note": "floors are on the variance; with v >= xi the path stops at v = xi, on the bound",
    }
    params = {"floors": list(FLOORS), "npoint_data": list(NPOINT_DATA), "quick": quick}
    bounds = ", ".join(f"{f['bound']:.3f} for xi = {f['xi']:g}" for f in floors)
    caption = (
        "The 1-D Gaussian VAE has no maximum without a floor (theory section 1). Thick line: the ELBO of "
        "one point along the path w = 0, b = x, q = p(z), -(1/2) log(2 pi v), against the decoder "
        f"variance v = {variances[0]:g}..{variances[-1]:g} (log axis): it grows by "
        f"{-float(sup.blowup_rate.expression):g} nat per unit of -log v, without bound. Dashed, in each "
        f"floor's colour: the bound -(1/2) log(2 pi xi) of a floor v >= xi ({bounds}); the dot is where the "
        f"path meets it. Grey dashed: for n = {points.size} distinct points (S_n = {s_n:g}) and this linear "
        f"decoder the supremum per point is finite, -(1/2)(log 2 pi S_n + 1) = {npoint['value']:.3f}."
    )
    prov = provenance(seed=None, parameters=params)  # nothing random
    return save_figure(fig, out_stem, prov, data, caption=caption)


def make_figures(out_dir: Path, *, quick: bool, seed: int) -> list[Path]:
    """The symbolic module's catalogue figures (about a second either way)."""
    out_dir = Path(out_dir)
    written = sigma_star_figure(out_dir / "symbolic_sigma_star", quick=quick, seed=seed)
    written += unboundedness_figure(out_dir / "symbolic_unboundedness", quick=quick, seed=seed)
    return written
