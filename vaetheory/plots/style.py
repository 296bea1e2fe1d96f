"""One style for every vaetheory figure.

* Sizes: :data:`COLUMN_WIDTH` (3.3 in, one column) and :data:`PAGE_WIDTH` (6.9 in, a page).
* One colour-blind-safe palette (Okabe & Ito 2008) with a fixed colour per decoder-variance
  policy, so that figures compare across a paper: :func:`policy_color`, :func:`floor_color`.
* Theory is drawn as lines (bounds dashed: :data:`BOUND_LINE`, theory curves: :data:`THEORY_LINE`),
  measurements as markers or thin solid lines (:data:`MEASURED_LINE`).
* Math labels go through matplotlib's mathtext: no TeX installation is needed.
* :func:`save_figure` writes ``stem.pdf``, ``stem.png`` and ``stem.json`` (provenance and the data
  drawn), and puts the provenance into the PDF's metadata. Output is deterministic.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from vaetheory.results import to_jsonable
from vaetheory.rundir import prepare_output_dir  # file handling lives in the core module

COLUMN_WIDTH = 3.3
PAGE_WIDTH = 6.9

# Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}

POLICY_COLORS: dict[str, str] = {
    "learned": OKABE_ITO["vermillion"],
    "floor": OKABE_ITO["blue"],
    "fixed": OKABE_ITO["orange"],
    "shared": OKABE_ITO["reddish_purple"],
    "calibrated": OKABE_ITO["bluish_green"],
    "bernoulli": OKABE_ITO["black"],
}
# Several floors in one figure: shades that stay distinct from the other policies.
FLOOR_COLORS = ("#0072B2", "#56B4E9", "#1B3A6B", "#7FA7CF", "#2A9DD8")
THEORY_COLOR = "#444444"

THEORY_LINE: dict[str, Any] = {"linestyle": "-", "linewidth": 1.4}
BOUND_LINE: dict[str, Any] = {"linestyle": "--", "linewidth": 1.1}
MEASURED_LINE: dict[str, Any] = {"linestyle": "-", "linewidth": 0.9, "marker": "o", "markersize": 2.5}

RC_PARAMS: dict[str, Any] = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8.5,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "text.usetex": False,
    "mathtext.fontset": "dejavusans",
    "svg.hashsalt": "vaetheory",
}


def policy_color(policy: str) -> str:
    """The package-wide colour of a decoder-variance policy's colour key (``learned``, ``floor``, ...).

    A key that is not a built-in policy may name an Okabe-Ito colour (``"sky_blue"``): that is how
    a newly registered policy (``VariancePolicy.colour_key``) gets its colour; anything else is grey.
    """
    return POLICY_COLORS.get(policy) or OKABE_ITO.get(policy, THEORY_COLOR)


def floor_color(index: int) -> str:
    """The colour of the ``index``-th floor when several floors share a figure."""
    return FLOOR_COLORS[index % len(FLOOR_COLORS)]


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying vaetheory's rcParams."""
    with plt.rc_context(RC_PARAMS):
        yield


def new_figure(
    width: str | float = "column", aspect: float = 0.75, nrows: int = 1, ncols: int = 1, **kwargs: Any
):
    """``plt.subplots`` sized for a column (``"column"``, 3.3 in) or a page (``"page"``, 6.9 in).

    ``aspect`` is height / width. Call inside :func:`style` (or rely on :func:`save_figure`
    having the same rcParams; labels are sized by ``RC_PARAMS``).
    """
    w = {"column": COLUMN_WIDTH, "page": PAGE_WIDTH}.get(width, width) if isinstance(width, str) else width
    if isinstance(w, str):
        raise ValueError(f"width must be 'column', 'page' or a number of inches; got {width!r}")
    with plt.rc_context(RC_PARAMS):
        fig, axes = plt.subplots(nrows, ncols, figsize=(w, w * aspect), **kwargs)
    return fig, axes


_PIN_GID = "vaetheory-figure-size-pin"


def pin_to_figure_size(fig: Figure) -> None:
    """Make the saved file exactly the figure size (3.3 or 6.9 in wide) under a tight bounding box.

    :func:`save_figure` saves with a tight bounding box padded by ``savefig.pad_inches``; an
    invisible frame inset by that pad makes the tight box the whole figure, so the file keeps the
    column or page width. Anything drawn outside the figure (clipped on screen) would widen the
    file instead of being cut off silently, which the tests check. Idempotent.
    """
    if any(a.get_gid() == _PIN_GID for a in fig.artists):
        return
    from matplotlib.patches import Rectangle

    pad = RC_PARAMS["savefig.pad_inches"]
    w, h = fig.get_size_inches()
    frame = Rectangle(
        (pad / w, pad / h), 1 - 2 * pad / w, 1 - 2 * pad / h, transform=fig.transFigure, fill=False
    )
    frame.set_edgecolor("none")
    frame.set_gid(_PIN_GID)
    fig.add_artist(frame)


def save_figure(
    fig: Figure,
    stem: str | os.PathLike[str],
    provenance: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    *,
    formats: tuple[str, ...] = ("pdf", "png"),
    close: bool = True,
) -> list[Path]:
    """Write ``stem.pdf``, ``stem.png`` and the sidecar ``stem.json``; return their paths.

    The sidecar holds ``{"provenance": ..., "data": ...}``: the record from
    :func:`vaetheory.provenance.provenance` and the numbers drawn, so that a figure can be traced
    and redrawn. The PDF's metadata carries the same provenance (Subject: the JSON record;
    Keywords: version, commit and seed). PDF and PNG are written without timestamps. The file is
    exactly the figure's size (:func:`pin_to_figure_size`).
    """
    stem = Path(stem)
    prepare_output_dir(stem.parent)
    prov = to_jsonable(dict(provenance))
    prov_json = json.dumps(prov, sort_keys=True)
    keywords = (
        f"vaetheory {prov.get('vaetheory_version')}; commit {prov.get('git_commit')}; seed {prov.get('seed')}"
    )
    written: list[Path] = []
    pin_to_figure_size(fig)
    with plt.rc_context(RC_PARAMS):
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            if fmt == "pdf":
                meta = {
                    "Title": stem.name,
                    "Creator": f"vaetheory {prov.get('vaetheory_version')}",
                    "Subject": prov_json,
                    "Keywords": keywords,
                    "CreationDate": None,
                    "ModDate": None,
                }
            elif fmt == "png":
                meta = {"Software": f"vaetheory {prov.get('vaetheory_version')}", "Description": prov_json}
            else:
                meta = {}
            fig.savefig(path, format=fmt, metadata=meta)
            written.append(path)
    sidecar = stem.with_suffix(".json")
    sidecar.write_text(
        json.dumps({"figure": stem.name, "provenance": prov, "data": to_jsonable(dict(data or {}))}, indent=2)
        + "\n"
    )
    written.append(sidecar)
    if close:
        plt.close(fig)
    return written
