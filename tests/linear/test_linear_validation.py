"""Bad input to the linear module: a ValueError naming the argument (theory section 3 functions)."""

from __future__ import annotations

import numpy as np
import pytest

from vaetheory.linear import (
    beta_vae_optimum,
    degenerate_path,
    fixed_variance_optimum,
    floored_optimum,
    linear_vae_elbo,
    linear_vae_optimum,
    ppca_log_likelihood,
    ppca_mle,
    synthetic_ppca_data,
)

X = synthetic_ppca_data(50, 5, (3.0, 1.0), 0.2, 0).data
W = np.ones((5, 2))
V = np.ones((2, 5))
D = np.ones(2)
MEAN = np.zeros(5)


@pytest.mark.parametrize("q", [0, -1, 5, 6, 2.5, "two"])
def test_latent_size_outside_1_to_d_minus_1_is_rejected(q):
    with pytest.raises(ValueError, match=r"^q must be"):
        ppca_mle(X, q)
    with pytest.raises(ValueError, match=r"^q must be"):
        linear_vae_optimum(X, q)


@pytest.mark.parametrize("bad", [X[:1], X[:0], X[:, :1], X[0], np.ones((3, 4, 2))])
def test_too_few_points_or_wrong_shape_is_rejected(bad):
    with pytest.raises(ValueError, match="data"):
        ppca_mle(bad, 1)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_data_is_rejected(value):
    bad = X.copy()
    bad[3, 2] = value
    with pytest.raises(ValueError, match=r"data must contain only finite values.*\(3, 2\)"):
        ppca_mle(bad, 2)
    with pytest.raises(ValueError, match="data must contain only finite"):
        ppca_log_likelihood(bad, W, 1.0, MEAN)


def test_mismatched_shapes_are_rejected_by_name():
    with pytest.raises(ValueError, match=r"^W must have shape"):
        ppca_log_likelihood(X, np.ones((4, 2)), 1.0, MEAN)
    with pytest.raises(ValueError, match=r"^mean must have shape"):
        ppca_log_likelihood(X, W, 1.0, np.zeros(4))
    with pytest.raises(ValueError, match=r"^V must have shape"):
        linear_vae_elbo(X, W, np.ones((2, 4)), D, 1.0, MEAN)
    with pytest.raises(ValueError, match=r"^D must have shape"):
        linear_vae_elbo(X, W, V, np.ones(3), 1.0, MEAN)


@pytest.mark.parametrize("sigma2", [0.0, -1.0, np.nan, np.inf])
def test_non_positive_noise_variance_is_rejected(sigma2):
    with pytest.raises(ValueError, match=r"^noise_variance must be"):
        ppca_log_likelihood(X, W, sigma2, MEAN)
    with pytest.raises(ValueError, match=r"^noise_variance must be"):
        linear_vae_elbo(X, W, V, D, sigma2, MEAN)
    with pytest.raises(ValueError, match=r"^noise_variance must be"):
        fixed_variance_optimum(X, 2, sigma2)
    with pytest.raises(ValueError, match=r"^floor_variance must be"):
        floored_optimum(X, 2, sigma2)
    with pytest.raises(ValueError, match=r"^noise_variances must"):
        degenerate_path(X, 2, [1.0, sigma2])


@pytest.mark.parametrize("beta", [0.0, -0.5, np.nan])
def test_non_positive_beta_is_rejected(beta):
    with pytest.raises(ValueError, match=r"^beta must be"):
        beta_vae_optimum(X, 2, beta, 1.0)
    with pytest.raises(ValueError, match=r"^beta must be"):
        linear_vae_elbo(X, W, V, D, 1.0, MEAN, beta=beta)


def test_non_positive_encoder_variance_is_rejected():
    with pytest.raises(ValueError, match=r"^D must be > 0"):
        linear_vae_elbo(X, W, V, np.array([1.0, 0.0]), 1.0, MEAN)


def test_degenerate_data_have_no_linear_vae_optimum():
    flat = synthetic_ppca_data(50, 5, (3.0, 1.0), 0.0, 0).data
    with pytest.raises(ValueError, match="unbounded"):
        linear_vae_optimum(flat, 2)
