"""The explicit blow-up (theory section 2): unbounded without a floor, under the bound with one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaetheory.densities import variance_floor_bound
from vaetheory.empirical.construction import (
    THEORY_RATE_PER_DIMENSION,
    blowup_sequence,
    construction_data,
    construction_model,
)
from vaetheory.empirical.estimators import exact_log_marginal
from vaetheory.empirical.policies import FLOOR_METHODS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


DATA = construction_data(3)[:, :16]  # 3 digits, first 16 pixels: small and quick


def test_construction_decoder_is_the_stated_formula():
    model = construction_model(DATA[0], 7.0)
    z = torch.linspace(-2, 2, 9, dtype=torch.float64)[:, None]
    mean, variance = model.decoder_params(z)
    assert torch.allclose(mean, torch.as_tensor(DATA[0]).expand_as(mean))
    expected = torch.exp(-7.0 / 2 * (1 + torch.tanh(7.0 * z)))
    assert torch.allclose(variance, expected.expand_as(variance), rtol=1e-12)


def test_construction_likelihood_increases_along_the_sequence_and_only_for_one_point():
    result = blowup_sequence(DATA, ks=range(0, 25, 3), floors=())
    run = result.runs[0]
    assert np.all(np.diff(run.loglik) > 0)
    assert run.loglik[-1] > 100
    assert max(run.others_max_loglik) < 0  # the others stay bounded
    assert np.all(np.diff(run.total_loglik[1:]) > 0)


def test_construction_grows_at_the_theory_rate_of_k_over_two_per_dimension():
    result = blowup_sequence(DATA, ks=range(10, 41, 5), floors=())
    assert result.measured_rate_per_dimension == pytest.approx(THEORY_RATE_PER_DIMENSION, abs=2e-3)
    d = DATA.shape[1]
    asymptote = d * 40 / 2 - d / 2 * math.log(2 * math.pi) - math.log(2)
    assert result.runs[0].loglik[-1] == pytest.approx(asymptote, abs=0.5)


@pytest.mark.parametrize("method", FLOOR_METHODS)
def test_floor_bounds_the_construction_likelihood(method):
    floors = (1e-1, 1e-3)
    result = blowup_sequence(DATA, ks=(0, 5, 10, 20, 40), floors=floors, floor_method=method)
    for run, xi in zip(result.runs[1:], floors):
        assert run.bound == pytest.approx(variance_floor_bound(DATA.shape[1], xi))
        assert max(run.loglik) <= run.bound
    # the unfloored run passes every bound
    assert result.runs[0].loglik[-1] > max(r.bound for r in result.runs[1:])


def test_floored_plateau_sits_log_two_under_the_bound():
    result = blowup_sequence(DATA, ks=(20, 30, 40), floors=(1e-2,))
    run = result.runs[1]
    assert run.bound - run.loglik[-1] == pytest.approx(math.log(2), abs=0.05)


def test_blowup_rejects_bad_floors():
    with pytest.raises(ValueError, match="floor"):
        blowup_sequence(DATA, ks=(0, 1, 2), floors=(-1e-3,))
    with pytest.raises(ValueError, match="floor_method"):
        blowup_sequence(DATA, ks=(0, 1, 2), floors=(1e-3,), floor_method="nope")


def test_construction_quadrature_agrees_with_scipy_quad():
    """An independent route: scipy.integrate.quad of the same 1-D integral, in float64."""
    from scipy.integrate import quad
    from scipy.special import logsumexp

    from vaetheory.densities import gaussian_logpdf

    for k in (3.0, 12.0):
        model = construction_model(DATA[0], k)
        ours = exact_log_marginal(model, DATA).numpy()

        for i, x in enumerate(DATA):

            def log_integrand(z, x=x, k=k):
                variance = math.exp(-k / 2 * (1 + math.tanh(k * z)))
                return gaussian_logpdf(z, 0.0, 1.0) + gaussian_logpdf(x, DATA[0], variance).sum()

            grid = np.linspace(-8, 8, 4001)
            shift = logsumexp([log_integrand(z) for z in grid])  # keeps exp() in range
            value, _ = quad(lambda z, s=shift: math.exp(log_integrand(z) - s), -8, 8, points=[0.0], limit=400)
            assert ours[i] == pytest.approx(shift + math.log(value), abs=1e-6), (k, i)


@pytest.mark.parametrize("max_elements", [1, 16 * 7, 16 * 40 * 3])
def test_quadrature_chunked_over_points_and_nodes_gives_the_same_log_likelihood(max_elements):
    # memory is bounded by max_elements entries per decoded tensor; the chunks only regroup the
    # same log-sum-exp, so values agree to the rounding of a log-sum-exp over 80 nodes (a few eps
    # of the largest term, |log p| < 100 here)
    data = construction_data(40)[:, :16]
    model = construction_model(data[0], 6.0)
    chunked = exact_log_marginal(model, data, n_panels=10, max_elements=max_elements)
    whole = exact_log_marginal(model, data, n_panels=10, max_elements=2**40)
    assert torch.isfinite(chunked).all()
    np.testing.assert_allclose(
        chunked.numpy(), whole.numpy(), rtol=0, atol=64 * np.finfo(np.float64).eps * 100
    )
