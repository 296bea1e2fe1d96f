"""The Doctor on real training loops of models vaetheory did not write (small nets, one thread)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaetheory.densities import variance_floor_bound
from vaetheory.doctor import Doctor, audit_decoder, audit_loss
from vaetheory.doctor.doctor import FLOOR_RTOL32, LOG_TINY

pytestmark = pytest.mark.usefixtures("one_torch_thread")
N, D = 8, 6


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.rand(N, D, generator=g)


class AutoDecoder(nn.Module):
    """One free latent code per training point and an MLP decoder: it can reproduce every point."""

    def __init__(self, head: str):
        super().__init__()
        torch.manual_seed(0)
        self.codes = nn.Parameter(torch.randn(N, 2))
        self.body = nn.Sequential(nn.Linear(2, 32), nn.Tanh())
        self.mu = nn.Linear(32, D)
        self.raw = nn.Linear(32, D)
        self.head = head

    def forward(self, z):
        h = self.body(z)
        if self.head == "softplus":
            return self.mu(h), F.softplus(self.raw(h)) + 1e-6
        return self.mu(h), None


def _window_prediction(steps, logs, window, dtype="float32"):
    # independent route to the breakdown step: least squares by lstsq over the same window
    s, v = np.array(steps[-window:], float), np.array(logs[-window:], float)
    slope, _ = np.linalg.lstsq(np.stack([s, np.ones_like(s)], 1), v, rcond=None)[0]
    return math.ceil(s[-1] + (LOG_TINY[dtype] - v[-1]) / slope)


def test_softplus_floor_gives_no_false_alarm_over_a_long_run():
    x = _data()
    model = AutoDecoder("softplus")
    with torch.no_grad():  # start the variance head deep in softplus's tail: the run sits on the floor
        model.raw.bias.fill_(-20.0)
    audit = audit_decoder(model, model.codes.detach(), data_dim=D, output="variance")
    assert audit.bounded is True and audit.floor_variance == 1e-6
    doctor = Doctor(audit=audit, warn=False)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    lowest, mses = math.inf, []
    for step in range(1, 401):
        mean, var = model(model.codes)
        loss = -torch.distributions.Normal(mean, var.sqrt()).log_prob(x).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        lowest = min(lowest, float(var.detach().min()))
        if step % 5 == 0:
            doctor.observe(step, loss=loss, mean=mean, variance=var, x=x)
            mses.append((step, float(((x.double() - mean.detach().double()) ** 2).mean())))
    # the run reached the floor (float32 rounds 1e-6 down by < 1 ulp; FLOOR_RTOL32 is 4 ulps)
    assert 1e-6 * (1 - FLOOR_RTOL32) <= lowest < 2e-6
    report = doctor.report()
    # no alarm about the variance, the bound or the loss: the floor is real
    floor_kinds = {
        "variance_falling",
        "variance_below_floor",
        "loss_below_infimum",
        "point_above_bound",
        "nonfinite_variance",
        "nonfinite_loss",
    }
    assert not [f for f in doctor.findings if f.kind in floor_kinds]
    # the mean's error did rise on the floor (a measured fact, reported as question 5, not a floor alarm):
    # its numbers are the mean of the last 20 observed MSEs against the best of the first 10
    for f in doctor.findings:
        assert f.kind == "mean_neglect"
        upto = [m for s_, m in mses if s_ <= f.step]
        assert f.value == pytest.approx(np.mean(upto[-20:]), rel=1e-12)
        assert f.threshold == pytest.approx(min(m for _, m in mses[:10]), rel=1e-12)
    assert report.numbers["breakdown_step"] is None
    # the loss stays above its infimum (d/2) log(2 pi xi): the floor is real
    assert report.numbers["loss_lowest"] >= -variance_floor_bound(D, 1e-6)
    assert report.numbers["loss_infimum"] == pytest.approx(-variance_floor_bound(D, 1e-6), rel=1e-12)
    assert "keeps the variance above" in report.answers["3"]


def test_stable_diffusion_learnable_log_variance_warns_with_its_step():
    x = _data()
    model = AutoDecoder("mean")
    logvar = nn.Parameter(
        torch.zeros(())
    )  # as the SD autoencoder's loss: nn.Parameter(torch.ones(size=()) * 0)
    opt = torch.optim.Adam([*model.parameters(), logvar], lr=3e-2)
    doctor = Doctor(data_dim=D, window=10, warn=False)
    steps, logs = [], []
    for step in range(1, 301):
        mean, _ = model(model.codes)
        rec_loss = torch.abs(x.contiguous() - mean.contiguous())
        nll_loss = rec_loss / torch.exp(logvar) + logvar
        nll_loss = torch.sum(nll_loss) / nll_loss.shape[0]
        opt.zero_grad()
        nll_loss.backward()
        opt.step()
        if step % 10 == 0:
            doctor.observe(step, loss=nll_loss, log_variance=logvar.detach().expand(N, D), mean=mean, x=x)
            steps.append(step)
            logs.append(float(logvar))
    falling = [f for f in doctor.findings if f.kind == "variance_falling"]
    assert len(falling) == 1
    f = falling[0]
    assert f.point == 0 and f"step {f.step}:" in f.message
    report = doctor.report()
    # the fall is real: the scalar log-variance dropped by more than 2 nats over the run
    assert logs[-1] < logs[0] - 2.0
    # the warning's prediction, recomputed from the log-variances recorded up to its step
    upto = [i for i, s_ in enumerate(steps) if s_ <= f.step]
    predicted = _window_prediction(steps[: upto[-1] + 1], logs[: upto[-1] + 1], 10)
    assert f"float32's smallest normal number (log -87.34) at step {predicted}." in f.message
    assert report.numbers["min_log_variance_trend"]["last"] == pytest.approx(logs[-1], rel=1e-12)


def test_gaussian_nll_loss_regression_eps_does_not_stop_the_variance():
    torch.manual_seed(0)
    xs = torch.linspace(-1, 1, N)[:, None]
    ys = torch.randn(N, 1, generator=torch.Generator().manual_seed(2))
    net = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 2))
    loss_fn = nn.GaussianNLLLoss()
    audit = audit_loss(loss_fn, data_dim=1)
    assert audit.bounds == "value" and audit.floor_variance == 1e-6
    doctor = Doctor(audit=audit, loss_per="element", loss_includes_constant=False, window=10, warn=False)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    steps, logs = [], []
    for step in range(1, 301):
        out = net(xs)
        mean, var = out[:, :1], out[:, 1:].exp()
        loss = loss_fn(mean, ys, var)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            doctor.observe(step, loss=loss, mean=mean, variance=var, x=ys)
            steps.append(step)
            logs.append(float(var.detach().log().min()))
    report = doctor.report()
    # the loss never goes below 0.5 log(eps): the value is bounded ...
    assert report.numbers["loss_lowest"] >= 0.5 * math.log(1e-6) - 1e-4
    # ... but the floor is value-only: the doctor still predicts the breakdown of the variance itself
    falling = [f for f in doctor.findings if f.kind == "variance_falling"]
    assert len(falling) == 1
    f = falling[0]
    upto = [i for i, s_ in enumerate(steps) if s_ <= f.step]
    predicted = _window_prediction(steps[: upto[-1] + 1], logs[: upto[-1] + 1], 10)
    assert f"at step {predicted}." in f.message
    assert "keeps the variance above" not in report.answers["3"]
    assert "only the value" in report.answers["4"]


def test_pythae_vae(one_torch_thread):
    pytest.importorskip("pythae")
    from pythae.models import VAE, VAEConfig

    torch.manual_seed(0)
    x = _data()
    model = VAE(VAEConfig(input_dim=(D,), latent_dim=2, reconstruction_loss="mse"))
    # pythae's loss at a standard-normal posterior (mu = 0, log_var = 0: KL = 0) is its reconstruction term
    zeros = torch.zeros(1, 2)
    audit = audit_loss(lambda recon, t: model.loss_function(recon, t, zeros, zeros, None)[0], data_dim=D)
    assert audit.bounded is True and audit.loss_reduction == "point" and audit.loss_infimum == 0.0
    assert audit_decoder(model.decoder, zeros, output="mean").bounded is None
    doctor = Doctor(audit=audit, warn=False)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    kls = {}
    for step in range(1, 41):
        out = model({"data": x})
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        enc = model.encoder(x)
        mu, log_var = enc.embedding.detach(), enc.log_covariance.detach()
        kl = 0.5 * (mu**2 + log_var.exp() - 1 - log_var)
        doctor.observe(step, loss=out.loss, mean=out.recon_x, x=x, kl_per_dim=kl, latent_mean=mu)
        kls[step] = kl.double().mean(0).tolist()
    report = doctor.report()
    # MSE is a fixed variance and its loss is >= 0: nothing about the variance or the bound. Only collapse
    # can be reported, with the KL we computed ourselves at that step (40 steps of lr 1e-3 on 8 points)
    for f in report.findings:
        assert f.kind == "posterior_collapse" and f.step > 10
        assert f.value == pytest.approx(max(kls[f.step]), rel=1e-12)
    assert report.numbers["kl_per_dim"] == pytest.approx(kl.double().mean(0).tolist(), rel=1e-12)
    assert report.numbers["active_units"] == int((mu.double().var(0, unbiased=False) > 0.01).sum())
    assert "no variance observed" in report.answers["2"]


def test_synthetic_findings_name_step_and_point():
    d = Doctor(data_dim=4, floor_variance=1e-2, reference_mse=0.1, early_observations=2, warn=False)
    x = np.zeros((3, 4))
    mean = np.zeros((3, 4))
    mean[2] = 1.0  # point 2 is badly fitted
    inf = -variance_floor_bound(4, 1e-2)
    d.observe(1, loss=inf + 1.0, mean=np.zeros((3, 4)), x=x, variance=np.full((3, 4), 0.5))
    d.observe(2, loss=inf - 1.0, mean=mean, x=x, variance=np.full((3, 4), 0.5), point_index=[7, 8, 9])
    d.observe(
        3, mean=mean, x=x, variance=np.full((3, 4), 1e-3), point_index=[7, 8, 9], kl_per_dim=[1e-3, 2e-3]
    )
    kinds = {f.kind: f for f in d.findings}
    assert kinds["loss_below_infimum"].step == 2 and kinds["loss_below_infimum"].threshold == pytest.approx(
        inf
    )
    assert kinds["variance_below_floor"].point == 7 and kinds["variance_below_floor"].step == 3
    # first at step 2: the MSEs so far are 0 (step 1) and 1/3 (point 9 off by 1 in every dim: 1 of 3 rows)
    assert kinds["mean_neglect"].point == 9 and kinds["mean_neglect"].step == 2
    assert kinds["mean_neglect"].value == pytest.approx((0 + 1 / 3) / 2, rel=1e-12)
    assert kinds["posterior_collapse"].value == 2e-3
    with pytest.warns(UserWarning, match="step 5"):
        Doctor(data_dim=4, floor_variance=1e-2).observe(5, max_point_loglik=100.0, max_point=3)
    early = Doctor(data_dim=4, warn=False)  # a fresh encoder sits on the prior: no collapse alarm at first
    early.observe(1, kl_per_dim=[1e-3, 2e-3])
    assert early.findings == []
    with pytest.raises(ValueError, match="dtype"):
        Doctor(dtype="int8")


def test_suggested_floor_quantised_and_continuous():
    grid = np.arange(17.0)[None, :].repeat(4, 0) / 16.0  # values on a grid of step 1/16, as 4-bit pixels
    d = Doctor(warn=False)
    d.observe(1, x=grid)
    xi, source = d.suggested_floor()
    assert xi == pytest.approx((1 / 16) ** 2 / 12, rel=1e-12) and "Delta^2/12" in source
    cont = np.random.default_rng(0).normal(size=(8, 3))  # 24 distinct values, not on a grid
    c = Doctor(warn=False)
    for step in range(1, 30):  # full-batch training sees the same values every step: still not quantised
        c.observe(step, x=cont)
    xi, source = c.suggested_floor()
    assert xi == pytest.approx(1e-6 * cont.var(axis=0).mean(), rel=1e-12)
