"""audit_decoder never says ``bounded: true`` without a structural proof (issue 19, soundness).

Each decoder here is built so that the probes along the shrinking direction see a plateau, or so that
fx cannot trace it: the verdict must then be false (a witness) or null (with why), never true. The
decoders with a real floor (a data-dependent one, a sigmoid range, the sigma-VAE's softclip) must be
proved bounded, with the floor the structure implies.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Independent, Normal

from vaetheory.doctor import audit_decoder
from vaetheory.doctor.structure import Interval, prove_floor, trace_variance

pytestmark = pytest.mark.usefixtures("one_torch_thread")
D = 4
Z = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
# example inputs whose second coordinate is 0: the input-scaling probes never move it
Z_FLAT = torch.cat([Z[:, :1], torch.zeros(5, 1)], dim=1)


class _Body(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.h = nn.Linear(2, 8)
        self.mu = nn.Linear(8, D)
        self.a = nn.Linear(8, D)
        self.b = nn.Linear(8, D)


class TwoScales(_Body):
    """softplus(1000 a) + exp(b / 1000): the gradient is almost all along a, b's term shrinks slowly."""

    def forward(self, z):
        h = torch.tanh(self.h(z))
        var = F.softplus(1e3 * self.a(h)) + torch.exp(1e-3 * self.b(h))
        return Independent(Normal(self.mu(h), var.sqrt()), 1)


class HiddenInputDirection(nn.Module):
    """1e-2 sigmoid(c) + exp(-100 relu(z_2)): 0 only along z_2 -> inf, which Z_FLAT never moves."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.mu = nn.Linear(2, D)
        self.c = nn.Parameter(torch.zeros(D))

    def forward(self, z):
        var = 1e-2 * torch.sigmoid(self.c) + torch.exp(-100.0 * torch.relu(z[:, 1:2]))
        return Normal(self.mu(z), var.sqrt())


class DataFloor(_Body):
    """A real data-dependent floor: softplus(.) + 1e-3 (1 + |z|^2) >= 1e-3, attained at z = 0."""

    def forward(self, z):
        h = torch.tanh(self.h(z))
        var = F.softplus(self.a(h)) + 1e-3 * (1.0 + z.pow(2).sum(-1, keepdim=True))
        return Normal(self.mu(h), var.sqrt())


class DataFloorVanishing(_Body):
    """A 'floor' that vanishes with the data: softplus(.) + 1e-3 sigmoid(z . w) -> 0 as z . w -> -inf."""

    def forward(self, z):
        h = torch.tanh(self.h(z))
        var = F.softplus(self.a(h)) + 1e-3 * torch.sigmoid(z.sum(-1, keepdim=True))
        return Normal(self.mu(h), var.sqrt())


class SigmoidRange(_Body):
    def forward(self, z):
        h = torch.tanh(self.h(z))
        return self.mu(h), 1e-4 + (1.0 - 1e-4) * torch.sigmoid(self.a(h))


class SoftClip(_Body):
    """The sigma-VAE's softclip of the log standard deviation: min + softplus(x - min), min = -3."""

    def forward(self, z):
        h = torch.tanh(self.h(z))
        log_sigma = -3.0 + F.softplus(self.a(h) - -3.0)
        return Normal(self.mu(h), log_sigma.exp())


class Branching(_Body):
    """softplus(.) + 1e-6 behind a data-dependent branch: fx cannot trace it."""

    def forward(self, z):
        h = torch.tanh(self.h(z))
        if float(z.sum()) > 1e9:
            h = h * 2
        return Normal(self.mu(h), (F.softplus(self.a(h)) + 1e-6).sqrt())


class BranchingTwoScales(TwoScales):
    def forward(self, z):
        if float(z.sum()) > 1e9:
            z = z * 2
        return super().forward(z)


class AliasedInPlace(_Body):
    """Returns v after an in-place subtraction the graph records on another node: softplus(.) >= 0 only."""

    def forward(self, z):
        h = torch.tanh(self.h(z))
        v = F.softplus(self.a(h)) + 1e-3
        w = v * 1.0
        v.sub_(1e-3)
        return self.mu(h) + 0 * w, v


class TrainingOnlyExp(_Body):
    """softplus + 1e-3 in evaluation mode, a bare exp in training mode: the training graph is unbounded."""

    def forward(self, z):
        h = torch.tanh(self.h(z))
        if self.training:
            return self.mu(h), self.a(h).exp()
        return self.mu(h), F.softplus(self.a(h)) + 1e-3


@pytest.mark.parametrize(
    ("module", "z", "output"),
    [
        (TwoScales(), Z, "auto"),
        (HiddenInputDirection(), Z_FLAT, "auto"),
        (DataFloorVanishing(), Z, "auto"),
        (BranchingTwoScales(), Z, "auto"),
        (AliasedInPlace(), Z, "variance"),
        (TrainingOnlyExp(), Z, "variance"),
    ],
    ids=[
        "two-scales",
        "hidden-input-direction",
        "vanishing-data-floor",
        "untraceable",
        "in-place",
        "train-mode",
    ],
)
def test_unbounded_decoders_are_never_called_bounded(module, z, output):
    a = audit_decoder(module, z, data_dim=D, output=output)
    assert a.bounded is not True, a.summary()
    assert a.floor_variance is None and a.bound_per_point is None
    if a.bounded is None:
        assert "no structural proof" in a.why and "probes in" in a.why


def test_witnesses_found_off_the_gradient_direction():
    # each reaches variance 0 only off the path the old audit followed: a random input direction plus the
    # parameters' shrinking direction at that input (hidden direction), or the vanishing data floor
    assert audit_decoder(HiddenInputDirection(), Z_FLAT, data_dim=D).bounded is False
    assert audit_decoder(DataFloorVanishing(), Z, data_dim=D).bounded is False
    assert audit_decoder(TwoScales(), Z, data_dim=D).bounded is False


def test_untraceable_decoder_with_a_real_floor_is_null_not_true():
    a = audit_decoder(Branching(), Z, data_dim=D)
    assert a.bounded is None and "could not trace" in a.graph
    # directions: 2 x (16 + 16) random ones (both signs), 10 input scales, the shrinking direction of all
    # parameters, of each of the 8 parameter tensors and of all at the lowest input: 64 + 10 + 1 + 8 + 1
    n = 64 + 10 + 1 + len(list(Branching().parameters())) + 1
    # the lowest variance found is the floor 1e-6 (softplus(-1e5 ...) is 0 in float64), printed to 6 digits
    assert (
        "no structural proof" in a.why and f"probes in {n} directions found no variance below 1e-06," in a.why
    )


def test_in_place_aliasing_voids_the_proof():
    gm, node, kind = trace_variance(AliasedInPlace().double(), 1, "variance", training=False)
    proof = prove_floor(gm, node, kind)
    assert proof.floor is None and "in-place sub_" in proof.text


def test_data_dependent_floor_is_proved():
    a = audit_decoder(DataFloor(), Z, data_dim=D)
    # interval analysis: softplus >= 0, 1e-3 (1 + sum of squares) >= 1e-3; the sum is exact in float64
    assert a.bounded is True and a.floor_variance == pytest.approx(1e-3, rel=1e-15)
    assert "interval analysis" in a.why


def test_sigmoid_range_is_proved():
    a = audit_decoder(SigmoidRange(), Z, data_dim=D, output="variance")
    # 1e-4 + (1 - 1e-4) * [0, 1]: the lower end is the constant 1e-4 exactly (0 times a number is 0)
    assert a.bounded is True and a.floor_variance == 1e-4 and a.bounds == "both"
    assert a.mechanism == "sigmoid range"


def test_softclip_is_proved():
    a = audit_decoder(SoftClip(), Z, data_dim=D)
    # std >= exp(-3 + softplus(-inf)) = exp(-3): variance >= exp(-6); one float64 exp and one square
    assert a.bounded is True and a.floor_variance == pytest.approx(math.exp(-6.0), rel=1e-14)


def test_interval_rules():
    from vaetheory.doctor.structure import _div, _mul, _pow

    assert _mul(Interval(0.0, 1.0), Interval(-math.inf, math.inf)) == Interval(-math.inf, math.inf)
    assert _mul(Interval(0.0, 0.0), Interval(-math.inf, math.inf)) == Interval(0.0, 0.0)
    assert _div(Interval(1.0, 1.0), Interval(-1.0, 1.0)) == Interval(-math.inf, math.inf)
    assert _pow(Interval(-2.0, 3.0), Interval(2.0, 2.0)) == Interval(0.0, 9.0)


def test_directions_argument_is_checked():
    with pytest.raises(ValueError, match="directions"):
        audit_decoder(SoftClip(), Z, directions=-1)
