r"""Which route to :math:`+\infty` drives a run: per-dimension or per-point variance collapse.

A Gaussian decoder with a learned variance has two ways of sending the training log-likelihood to
:math:`+\infty` (theory section 2):

* **per-dimension** (degenerate data; Dai & Wipf 2019): a coordinate that is constant over the
  training set (raw digits' three always-0 pixels; synthetic data with constant coordinates) is
  reproduced exactly by the decoder's bias, so its variance can fall to 0 at EVERY point;
* **per-point** (Mattei & Frellsen 2018): the decoder reproduces a few training points and shrinks
  the variance there in all or most coordinates, so a few points carry the likelihood.

:func:`classify_mechanism` tells them apart from the decoder's log-variances
:math:`\log\sigma^2_{ij}` at the training points (point :math:`i`, coordinate :math:`j`; e.g. at
the encoder means), with these definitions, each stated once (module constants):

1. a **collapsed cell**: :math:`\sigma^2_{ij}<\tau=v_\mathrm{ref}/F`, ``F =`` :data:`COLLAPSE_FACTOR`
   (1e3), :math:`v_\mathrm{ref}` a variance scale of the data (:func:`data_variance_scale`: the mean
   per-coordinate variance of the training set). A thousand-fold fall below the data's own scale
   is not what a fit of a density needs (on digits :math:`\tau\approx10^{-4}`, below the variance
   :math:`(1/17)^2/12\approx2.9\cdot10^{-4}` of the dequantisation noise itself);
2. the **growth** a cell carries: :math:`g_{ij}=\tfrac12\log(\tau/\sigma^2_{ij})` nats when
   collapsed, else 0: the part of the log-likelihood term :math:`-\tfrac12\log\sigma^2_{ij}` gained
   beyond the threshold (the residual term :math:`-r^2/2\sigma^2` of a fitted cell stays of order
   :math:`-1/2`, so this is what grows without bound);
3. **collapsed dimensions** :math:`D`: the coordinates whose cell is collapsed at EVERY point;
4. **collapsed points** :math:`P`: the points collapsed in at least :data:`POINT_DIM_FRACTION` (a
   half: "most") of the coordinates outside :math:`D` (so that constant coordinates alone never
   make a point "collapsed");
5. the **shares** of the total growth :math:`G=\sum g_{ij}` carried by the cells of :math:`D`
   (``dimension_share``), of :math:`P` (``point_share``), of both (``overlap_share``: a collapsed
   point's cells on a collapsed dimension) and of neither (``scattered_share``); ``dimension_share +
   point_share - overlap_share + scattered_share = 1``;
6. a route **drives** the run when its share is at least :data:`PRESENT_SHARE` (a quarter): the
   mechanism is ``"per-dimension"``, ``"per-point"``, ``"both"`` or ``"none"`` (no collapsed cell,
   or only scattered ones: see ``scattered_share``).

One case the variances at the training points cannot decide: when EVERY cell is collapsed (a
decoder that reproduces every training point in every coordinate), every coordinate collapses at
every point and every point in every coordinate. It is reported as ``"both"`` with ``ambiguous``
True (both shares 1), never as one route.

Why these choices: a threshold relative to the data's scale makes the diagnostic independent of the
data's units; "every point" for a dimension is the definition of the degenerate-data route (a
coordinate collapsing at all but one point is not constant: it is reported as scattered growth,
and its cells show in the figure); "at least half the other coordinates" for a point separates a
reproduced point from a point that merely sits on a discrete level in a few coordinates.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vaetheory._validation import check_finite_array, check_positive

#: a cell is collapsed when its variance is below the data's variance scale divided by this factor
COLLAPSE_FACTOR = 1e3
#: a point is collapsed when at least this fraction of the coordinates outside D are collapsed cells
POINT_DIM_FRACTION = 0.5
#: a route drives the run when it carries at least this share of the growth
PRESENT_SHARE = 0.25

MECHANISMS = ("per-dimension", "per-point", "both", "none")


@dataclass(frozen=True)
class MechanismReport:
    """What :func:`classify_mechanism` measured (module docstring for every definition)."""

    mechanism: str
    #: collapsed coordinates (every point) and collapsed points, sorted
    dims: tuple[int, ...]
    points: tuple[int, ...]
    dimension_share: float
    point_share: float
    overlap_share: float
    scattered_share: float
    #: total growth G (nats, summed over the points) and G / n
    growth: float
    growth_per_point: float
    collapsed_cells: int
    n_points: int
    n_dims: int
    threshold_variance: float
    reference_variance: float
    collapse_factor: float
    point_dim_fraction: float
    present_share: float
    #: True only when every cell is collapsed (the two routes cannot be told apart)
    ambiguous: bool
    #: share of the spread sum_i (l_i - min l) of the given per-point log-likelihoods carried by P
    point_loglik_share: float | None = None
    #: share of the growth on collapsed cells outside D whose training value another point shares
    #: exactly in that coordinate (an atom of a discretised coordinate; needs ``x``)
    atom_share: float | None = None
    #: share of the growth outside D carried by the one point that carries most of it (0 if none):
    #: how concentrated on a point the growth is, whether or not that point is in P
    top_point_share: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dims"], d["points"] = list(self.dims), list(self.points)
        return d


def data_variance_scale(x) -> float:
    """The mean per-coordinate variance (1/n) of the training data ``x`` [n, d]: the reference scale.

    ``ValueError`` when ``x`` has no spread at all (every coordinate constant: no scale).
    """
    x = check_finite_array("x", x, ndim=2, min_rows=2)
    scale = float(np.mean(np.var(x, axis=0)))
    if not scale > 0:
        raise ValueError("x must vary in at least one coordinate (every coordinate is constant: no scale)")
    return scale


def _fraction(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and 0 < value <= 1):
        raise ValueError(f"{name} must be in (0, 1]; got {value!r}")
    return value


def classify_mechanism(
    log_variance,
    *,
    reference_variance: float,
    loglik=None,
    x=None,
    collapse_factor: float = COLLAPSE_FACTOR,
    point_dim_fraction: float = POINT_DIM_FRACTION,
    present_share: float = PRESENT_SHARE,
) -> MechanismReport:
    r"""Name the route to :math:`+\infty` that the decoder log-variances ``log_variance`` [n, d] show.

    ``log_variance[i, j]`` is :math:`\log\sigma^2_{ij}` at training point ``i`` (natural log,
    finite; n >= 2 points: with one point every collapsed coordinate is collapsed "at every
    point"); ``reference_variance`` the data's variance scale (:func:`data_variance_scale`);
    ``loglik`` optional per-point log-likelihoods [n], of which the share carried by the collapsed
    points is reported; ``x`` optional training data [n, d] (the points the variances were taken
    at), from which ``atom_share`` is reported: the partial-column form of the degenerate-data route
    on discretised data (a pixel at 0 in most images collapses at those images). It is reported,
    not used to classify: a reproduced point of discretised data also sits on atoms. The
    thresholds default to the module's constants (documented there). Errors name the argument and
    its accepted range.
    """
    lv = check_finite_array("log_variance", log_variance, ndim=2, min_rows=2)
    n, d = lv.shape
    if d < 1:
        raise ValueError("log_variance must have at least one column (coordinate); got 0")
    reference_variance = check_positive("reference_variance", reference_variance)
    collapse_factor = check_positive("collapse_factor", collapse_factor)
    if collapse_factor < 1:
        raise ValueError(
            f"collapse_factor must be >= 1 (a fall below the data's scale); got {collapse_factor!r}"
        )
    point_dim_fraction = _fraction("point_dim_fraction", point_dim_fraction)
    present_share = _fraction("present_share", present_share)
    ll = None
    if loglik is not None:
        ll = check_finite_array("loglik", loglik, ndim=1)
        if ll.shape[0] != n:
            raise ValueError(
                f"loglik must have one value per point ({n}, the rows of log_variance); got {ll.shape[0]}"
            )

    xs = None
    if x is not None:
        xs = check_finite_array("x", x, ndim=2)
        if xs.shape != lv.shape:
            raise ValueError(f"x must have the shape of log_variance {lv.shape}; got {xs.shape}")

    log_tau = math.log(reference_variance) - math.log(collapse_factor)
    collapsed = lv < log_tau
    growth = np.where(collapsed, 0.5 * (log_tau - lv), 0.0)
    total = float(growth.sum())
    dim_mask = collapsed.all(axis=0)
    others = ~dim_mask
    ambiguous = bool(dim_mask.all())
    if ambiguous:
        point_mask = np.ones(n, dtype=bool)  # vacuous: no coordinate outside D (module docstring)
    else:
        point_mask = collapsed[:, others].mean(axis=1) >= point_dim_fraction
    in_dim = np.broadcast_to(dim_mask[None, :], lv.shape)
    in_point = np.broadcast_to(point_mask[:, None], lv.shape)
    if total > 0:
        dim_share = float(growth[in_dim].sum() / total)
        point_share = float(growth[in_point].sum() / total)
        overlap = float(growth[in_dim & in_point].sum() / total)
        scattered = float(growth[~in_dim & ~in_point].sum() / total)
    else:
        dim_share = point_share = overlap = scattered = 0.0
    by_dim, by_point = dim_share >= present_share, point_share >= present_share
    mechanism = {
        (True, True): "both",
        (True, False): "per-dimension",
        (False, True): "per-point",
        (False, False): "none",
    }[(by_dim, by_point)]
    point_ll_share = None
    if ll is not None:
        spread = ll - ll.min()
        s = float(spread.sum())
        point_ll_share = float(spread[point_mask].sum() / s) if s > 0 else float(point_mask.mean())
    outside = growth[:, others].sum(axis=1)
    top_point = float(outside.max() / total) if total > 0 and outside.size else 0.0
    atom_share = None
    if xs is not None:
        atom = np.zeros(lv.shape, dtype=bool)
        for j in range(d):
            _, inverse, counts = np.unique(xs[:, j], return_inverse=True, return_counts=True)
            atom[:, j] = counts[inverse.reshape(-1)] >= 2
        atom_share = float(growth[atom & ~in_dim].sum() / total) if total > 0 else 0.0
    return MechanismReport(
        mechanism=mechanism,
        dims=tuple(int(j) for j in np.flatnonzero(dim_mask)),
        points=tuple(int(i) for i in np.flatnonzero(point_mask)),
        dimension_share=dim_share,
        point_share=point_share,
        overlap_share=overlap,
        scattered_share=scattered,
        growth=total,
        growth_per_point=total / n,
        collapsed_cells=int(collapsed.sum()),
        n_points=n,
        n_dims=d,
        threshold_variance=math.exp(log_tau),
        reference_variance=reference_variance,
        collapse_factor=collapse_factor,
        point_dim_fraction=point_dim_fraction,
        present_share=present_share,
        ambiguous=ambiguous,
        point_loglik_share=point_ll_share,
        atom_share=atom_share,
        top_point_share=top_point,
    )


__all__ = [
    "COLLAPSE_FACTOR",
    "MECHANISMS",
    "POINT_DIM_FRACTION",
    "PRESENT_SHARE",
    "MechanismReport",
    "classify_mechanism",
    "data_variance_scale",
]
