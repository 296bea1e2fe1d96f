"""The rank and collapse decisions of the linear module: one stated, scale-free rule, used everywhere.

Rank: an eigenvalue of S counts as nonzero iff it exceeds tau = max(n, d) eps l_1 (numpy's
matrix_rank rule, relative to the largest eigenvalue); numerically zero eigenvalues are stored as
exact zeros, so they are never active and sigma^2_ML is exactly 0 on degenerate data. Each closed
form (sigma^2_ML, the degeneracy rule, the maximum log-likelihood, the collapse rule) is written once
in ``vaetheory.linear.moments`` / ``ppca`` and checked here against an independent route.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from vaetheory.cli import main
from vaetheory.datasets import load_digits
from vaetheory.linear import (
    degenerate_path,
    max_log_likelihood,
    ppca_mle,
    sample_moments,
    stationary_points,
    synthetic_ppca_data,
)
from vaetheory.linear.moments import EIGENVALUE_RANGE, active_mask, ml_noise_variance, rank_tolerance
from vaetheory.linear.summary import summarize_latent_sizes

EPS = np.finfo(np.float64).eps


def test_digits_has_rank_61_and_never_more_than_61_active_directions(capsys):
    X = load_digits()
    moments = sample_moments(X)
    assert moments.rank == 61  # 3 pixels are constant (0) on all 1797 digits
    assert moments.tolerance == pytest.approx(rank_tolerance(moments.eigenvalues[0], 1797, 64), rel=1e-15)
    assert np.all(moments.eigenvalues[61:] == 0.0)  # numerical zeros stored as exact zeros
    for s in summarize_latent_sizes(X, [61, 62, 63]):
        assert s.degenerate and s.sigma2 == 0.0
        assert s.active_directions == list(range(1, 62)) and s.n_active == 61
    assert main(["linear", "--data", "digits", "--latent", "63", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["n_active"] == 61 and record["collapsed_directions"] == [62, 63]


def test_rank_tolerance_is_relative_to_the_largest_eigenvalue():
    assert rank_tolerance(2.0, 100, 10) == 100 * EPS * 2.0
    assert rank_tolerance(2.0, 5, 10) == 10 * EPS * 2.0
    assert rank_tolerance(0.0, 5, 10) == 0.0


@pytest.mark.parametrize("power", [-120, -60, 60, 120])
def test_full_rank_data_give_the_same_rank_and_relative_spectrum_at_any_representable_scale(power):
    X = synthetic_ppca_data(200, 6, (4.0, 2.0), 0.3, seed=1).data
    base = sample_moments(X)
    c = 10.0**power
    scaled = sample_moments(X * c)
    assert scaled.rank == base.rank == 6 and not ppca_mle(scaled, 2).degenerate
    # X * c is rounded once per entry (relative eps), so S and its eigenvalues move by a few eps
    # relative to l_1; the smallest eigenvalue is compared at that absolute size
    np.testing.assert_allclose(
        scaled.eigenvalues / c**2, base.eigenvalues, rtol=0, atol=64 * EPS * base.eigenvalues[0]
    )
    # log-likelihood per point of c X is that of X minus d log c (the Jacobian), exactly in theory;
    # the sum over d terms of size |log l_j| carries a few eps of each
    fit_base, fit_scaled = ppca_mle(base, 2), ppca_mle(scaled, 2)
    scale_terms = 6 * (abs(math.log(c)) + max(abs(np.log(base.eigenvalues))))
    assert fit_scaled.log_likelihood_per_point == pytest.approx(
        fit_base.log_likelihood_per_point - 6 * math.log(c), abs=64 * EPS * scale_terms
    )


@pytest.mark.parametrize("c", [1e200, 1e-200])
def test_data_whose_eigenvalues_float64_cannot_hold_are_refused_not_rank_0(c):
    X = synthetic_ppca_data(100, 5, (3.0, 1.0), 0.2, seed=0).data * c
    with pytest.raises(
        ValueError, match=r"^data: the largest eigenvalue .* outside the range \[1e-290, 1e\+290\]"
    ):
        sample_moments(X)
    low, high = EIGENVALUE_RANGE
    assert low == 1e-290 and high == 1e290


@pytest.mark.parametrize("c", ["1e200", "1e-200"])
def test_cli_refuses_unrepresentable_scales_and_scale_unit_fixes_them(tmp_path, capsys, c):
    X = synthetic_ppca_data(100, 5, (3.0, 1.0), 0.2, seed=0).data
    path = tmp_path / "big.npy"
    np.save(path, X * float(c))
    assert main(["linear", "--data", str(path), "--latent", "2"]) == 2
    err = capsys.readouterr().err
    assert "linear: error: --data" in err and str(path) in err and "outside the range" in err
    assert "--scale unit" in err
    for scale in ("unit", "standardize"):
        assert main(["linear", "--data", str(path), "--latent", "2", "--scale", scale, "--json"]) == 0
        (record,) = json.loads(capsys.readouterr().out)
        assert record["rank"] == 5 and not record["degenerate"] and math.isfinite(record["loglik_per_point"])


def test_constant_data_are_rank_0_and_degenerate():
    X = np.full((10, 3), 7.0)
    moments = sample_moments(X)
    assert moments.rank == 0 and np.all(moments.eigenvalues == 0.0)
    assert ppca_mle(moments, 1).degenerate


def test_sigma2_ml_and_collapse_rule_against_hand_formulas():
    lam = np.array([5.0, 3.0, 1.0, 0.5, 0.25])
    assert ml_noise_variance(lam, 2) == pytest.approx((1.0 + 0.5 + 0.25) / 3, rel=4 * EPS)
    np.testing.assert_array_equal(active_mask(lam, 1.0), [True, True, False, False, False])
    # maximum log-likelihood from the eigenbasis form against the expanded formula
    d, q = lam.size, 2
    s2 = np.mean(lam[q:])
    expanded = -0.5 * (d * math.log(2 * math.pi) + np.sum(np.log(lam[:q])) + (d - q) * math.log(s2) + d)
    # terms of size up to d log(2 pi) ~ 9 summed in different orders: a few eps of that
    assert max_log_likelihood(lam, q) == pytest.approx(expanded, abs=32 * EPS * 10)


def test_stationary_and_degenerate_closed_forms_match_the_data():
    X = synthetic_ppca_data(300, 5, (4.0, 2.0), 0.3, seed=2).data
    moments = sample_moments(X)
    from vaetheory.linear import ppca_log_likelihood

    for point in stationary_points(moments, 2):  # the eigenbasis form against the data (Woodbury)
        measured = ppca_log_likelihood(X, point.W, point.noise_variance, moments.mean)
        # per-point quadratic forms ~ d l_1 / sigma^2 summed: a few eps of that size
        size = 5 * moments.eigenvalues[0] / point.noise_variance
        assert point.log_likelihood_per_point == pytest.approx(measured, abs=64 * EPS * size)
    sub = synthetic_ppca_data(200, 7, (4.0, 2.0), 0.0, seed=3).data  # rank 2: degenerate for q >= 2
    path = degenerate_path(sub, 3, [1e-6])
    lam = sample_moments(sub).eigenvalues[:2]
    intercept = -0.5 * (7 * math.log(2 * math.pi) + np.sum(np.log(lam)) + 2)
    assert path.intercept == pytest.approx(intercept, abs=32 * EPS * 20)
