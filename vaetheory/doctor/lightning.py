"""A PyTorch Lightning callback feeding a :class:`~vaetheory.doctor.doctor.Doctor` (Lightning optional).

``lightning_callback(doctor)`` imports ``lightning`` (or else ``pytorch_lightning``) only when
called, and returns a ``Callback`` whose ``on_train_batch_end`` passes the keys of the training
step's output dict that :meth:`Doctor.observe` takes (``loss``, ``mean``, ``variance``,
``log_variance``, ``x``, ``kl_per_dim``, ``latent_mean``, ``point_index``) with
``trainer.global_step`` as the step::

    def training_step(self, batch, batch_idx):
        ...
        return {"loss": loss, "mean": mu, "variance": var, "x": x, "kl_per_dim": kl}

    trainer = lightning.Trainer(callbacks=[lightning_callback(doctor)])
"""

from __future__ import annotations

import importlib

OBSERVED_KEYS = ("loss", "mean", "variance", "log_variance", "x", "kl_per_dim", "latent_mean", "point_index")


def _lightning():
    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ValueError(
        "lightning_callback needs PyTorch Lightning (pip install lightning); without it call "
        "doctor.observe(step, ...) from your own loop"
    )


def lightning_callback(doctor, *, every: int = 1):
    """A Lightning ``Callback`` that calls ``doctor.observe`` every ``every`` training batches."""
    from vaetheory._validation import check_int

    every = check_int("every", every, low=1)
    pl = _lightning()

    class DoctorCallback(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            step = int(trainer.global_step)
            if step % every or not isinstance(outputs, dict):
                return
            doctor.observe(step, **{k: outputs[k] for k in OBSERVED_KEYS if outputs.get(k) is not None})

        def on_train_end(self, trainer, pl_module):
            self.report = doctor.report()

    return DoctorCallback()


__all__ = ["OBSERVED_KEYS", "lightning_callback"]
