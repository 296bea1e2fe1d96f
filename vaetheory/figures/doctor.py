"""The doctor's figure: a :class:`~vaetheory.doctor.doctor.DoctorReport` drawn with
:mod:`vaetheory.plots.doctor` and saved with :func:`vaetheory.plots.style.save_figure` (PDF + PNG +
JSON sidecar holding the report's provenance and the numbers drawn).

Not an area of the catalogue (``vaetheory figures``): it draws a user's run, written by
``vaetheory doctor LOG --out DIR`` and ``DoctorReport.save_figure(stem)``.
"""

from __future__ import annotations

from pathlib import Path


def doctor_figure(out_stem, report, *, title: str | None = None) -> list[Path]:
    """Draw ``report`` and save ``out_stem.{pdf,png,json}``; returns the paths written."""
    from vaetheory.plots.doctor import draw_doctor
    from vaetheory.plots.style import save_figure

    data = report.to_dict()
    numbers = dict(data["numbers"])
    prov = numbers.pop("provenance", None) or {}
    fig = draw_doctor(numbers, title=title)
    return save_figure(fig, Path(out_stem), prov, {"numbers": numbers, "findings": data["findings"]})


__all__ = ["doctor_figure"]
