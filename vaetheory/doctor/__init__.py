"""Diagnose a user's own Gaussian model: is the decoder well-posed, and what is training doing?

* :func:`audit_decoder`, :func:`audit_loss` (:mod:`vaetheory.doctor.audit`, torch): does a decoder
  or a loss floor its Gaussian variance, at what ``floor_variance``, bounding the value, the
  gradient or both, and the bound :math:`-\\tfrac d2\\log(2\\pi\\xi)` per point it implies.
* :class:`Doctor` (:mod:`vaetheory.doctor.doctor`, numpy only): call ``observe`` from any training
  loop; ``report()`` answers the six questions with numbers.
* :func:`read_log`, :func:`diagnose_log` (:mod:`vaetheory.doctor.logs`): the same for a run
  directory of ``vaetheory train`` or any trainer's ``.jsonl`` / ``.csv`` log.
* :func:`lightning_callback` (:mod:`vaetheory.doctor.lightning`): a PyTorch Lightning callback,
  importing Lightning only when called.

Names are imported lazily, so ``import vaetheory.doctor`` imports neither torch nor matplotlib.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Audit": "audit",
    "audit_decoder": "audit",
    "audit_loss": "audit",
    "Doctor": "doctor",
    "DoctorReport": "doctor",
    "DoctorWarning": "doctor",
    "Finding": "doctor",
    "read_log": "logs",
    "diagnose_log": "logs",
    "LOG_COLUMNS": "logs",
    "lightning_callback": "lightning",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"vaetheory.doctor.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'vaetheory.doctor' has no attribute {name!r}")
