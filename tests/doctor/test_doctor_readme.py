"""The README's doctor example on a third-party model (a pythae VAE): rerun as written there, its
report's numbers checked against the ones the README quotes, and the collapse it reports checked
against the linear theory's prediction computed independently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vaetheory.datasets import load_digits
from vaetheory.doctor import Doctor, audit_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")
README = Path(__file__).resolve().parents[2] / "README.md"

# the numbers the README's printed report quotes (seed 0, 100 steps, one thread)
QUOTED = {"loss_last": 2.38705, "loss_lowest": 2.36834, "mse": 0.07436, "collapse_step": 16, "kl_max": 0.0091}


def _run():
    pytest.importorskip("pythae")
    from pythae.models import VAE, VAEConfig

    torch.manual_seed(0)
    x = torch.as_tensor(load_digits(scale="unit")[:256], dtype=torch.float32)
    model = VAE(VAEConfig(input_dim=(64,), latent_dim=4, reconstruction_loss="mse"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    prior = torch.zeros(1, 4)
    doctor = Doctor(
        audit=audit_loss(lambda r, t: model.loss_function(r, t, prior, prior, None)[0], data_dim=64),
        warn=False,
    )
    for step in range(1, 101):
        out = model({"data": x})
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        enc = model.encoder(x)
        mu, log_var = enc.embedding.detach(), enc.log_covariance.detach()
        doctor.observe(
            step,
            loss=out.loss,
            mean=out.recon_x,
            x=x,
            kl_per_dim=0.5 * (mu**2 + log_var.exp() - 1 - log_var),
            latent_mean=mu,
        )
    return x, doctor.report()


def test_readme_pythae_example_prints_the_quoted_report():
    x, report = _run()
    text = README.read_text()
    # the README shows these numbers in the printed report (as the report formats them)
    for key in ("loss_last", "loss_lowest", "mse", "kl_max"):
        assert format(QUOTED[key], "g") in text, key
    assert f"step {QUOTED['collapse_step']}: every latent dimension has KL < 0.01" in text
    n = report.numbers
    # float32 training, 100 full-batch Adam steps: here the numbers repeat to the last digit printed;
    # 1e-3 relative leaves room for another BLAS's rounding of the same operations, and is far below
    # what a change of the example moves (the loss falls 0.0002 per step near the end, the MSE by
    # 0.02 from step 10 to 100)
    assert n["loss_last"] == pytest.approx(QUOTED["loss_last"], rel=1e-3)
    assert n["loss_lowest"] == pytest.approx(QUOTED["loss_lowest"], rel=1e-3)
    assert n["loss_infimum"] == 0.0  # MSE: its audit measures the smallest value, exactly 0
    assert report.answers["5"].startswith(f"mean squared error {QUOTED['mse']:.4g} ")
    (finding,) = report.findings
    assert finding.kind == "posterior_collapse" and finding.step == QUOTED["collapse_step"]
    # the KL is below 0.01 by 10% at step 16: printed to 2 digits, 5e-5 is half its last digit
    assert finding.value == pytest.approx(QUOTED["kl_max"], abs=5e-5)
    assert n["active_units"] == 0 and max(n["kl_per_dim"]) < 0.01
    # the linear VAE's prediction, by another route: with beta sigma^2 = 1 (pythae's 0.5 x squared
    # error is sigma^2 = 1) it keeps direction j only if the covariance eigenvalue l_j > 1 (theory
    # section 3); the largest here is 0.844, as the README says
    top = np.linalg.eigvalsh(np.cov(x.numpy().astype(np.float64).T, bias=True)).max()
    assert top == pytest.approx(0.844, abs=5e-4) and top < 1.0
