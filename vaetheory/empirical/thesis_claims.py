"""Deprecated path: the thesis study's claims and report moved to :mod:`vaetheory.studies.thesis_ch5`.

:func:`check_claims` and :class:`ClaimCheck` are in :mod:`vaetheory.studies.thesis_ch5.claims`,
the Markdown rendering in :mod:`vaetheory.studies.thesis_ch5.report`; import them from
:mod:`vaetheory.studies.thesis_ch5` instead.
"""

import warnings

from vaetheory.studies.thesis_ch5.claims import ClaimCheck, check_claims
from vaetheory.studies.thesis_ch5.report import TABLE_HEADERS, render_summary, render_table, table_rows

warnings.warn(
    "vaetheory.empirical.thesis_claims is deprecated: import from vaetheory.studies.thesis_ch5",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["TABLE_HEADERS", "ClaimCheck", "check_claims", "render_summary", "render_table", "table_rows"]
