"""The n-point supremum, the blow-up path and the variance floor, against scipy.optimize.

theory section 1 (unboundedness) and section 2 (the floor; Mattei & Frellsen 2018).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st
from scipy import optimize

from vaetheory.densities import variance_floor_bound
from vaetheory.symbolic import derive_one_point, derive_supremum

floors = st.floats(math.log(1e-6), math.log(10.0)).map(math.exp)
#: n = 2..5 data points, not all (nearly) equal
point_sets = st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=5).filter(
    lambda xs: np.var(xs) > 1e-2
)


@pytest.fixture(scope="module")
def sup():
    return derive_supremum()


def test_every_supremum_check_is_proved(sup):
    assert [c.name for c in sup.checks if not c.holds] == []


def npoint_elbo(params: np.ndarray, xs: np.ndarray) -> float:
    """Sum of one-point ELBOs over (w, b, log v) shared and (m_i, log s_i) per point."""
    elbo = derive_one_point().elbo.function()  # variables b, m, s, v, w, x
    n = xs.size
    w, b, log_v = params[:3]
    m, log_s = params[3 : 3 + n], params[3 + n :]
    return float(np.sum(elbo(b, m, np.exp(log_s), math.exp(log_v), w, xs)))


@given(xs=point_sets, seed=st.integers(0, 1000))
def test_npoint_supremum_matches_scipy_optimize(sup, xs, seed):
    xs = np.asarray(xs)
    n, s_n, mean = xs.size, float(np.var(xs)), float(np.mean(xs))
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(3):  # several random starts over the decoder and every encoder
        start = np.concatenate([rng.normal(size=3), rng.normal(size=n), rng.normal(scale=0.5, size=n)])
        runs.append(
            optimize.minimize(
                lambda p: -npoint_elbo(p, xs), start, method="BFGS", options={"gtol": 1e-10, "maxiter": 5000}
            )
        )
    best = min(runs, key=lambda r: r.fun)
    w, b, log_v = best.x[:3]
    value = sup.npoint_supremum.evaluate(n=n, S_n=s_n)
    note(f"best {-best.fun} at w={w}, b={b}, v={math.exp(log_v)}; symbolic {value}, S_n={s_n}")
    assert -best.fun == pytest.approx(value, abs=1e-7)
    assert value == pytest.approx(-(n / 2) * (math.log(2 * math.pi * s_n) + 1), rel=1e-13)
    assert all(-r.fun <= value + 1e-9 for r in runs)  # nothing beats it
    assert b == pytest.approx(sup.npoint_maximiser_b.evaluate(x_mean=mean), abs=1e-5)
    assert w**2 + math.exp(log_v) == pytest.approx(sup.npoint_maximiser_c.evaluate(S_n=s_n), rel=1e-5)


def test_npoint_objective_in_sufficient_statistics_matches_the_sum(sup):
    rng = np.random.default_rng(3)
    xs = rng.normal(size=7)
    lm = derive_one_point().log_marginal
    w, b, v = 0.4, -0.3, 0.8
    direct = float(np.sum(lm.evaluate(x=xs, w=w, b=b, v=v)))
    via_stats = sup.npoint_objective.evaluate(
        n=7, S_n=float(np.var(xs)), x_mean=float(np.mean(xs)), b=b, c=w**2 + v
    )
    assert via_stats == pytest.approx(direct, rel=1e-13)


@given(v=st.floats(math.log(1e-12), math.log(1e2)).map(math.exp), x=st.floats(-5, 5))
def test_blowup_path_elbo_is_minus_half_log_2_pi_v(sup, v, x):
    on_path = derive_one_point().elbo.evaluate(x=x, m=0.0, s=1.0, w=0.0, b=x, v=v)
    assert on_path == pytest.approx(sup.blowup_path_elbo.evaluate(v=v), rel=1e-13, abs=1e-13)
    assert on_path == pytest.approx(-0.5 * math.log(2 * math.pi * v), rel=1e-13, abs=1e-13)


def test_blowup_rate_is_minus_one_half_per_unit_log_v(sup):
    vs = np.logspace(-12, 0, 13)
    values = sup.blowup_path_elbo.evaluate(v=vs)
    slopes = np.diff(values) / np.diff(np.log(vs))
    assert np.allclose(slopes, float(sup.blowup_rate.expression), rtol=1e-10)
    assert float(sup.blowup_rate.expression) == -0.5
    # already ~12.9 nats per point at v = 1e-12, and growing without bound
    assert values[0] == pytest.approx(-0.5 * math.log(2 * math.pi * 1e-12), rel=1e-13)


@given(xi=floors, x=st.floats(-3, 3))
def test_floor_supremum_matches_scipy_optimize_and_the_shared_bound(sup, xi, x):
    lm = derive_one_point().log_marginal.function()  # variables b, v, w, x
    best = None
    for start in ([0.5, x + 1.0, 2 * xi + 1.0], [-1.0, 0.0, 10 * xi]):
        r = optimize.minimize(
            lambda p: -lm(p[1], p[2], p[0], x),
            start,
            method="L-BFGS-B",
            bounds=[(-5, 5), (-10, 10), (xi, max(100.0, 20 * xi))],
            options={"ftol": 1e-15, "gtol": 1e-12},
        )
        best = r if best is None or r.fun < best.fun else best
    value = sup.floor_supremum.evaluate(xi=xi)
    note(f"optimum {-best.fun} at (w, b, v) = {best.x}; symbolic {value}")
    assert value == pytest.approx(variance_floor_bound(1, xi), rel=1e-14, abs=1e-14)
    assert -best.fun == pytest.approx(value, abs=1e-7)
    assert -best.fun <= value + 1e-12
    w, b, v = best.x
    assert v == pytest.approx(xi, rel=1e-6) and abs(w) < 1e-3 and b == pytest.approx(x, abs=1e-3)


@given(xi=floors, n=st.integers(1, 50))
def test_floor_n_point_bound_is_the_shared_formula(sup, xi, n):
    assert sup.floor_supremum_n_points.evaluate(n=n, xi=xi) == pytest.approx(
        variance_floor_bound(1, xi, n_points=n), rel=1e-14, abs=1e-14
    )


@given(xi=floors, n=st.integers(1, 20))
def test_floor_bound_float_is_the_shared_formula_checked_against_sympy(sup, xi, n):
    assert sup.floor_bound(xi, n) == variance_floor_bound(1, xi, n_points=n)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_floor_bound_rejects_a_non_positive_floor(sup, bad):
    with pytest.raises(ValueError, match="floor_variance"):
        sup.floor_bound(bad)


@given(xs=point_sets, xi=floors)
def test_floor_bounds_every_npoint_likelihood(sup, xs, xi):
    xs = np.asarray(xs)
    assume(np.var(xs) > xi)
    # the unconstrained n-point supremum is below the floor bound whenever S_n >= xi
    unconstrained = sup.npoint_supremum.evaluate(n=xs.size, S_n=float(np.var(xs)))
    assert unconstrained <= sup.floor_supremum_n_points.evaluate(n=xs.size, xi=xi)
