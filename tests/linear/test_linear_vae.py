"""The linear VAE (theory section 3; Lucas et al. 2019): closed-form ELBO, global optimum, rotation.

Independent routes: Monte Carlo over the encoder (fixed seed), scipy's dense multivariate normal
for the exact posterior, and numerical optimisation (scipy.optimize) of the closed-form ELBO.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from scipy.stats import norm, ortho_group

from tests.linear._tolerances import loglik_atol
from vaetheory.linear import (
    linear_vae_elbo,
    linear_vae_elbo_samples,
    linear_vae_optimum,
    optimal_diagonal_encoder,
    ppca_log_likelihood,
    ppca_log_likelihood_samples,
    ppca_mle,
    rotated_elbo,
    synthetic_ppca_data,
)


def _data(n=300, d=6, spectrum=(5.0, 2.0, 1.0), noise=0.4, seed=1):
    return synthetic_ppca_data(n, d, spectrum, noise, seed).data + 1.0


def _random_parameters(rng, d, q):
    return (
        rng.normal(size=(d, q)),
        0.3 * rng.normal(size=(q, d)),
        rng.uniform(0.1, 2.0, size=q),
        float(rng.uniform(0.2, 2.0)),
        rng.normal(size=d),
    )


@pytest.mark.parametrize("beta", [1.0, 0.3, 4.0])
def test_closed_form_elbo_matches_monte_carlo(beta):
    rng = np.random.default_rng(5)
    X = _data(n=20)
    d, q = X.shape[1], 3
    W, V, D, sigma2, mean = _random_parameters(rng, d, q)
    closed = linear_vae_elbo_samples(X, W, V, D, sigma2, mean, beta=beta)
    # Monte Carlo: E_q[log p(x|z)] by sampling z ~ q, KL(q || p) by sampling log q - log p
    n_samples = 100_000
    eps = rng.standard_normal((n_samples, q))
    for i, x in enumerate(X[:4]):
        m = V @ (x - mean)
        z = m + np.sqrt(D) * eps
        log_lik = norm.logpdf(x - mean - z @ W.T, scale=math.sqrt(sigma2)).sum(axis=1)
        log_q = norm.logpdf(z, loc=m, scale=np.sqrt(D)).sum(axis=1)
        log_prior = norm.logpdf(z).sum(axis=1)
        samples = log_lik - beta * (log_q - log_prior)
        stderr = samples.std() / math.sqrt(n_samples)
        assert abs(samples.mean() - closed[i]) < 5 * stderr, (i, samples.mean(), closed[i], stderr)


def test_elbo_is_below_the_log_likelihood_for_any_parameters():
    rng = np.random.default_rng(2)
    X = _data()
    for _ in range(5):
        W, V, D, sigma2, mean = _random_parameters(rng, X.shape[1], 2)
        elbo = linear_vae_elbo_samples(X, W, V, D, sigma2, mean)
        assert np.all(elbo <= ppca_log_likelihood_samples(X, W, sigma2, mean) + 1e-10)


@pytest.mark.parametrize("q", [1, 2, 3, 5])
def test_at_the_optimum_elbo_equals_ppca_log_likelihood(q):
    X = _data()
    opt = linear_vae_optimum(X, q)
    fit = ppca_mle(X, q)
    assert opt.noise_variance == pytest.approx(fit.noise_variance, rel=1e-12)
    on_data = linear_vae_elbo(X, opt.W, opt.V, opt.D, opt.noise_variance, opt.mean)
    # data vs closed form: tolerance from the cancelled size |y|^2 / sigma^2 (tests/linear/_tolerances.py)
    tol = loglik_atol(X, fit.noise_variance)
    assert on_data == pytest.approx(fit.log_likelihood_per_point, abs=tol)
    assert opt.elbo_per_point == pytest.approx(fit.log_likelihood_per_point, abs=tol)
    assert opt.log_likelihood_per_point == pytest.approx(fit.log_likelihood_per_point, abs=tol)
    assert len(opt.active_directions) == q


def test_optimal_encoder_is_the_exact_posterior():
    X = _data()
    opt = linear_vae_optimum(X, 2)
    W, sigma2 = opt.W, opt.noise_variance
    # exact posterior of pPCA: N(M^{-1} W^T y, sigma^2 M^{-1}) with M = W^T W + sigma^2 I
    M = W.T @ W + sigma2 * np.eye(2)
    np.testing.assert_allclose(opt.V, np.linalg.solve(M, W.T), atol=1e-12)
    np.testing.assert_allclose(np.diag(opt.D), sigma2 * np.linalg.inv(M), atol=1e-12)
    V, D = optimal_diagonal_encoder(W, sigma2)
    np.testing.assert_allclose(V, opt.V, atol=1e-12)
    np.testing.assert_allclose(D, opt.D, atol=1e-12)


def test_optimum_beats_numerical_optimisation_from_random_starts():
    X = _data(n=60, d=4, spectrum=(4.0, 1.5), noise=0.3, seed=4)
    d, q = 4, 2
    opt = linear_vae_optimum(X, q)
    mean = X.mean(axis=0)
    sizes = [d * q, q * d, q, 1]

    def negative(theta):
        W, V, log_D, log_s2 = np.split(theta, np.cumsum(sizes)[:-1])
        return -linear_vae_elbo(X, W.reshape(d, q), V.reshape(q, d), np.exp(log_D), math.exp(log_s2[0]), mean)

    rng = np.random.default_rng(0)
    for _ in range(2):
        start = 0.5 * rng.normal(size=sum(sizes))
        res = scipy.optimize.minimize(negative, start, method="L-BFGS-B", options={"maxiter": 5000})
        assert -res.fun <= opt.elbo_per_point + 1e-9
        assert -res.fun == pytest.approx(opt.elbo_per_point, abs=1e-5)


def test_rotation_keeps_likelihood_but_lowers_diagonal_elbo():
    X = _data()
    opt = linear_vae_optimum(X, 3)
    for seed in range(3):
        R = ortho_group.rvs(3, random_state=seed)
        assert ppca_log_likelihood(X, opt.W @ R, opt.noise_variance, opt.mean) == pytest.approx(
            opt.log_likelihood_per_point, rel=1e-12
        )
        assert rotated_elbo(X, opt, R) < opt.elbo_per_point - 1e-4
    signed_permutation = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert rotated_elbo(X, opt, signed_permutation) == pytest.approx(opt.elbo_per_point, rel=1e-12)
