"""The training step's fast paths compute what the plain routes compute, bit for bit (issue 13, speed).

Exact equality (no tolerance) throughout: each fast path does the same floating-point operations
on the same values as its reference (a size-1 sample axis folded away, a running maximum taken over
32 steps at once instead of step by step), so any difference at all would be a bug.
"""

from __future__ import annotations

import pytest
import torch

from vaetheory.empirical.model import VAEConfig, build_model, gaussian_log_density, kl_standard_normal
from vaetheory.empirical.training import _Peak


def _sample_axis_route(model, x, eps, beta):
    """The one-sample ELBO with the sample axis kept: the decoder on [1, n, ...], then the mean over it."""
    q_mean, q_log_variance = model.encode_log(x)
    z = q_mean + (0.5 * q_log_variance).exp() * eps  # [1, n, q]
    mean, variance, log_variance = model.decoder_moments(z, x)
    log_lik = gaussian_log_density(x, mean, variance, log_variance)
    return log_lik.sum(-1).mean(0) - beta * kl_standard_normal(q_mean, q_log_variance).sum(-1), variance


@pytest.mark.parametrize(
    "policy",
    [
        {"variance": "floor", "floor_variance": 1e-2},
        {"variance": "learned"},
        {"variance": "fixed", "sigma": 0.5},
    ],
)
@pytest.mark.parametrize("hidden", [(8,), ()])
def test_one_sample_elbo_equals_the_sample_axis_route(policy, hidden):
    torch.manual_seed(0)
    x = torch.rand(23, 5)
    eps = torch.randn(1, 23, 2)
    values, grads = [], []
    for route in ("model", "reference"):
        model = build_model(VAEConfig(5, 2, hidden, **policy), seed=1)
        if route == "model":
            elbo, variance = model.elbo_from_noise(x, eps, 0.7)
        else:
            elbo, variance = _sample_axis_route(model, x, eps, 0.7)
        (-elbo.mean()).backward()
        values.append((elbo.detach(), variance.detach()))
        grads.append({n: p.grad for n, p in model.named_parameters()})
    (a, va), (b, vb) = values
    assert torch.equal(a, b)
    assert va.shape == vb.shape == (1, 23, 5) and torch.equal(va, vb)
    assert grads[0].keys() == grads[1].keys()
    assert all(torch.equal(grads[0][n], grads[1][n]) for n in grads[0])


def _step_by_step(values, indices, start=(None, None, None)):
    """The peak updated at every step: replaced only by a strictly larger value, first point of a tie."""
    best, at, point = start
    for step, (v, idx) in enumerate(zip(values, indices), 1):
        j = int(torch.argmax(v))
        if best is None or float(v[j]) > best:
            best, at, point = float(v[j]), step, int(idx[j])
    return best, at, point


@pytest.mark.parametrize("steps", [1, 31, 32, 33, 100])
def test_folded_peak_equals_the_step_by_step_peak(steps):
    gen = torch.Generator().manual_seed(steps)
    # values rounded to a coarse grid, so that ties within and across steps are common
    values = [torch.round(torch.randn(7, generator=gen) * 2) / 2 for _ in range(steps)]
    indices = [torch.randint(1000, (7,), generator=gen) for _ in range(steps)]
    peak = _Peak()
    for step, (v, idx) in enumerate(zip(values, indices), 1):
        peak.update(step, v, idx)
        if step == steps // 2:  # a read in the middle (a checkpoint) folds early; the result is the same
            assert (peak.value, peak.step, peak.point) == _step_by_step(values[:step], indices[:step])
    assert (peak.value, peak.step, peak.point) == _step_by_step(values, indices)


def test_folded_peak_keeps_a_restored_peak_against_ties():
    # a resumed run's peak (from its checkpoint) is replaced only by a strictly larger value
    peak = _Peak(value=1.0, step=5, point=3)
    peak.update(6, torch.tensor([1.0, 0.5]), torch.tensor([8, 9]))
    assert peak.state() == {"value": 1.0, "step": 5, "point": 3}
    peak.update(7, torch.tensor([0.0, 1.5]), torch.tensor([10, 11]))
    assert peak.state() == {"value": 1.5, "step": 7, "point": 11}
