"""One visual language for every vaetheory figure, at the sizes venues print.

Every visual decision lives here; the drawing modules ask for it by meaning.

* **Templates** (:data:`TEMPLATES`, :func:`use_template`): the printed widths of one column and of a
  page, in inches: ``generic`` 3.3 / 6.9, ``icml`` 3.25 / 6.75, ``neurips`` 2.7 / 5.5. A figure is
  drawn at its printed size, so every text is at least :data:`MIN_FONT_PT` (7 pt) on paper.
  :func:`new_figure` sizes a figure for the active template; ``vaetheory figures --template NAME``
  makes the whole catalogue for one.
* **Colours by meaning**, each with a contrast of at least 3:1 on white (:func:`contrast_ratio`,
  WCAG 2 relative luminance):

  - one fixed colour per decoder-variance policy and remedy, looked up by the registry's
    ``VariancePolicy.colour_key`` (:func:`policy_color`, :data:`POLICY_COLORS`);
  - a floor value xi (a VARIANCE) always gets the same colour, a monotone function of
    log10 xi on the fixed range :data:`XI_RANGE` = [1e-8, 1] (:func:`xi_color`): smaller floors are
    darker; floors outside the range take the colour of its nearest end;
  - other ordered quantities (lambda, beta thresholds, noise levels) take neutral greys from black
    to :data:`ORDINAL_LIGHTEST` (:func:`ordinal_colors`), never a policy or floor colour.

* **Line styles, one meaning each** (:data:`LINE_SEMANTICS`): measurements are solid thin lines
  and/or markers (:data:`MEASURED_LINE`, :data:`MEASURED_MARKERS`); bounds (a floor's
  -(d/2) log(2 pi xi), a supremum, a threshold) are dashed (:data:`BOUND_LINE`); theory and
  predictions are thick translucent lines (:data:`THEORY_LINE`) or, for a second theory curve on the
  same axes (a claimed, wrong formula), dotted (:data:`PREDICTION_LINE`).
* **No titles inside figures**: what is drawn and the measured numbers go to the caption, which
  :func:`save_figure` writes to the sidecar (``caption``, with ``template``). Legends are compact and
  outside the data (:func:`legend_below`, at most :data:`MAX_LEGEND_FRACTION` of the figure's
  height) or replaced by direct labels (:func:`direct_label`).
* :func:`audit_figure` lists every breach of these rules in a drawn figure (the tests run it on
  every saved figure; other figure modules can too).
* :func:`save_figure` writes ``stem.pdf``, ``stem.png`` (300 dpi, the same size as the PDF) and
  ``stem.json`` (provenance, the data drawn, the caption and the template), deterministically and
  atomically (each file rendered in memory, then written with :func:`vaetheory.rundir.atomic_write`:
  an interrupted save leaves the previous file whole).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb, to_rgba
from matplotlib.figure import Figure

from vaetheory.results import to_jsonable
from vaetheory.rundir import atomic_write, prepare_output_dir  # file handling lives in the core module

# -- templates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A venue's printed widths (inches) of one column and of a full page."""

    name: str
    column_width: float
    page_width: float


TEMPLATES: dict[str, Template] = {
    "generic": Template("generic", 3.3, 6.9),
    "icml": Template("icml", 3.25, 6.75),
    "neurips": Template("neurips", 2.7, 5.5),
}
DEFAULT_TEMPLATE = "generic"
#: the generic template's widths (kept names; :func:`current_template` gives the active ones)
COLUMN_WIDTH = TEMPLATES["generic"].column_width
PAGE_WIDTH = TEMPLATES["generic"].page_width
#: the smallest text size, in points, at the printed size
MIN_FONT_PT = 7.0
#: the largest share of a figure's height a legend may take
MAX_LEGEND_FRACTION = 0.15
#: the smallest contrast ratio on white of any line or marker
MIN_CONTRAST = 3.0

_active_template = DEFAULT_TEMPLATE


def check_template(name: str) -> str:
    """``name`` if it is a template, else a ``ValueError`` naming the accepted ones."""
    if name not in TEMPLATES:
        raise ValueError(f"--template must be one of {', '.join(TEMPLATES)}; got {name!r}")
    return name


def current_template() -> Template:
    """The template :func:`new_figure` sizes figures for (``generic`` unless :func:`use_template`)."""
    return TEMPLATES[_active_template]


@contextlib.contextmanager
def use_template(name: str) -> Iterator[Template]:
    """Within the block, :func:`new_figure` and :func:`save_figure` use template ``name``."""
    global _active_template
    previous = _active_template
    _active_template = check_template(name)
    try:
        yield TEMPLATES[name]
    finally:
        _active_template = previous


def figure_width(width: str | float) -> float:
    """Inches for ``"column"`` or ``"page"`` in the active template (a number is taken as inches)."""
    if isinstance(width, str):
        t = current_template()
        widths = {"column": t.column_width, "page": t.page_width}
        if width not in widths:
            raise ValueError(f"width must be 'column', 'page' or a number of inches; got {width!r}")
        return widths[width]
    return float(width)


# -- colours ------------------------------------------------------------------------------------

# Okabe & Ito (2008) colour-blind-safe palette, as published. Orange, sky blue, yellow and reddish
# purple have a contrast under 3:1 on white: lines use :func:`policy_color`, which darkens them.
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
#: the Okabe-Ito hues at a contrast of at least 3:1 on white (same hue, darkened where needed)
OKABE_ITO_PRINT = {
    "orange": "#A66F00",
    "sky_blue": "#2A86BF",
    "bluish_green": "#008A64",
    "yellow": "#857C00",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#B2588A",
    "black": "#000000",
}

#: colour key (``VariancePolicy.colour_key``) -> colour; every entry has contrast >= 3:1 on white
POLICY_COLORS: dict[str, str] = {
    # the decoder-variance policies
    "learned": "#D55E00",  # vermillion
    "floor": "#0072B2",  # blue (a floor with a known xi: xi_color(xi), the same blue family)
    "fixed": "#A66F00",  # dark orange
    "shared": "#B2588A",  # reddish purple
    "calibrated": "#008A64",  # bluish green
    "bernoulli": "#000000",  # black
    # the remedies (vaetheory.empirical.remedies), each its own
    "student_t": "#7B3294",  # purple
    "student_t_learned_dof": "#C51B7D",  # magenta
    "beta_nll": "#1B7837",  # green
    "beta_nll_1": "#6B7A00",  # olive
    "faithful": "#332288",  # indigo
    "discretised": "#00727A",  # teal
    "dequantised": "#8C4A00",  # brown
    "quantile": "#4B5D67",  # slate
}
#: marker per floor method (clamp, softclip, softplus, gaussian_nll): floors at the same xi share
#: xi_color(xi), so the method is told by its marker (every figure that draws floor methods uses these)
FLOOR_METHOD_MARKERS: dict[str, str] = {"clamp": "o", "softclip": "s", "softplus": "^", "gaussian_nll": "D"}
#: ink for theory lines and single neutral marks
THEORY_COLOR = "#222222"
NEUTRAL_COLOR = "#5E5E5E"
#: the lightest grey of :func:`ordinal_colors` (contrast 4.5:1)
ORDINAL_LIGHTEST = "#767676"
#: floors xi (variances) are coloured on log10 xi over this range, darkest at the smallest
XI_RANGE = (1e-8, 1.0)
#: positions in matplotlib's sequential ``Blues`` map for xi = XI_RANGE[1] and XI_RANGE[0]
_XI_MAP_ENDS = (0.62, 1.0)
# kept for older callers: five floor shades, darkest first (floor_color(index))
FLOOR_COLORS = tuple(to_hex(colormaps["Blues"](x)) for x in np.linspace(_XI_MAP_ENDS[1], _XI_MAP_ENDS[0], 5))


def relative_luminance(color) -> float:
    """WCAG 2 relative luminance of an opaque colour (any matplotlib colour spec)."""
    channels = []
    for c in to_rgb(color):
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def on_white(color, alpha: float | None = None) -> tuple[float, float, float]:
    """The opaque colour that ``color`` (with its alpha, or ``alpha``) shows on white."""
    r, g, b, a = to_rgba(color)
    a = a if alpha is None else alpha * a
    return (a * r + 1 - a, a * g + 1 - a, a * b + 1 - a)


def contrast_ratio(color, background="white", alpha: float | None = None) -> float:
    """WCAG 2 contrast ratio (1 to 21) of ``color``, blended by its alpha onto white, on ``background``."""
    fg = relative_luminance(on_white(color, alpha))
    bg = relative_luminance(background)
    hi, lo = max(fg, bg), min(fg, bg)
    return (hi + 0.05) / (lo + 0.05)


def policy_color(policy: str) -> str:
    """The fixed colour of a policy's colour key (``VariancePolicy.colour_key``: ``learned``, ...).

    A key that is not in :data:`POLICY_COLORS` may name an Okabe-Ito hue (``"sky_blue"``): a newly
    registered policy gets that hue at print contrast (:data:`OKABE_ITO_PRINT`); anything else is
    :data:`NEUTRAL_COLOR`.
    """
    return POLICY_COLORS.get(policy) or OKABE_ITO_PRINT.get(policy, NEUTRAL_COLOR)


def xi_color(xi: float) -> str:
    """The colour of the floor ``xi`` (a VARIANCE), the same in every figure.

    A monotone function of log10 xi: xi = 1 is the lightest blue (``Blues`` at 0.62, contrast
    3.4:1), xi = 1e-8 the darkest (``Blues`` at 1.0); values outside :data:`XI_RANGE` take the
    nearest end. ``ValueError`` for a non-positive or non-finite xi.
    """
    xi = float(xi)
    if not (math.isfinite(xi) and xi > 0):
        raise ValueError(f"xi must be a positive finite variance; got {xi!r}")
    lo, hi = (math.log10(v) for v in XI_RANGE)
    t = min(max((math.log10(xi) - lo) / (hi - lo), 0.0), 1.0)  # 0 at 1e-8, 1 at 1
    dark, light = _XI_MAP_ENDS[1], _XI_MAP_ENDS[0]
    return to_hex(colormaps["Blues"](dark + t * (light - dark)))


def floor_color(index: int) -> str:
    """The ``index``-th of five floor shades (older API; use :func:`xi_color` so xi keeps its colour)."""
    return FLOOR_COLORS[index % len(FLOOR_COLORS)]


def ordinal_colors(n: int) -> list[str]:
    """``n`` greys from :data:`THEORY_COLOR` to :data:`ORDINAL_LIGHTEST` for ordered non-policy quantities."""
    darkest = to_rgb(THEORY_COLOR)[0]  # not black: black is the Bernoulli decoder's colour
    if n <= 1:
        return [THEORY_COLOR] * max(n, 0)
    top = to_rgb(ORDINAL_LIGHTEST)[0]
    return [to_hex((v, v, v)) for v in np.linspace(darkest, top, n)]


def policy_gid(key: str) -> str:
    """The gid that marks an artist drawn in policy ``key``'s colour (the tests compare colours by it)."""
    return f"policy:{key}"


def xi_gid(xi: float) -> str:
    """The gid that marks an artist drawn in the colour of floor ``xi``."""
    return f"xi:{float(xi):.6g}"


# -- line styles --------------------------------------------------------------------------------

#: measurements: solid thin lines, with markers where the points are few
MEASURED_LINE: dict[str, Any] = {"linestyle": "-", "linewidth": 1.0, "marker": "o", "markersize": 2.5}
#: measurements drawn as markers only
MEASURED_MARKERS: dict[str, Any] = {"linestyle": "none", "marker": "o", "markersize": 3.0}
#: bounds (a floor's -(d/2) log(2 pi xi), a supremum, a threshold): dashed
BOUND_LINE: dict[str, Any] = {"linestyle": "--", "linewidth": 1.1}
#: theory and predictions: thick translucent solid lines (alpha chosen so dark ink stays >= 3:1)
THEORY_LINE: dict[str, Any] = {"linestyle": "-", "linewidth": 2.4, "alpha": 0.6, "solid_capstyle": "butt"}
#: a second theory curve on the same axes (a claimed formula, an alternative prediction): dotted
PREDICTION_LINE: dict[str, Any] = {"linestyle": ":", "linewidth": 1.6}

LINE_SEMANTICS = {
    "measured": "solid thin line and/or markers (MEASURED_LINE, MEASURED_MARKERS)",
    "bound": "dashed (BOUND_LINE): a floor's bound, a supremum, a threshold",
    "theory": "thick translucent solid (THEORY_LINE); a second theory curve dotted (PREDICTION_LINE)",
}

RC_PARAMS: dict[str, Any] = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
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
    "legend.handlelength": 1.8,
    "legend.columnspacing": 1.0,
    "legend.borderaxespad": 0.2,
    "legend.borderpad": 0.1,
    "legend.labelspacing": 0.25,
    "axes.xmargin": 0.02,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "standard",  # the file is the figure's size; audit_figure flags what sticks out
    "savefig.pad_inches": 0.03,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "text.usetex": False,
    "mathtext.fontset": "dejavusans",
    "svg.hashsalt": "vaetheory",
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying vaetheory's rcParams."""
    with plt.rc_context(RC_PARAMS):
        yield


def new_figure(
    width: str | float = "column", aspect: float = 0.75, nrows: int = 1, ncols: int = 1, **kwargs: Any
):
    """``plt.subplots`` sized for a column (``"column"``) or a page (``"page"``) of the active template.

    ``aspect`` is height / width. Call inside :func:`style` (labels are sized by ``RC_PARAMS``).
    The figure remembers its template (``fig.vaetheory_template``), which :func:`save_figure` records.
    """
    w = figure_width(width)
    with plt.rc_context(RC_PARAMS):
        fig, axes = plt.subplots(nrows, ncols, figsize=(w, w * aspect), **kwargs)
    fig.vaetheory_template = current_template().name
    return fig, axes


def legend_below(fig: Figure, handles=None, labels=None, *, ncol: int | None = None, **kwargs: Any):
    """A compact frameless legend under the axes, outside the data (constrained layout makes room).

    ``ncol`` defaults to as many columns as fit the figure's width (measured); the legend should
    take at most :data:`MAX_LEGEND_FRACTION` of the figure's height, which :func:`audit_figure`
    checks.
    """
    if handles is None:
        handles, labels = [], []
        for ax in fig.axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
    if not handles:
        return None
    from matplotlib.legend_handler import HandlerTuple

    kwargs.setdefault("handler_map", {tuple: HandlerTuple(ndivide=None, pad=0.0)})
    if ncol is not None:
        return fig.legend(handles, labels, loc="outside lower center", ncol=ncol, **kwargs)
    # as many columns as fit the figure's width (measured, widest first)
    renderer = fig.canvas.get_renderer()
    for n in range(len(labels), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncol=n, **kwargs)
        if n == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend
        legend.remove()
    return None  # unreachable: n == 1 returns


def fit_legend_height(fig: Figure, legend, share: float = MAX_LEGEND_FRACTION - 0.01) -> None:
    """Make ``fig`` taller (its width, the template's, is kept) until ``legend`` takes at most ``share``
    of its height; a legend that already fits leaves the figure as it is.

    A legend's height is fixed by its text (7 pt rows); a narrow template wraps it onto more rows, so
    the figure grows instead of the legend eating the plots.
    """
    if legend is None:
        return
    renderer = fig.canvas.get_renderer()
    height = legend.get_window_extent(renderer).height / fig.dpi  # inches
    w, h = fig.get_size_inches()
    if height > share * h:
        fig.set_size_inches(w, height / share, forward=False)


def direct_label(ax, x: float, y: float, text: str, color, **kwargs: Any):
    """A label in a line's colour next to the point (x, y) of the line (data coordinates)."""
    options = {
        "fontsize": RC_PARAMS["legend.fontsize"],
        "va": "center",
        "ha": "left",
        "color": color,
        "xytext": (2, 0),
        "textcoords": "offset points",
    }
    options.update(kwargs)
    return ax.annotate(text, (x, y), **options)


def power_of_ten(value: float) -> str:
    """``$10^{-4}$`` for a power of ten, else ``$3\\times10^{-2}$``-style mathtext."""
    mantissa, exponent = f"{float(value):.1e}".split("e")
    exponent_i = int(exponent)
    if float(mantissa) == 1.0:
        return rf"$10^{{{exponent_i}}}$"
    return rf"${float(mantissa):g}\times10^{{{exponent_i}}}$"


def xi_label(xi: float) -> str:
    """``$\\xi = 10^{-4}$``: a floor's label in every figure."""
    return r"$\xi = " + power_of_ten(xi)[1:]


# -- checking a drawn figure ----------------------------------------------------------------------

_PANEL_LABEL = re.compile(r"^\(?[a-z0-9]\)?$")


def _visible_texts(fig: Figure):
    """Every text the figure draws: tick labels of the ticks in view, and every other visible text."""
    from matplotlib.axis import Tick
    from matplotlib.text import Text

    tick_texts = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in (*axis.majorTicks, *axis.minorTicks):
                tick_texts.update((id(tick.label1), id(tick.label2)))
    for t in fig.findobj(lambda a: isinstance(a, Text) and not isinstance(a, Tick)):
        if id(t) in tick_texts or not (t.get_visible() and t.get_text().strip()):
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        yield t
    for ax in fig.axes:
        if not (ax.get_visible() and ax.axison):
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():
                continue
            scale = axis.get_transform()  # compare in the axis' own scale (log axes too)
            lo, hi = sorted(float(scale.transform(v)) for v in axis.get_view_interval())
            for ticks, locs in (
                (axis.get_major_ticks(), axis.get_majorticklocs()),
                (axis.get_minor_ticks(), axis.get_minorticklocs()),
            ):
                for tick, loc in zip(ticks, locs):
                    where = float(scale.transform(loc)) if loc > 0 or axis.get_scale() != "log" else -np.inf
                    if not lo - 1e-9 * (hi - lo) <= where <= hi + 1e-9 * (hi - lo):
                        continue  # a tick outside the view is not drawn
                    for t in (tick.label1, tick.label2):
                        if t.get_visible() and t.get_text().strip():
                            yield t


def _data_points(ax) -> np.ndarray:
    """Display coordinates of every plotted vertex of ``ax`` that lies inside its axes."""
    points = []
    for line in ax.get_lines():
        if not line.get_visible() or line.get_gid() == "vaetheory-legend-only":
            continue
        xy = line.get_xydata()
        if len(xy) == 0:
            continue
        trans = line.get_transform()
        disp = trans.transform(np.asarray(xy, dtype=np.float64))
        if len(disp) == 2 and line.get_linestyle() not in ("None", "none", " ", ""):
            # a straight line (an axhline): sample along it so a legend over its middle counts
            disp = np.linspace(disp[0], disp[1], 50)
        points.append(disp)
    for coll in ax.collections:
        offsets = coll.get_offsets()
        if coll.get_visible() and len(offsets):
            points.append(coll.get_offset_transform().transform(np.asarray(offsets, dtype=np.float64)))
    if not points:
        return np.empty((0, 2))
    pts = np.concatenate(points)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    box = ax.get_window_extent()
    inside = (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)
    return pts[inside]


def _line_colours(line) -> list[tuple[str, Any, float | None]]:
    """(what, colour, alpha) of everything a Line2D draws (its line and its markers' face and edge)."""
    alpha = line.get_alpha()
    out = []
    if line.get_linestyle() not in ("None", "none", " ", "") and line.get_linewidth() > 0:
        out.append(("line", line.get_color(), alpha))
    if line.get_marker() not in (None, "None", "none", " ", ""):
        for what, colour in (
            ("marker face", line.get_markerfacecolor()),
            ("marker edge", line.get_markeredgecolor()),
        ):
            if to_rgba(colour)[3] > 0 and to_hex(colour) != "#ffffff":  # white: an open marker
                out.append((what, colour, alpha))
    return out


def audit_figure(fig: Figure, template: str | None = None) -> list[str]:
    """Every breach of this module's rules in the drawn figure ``fig``; empty when it may be printed.

    Checked: the width is the template's column or page width; every visible text is at least
    :data:`MIN_FONT_PT`; no axes title other than a panel label ("(a)") and no figure title; every
    line and marker has contrast >= :data:`MIN_CONTRAST` on white (after its alpha); every legend
    takes at most :data:`MAX_LEGEND_FRACTION` of the figure's height and covers no plotted point;
    no panel is empty; no text sticks out of the figure.
    """
    problems: list[str] = []
    t = TEMPLATES[check_template(template or getattr(fig, "vaetheory_template", DEFAULT_TEMPLATE))]
    w = fig.get_size_inches()[0]
    if not any(abs(w - width) < 1e-6 for width in (t.column_width, t.page_width)):
        problems.append(
            f"width {w:.3f} in is neither the {t.name} column ({t.column_width}) nor page ({t.page_width})"
        )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    for text in _visible_texts(fig):
        size = text.get_fontsize()
        if size < MIN_FONT_PT - 1e-9:
            problems.append(f"text {text.get_text()!r} at {size:g} pt < {MIN_FONT_PT:g} pt")
        box = text.get_window_extent(renderer)
        tol = 1.0  # a pixel: rounding of the extents
        if (
            box.x0 < fig_box.x0 - tol
            or box.x1 > fig_box.x1 + tol
            or box.y0 < fig_box.y0 - tol
            or box.y1 > fig_box.y1 + tol
        ):
            problems.append(f"text {text.get_text()!r} sticks out of the figure")
    if fig.get_suptitle():
        problems.append(f"figure title {fig.get_suptitle()!r} (captions go to the sidecar)")
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for loc in ("left", "center", "right"):
            title = ax.get_title(loc)
            if title and not _PANEL_LABEL.match(title.strip()):
                problems.append(f"axes title {title!r} (captions go to the sidecar)")
        drawn = [a for a in (*ax.get_lines(), *ax.collections, *ax.images, *ax.patches) if a.get_visible()]
        if not drawn:
            problems.append("an empty panel")
        for line in ax.get_lines():
            if not line.get_visible() or line.get_gid() == "vaetheory-legend-only":
                continue
            for what, colour, alpha in _line_colours(line):
                ratio = contrast_ratio(colour, alpha=alpha)
                if ratio < MIN_CONTRAST:
                    problems.append(
                        f"{what} of {line.get_label()!r} in {to_hex(colour)}: contrast {ratio:.2f}:1"
                    )
        for coll in ax.collections:
            from matplotlib.collections import PathCollection

            if isinstance(coll, PathCollection) and coll.get_visible():
                for colour in coll.get_facecolors():
                    if colour[3] > 0 and contrast_ratio(colour) < MIN_CONTRAST:
                        problems.append(
                            f"marker in {to_hex(colour)}: contrast {contrast_ratio(colour):.2f}:1"
                        )
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    for legend in legends:
        if not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        share = box.height / fig_box.height
        if share > MAX_LEGEND_FRACTION + 1e-9:
            problems.append(f"legend takes {share:.0%} of the figure's height (> {MAX_LEGEND_FRACTION:.0%})")
        for ax in fig.axes:
            pts = _data_points(ax)
            over = (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
            if over.any():
                problems.append(f"legend covers {int(over.sum())} plotted point(s)")
                break
    return problems


# -- saving -------------------------------------------------------------------------------------

_PIN_GID = "vaetheory-figure-size-pin"


def pin_to_figure_size(fig: Figure) -> None:
    """Make the saved file exactly the figure size (the template's width) under a tight bounding box.

    :func:`save_figure` saves with a tight bounding box padded by ``savefig.pad_inches``; an
    invisible frame inset by that pad makes the tight box the whole figure, so the file keeps the
    column or page width (PDF and PNG alike). Anything drawn outside the figure would widen the
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
    caption: str | None = None,
    formats: tuple[str, ...] = ("pdf", "png"),
    close: bool = True,
) -> list[Path]:
    """Write ``stem.pdf``, ``stem.png`` and the sidecar ``stem.json``; return their paths.

    The sidecar holds ``{"figure", "provenance", "data", "caption", "template"}``: the record from
    :func:`vaetheory.provenance.provenance`, the numbers drawn, the caption (what is drawn and the
    measured numbers; titles are not drawn inside figures) and the template the figure was sized
    for. The PDF's metadata carries the provenance (Subject: the JSON record; Keywords: version,
    commit and seed). PDF and PNG are written without timestamps and are exactly the figure's size
    (the template's width; nothing is cropped or padded, so :func:`audit_figure` checks that no text
    sticks out).
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
            # rendered in memory, then written atomically (temporary file in the same directory,
            # fsync, os.replace): an interrupted save leaves the previous file, never a torn one
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, metadata=meta, bbox_inches=None)
            atomic_write(path, buffer.getvalue())
            written.append(path)
    sidecar = stem.with_suffix(".json")
    record = {
        "figure": stem.name,
        "provenance": prov,
        "data": to_jsonable(dict(data or {})),
        "caption": caption,
        "template": getattr(fig, "vaetheory_template", _active_template),
    }
    atomic_write(sidecar, json.dumps(record, indent=2) + "\n")
    written.append(sidecar)
    if close:
        plt.close(fig)
    return written
