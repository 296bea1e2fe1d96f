"""Variants of the linear VAE (theory section 3): fixed variance, beta-VAE, floor, variance split."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

from tests.linear._tolerances import loglik_atol
from vaetheory.densities import variance_floor_bound
from vaetheory.linear import (
    beta_vae_optimum,
    fixed_variance_optimum,
    floored_optimum,
    linear_vae_elbo,
    linear_vae_optimum,
    ppca_log_likelihood,
    ppca_mle,
    profile_log_likelihood,
    sample_moments,
    synthetic_ppca_data,
    variance_split,
)


def _data(n=400, d=8, spectrum=(6.0, 3.0, 1.0, 0.4), noise=0.1, seed=3):
    return synthetic_ppca_data(n, d, spectrum, noise, seed).data


def test_fixed_variance_collapses_exactly_the_directions_below_sigma2():
    X = _data()
    lam = sample_moments(X).eigenvalues
    sigma2 = 0.5 * (lam[2] + lam[3])  # between the third and the fourth eigenvalue
    opt = fixed_variance_optimum(X, 5, sigma2)
    assert opt.active_directions == [1, 2, 3]
    assert opt.collapsed_directions == [4, 5]
    norms = np.linalg.norm(opt.W, axis=0)
    np.testing.assert_allclose(norms[:3], np.sqrt(lam[:3] - sigma2), rtol=1e-12)
    assert np.all(norms[3:] == 0.0)
    np.testing.assert_allclose(opt.D[3:], 1.0)  # collapsed: q(z_j|x) is the prior
    np.testing.assert_allclose(opt.V[3:], 0.0)
    elbo = linear_vae_elbo(X, opt.W, opt.V, opt.D, sigma2, opt.mean)
    # data vs closed form: tolerance from the cancelled size |y|^2 / sigma^2 (tests/linear/_tolerances.py)
    tol = loglik_atol(X, sigma2)
    assert elbo == pytest.approx(opt.elbo_per_point, abs=tol)
    assert elbo == pytest.approx(ppca_log_likelihood(X, opt.W, sigma2, opt.mean), abs=2 * tol)


def test_fixed_variance_optimum_beats_numerical_optimisation():
    X = _data(n=80, d=4, spectrum=(3.0, 0.5), noise=0.2, seed=1)
    d, q, sigma2 = 4, 2, 0.6
    opt = fixed_variance_optimum(X, q, sigma2)
    mean = X.mean(axis=0)
    sizes = [d * q, q * d, q]

    def negative(theta):
        W, V, log_D = np.split(theta, np.cumsum(sizes)[:-1])
        return -linear_vae_elbo(X, W.reshape(d, q), V.reshape(q, d), np.exp(log_D), sigma2, mean)

    res = scipy.optimize.minimize(
        negative, np.random.default_rng(0).normal(size=sum(sizes)), method="L-BFGS-B"
    )
    assert -res.fun == pytest.approx(opt.elbo_per_point, abs=1e-5)
    assert -res.fun <= opt.elbo_per_point + 1e-9


@pytest.mark.parametrize(("beta", "sigma2"), [(0.25, 2.0), (2.0, 0.3), (5.0, 0.1)])
def test_beta_elbo_is_beta_times_elbo_at_beta_sigma2_plus_a_constant(beta, sigma2):
    X = _data()
    d, q = X.shape[1], 3
    rng = np.random.default_rng(0)
    consts = []
    for _ in range(3):
        W, V, D, mean = (
            rng.normal(size=(d, q)),
            rng.normal(size=(q, d)),
            rng.uniform(0.1, 2, q),
            rng.normal(size=d),
        )
        lhs = linear_vae_elbo(X, W, V, D, sigma2, mean, beta=beta)
        rhs = beta * linear_vae_elbo(X, W, V, D, beta * sigma2, mean)
        consts.append(lhs - rhs)
    expected = 0.5 * beta * d * math.log(2 * math.pi * beta * sigma2) - 0.5 * d * math.log(
        2 * math.pi * sigma2
    )
    np.testing.assert_allclose(consts, expected, rtol=1e-10)


def test_small_beta_and_small_fixed_variance_act_alike():
    X = _data()
    lam = sample_moments(X).eigenvalues
    for beta, sigma2 in [(0.1, 2.0), (4.0, 0.25), (1.0, 0.5)]:
        beta_opt = beta_vae_optimum(X, 4, beta, sigma2)
        fixed_opt = fixed_variance_optimum(X, 4, beta * sigma2)
        np.testing.assert_allclose(beta_opt.W, fixed_opt.W, atol=1e-14)
        assert beta_opt.active_directions == [j + 1 for j in range(4) if lam[j] > beta * sigma2]
        on_data = linear_vae_elbo(X, beta_opt.W, beta_opt.V, beta_opt.D, sigma2, beta_opt.mean, beta=beta)
        # beta-weighted ELBO: the KL terms scaled by beta (tests/linear/_tolerances.py)
        assert on_data == pytest.approx(beta_opt.elbo_per_point, abs=(1 + beta) * loglik_atol(X, sigma2))


def test_floor_binds_only_above_sigma2_ml_and_keeps_the_bound():
    X = _data()
    q = 3
    fit = ppca_mle(X, q)
    below = floored_optimum(X, q, 0.5 * fit.noise_variance)
    assert not below.binds
    assert below.optimum.noise_variance == pytest.approx(fit.noise_variance)
    # two closed forms from the same eigenvalues: d log terms of size |log c_j|, rounded a few times
    tol = loglik_atol(X, fit.noise_variance)
    assert below.optimum.log_likelihood_per_point == pytest.approx(fit.log_likelihood_per_point, abs=tol)
    moments = sample_moments(X)
    for xi in [2 * fit.noise_variance, 1.5, 10.0]:
        floored = floored_optimum(X, q, xi)
        assert floored.binds and floored.optimum.noise_variance == xi
        # the constrained optimum against a bounded 1-D search over sigma^2 >= xi
        res = scipy.optimize.minimize_scalar(
            lambda log_s2: -profile_log_likelihood(moments.eigenvalues, q, math.exp(log_s2)),
            bounds=(math.log(xi), math.log(1e3 * xi)),
            method="bounded",
            options={"xatol": 1e-10},
        )
        assert math.exp(res.x) == pytest.approx(xi, rel=1e-6)
        opt = floored.optimum
        assert ppca_log_likelihood(X, opt.W, xi, opt.mean) == pytest.approx(
            opt.log_likelihood_per_point,
            abs=loglik_atol(X, xi),  # cancelled size (tests/linear/_tolerances.py)
        )
        assert opt.log_likelihood_per_point <= variance_floor_bound(X.shape[1], xi)
        assert opt.active_directions == [j + 1 for j in range(q) if moments.eigenvalues[j] > xi]


def test_variance_split_adds_up_to_the_total_variance():
    X = _data()
    moments = sample_moments(X)
    for q in range(1, 8):
        split = variance_split(moments, q)
        assert split.model_total == pytest.approx(moments.total_variance, rel=1e-12)
        assert split.latent_variance == pytest.approx(
            float(np.sum(linear_vae_optimum(moments, q).W ** 2)), rel=1e-12
        )
        assert split.noise_variance_total == pytest.approx(X.shape[1] * ppca_mle(moments, q).noise_variance)
    latent = [variance_split(moments, q).latent_variance for q in range(1, 8)]
    assert np.all(np.diff(latent) > 0)  # more latents carry more of the variance
    fixed = variance_split(moments, 3, noise_variance=100.0)
    assert fixed.latent_variance == 0.0 and fixed.model_total > fixed.data_total
