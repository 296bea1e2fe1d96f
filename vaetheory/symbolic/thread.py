"""Deprecated path: the sigma* analysis moved to :mod:`vaetheory.symbolic.sigma_star`.

The module is named for what it holds (the optimal encoder std s*(lambda) of the thread's second
answer and the answer's sign error); the thread's claims are in :mod:`vaetheory.symbolic.claims`.
This module re-exports the old names; import them from :mod:`vaetheory.symbolic` (or
:mod:`vaetheory.symbolic.sigma_star`) instead.
"""

import warnings

from vaetheory.symbolic.sigma_star import ANSWER_SETTING, THEORY, SigmaStarAnalysis, analyse_sigma_star

warnings.warn(
    "vaetheory.symbolic.thread is deprecated: import from vaetheory.symbolic.sigma_star",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["ANSWER_SETTING", "THEORY", "SigmaStarAnalysis", "analyse_sigma_star"]
