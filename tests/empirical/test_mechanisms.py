"""classify_mechanism (vaetheory.empirical.mechanisms) on constructed log-variance matrices whose
answer is known: each route alone, both, neither, the boundaries of every threshold, adversarial
layouts (a column collapsed at all but one point, constant coordinates outnumbering the others,
cells exactly at the threshold, every cell collapsed), the growth against an independent loop, and
the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaetheory.empirical import classify_mechanism as exported
from vaetheory.empirical.mechanisms import (
    COLLAPSE_FACTOR,
    MECHANISMS,
    POINT_DIM_FRACTION,
    PRESENT_SHARE,
    classify_mechanism,
    data_variance_scale,
)

REF = 0.05  # a reference variance scale (any positive value: the diagnostic is relative to it)
LOG_TAU = math.log(REF / COLLAPSE_FACTOR)
HEALTHY = math.log(REF)  # a variance at the data's scale: not collapsed
DEEP = LOG_TAU - 10.0  # collapsed, carrying 5 nats per cell


def healthy(n=16, d=64):
    return np.full((n, d), HEALTHY)


def test_exported_lazily_from_the_package():
    assert exported is classify_mechanism


def test_nothing_collapsed_is_none_with_zero_growth():
    r = classify_mechanism(healthy(), reference_variance=REF)
    assert r.mechanism == "none" and r.dims == () and r.points == ()
    assert r.growth == 0.0 and r.collapsed_cells == 0 and not r.ambiguous
    assert r.threshold_variance == pytest.approx(REF / COLLAPSE_FACTOR, rel=1e-12)


def test_constant_coordinates_collapsing_at_every_point_are_per_dimension():
    lv = healthy()
    lv[:, [3, 40]] = DEEP
    r = classify_mechanism(lv, reference_variance=REF)
    assert r.mechanism == "per-dimension"
    assert r.dims == (3, 40) and r.points == ()
    assert r.dimension_share == 1.0 and r.point_share == 0.0 and r.scattered_share == 0.0
    # 16 points x 2 coordinates x (1/2)(log tau - DEEP) = 32 x 5 nats, exactly
    assert r.growth == pytest.approx(160.0, rel=1e-12)
    assert r.growth_per_point == pytest.approx(10.0, rel=1e-12)


def test_one_point_collapsed_in_every_coordinate_is_per_point():
    lv = healthy()
    lv[5] = DEEP
    loglik = np.zeros(16)
    loglik[5] = 300.0
    r = classify_mechanism(lv, reference_variance=REF, loglik=loglik)
    assert r.mechanism == "per-point" and r.points == (5,) and r.dims == ()
    assert r.point_share == 1.0 and r.dimension_share == 0.0
    assert r.point_loglik_share == 1.0 and r.top_point_share == 1.0


def test_both_routes_and_the_share_identity():
    lv = healthy()
    lv[:, 0] = DEEP  # 16 cells x 5 nats = 80 on the collapsed dimension
    lv[2, 1:] = LOG_TAU - 4.0  # 63 cells x 2 nats = 126 on the collapsed point (+ its cell of column 0)
    r = classify_mechanism(lv, reference_variance=REF)
    assert r.mechanism == "both" and r.dims == (0,) and r.points == (2,)
    total = 80.0 + 126.0
    assert r.growth == pytest.approx(total, rel=1e-12)
    # shares to rounding of a sum of 79 terms (relative 1e-12 is far above float64's 79 eps)
    assert r.dimension_share == pytest.approx(80.0 / total, rel=1e-12)
    assert r.point_share == pytest.approx((126.0 + 5.0) / total, rel=1e-12)
    assert r.overlap_share == pytest.approx(5.0 / total, rel=1e-12)
    s = r.dimension_share + r.point_share - r.overlap_share + r.scattered_share
    assert s == pytest.approx(1.0, abs=1e-12)


def test_a_column_collapsed_at_all_but_one_point_is_not_a_collapsed_dimension():
    lv = healthy()
    lv[1:, 7] = DEEP  # 15 of 16 points: not constant over the training set
    r = classify_mechanism(lv, reference_variance=REF)
    assert r.dims == () and r.points == ()
    assert r.mechanism == "none" and r.scattered_share == 1.0 and r.collapsed_cells == 15


def test_constant_coordinates_alone_never_make_points_collapsed():
    # 40 of 64 coordinates constant: every point is collapsed in 62% of ALL coordinates, but in
    # none of the others, so no point is "collapsed" (adversarial for a count over all coordinates)
    lv = healthy()
    lv[:, :40] = DEEP
    r = classify_mechanism(lv, reference_variance=REF)
    assert r.mechanism == "per-dimension" and r.points == () and len(r.dims) == 40


def test_point_fraction_boundary_counts_at_and_not_below():
    d, dims_outside = 64, 62
    lv = healthy(d=d)
    lv[:, :2] = DEEP  # D = {0, 1}; 62 coordinates outside
    at = math.ceil(POINT_DIM_FRACTION * dims_outside)  # 31 = exactly half
    lv_at = lv.copy()
    lv_at[4, 2 : 2 + at] = DEEP
    assert classify_mechanism(lv_at, reference_variance=REF).points == (4,)
    lv_below = lv.copy()
    lv_below[4, 2 : 2 + at - 1] = DEEP
    assert classify_mechanism(lv_below, reference_variance=REF).points == ()


def test_cells_exactly_at_the_threshold_are_not_collapsed():
    lv = np.full((4, 3), LOG_TAU)
    r = classify_mechanism(lv, reference_variance=REF)
    assert r.collapsed_cells == 0 and r.mechanism == "none"
    r2 = classify_mechanism(np.nextafter(lv, -np.inf), reference_variance=REF)
    assert r2.collapsed_cells == 12


def test_every_cell_collapsed_is_both_and_ambiguous():
    r = classify_mechanism(np.full((8, 5), DEEP), reference_variance=REF)
    assert r.mechanism == "both" and r.ambiguous
    assert r.dimension_share == 1.0 and r.point_share == 1.0 and r.overlap_share == 1.0
    assert r.dims == tuple(range(5)) and r.points == tuple(range(8))


def test_present_share_boundary():
    lv = healthy()
    lv[:, 0] = LOG_TAU - 2.0  # 16 cells x 1 nat = 16 nats on a collapsed dimension
    lv[3, 1:] = LOG_TAU - 2.0 * 48 / 63  # 63 cells x 48/63 nats = 48 nats on a collapsed point
    r = classify_mechanism(lv, reference_variance=REF)
    # total 64 nats: the dimension carries 16/64, the point 48/64 plus its cell on column 0
    assert r.dimension_share == pytest.approx(0.25, rel=1e-12)
    assert r.point_share == pytest.approx(49 / 64, rel=1e-12)
    assert classify_mechanism(lv, reference_variance=REF, present_share=0.24).mechanism == "both"
    assert classify_mechanism(lv, reference_variance=REF, present_share=0.26).mechanism == "per-point"
    assert classify_mechanism(lv, reference_variance=REF, present_share=0.8).mechanism == "none"


def test_scattered_cells_are_neither_route():
    lv = healthy()
    # one collapsed cell per point, in a different coordinate each: no column, no row
    for i in range(16):
        lv[i, (7 * i) % 64] = DEEP
    r = classify_mechanism(lv, reference_variance=REF)
    assert r.mechanism == "none" and r.scattered_share == 1.0 and r.collapsed_cells == 16
    assert r.top_point_share == pytest.approx(1 / 16, rel=1e-12)  # spread evenly over the points


def test_growth_against_an_independent_loop_and_scale_invariance():
    rng = np.random.default_rng(1)
    lv = HEALTHY + rng.normal(scale=6.0, size=(12, 20))
    r = classify_mechanism(lv, reference_variance=REF)
    tau = REF / COLLAPSE_FACTOR
    loop = sum(
        0.5 * math.log(tau / math.exp(lv[i, j]))
        for i in range(12)
        for j in range(20)
        if math.exp(lv[i, j]) < tau
    )
    # a sum of ~100 terms of a few nats: float64 rounding far below 1e-10 relative
    assert r.growth == pytest.approx(loop, rel=1e-10)
    # the same data in other units (variances x 1e4): identical report, shares to rounding
    scaled = classify_mechanism(lv + math.log(1e4), reference_variance=REF * 1e4)
    assert scaled.mechanism == r.mechanism and scaled.dims == r.dims and scaled.points == r.points
    assert scaled.collapsed_cells == r.collapsed_cells
    assert scaled.growth == pytest.approx(r.growth, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 9),
    st.integers(1, 9),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 12.0),
)
def test_shares_are_consistent_on_random_matrices(n, d, seed, spread):
    rng = np.random.default_rng(seed)
    lv = LOG_TAU + rng.normal(scale=spread + 1e-3, size=(n, d))
    # make some whole columns and rows collapse, as the routes do
    lv[:, rng.random(d) < 0.3] = DEEP
    lv[rng.random(n) < 0.3] = DEEP
    r = classify_mechanism(lv, reference_variance=REF)
    assert r.mechanism in MECHANISMS
    for share in (r.dimension_share, r.point_share, r.overlap_share, r.scattered_share):
        assert -1e-12 <= share <= 1 + 1e-12
    if r.growth > 0:
        s = r.dimension_share + r.point_share - r.overlap_share + r.scattered_share
        assert s == pytest.approx(1.0, abs=1e-9)  # sums of at most 81 positive terms
    assert (r.dimension_share >= PRESENT_SHARE) == (r.mechanism in ("per-dimension", "both"))
    assert (r.point_share >= PRESENT_SHARE) == (r.mechanism in ("per-point", "both"))
    collapsed = lv < LOG_TAU
    assert set(r.dims) == set(np.flatnonzero(collapsed.all(axis=0)).tolist())
    assert r.to_dict()["mechanism"] == r.mechanism


def test_atom_share_counts_cells_on_shared_values_outside_collapsed_dimensions():
    lv = healthy(n=4, d=3)
    lv[:, 0] = DEEP  # a collapsed dimension: excluded from the atom share
    lv[0, 1] = DEEP  # on an atom (x = 0 at points 0 and 1)
    lv[2, 2] = DEEP  # not an atom (x = 0.3 only at point 2)
    x = np.array([[1.0, 0.0, 0.1], [1.0, 0.0, 0.2], [1.0, 0.5, 0.3], [1.0, 0.7, 0.4]])
    r = classify_mechanism(lv, reference_variance=REF, x=x)
    # 6 collapsed cells of 5 nats: 4 on the dimension, 1 on an atom, 1 elsewhere
    assert r.atom_share == pytest.approx(1 / 6, rel=1e-12)
    assert classify_mechanism(lv, reference_variance=REF).atom_share is None
    with pytest.raises(ValueError, match="x must have the shape"):
        classify_mechanism(lv, reference_variance=REF, x=x[:, :2])


def test_data_variance_scale():
    x = np.array([[0.0, 1.0, 5.0], [2.0, 1.0, 5.0]])
    assert data_variance_scale(x) == pytest.approx(1.0 / 3.0, rel=1e-15)  # (1 + 0 + 0) / 3
    with pytest.raises(ValueError, match="every coordinate is constant"):
        data_variance_scale(np.ones((3, 2)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"log_variance": np.zeros(5)}, "log_variance must be a 2-D"),
        ({"log_variance": np.zeros((1, 4))}, "log_variance must have at least 2 rows"),
        ({"log_variance": np.full((3, 2), np.nan)}, "log_variance must contain only finite"),
        ({"log_variance": np.full((3, 2), -np.inf)}, "log_variance must contain only finite"),
        ({"reference_variance": 0.0}, "reference_variance"),
        ({"reference_variance": -1.0}, "reference_variance"),
        ({"collapse_factor": 0.5}, "collapse_factor must be >= 1"),
        ({"point_dim_fraction": 0.0}, r"point_dim_fraction must be in \(0, 1\]"),
        ({"present_share": 1.5}, r"present_share must be in \(0, 1\]"),
        ({"loglik": np.zeros(4)}, "loglik must have one value per point"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs, match):
    args = {"log_variance": np.zeros((3, 2)), "reference_variance": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        classify_mechanism(args.pop("log_variance"), **args)
