"""audit_decoder / audit_loss on decoders and losses written as third-party code writes them."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaetheory.doctor import audit_decoder, audit_loss

D = 6  # data dimensions of the toy decoders


def _bound(d, xi):
    # independent route to the floor bound: the Gaussian log-density at zero residual, -(d/2) log(2 pi xi)
    zero = torch.tensor(0.0, dtype=torch.float64)
    return float(torch.distributions.Normal(zero, zero + math.sqrt(xi)).log_prob(zero)) * d


class _Body(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.h = nn.Linear(2, 8)
        self.mu = nn.Linear(8, D)
        self.raw = nn.Linear(8, D)


class ExpDecoder(_Body):  # log-variance head, exp applied by the caller: no floor
    def forward(self, z):
        h = torch.tanh(self.h(z))
        return self.mu(h), self.raw(h)


class SoftplusDecoder(_Body):  # the common "softplus(.) + 1e-6" variance head
    def forward(self, z):
        h = torch.tanh(self.h(z))
        return self.mu(h), F.softplus(self.raw(h)) + 1e-6


class NormalDecoder(_Body):  # returns a torch.distributions.Normal (fx cannot trace it)
    def forward(self, z):
        h = torch.tanh(self.h(z))
        return torch.distributions.Independent(
            torch.distributions.Normal(self.mu(h), (0.5 * self.raw(h)).exp()), 1
        )


class ClampedLogVar(_Body):
    def forward(self, z):
        h = torch.tanh(self.h(z))
        return self.mu(h), torch.clamp(self.raw(h), min=-7.0)


class StraightThrough(_Body):  # GaussianNLLLoss's clamp written into a decoder: value floored, gradient not
    def forward(self, z):
        h = torch.tanh(self.h(z))
        v = self.raw(h).exp()
        return self.mu(h), torch.clamp(v, min=1e-3).detach() + v - v.detach()


class ScalarLogVar(nn.Module):  # the Stable Diffusion autoencoder's learnable scalar log-variance
    def __init__(self, logvar_init=0.0):
        super().__init__()
        torch.manual_seed(0)
        self.mu = nn.Linear(2, D)
        self.logvar = nn.Parameter(torch.ones(size=()) * logvar_init)

    def forward(self, z):
        mu = self.mu(z)
        return mu, self.logvar.expand_as(mu)


class SDLoss(nn.Module):  # as LPIPSWithDiscriminator writes its NLL (without the perceptual and GAN terms)
    def __init__(self, logvar_init=0.0):
        super().__init__()
        self.logvar = nn.Parameter(torch.ones(size=()) * logvar_init)

    def forward(self, inputs, reconstructions):
        rec_loss = torch.abs(inputs.contiguous() - reconstructions.contiguous())
        nll_loss = rec_loss / torch.exp(self.logvar) + self.logvar
        return torch.sum(nll_loss) / nll_loss.shape[0]


Z = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))


def test_exp_of_a_layer_is_unbounded(one_torch_thread):
    a = audit_decoder(ExpDecoder(), Z, data_dim=D, output="log_variance")
    assert (
        a.bounded is False and a.bounds == "none" and a.floor_variance is None and a.bound_per_point is None
    )
    assert a.mechanism == "exp of an unbounded layer"
    assert "unbounded" in a.sentence


def test_softplus_plus_eps_floors_at_eps(one_torch_thread):
    module = SoftplusDecoder()
    before = [p.detach().clone() for p in module.parameters()]
    a = audit_decoder(module, Z, data_dim=D, output="variance")
    assert a.bounded is True and a.mechanism == "softplus + eps" and a.bounds == "both"
    # the graph's closed form (1e-6) is reported once the probes confirm it: exact
    assert a.floor_variance == 1e-6
    # float64 log-density route vs the closed form: a handful of ulps of numbers ~24
    assert a.bound_per_point == pytest.approx(_bound(D, 1e-6), rel=1e-12)
    assert "1e-06" in a.sentence and "35.93 nats per point" in a.sentence
    assert all(
        torch.equal(p, q) for p, q in zip(before, module.parameters())
    )  # the user's module is untouched


def test_distribution_output_is_traced(one_torch_thread):
    # the Normal's scale is reached through the traced graph: exp(0.5 * layer), interval [0, inf)
    a = audit_decoder(NormalDecoder(), Z, data_dim=D)
    assert a.bounded is False and a.mechanism == "exp of an unbounded layer"
    assert "exp <- mul <- Linear" in a.graph and "standard deviation in [0, inf]" in a.graph


def test_clamp_of_log_variance(one_torch_thread):
    a = audit_decoder(ClampedLogVar(), Z, data_dim=D, output="log_variance")
    assert a.bounded is True and a.mechanism == "clamp" and a.bounds == "both"
    assert a.floor_variance == pytest.approx(math.exp(-7.0), rel=1e-12)  # exp(min) of the clamp, float64


def test_straight_through_clamp_bounds_the_value_only(one_torch_thread):
    a = audit_decoder(StraightThrough(), Z, data_dim=D, output="variance")
    assert a.bounded is True and a.bounds == "value" and a.floor_variance == 1e-3
    assert "only the value" in a.sentence


def test_stable_diffusion_scalar_log_variance_is_unbounded(one_torch_thread):
    a = audit_decoder(ScalarLogVar(), Z, data_dim=D, output="log_variance")
    assert a.bounded is False and a.mechanism == "learnable scalar log-variance parameter"
    assert "parameter logvar" in " ".join(str(p["probe"]) for p in a.probes)
    loss = audit_loss(SDLoss(), data_dim=D)
    assert loss.bounded is False and loss.loss_reduction == "point"
    assert loss.mechanism == "SDLoss: learnable log-variance parameter"


def test_gaussian_nll_loss_bounds_the_value_only(one_torch_thread):
    a = audit_loss(nn.GaussianNLLLoss(), data_dim=D)
    assert a.bounded is True and a.bounds == "value" and a.floor_variance == 1e-6
    assert a.loss_reduction == "element"
    # smallest value: 0.5 log(eps) per element (full=False drops 0.5 log 2 pi); float64 log of 1e-6
    assert a.loss_infimum == pytest.approx(0.5 * math.log(1e-6), rel=1e-12)
    assert a.bound_per_point == pytest.approx(_bound(D, 1e-6), rel=1e-12)
    b = audit_loss(nn.GaussianNLLLoss(eps=1e-3, full=True, reduction="sum"), data_dim=D)
    assert b.floor_variance == 1e-3 and b.loss_reduction == "sum"
    # measured on one point of D dimensions, full constant included: minus the floor bound of one point
    assert b.loss_infimum == pytest.approx(-_bound(D, 1e-3), rel=1e-12)


def test_hand_written_nll_and_mse(one_torch_thread):
    def nll(mean, target, var):
        return 0.5 * (torch.log(var) + (target - mean) ** 2 / var).sum(-1).mean()

    a = audit_loss(nll, data_dim=D)
    assert a.bounded is False and a.loss_reduction == "point" and a.floor_variance is None
    m = audit_loss(nn.MSELoss(), data_dim=D)
    assert m.bounded is True and m.loss_infimum == 0.0 and "squared error" in m.mechanism


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="output must be one of"):
        audit_decoder(ExpDecoder(), Z, output="precision")
    with pytest.raises(ValueError, match="data_dim"):
        audit_decoder(ExpDecoder(), Z, data_dim=0, output="log_variance")
    with pytest.raises(ValueError, match="Normal or Independent"):
        audit_decoder(ExpDecoder(), Z)
