"""Gaussian expectations and KL divergences of the checker against independent routes."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import given
from scipy import integrate, stats

from tests.strategies import positives, reals
from vaetheory.densities import gaussian_logpdf, kl_gaussian_standard
from vaetheory.symbolic.checker.gaussian import (
    gaussian_expectation,
    gaussian_kl,
    gaussian_log_density,
    gaussian_raw_moment,
)

M, V = sp.Symbol("m", real=True), sp.Symbol("v", positive=True)
Z = sp.Symbol("z", real=True)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, 5])
def test_raw_moments_match_sympy_integration(k):
    by_integration = sp.integrate(
        Z**k * sp.exp(-((Z - M) ** 2) / (2 * V)) / sp.sqrt(2 * sp.pi * V), (Z, -sp.oo, sp.oo)
    )
    assert sp.simplify(gaussian_raw_moment(k, M, V) - by_integration) == 0


@given(m=reals(-3, 3), s2=positives(1e-2, 5.0))
def test_kl_to_standard_normal_matches_the_shared_formula(m, s2):
    kl = gaussian_kl(M, V, 0, 1)
    value = float(kl.subs({M: m, V: s2}))
    assert value == pytest.approx(float(kl_gaussian_standard(m, s2)), rel=1e-12, abs=1e-12)


@given(m=reals(-2, 2), s2=positives(0.05, 3.0), x=reals(-2, 2), v=positives(0.1, 3.0))
def test_expected_log_density_matches_quadrature(m, s2, x, v):
    expr = gaussian_expectation(gaussian_log_density(x, Z, v), Z, m, s2)
    q = stats.norm(m, math.sqrt(s2))
    sd = math.sqrt(s2)
    quad, _ = integrate.quad(
        lambda z: q.pdf(z) * gaussian_logpdf(x, z, v), m - 12 * sd, m + 12 * sd, limit=200
    )
    assert float(expr) == pytest.approx(quad, rel=1e-8, abs=1e-9)


def test_thread_expectation_is_minus_lambda_s2_plus_half_log_lambda_over_pi():
    lam, s = sp.symbols("lam s", positive=True)
    value = gaussian_expectation(gaussian_log_density(0, Z, 1 / (2 * lam)), Z, 0, s**2)
    assert sp.simplify(value - (-lam * s**2 + sp.log(lam / sp.pi) / 2)) == 0  # theory section 1
