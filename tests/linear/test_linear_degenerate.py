"""Degenerate data (theory sections 2-3): rank(S) <= q gives sigma^2_ML = 0, an unbounded
likelihood, and the exact rate -(d - r)/2 per unit of log sigma^2 (Dai & Wipf 2019, linear case)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.linear._tolerances import loglik_atol
from vaetheory.linear import (
    degenerate_path,
    linear_vae_elbo,
    optimal_diagonal_encoder,
    ppca_log_likelihood,
    ppca_mle,
    sample_moments,
    synthetic_ppca_data,
    unboundedness_rate,
)
from vaetheory.linear.ppca import loading_at

NOISE_VARIANCES = np.logspace(-9, -3, 7)


def _subspace_data(r=3, d=9, n=200, seed=0):
    return synthetic_ppca_data(n, d, (4.0, 2.0, 1.0, 0.5)[:r], 0.0, seed).data + 5.0


@pytest.mark.parametrize("q", [3, 5])
def test_rank_at_most_q_gives_zero_noise_variance_and_infinite_likelihood(q):
    X = _subspace_data()
    fit = ppca_mle(X, q)
    assert fit.rank == 3
    assert fit.degenerate and fit.noise_variance == 0.0 and fit.log_likelihood_per_point == math.inf
    with pytest.raises(ValueError, match="degenerate"):
        fit.score(X)
    assert not ppca_mle(X, 2).degenerate


@pytest.mark.parametrize("q", [3, 6])
def test_likelihood_and_elbo_grow_at_rate_d_minus_r_over_2_along_the_path(q):
    X = _subspace_data()
    moments = sample_moments(X)
    d, r = X.shape[1], moments.rank
    path = degenerate_path(moments, q, NOISE_VARIANCES)
    assert path.degenerate and path.rate == unboundedness_rate(d, r) == -(d - r) / 2
    measured, elbos = [], []
    for t in NOISE_VARIANCES:  # measured on the data, not from the eigenvalues
        W = loading_at(moments, q, t)
        V, D = optimal_diagonal_encoder(W, t)
        measured.append(ppca_log_likelihood(X, W, t, moments.mean))
        elbos.append(linear_vae_elbo(X, W, V, D, t, moments.mean))
    # The measured values cancel |y|^2 / sigma^2 (about tr S / 1e-9 = 1e10 at the smallest sigma^2)
    # down to r: their rounding error is eps times that size, not eps times the result (51 nats);
    # a relative 1e-8 failed on AVX-512 OpenBLAS (1.7e-8). Tolerances from the cancelled size:
    atol = np.array([loglik_atol(X, t) for t in NOISE_VARIANCES])
    gap = np.abs(np.asarray(measured) - path.log_likelihood_per_point)
    assert np.all(gap <= atol), (gap, atol)
    gap = np.abs(np.asarray(elbos) - np.asarray(measured))
    assert np.all(gap <= 2 * atol), (gap, atol)
    # a least-squares line through values each within atol: slope within 2 max(atol) / spread(log t)
    logt = np.log(NOISE_VARIANCES)
    slope, intercept = np.polyfit(logt, measured, 1)
    slope_tol = 2.0 * float(np.max(atol)) / float(np.ptp(logt))
    intercept_tol = float(np.max(atol)) + slope_tol * float(np.max(np.abs(logt)))
    assert float(slope) == pytest.approx(-(d - r) / 2, abs=slope_tol)
    assert float(intercept) == pytest.approx(path.intercept, abs=intercept_tol)
    assert np.all(np.diff(measured) < 0)  # larger as sigma^2 shrinks: unbounded


def test_non_degenerate_likelihood_falls_to_minus_infinity_along_the_path():
    X = _subspace_data(r=3)
    moments = sample_moments(X)
    path = degenerate_path(moments, 2, NOISE_VARIANCES)  # rank 3 > q = 2
    assert not path.degenerate and math.isnan(path.rate)
    assert np.all(np.diff(path.log_likelihood_per_point) > 0)
    assert path.log_likelihood_per_point[0] < -1e6
