"""The one-point closed forms of vaetheory.symbolic against independent numeric routes.

ELBO vs Monte Carlo (fixed seed) and vs quadrature; log p(x) vs quadrature; the posterior vs
quadrature moments; gap = KL(q || p(z|x)) numerically; the optimal encoder vs scipy.optimize.
theory section 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, note, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from tests.strategies import budget
from vaetheory.symbolic import derive_one_point
from vaetheory.symbolic.gaussian import normal_pdf, standard_normal_moment


def reals(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(math.log(lo), math.log(hi)).map(math.exp)


#: a data point, a decoder (w, b, v variance) and an encoder (m, s standard deviation)
cases = st.fixed_dictionaries(
    {
        "x": reals(-4, 4),
        "w": reals(-3, 3),
        "b": reals(-3, 3),
        "v": log_uniform(1e-2, 10),
        "m": reals(-3, 3),
        "s": log_uniform(5e-2, 3),
    }
)


LOG_2PI = math.log(2 * math.pi)


def log_normal(y, mean, variance):
    """log N(y; mean, variance) for floats, in plain math (fast inside quadrature)."""
    return -0.5 * (LOG_2PI + math.log(variance)) - 0.5 * (y - mean) ** 2 / variance


def log_joint(z, x, w, b, v):
    """log p(x|z) + log p(z), written directly from the model (the independent route)."""
    return log_normal(x, w * z + b, v) + log_normal(z, 0.0, 1.0)


def test_log_normal_helper_matches_scipy():
    assert log_normal(0.3, -1.2, 0.7) == pytest.approx(
        stats.norm.logpdf(0.3, -1.2, math.sqrt(0.7)), rel=1e-14
    )


def quad_log_marginal(x, w, b, v):
    """log int p(x|z) p(z) dz by quadrature around the numerically found mode (log-space shift)."""
    mode = optimize.minimize_scalar(lambda z: -log_joint(z, x, w, b, v)).x
    peak = log_joint(mode, x, w, b, v)
    # the posterior standard deviation is at most 1 (the prior's), so +-15 around the mode is enough
    val, _ = integrate.quad(
        lambda z: math.exp(log_joint(z, x, w, b, v) - peak),
        mode - 15,
        mode + 15,
        points=[mode],
        limit=400,
        epsabs=0,
        epsrel=1e-13,
    )
    return peak + math.log(val), mode


def quad_elbo(x, w, b, v, m, s):
    def integrand(z):
        log_q = log_normal(z, m, s * s)
        return math.exp(log_q) * (log_joint(z, x, w, b, v) - log_q)

    val, _ = integrate.quad(
        integrand, m - 14 * s, m + 14 * s, points=[m], limit=400, epsabs=1e-13, epsrel=1e-13
    )
    return val


@pytest.fixture(scope="module")
def one():
    return derive_one_point()


def test_every_one_point_identity_is_proved(one):
    failed = [c.name for c in one.checks if not c.holds]
    assert failed == []
    assert {c.name for c in one.checks} >= {
        "elbo_from_densities",
        "log_marginal_is_gaussian",
        "posterior_is_gaussian",
        "gap_is_kl_to_posterior",
        "elbo_at_optimum_is_log_marginal",
        "optimum_is_a_maximum",
    }


def test_standard_normal_moments_match_direct_integration():
    u = sp.Symbol("u", real=True)
    for k in range(3):
        direct = sp.integrate(u**k * normal_pdf(u, 0, 1), (u, -sp.oo, sp.oo))
        assert sp.simplify(standard_normal_moment(k) - direct) == 0


def test_elbo_matches_theory_md_form(one):
    x, m, s, w, b, v = sp.symbols("x m s w b v", real=True)
    theory = (
        -sp.log(2 * sp.pi * v) / 2
        - ((x - b - w * m) ** 2 + w**2 * s**2) / (2 * v)
        - (m**2 + s**2 - 1 - sp.log(s**2)) / 2
    )
    rng = np.random.default_rng(0)
    for _ in range(5):
        vals = dict(
            x=rng.normal(),
            m=rng.normal(),
            s=rng.uniform(0.1, 2),
            w=rng.normal(),
            b=rng.normal(),
            v=rng.uniform(0.1, 2),
        )
        expected = float(theory.subs({sp.Symbol(k, real=True): val for k, val in vals.items()}))
        assert one.elbo.evaluate(**vals) == pytest.approx(expected, rel=1e-13, abs=1e-13)


@given(case=cases)
def test_elbo_matches_quadrature(one, case):
    assert one.elbo.evaluate(**case) == pytest.approx(quad_elbo(**case), rel=1e-9, abs=1e-9)


@given(case=cases, seed=st.integers(0, 2**31 - 1))
def test_elbo_matches_monte_carlo(one, case, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(case["m"], case["s"], size=200_000)
    x, w, b, v, m, s = (case[k] for k in ("x", "w", "b", "v", "m", "s"))
    terms = stats.norm.logpdf(x, w * z + b, math.sqrt(v)) + stats.norm.logpdf(z) - stats.norm.logpdf(z, m, s)
    estimate, stderr = terms.mean(), terms.std(ddof=1) / math.sqrt(z.size)
    note(f"MC estimate {estimate} +- {stderr}")
    assert abs(one.elbo.evaluate(**case) - estimate) <= 5 * stderr + 1e-12


@given(case=cases)
def test_log_marginal_matches_quadrature(one, case):
    x, w, b, v = (case[k] for k in "xwbv")
    numeric, _ = quad_log_marginal(x, w, b, v)
    assert one.log_marginal.evaluate(x=x, w=w, b=b, v=v) == pytest.approx(numeric, rel=1e-10, abs=1e-10)


@given(case=cases)
def test_posterior_moments_match_quadrature(one, case):
    x, w, b, v = (case[k] for k in "xwbv")
    log_px, mode = quad_log_marginal(x, w, b, v)

    def moment(k):
        return integrate.quad(
            lambda z: z**k * math.exp(log_joint(z, x, w, b, v) - log_px),
            mode - 15,
            mode + 15,
            points=[mode],
            limit=400,
            epsabs=1e-13,
            epsrel=1e-12,
        )[0]

    mean = moment(1)
    var = moment(2) - mean**2
    assert one.posterior_mean.evaluate(x=x, w=w, b=b, v=v) == pytest.approx(mean, rel=1e-8, abs=1e-9)
    assert one.posterior_variance.evaluate(w=w, v=v) == pytest.approx(var, rel=1e-7, abs=1e-9)


@given(case=cases)
def test_gap_is_kl_to_exact_posterior_numerically(one, case):
    x, w, b, v, m, s = (case[k] for k in ("x", "w", "b", "v", "m", "s"))
    numeric_gap = quad_log_marginal(x, w, b, v)[0] - quad_elbo(**case)
    mu = one.posterior_mean.evaluate(x=x, w=w, b=b, v=v)
    tau = one.posterior_variance.evaluate(w=w, v=v)

    def integrand(z):
        log_q = log_normal(z, m, s * s)
        return math.exp(log_q) * (log_q - log_normal(z, mu, tau))

    kl, _ = integrate.quad(integrand, m - 14 * s, m + 14 * s, limit=400, epsabs=1e-13, epsrel=1e-12)
    assert one.gap.evaluate(**case) == pytest.approx(numeric_gap, rel=1e-8, abs=1e-8)
    assert one.kl_posterior.evaluate(**case) == pytest.approx(kl, rel=1e-8, abs=1e-9)
    assert one.gap.evaluate(**case) >= -1e-12


@given(case=cases)
def test_optimal_encoder_matches_scipy_optimize(one, case):
    x, w, b, v = (case[k] for k in "xwbv")
    elbo = one.elbo.function()  # arguments in one.elbo.variables order: b, m, s, v, w, x
    assert one.elbo.variables == ("b", "m", "s", "v", "w", "x")

    def neg(p):
        return -elbo(b, p[0], math.exp(p[1]), v, w, x)

    best = min(
        (
            optimize.minimize(neg, start, method="BFGS", options={"gtol": 1e-11})
            for start in ([0.0, 0.0], [case["m"], math.log(case["s"])], [-2.0, 1.0])
        ),
        key=lambda r: r.fun,
    )
    m_star = one.optimal_m.evaluate(x=x, w=w, b=b, v=v)
    s_star = one.optimal_s.evaluate(w=w, v=v)
    note(f"scipy optimum {best.x}, value {-best.fun}; symbolic m*={m_star}, s*={s_star}")
    assert best.x[0] == pytest.approx(m_star, abs=1e-5)
    assert math.exp(best.x[1]) == pytest.approx(s_star, rel=1e-5)
    assert -best.fun == pytest.approx(one.log_marginal.evaluate(x=x, w=w, b=b, v=v), abs=1e-9)
    # and nothing beats the symbolic optimum
    assert -best.fun <= one.elbo.evaluate(x=x, w=w, b=b, v=v, m=m_star, s=s_star) + 1e-12


def test_hessian_at_optimum_is_theory_md(one):
    w, v = sp.Symbol("w", real=True), sp.Symbol("v", positive=True)
    h = one.hessian_at_optimum.expression
    expected = sp.Matrix([[-(w**2 + v) / v, 0], [0, -2 - 2 * w**2 / v]])
    assert sp.simplify(sp.Matrix(h) - expected) == sp.zeros(2, 2)


@settings(max_examples=budget(4, 40))
@given(case=cases)
def test_gaussian_integral_helpers_match_mpmath_quadrature(case):
    """The change-of-variables helpers against 20-digit mpmath quadrature (no sympy integration)."""
    import mpmath

    from vaetheory.symbolic.gaussian import expectation, log_integral_of_exp_quadratic, normal_logpdf

    z = sp.Symbol("z", real=True)
    # exact rationals (the helpers check their algebra exactly), 6 significant digits
    x, w, b, v, m, s = (sp.Rational(f"{case[k]:.6g}") for k in ("x", "w", "b", "v", "m", "s"))
    with mpmath.workdps(20):
        g = normal_logpdf(x, w * z + b, v) + normal_logpdf(z, 0, 1)
        g_num = sp.lambdify(z, g, modules="mpmath")
        mode = w * (x - b) / (w**2 + v)  # only where to split the integration range
        exact = mpmath.quad(lambda t: mpmath.exp(g_num(t)), [-mpmath.inf, float(mode), mpmath.inf])
        ours = sp.N(log_integral_of_exp_quadratic(g, z), 20)
        assert abs(mpmath.log(exact) - mpmath.mpf(str(ours))) < mpmath.mpf("1e-15")

        f = 3 * z**2 - w * z + b
        f_num = sp.lambdify(z, f * sp.exp(normal_logpdf(z, m, s**2)), modules="mpmath")
        exact_e = mpmath.quad(f_num, [-mpmath.inf, float(m), mpmath.inf])
        ours_e = sp.N(expectation(f, z, m, s**2), 20)
        assert abs(exact_e - mpmath.mpf(str(ours_e))) < mpmath.mpf("1e-15") * (1 + abs(exact_e))
