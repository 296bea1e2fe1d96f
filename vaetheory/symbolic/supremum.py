r"""Is the 1-D Gaussian VAE's objective bounded? The n-point supremum, the blow-up path, the floor.

theory section 1 (unboundedness) and section 2 (the variance floor; Mattei & Frellsen 2018,
arXiv:1802.04826).

* Blow-up path (one point, or all points equal): :math:`w=0`, :math:`b=x`, :math:`q=p(z)`
  (:math:`m=0`, :math:`s=1`) gives :math:`\mathcal L = -\tfrac12\log(2\pi v)\to+\infty` as
  :math:`v\to0^+`, at the rate :math:`d\mathcal L/d\log v = -\tfrac12` per point.
* n points: maximising each point's encoder turns the ELBO into :math:`\sum_i\log p(x_i)`
  (:mod:`vaetheory.symbolic.one_point`), a function of :math:`(w,b,v)` through :math:`b` and
  :math:`c=w^2+v` only. With :math:`\sum_i(x_i-b)^2 = n[S_n + (\bar x-b)^2]`:
  :math:`\sup = -\tfrac n2(\log(2\pi S_n)+1)` on the ridge :math:`w^2+v=S_n`, :math:`b=\bar x`
  (finite iff :math:`S_n>0`, i.e. n >= 2 points not all equal).
* Floor :math:`v\ge\xi`: :math:`\sup\log p(x) = -\tfrac12\log(2\pi\xi)`, attained at
  :math:`v=\xi`, :math:`w=0`, :math:`b=x`; for n points :math:`-\tfrac n2\log(2\pi\xi)`.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import sympy as sp

from vaetheory.densities import variance_floor_bound
from vaetheory.results import Result
from vaetheory.symbolic._symbols import S_n, b, c, m, n, s, v, w, x, x_mean, xi
from vaetheory.symbolic.formula import Check, Formula, Step, check_identity, reduce_to_zero
from vaetheory.symbolic.one_point import derive_one_point

THEORY_UNBOUNDED = "theory section 1 (unboundedness)"
THEORY_FLOOR = "theory section 2 (the variance floor)"

#: the explicit path along which the ELBO of one point goes to +infinity: decoder ignores z, q = prior
BLOWUP_PATH = {w: 0, b: x, m: 0, s: 1}


@dataclasses.dataclass(frozen=True)
class Supremum(Result):
    """The n-point supremum, the blow-up path and its rate, and the variance floor."""

    blowup_path_elbo: Formula
    blowup_limit: Formula
    blowup_rate: Formula
    npoint_objective: Formula
    npoint_supremum: Formula
    npoint_maximiser_b: Formula
    npoint_maximiser_c: Formula
    floor_supremum: Formula
    floor_supremum_n_points: Formula
    checks: tuple[Check, ...]

    def floor_bound(self, xi: float, n_points: int = 1) -> float:
        r"""The floor bound :math:`-\tfrac n2\log(2\pi\xi)` as a float64.

        The value is :func:`vaetheory.densities.variance_floor_bound` (the package's one copy of the
        formula, which validates ``xi`` and ``n_points``), checked against the sympy-derived
        :attr:`floor_supremum_n_points` before it is returned. ``xi`` is a floor on the VARIANCE.
        """
        value = variance_floor_bound(1, xi, n_points=n_points)
        symbolic = self.floor_supremum_n_points.evaluate(n=n_points, xi=xi)
        if not math.isclose(value, symbolic, rel_tol=1e-12, abs_tol=1e-12):  # pragma: no cover
            raise AssertionError(f"floor bound {value} disagrees with the symbolic supremum {symbolic}")
        return value


@functools.lru_cache(maxsize=1)
def derive_supremum() -> Supremum:
    """Derive the blow-up path, the n-point supremum and the floor supremum (memoised)."""
    one = derive_one_point()
    elbo = one.elbo.expression
    log_marginal = one.log_marginal.expression

    # Blow-up path: decoder ignores z, mean at the point, q = prior.
    path_elbo = sp.expand(sp.expand_log(elbo.subs(BLOWUP_PATH)))
    path_presented = -sp.log(2 * sp.pi * v) / 2
    blowup_limit = sp.limit(path_elbo, v, 0, "+")
    t = sp.Symbol("t", real=True)  # t = log v
    rate = sp.diff(path_elbo.subs(v, sp.exp(t)), t)

    # n points: sum_i log p(x_i) with the per-point optimal encoders, in terms of b and c = w^2 + v.
    # sum_i (x_i - b)^2 = n (S_n + (x_mean - b)^2), checked below on three symbolic points.
    # Each point's term depends on x only through r^2 = (x - b)^2; the sum replaces r^2 by its mean.
    r = sp.Symbol("r", real=True)
    per_point = sp.expand(log_marginal.subs(v, c - w**2).subs(x, b + r))
    if per_point.has(w) or sp.Poly(per_point, r).degree() != 2 or per_point.coeff(r, 1) != 0:
        raise AssertionError("log p(x) should depend on (w, v) through c and on x through (x - b)^2")
    objective = sp.expand(n * per_point.subs(r**2, S_n + (x_mean - b) ** 2))
    grad = [sp.diff(objective, b), sp.diff(objective, c)]
    (argmax,) = sp.solve(grad, [b, c], dict=True, simplify=False)
    hess = sp.hessian(objective, (b, c)).subs(argmax).applyfunc(sp.cancel)
    sup_derived = sp.expand(sp.expand_log(objective.subs(argmax)))
    sup_presented = -n / 2 * (sp.log(2 * sp.pi * S_n) + 1)

    x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)
    pts = (x1, x2, x3)
    mean3 = sum(pts) / 3
    s3 = sum((p - mean3) ** 2 for p in pts) / 3
    decomposition = check_identity(
        "sum_of_squares_decomposition",
        "sum_i (x_i - b)^2 = n (S_n + (x_mean - b)^2), checked for n = 3 symbolic points",
        sum((p - b) ** 2 for p in pts),
        3 * (s3 + (mean3 - b) ** 2),
    )

    # Floor: maximise log N(x; b, c) over b, then over c = w^2 + v >= v >= xi.
    (b_star,) = sp.solve(sp.diff(log_marginal, b), b, simplify=False)
    profile = sp.expand(sp.expand_log(log_marginal.subs(b, b_star).subs(v, c - w**2)))
    d_profile = sp.diff(profile, c)
    floor_sup = sp.expand(sp.expand_log(profile.subs(c, xi)))
    floor_presented = -sp.log(2 * sp.pi * xi) / 2

    checks = (
        check_identity(
            "blowup_path_elbo", "ELBO(w=0, b=x, m=0, s=1) = -(1/2) log(2 pi v)", path_elbo, path_presented
        ),
        Check(
            "blowup_goes_to_infinity",
            "ELBO along the path -> +oo as v -> 0+",
            blowup_limit,
            blowup_limit == sp.oo,
        ),
        Check(
            "blowup_rate",
            "d ELBO / d log v = -1/2 along the path (per point)",
            rate,
            rate == sp.Rational(-1, 2),
        ),
        decomposition,
        check_identity("npoint_argmax_b", "the maximiser has b = x_mean", argmax[b], x_mean),
        check_identity("npoint_argmax_c", "the maximiser has w^2 + v = S_n", argmax[c], S_n),
        Check(
            "npoint_argmax_is_maximum",
            "Hessian in (b, c) at the maximiser is negative definite",
            sp.Tuple(hess[0, 0], sp.factor(hess.det())),
            bool(sp.factor(-hess[0, 0]).is_positive and sp.factor(hess.det()).is_positive),
        ),
        check_identity("npoint_supremum", "sup = -(n/2)(log(2 pi S_n) + 1)", sup_derived, sup_presented),
        Check(
            "npoint_supremum_diverges_when_points_equal",
            "as S_n -> 0+ (n = 1 or all points equal) the supremum -> +oo",
            sp.limit(sup_presented, S_n, 0, "+"),
            sp.limit(sup_presented, S_n, 0, "+") == sp.oo,
        ),
        check_identity("floor_argmax_b", "the likelihood is maximised over b at b = x", b_star, x),
        Check(
            "floor_profile_decreasing",
            "d/dc log N(x; x, c) = -1/(2c) < 0: maximum at the smallest c = xi",
            d_profile,
            bool((-d_profile).is_positive),
        ),
        check_identity(
            "floor_supremum", "sup_{v >= xi} log p(x) = -(1/2) log(2 pi xi)", floor_sup, floor_presented
        ),
        Check(
            "floor_bounds_the_blowup_path",
            "the blow-up path at v = xi reaches the floor bound",
            reduce_to_zero(path_presented.subs(v, xi) - floor_presented),
            reduce_to_zero(path_presented.subs(v, xi) - floor_presented) == 0,
        ),
    )
    fu = functools.partial(Formula, theory=THEORY_UNBOUNDED)
    ff = functools.partial(Formula, theory=THEORY_FLOOR)
    return Supremum(
        blowup_path_elbo=fu(
            key="blowup_path_elbo",
            title="ELBO along the blow-up path w=0, b=x, q=prior",
            lhs=r"\mathcal{L}\,\big|_{w=0,\,b=x,\,m=0,\,s=1}",
            expression=path_presented,
            steps=(Step("the one-point ELBO on the path", r"\mathcal{L}", path_elbo),),
        ),
        blowup_limit=fu(
            key="blowup_limit",
            title="limit as v -> 0+ along the path",
            lhs=r"\lim_{v\to0^+}\mathcal{L}\,\big|_{\text{path}}",
            expression=blowup_limit,
        ),
        blowup_rate=fu(
            key="blowup_rate",
            title="rate d ELBO / d log v along the path, per point",
            lhs=r"\frac{d\mathcal{L}}{d\log v}\Big|_{\text{path}}",
            expression=rate,
        ),
        npoint_objective=fu(
            key="npoint_objective",
            title="sum_i log p(x_i) (the ELBO at each point's optimal encoder), c = w^2 + v",
            lhs=r"\sum_{i=1}^n \log p(x_i)",
            expression=objective,
            steps=(
                Step("stationarity in b", r"\partial/\partial b", grad[0]),
                Step("stationarity in c = w^2 + v", r"\partial/\partial c", grad[1]),
            ),
        ),
        npoint_supremum=fu(
            key="npoint_supremum",
            title="sup over (w, b, v) of the n-point ELBO (S_n > 0)",
            lhs=r"\sup_{w,b,v}\sum_i \mathcal{L}_i",
            expression=sup_presented,
        ),
        npoint_maximiser_b=fu(
            key="npoint_maximiser_b", title="maximising b", lhs="b^*", expression=argmax[b]
        ),
        npoint_maximiser_c=fu(
            key="npoint_maximiser_c",
            title="maximising w^2 + v: the ridge w^2 + v = S_n, 0 < v <= S_n",
            lhs=r"(w^2 + v)^*",
            expression=argmax[c],
        ),
        floor_supremum=ff(
            key="floor_supremum",
            title="sup of log p(x) under the floor v >= xi (at v = xi, w = 0, b = x)",
            lhs=r"\sup_{v\ge\xi,\,w,\,b}\log p(x)",
            expression=floor_presented,
            steps=(
                Step("maximised over b (b = x)", r"\max_b \log p(x)", profile),
                Step("decreasing in c = w^2 + v", r"\partial/\partial c", d_profile),
                Step("at the smallest c = xi (w = 0, v = xi)", r"\sup", floor_presented),
            ),
        ),
        floor_supremum_n_points=ff(
            key="floor_supremum_n_points",
            title="n-point bound under the floor",
            lhs=r"\sup\sum_i\log p(x_i)",
            expression=n * floor_presented,
        ),
        checks=checks,
    )
