"""The thesis chapter 5 study (``vaetheory reproduce thesis-ch5``): what each common "fix" does to a VAE.

The chapter "Variational Autoencoders: theory and implementations" (chapter 5) compares a learned
decoder variance with a fixed decoder std (sigma = 1, sigma = 1e-4) and beta-VAEs (beta = 0.01, 4),
at latent sizes 2 and 20, and three ways to sample. Modules, by what they hold:

* :mod:`~vaetheory.studies.thesis_ch5.configurations` -- the variants and configurations (typed
  fields policy, sigma, beta, latent), :func:`find_configuration`, the run settings.
* :mod:`~vaetheory.studies.thesis_ch5.data` -- the data sets and their held-out split.
* :mod:`~vaetheory.studies.thesis_ch5.theory` -- the linear VAE's prediction beside each measurement.
* :mod:`~vaetheory.studies.thesis_ch5.evaluation` -- held-out metrics and images of a trained model.
* :mod:`~vaetheory.studies.thesis_ch5.run` -- the resumable driver :func:`reproduce_thesis_chapter`.
* :mod:`~vaetheory.studies.thesis_ch5.claims` -- each claim of the chapter checked on a run.
* :mod:`~vaetheory.studies.thesis_ch5.report` -- ``table.md`` and ``summary.md``.

Importing this package imports numpy (not torch, not matplotlib).
"""

from vaetheory.studies.thesis_ch5.claims import ClaimCheck, check_claims
from vaetheory.studies.thesis_ch5.configurations import (
    BETA_LARGE,
    BETA_SMALL,
    DEFAULT_SETTINGS,
    LARGE_BETA,
    LEARNED,
    QUICK_SETTINGS,
    SIGMA1,
    SIGMA_SMALL,
    SMALL_BETA,
    SMALL_SIGMA_STD,
    THESIS_DATA,
    THESIS_LATENTS,
    VARIANTS,
    RunSettings,
    ThesisConfiguration,
    Variant,
    configuration,
    find_configuration,
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
from vaetheory.studies.thesis_ch5.report import (
    TABLE_HEADERS,
    render_summary,
    render_table,
    table_rows,
    verdict_text,
)
from vaetheory.studies.thesis_ch5.run import (
    RUN_FILES,
    ThesisReproduction,
    load_configuration_arrays,
    load_configuration_result,
    load_reproduction,
    reproduce_thesis_chapter,
    results_records,
)
from vaetheory.studies.thesis_ch5.theory import LinearPrediction, linear_prediction, predicted_active_curve

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "BETA_LARGE",
    "BETA_SMALL",
    "DEFAULT_SETTINGS",
    "LARGE_BETA",
    "LATENT_GRID_P_RANGE",
    "LATENT_GRID_SIZE",
    "LEARNED",
    "QUICK_SETTINGS",
    "RUN_FILES",
    "SAMPLE_ALPHA",
    "SIGMA1",
    "SIGMA_SMALL",
    "SMALL_BETA",
    "SMALL_SIGMA_STD",
    "TABLE_HEADERS",
    "THESIS_DATA",
    "THESIS_LATENTS",
    "VARIANTS",
    "ClaimCheck",
    "ConfigurationResult",
    "LinearPrediction",
    "RunSettings",
    "ThesisConfiguration",
    "ThesisData",
    "ThesisReproduction",
    "Variant",
    "check_claims",
    "configuration",
    "evaluate_configuration",
    "find_configuration",
    "latent_grid",
    "linear_prediction",
    "load_configuration_arrays",
    "load_configuration_result",
    "load_reproduction",
    "load_thesis_data",
    "predicted_active_curve",
    "render_summary",
    "render_table",
    "reproduce_thesis_chapter",
    "results_records",
    "table_rows",
    "thesis_configurations",
    "verdict_text",
]
