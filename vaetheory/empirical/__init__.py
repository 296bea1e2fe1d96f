"""PyTorch experiments: VAEs with every decoder-variance policy, blow-up, training, estimators.

The public names are importable from here (``from vaetheory.empirical import VAE, train``);
importing this package does not import torch: each name loads its module on first use (PEP 562).

* policies -- :class:`VariancePolicy`, :class:`FloorMethod`, :func:`register_policy`,
  :func:`register_floor_method`, :func:`get_policy`, :func:`floor_report` (the bound each implies).
* model -- :class:`VAE` (``GaussianVAE`` is its old name; Gaussian or Bernoulli decoder),
  :class:`VAEConfig`, :func:`build_model`, :func:`gaussian_log_density`.
* estimators -- :func:`elbo`, :func:`iwae_bound`, :func:`exact_log_marginal` (quadrature).
* construction -- :func:`blowup_sequence`, the explicit blow-up (theory section 2).
* training -- :class:`TrainConfig`, :func:`train`, :class:`TrainResult`, :class:`BoundCheck`,
  :func:`load_model`, :func:`read_log`.
* sweep -- :func:`train_sweep` (K runs through one model with ``torch.func``).
* sampling -- :func:`sample`, :func:`reconstruct` (ancestral / mean / mean_plus_std).
* diagnostics -- :func:`active_units`, :func:`kl_per_dimension`, :func:`mutual_information`,
  :class:`VarianceMonitor`.
* mechanisms -- :func:`classify_mechanism` (per-dimension or per-point variance collapse),
  :class:`MechanismReport`, :func:`data_variance_scale`.

Names of the same quantity (one convention for new code; the old public names still work): the
decoder-variance policy is ``policy`` (``TrainConfig.variance`` and ``vaetheory train --variance``
hold it under their old names; ``--policy`` is an alias); the fixed decoder scale is ``sigma``, a
STANDARD DEVIATION (``sigma_std`` in older code), its square ``sigma2`` or ``noise_variance`` (the
linear modules) a VARIANCE, a floor ``xi`` / ``floor_variance`` a VARIANCE; the latent size is
``latent`` (``latent_dim`` in ``VAEConfig``, ``q`` in ``vaetheory.linear``).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "policies": (
        "FLOOR_METHODS",
        "GAUSSIAN_NLL_EPS",
        "SIGMA_VAE_LOG_STD_FLOOR",
        "VARIANCE_POLICIES",
        "FloorMethod",
        "FloorReport",
        "VariancePolicy",
        "check_floor_method",
        "check_policy",
        "floor_report",
        "get_policy",
        "register_floor_method",
        "register_policy",
    ),
    "model": ("VAE", "GaussianVAE", "VAEConfig", "build_model", "gaussian_log_density", "kl_standard_normal"),
    "estimators": ("elbo", "exact_log_marginal", "iwae_bound", "linear_log_marginal"),
    "construction": ("BlowupResult", "BlowupRun", "blowup_sequence", "measured_rate"),
    "training": ("BoundCheck", "LogEntry", "TrainConfig", "TrainResult", "load_model", "read_log", "train"),
    "sweep": ("SweepResult", "SweepRun", "train_sweep"),
    "sampling": ("SAMPLING_MODES", "reconstruct", "sample"),
    "diagnostics": (
        "ActiveUnits",
        "BoundExceededWarning",
        "VarianceCollapseWarning",
        "VarianceMonitor",
        "active_units",
        "kl_per_dimension",
        "mutual_information",
    ),
    "mechanisms": ("MechanismReport", "classify_mechanism", "data_variance_scale"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
