"""The doctor's figure: a :class:`~vaetheory.doctor.doctor.DoctorReport` drawn with
:mod:`vaetheory.plots.doctor` and saved with :func:`vaetheory.plots.style.save_figure` (PDF + PNG +
JSON sidecar holding the report's provenance, the numbers drawn and the caption).

Not an area of the catalogue (``vaetheory figures``): it draws a user's run, written by
``vaetheory doctor LOG --out DIR`` and ``DoctorReport.save_figure(stem)``.
"""

from __future__ import annotations

import math
from pathlib import Path


def doctor_figure(out_stem, report, *, title: str | None = None) -> list[Path]:
    """Draw ``report`` and save ``out_stem.{pdf,png,json}``; returns the paths written.

    ``title`` (e.g. ``vaetheory doctor: log.jsonl``) opens the caption; nothing is written inside
    the figure but the panel letters, labels and legend.
    """
    from vaetheory.plots.doctor import draw_doctor
    from vaetheory.plots.style import save_figure

    data = report.to_dict()
    numbers = dict(data["numbers"])
    prov = numbers.pop("provenance", None) or {}
    fig = draw_doctor(numbers)
    caption = doctor_caption(numbers, title=title)
    return save_figure(
        fig, Path(out_stem), prov, {"numbers": numbers, "findings": data["findings"]}, caption=caption
    )


def _num(v) -> float | None:
    from vaetheory.plots.doctor import _num as num

    return num(v)


def _last(values) -> float | None:
    finite = [v for v in (_num(x) for x in values or []) if v is not None and math.isfinite(v)]
    return finite[-1] if finite else None


def doctor_caption(numbers: dict, *, title: str | None = None) -> str:
    """What the doctor's figure draws, the report's numbers on it, and the panels left out."""
    from vaetheory.plots.doctor import drawn_panels

    panels = drawn_panels(numbers)
    series = numbers.get("series") or {}
    steps = [s for s in series.get("step", []) if s is not None]
    parts = [f"{title}." if title else "vaetheory doctor."]
    floor = _num(numbers.get("floor_variance"))
    run = f"floor xi = {floor:.3g} declared" if floor else "no floor declared"
    span = f"steps {steps[0]}-{steps[-1]}" if steps else "no steps"
    parts.append(f"The diagnosed run ({numbers.get('observations', 0)} observations, {span}; {run}).")
    letters = iter("abc")
    if "loss" in panels:
        text = f"({next(letters)}) The loss against the step (last {_last(series.get('loss')):.4g})"
        inf = _num(numbers.get("loss_infimum"))
        if inf is not None and math.isfinite(inf):
            text += f"; dashed: the smallest loss the floor allows, (d/2) log(2 pi xi) = {inf:.4g} per point"
        else:
            text += "; no floor: no lower bound"
        parts.append(text + ".")
    if "variance" in panels:
        text = (
            f"({next(letters)}) The smallest log-variance against the step (last "
            f"{_last(series.get('min_log_variance')):.4g})"
        )
        when = numbers.get("breakdown_step")
        tiny = _num(numbers.get("log_tiny"))
        if when is not None and tiny is not None:
            text += (
                f"; dotted: its trend, extrapolated to step {when}, where it reaches log of the "
                f"{numbers.get('dtype', 'float32')} smallest normal number ({tiny:.4g}, dashed)"
            )
        xi = _num(numbers.get("suggested_floor"))
        if floor:
            text += f"; dashed in the floor's colour: log xi = {math.log(floor):.4g}"
        elif xi:
            text += (
                f"; dashed in the floor's colour: the suggested floor xi = {xi:.3g} (log {math.log(xi):.4g})"
            )
        parts.append(text + ".")
    if "kl" in panels:
        kl = numbers.get("kl_per_dim") or []
        parts.append(
            f"({next(letters)}) The KL of each of the {len(kl)} latent dimensions at the last observation "
            f"(log axis; filled: active, open: inactive); dashed: the activity threshold 0.01 nats "
            f"({numbers.get('active_units')} active)."
        )
    left_out = {
        "loss": "no loss was observed",
        "variance": "no variance was observed",
        "kl": "no KL per latent dimension was observed",
    }
    missing = [left_out[p] for p in left_out if p not in panels]
    if missing:
        parts.append("Not drawn: " + "; ".join(missing) + ".")
    return " ".join(parts)


__all__ = ["doctor_caption", "doctor_figure"]
