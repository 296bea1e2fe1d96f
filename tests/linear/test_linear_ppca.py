"""pPCA (theory section 3): the Woodbury log-likelihood, the ML estimate, all stationary points.

Independent routes: scikit-learn's PCA (with its n-1 convention), scipy's dense multivariate
normal, numerical optimisation (scipy.optimize) and finite-difference gradients and Hessians.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from scipy.stats import multivariate_normal
from sklearn.decomposition import PCA

from tests.linear._tolerances import loglik_atol
from vaetheory.linear import (
    max_log_likelihood,
    ppca_log_likelihood,
    ppca_log_likelihood_samples,
    ppca_mle,
    profile_log_likelihood,
    sample_moments,
    stationary_point,
    stationary_points,
    synthetic_ppca_data,
)


def _data(n=400, d=6, spectrum=(6.0, 3.0, 1.5), noise=0.3, seed=0, shift=2.0):
    return synthetic_ppca_data(n, d, spectrum, noise, seed).data + shift


@pytest.mark.parametrize("q", [1, 2, 4])
def test_log_likelihood_matches_scipy_dense_normal_for_any_parameters(q):
    X = _data()
    rng = np.random.default_rng(q)
    W, sigma2, mean = rng.normal(size=(6, q)), 0.7, rng.normal(size=6)
    dense = multivariate_normal(mean, W @ W.T + sigma2 * np.eye(6)).logpdf(X)
    ours = ppca_log_likelihood_samples(X, W, sigma2, mean)
    np.testing.assert_allclose(ours, dense, rtol=1e-12, atol=1e-10)
    assert ppca_log_likelihood(X, W, sigma2, mean) == pytest.approx(float(np.mean(ours)), rel=1e-15)


@pytest.mark.parametrize("q", [1, 2, 3, 5])
def test_ml_matches_scikit_learn_after_its_n_minus_1_convention(q):
    X = _data()
    n = X.shape[0]
    fit = ppca_mle(X, q)
    pca = PCA(n_components=q, svd_solver="full").fit(X)
    # scikit-learn's parameters are the ML ones times n / (n - 1)
    assert pca.noise_variance_ * (n - 1) / n == pytest.approx(fit.noise_variance, rel=1e-10)
    np.testing.assert_allclose(pca.get_covariance() * (n - 1) / n, fit.covariance(), atol=1e-10)
    # its score is our log-likelihood at its (n-1)-scaled parameters, and not above our ML value
    scale = n / (n - 1)
    ours_at_sklearn = ppca_log_likelihood(X, fit.W * math.sqrt(scale), fit.noise_variance * scale, fit.mean)
    assert pca.score(X) == pytest.approx(ours_at_sklearn, rel=1e-10)
    assert pca.score(X) < fit.log_likelihood_per_point


def test_ml_closed_form_equals_score_on_the_data():
    X = _data()
    for q in range(1, 6):
        fit = ppca_mle(X, q)
        # data vs closed form: tolerance from the cancelled size |y|^2 / sigma^2 (tests/linear/_tolerances.py)
        tol = loglik_atol(X, fit.noise_variance)
        assert fit.score(X) == pytest.approx(fit.log_likelihood_per_point, abs=tol)
        assert fit.score(X) == pytest.approx(float(np.mean(fit.score_samples(X))), rel=1e-15)
        moments = sample_moments(X)
        assert max_log_likelihood(moments.eigenvalues, q) == pytest.approx(
            profile_log_likelihood(moments.eigenvalues, q, fit.noise_variance), abs=tol
        )


def test_ml_beats_numerical_optimisation_from_random_starts():
    X = _data(n=300, d=5, spectrum=(4.0, 2.0), noise=0.5, seed=3)
    q = 2
    fit = ppca_mle(X, q)

    def negative(theta):
        W = theta[: 5 * q].reshape(5, q)
        return -ppca_log_likelihood(X, W, math.exp(theta[5 * q]), fit.mean)

    rng = np.random.default_rng(7)
    for _ in range(3):
        start = np.concatenate([rng.normal(size=5 * q), [math.log(rng.uniform(0.1, 3.0))]])
        res = scipy.optimize.minimize(negative, start, method="L-BFGS-B", options={"maxiter": 2000})
        assert -res.fun == pytest.approx(fit.log_likelihood_per_point, abs=1e-6)
        assert -res.fun <= fit.log_likelihood_per_point + 1e-9
        assert math.exp(res.x[-1]) == pytest.approx(fit.noise_variance, rel=1e-3)


def _flat_loglik(X, mean, d, q):
    def f(theta):
        return ppca_log_likelihood(X, theta[: d * q].reshape(d, q), theta[d * q], mean)

    return f


def _numerical_gradient(f, x, h=1e-6):
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _numerical_hessian(f, x, h=1e-4):
    k = x.size
    H = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        for j in range(i, k):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h * h
            )
    return H


def test_every_stationary_point_has_zero_gradient_and_only_the_top_q_is_a_maximum():
    d, q = 4, 2
    X = _data(n=500, d=d, spectrum=(5.0, 2.5, 1.0), noise=0.2, seed=11)
    moments = sample_moments(X)
    points = stationary_points(moments, q)
    assert points[0].is_maximum and points[0].retained == (1, 2)
    assert sum(p.is_maximum for p in points) == 1
    assert len(points) >= 4
    f = _flat_loglik(X, moments.mean, d, q)
    for p in points:
        theta = np.concatenate([p.W.ravel(), [p.noise_variance]])
        assert f(theta) == pytest.approx(p.log_likelihood_per_point, rel=1e-12)
        assert np.max(np.abs(_numerical_gradient(f, theta))) < 1e-6, p.retained
        top_curvature = np.max(np.linalg.eigvalsh(_numerical_hessian(f, theta)))
        if p.is_maximum:
            assert top_curvature < 1e-5  # flat only along the rotation W -> W R
        else:
            assert top_curvature > 1e-3, p.retained  # an ascent direction: a saddle
    # the maximum is the ML fit
    assert points[0].log_likelihood_per_point == pytest.approx(ppca_mle(moments, q).log_likelihood_per_point)


def test_stationary_point_rule_for_discarded_eigenvalues():
    X = _data(n=2000, d=5, spectrum=(6.0, 3.0, 2.0), noise=0.5, seed=2)
    moments = sample_moments(X)
    lam = moments.eigenvalues
    point = stationary_point(moments, 2, (1, 3))
    assert point.noise_variance == pytest.approx(np.mean(lam[[1, 3, 4]]))
    # keeping a direction whose eigenvalue is below the mean of the discarded ones is no stationary point
    with pytest.raises(ValueError, match="no stationary point"):
        stationary_point(moments, 2, (4, 5))
