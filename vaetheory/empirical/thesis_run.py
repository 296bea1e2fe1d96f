"""Deprecated path: the thesis study's driver moved to :mod:`vaetheory.studies.thesis_ch5.run`.

Re-exports :func:`reproduce_thesis_chapter`, :func:`load_reproduction` and the other public names;
import them from :mod:`vaetheory.studies.thesis_ch5` instead.
"""

import warnings

from vaetheory.studies.thesis_ch5.configurations import (
    DEFAULT_SETTINGS,
    QUICK_SETTINGS,
    thesis_configurations,
)
from vaetheory.studies.thesis_ch5.run import (
    N_SPECTRUM,
    RUN_FILES,
    ThesisReproduction,
    load_configuration_arrays,
    load_configuration_result,
    load_reproduction,
    reproduce_thesis_chapter,
    results_records,
)

warnings.warn(
    "vaetheory.empirical.thesis_run is deprecated: import from vaetheory.studies.thesis_ch5",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "N_SPECTRUM",
    "QUICK_SETTINGS",
    "RUN_FILES",
    "ThesisReproduction",
    "load_configuration_arrays",
    "load_configuration_result",
    "load_reproduction",
    "reproduce_thesis_chapter",
    "results_records",
    "thesis_configurations",
]
