"""Deprecated path: the thesis study moved to :mod:`vaetheory.studies.thesis_ch5`.

This module re-exports the names it held (configurations, data, linear theory, evaluation) from
their new modules; import them from :mod:`vaetheory.studies.thesis_ch5` instead. ``variance`` and
``sigma_std`` of :class:`ThesisConfiguration` are now ``policy`` and ``sigma`` (the old names remain
as read-only aliases).
"""

import warnings

from vaetheory.studies.thesis_ch5.configurations import (
    DEFAULT_SETTINGS,
    LARGE_BETA,
    QUICK_SETTINGS,
    SMALL_BETA,
    SMALL_SIGMA_STD,
    THESIS_DATA,
    THESIS_LATENTS,
    RunSettings,
    ThesisConfiguration,
    thesis_configurations,
)
from vaetheory.studies.thesis_ch5.data import ThesisData, load_thesis_data
from vaetheory.studies.thesis_ch5.evaluation import (
    ACTIVE_UNIT_THRESHOLD,
    LATENT_GRID_P_RANGE,
    LATENT_GRID_SIZE,
    SAMPLE_ALPHA,
    ConfigurationResult,
    evaluate_configuration,
    latent_grid,
)
from vaetheory.studies.thesis_ch5.theory import LinearPrediction, linear_prediction, predicted_active_curve

warnings.warn(
    "vaetheory.empirical.thesis is deprecated: import from vaetheory.studies.thesis_ch5",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "DEFAULT_SETTINGS",
    "LARGE_BETA",
    "LATENT_GRID_P_RANGE",
    "LATENT_GRID_SIZE",
    "QUICK_SETTINGS",
    "SAMPLE_ALPHA",
    "SMALL_BETA",
    "SMALL_SIGMA_STD",
    "THESIS_DATA",
    "THESIS_LATENTS",
    "ConfigurationResult",
    "LinearPrediction",
    "RunSettings",
    "ThesisConfiguration",
    "ThesisData",
    "evaluate_configuration",
    "latent_grid",
    "linear_prediction",
    "load_thesis_data",
    "predicted_active_curve",
    "thesis_configurations",
]
