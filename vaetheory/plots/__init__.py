"""Figures: functions that take result values and draw them. Nothing here computes theory.

Every plotting module uses :mod:`vaetheory.plots.style` for the palette, the sizes and
:func:`~vaetheory.plots.style.save_figure` (PDF + PNG + JSON sidecar with provenance).
matplotlib is imported only inside this subpackage.
"""
