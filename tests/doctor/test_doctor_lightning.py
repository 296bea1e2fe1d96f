"""The doctor's Lightning callback in a real 2-epoch ``pytorch_lightning.Trainer.fit`` on a tiny model."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

pl = pytest.importorskip("pytorch_lightning")

from vaetheory.doctor import Doctor, lightning_callback  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
N, D = 16, 3


class MeanVariance(pl.LightningModule):
    """A mean and log-variance head with no floor, trained by the Gaussian NLL (constants included)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2 * D))
        self.seen: list[tuple[int, float]] = []

    def training_step(self, batch, batch_idx):
        z, x = batch
        mean, log_var = self.net(z).chunk(2, dim=-1)
        loss = -torch.distributions.Normal(mean, (0.5 * log_var).exp()).log_prob(x).sum(-1).mean()
        self.seen.append((int(self.global_step), float(log_var.detach().double().min())))
        return {"loss": loss, "mean": mean.detach(), "log_variance": log_var.detach(), "x": x}

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def test_callback_in_a_real_two_epoch_fit(tmp_path):
    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(N, 2, generator=g), torch.rand(N, D, generator=g))
    loader = torch.utils.data.DataLoader(data, batch_size=4)
    model = MeanVariance()
    doctor = Doctor(warn=False, window=5)
    callback = lightning_callback(doctor)
    trainer = pl.Trainer(
        max_epochs=2,
        callbacks=[callback],
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, loader)
    # 2 epochs x 4 batches: the callback saw every batch, at Lightning's global step after the optimiser step
    report = callback.report
    assert report.numbers["observations"] == 8 == len(model.seen)
    assert report.numbers["data_dim"] == D
    # the smallest log-variance it reports is the one the training step computed on the last batch
    last_step, last_min = model.seen[-1]
    assert report.numbers["min_log_variance_trend"]["last"] == pytest.approx(last_min, rel=1e-6)
    assert report.numbers["min_log_variance_trend"]["to_step"] == last_step + 1
    assert math.isfinite(report.numbers["loss_last"])
    assert "no floor is declared" in report.answers["1"].lower()
