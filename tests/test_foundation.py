"""The shared foundation: light import, validation at the door, shared formulas, provenance."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from tests.strategies import positives, reals
from vaetheory import __version__
from vaetheory._validation import (
    check_choice,
    check_finite_array,
    check_int,
    check_positive,
)
from vaetheory.densities import (
    gaussian_logpdf,
    kl_gaussian_standard,
    std_floor_to_variance,
    variance_floor_bound,
)
from vaetheory.provenance import provenance
from vaetheory.results import dumps, to_jsonable


def test_import_vaetheory_is_light():
    code = (
        "import sys, vaetheory, vaetheory.symbolic, vaetheory.linear, vaetheory.cli;"
        "vaetheory.cli.build_parser();"
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@given(x=reals(), mean=reals(), var=positives())
def test_gaussian_logpdf_matches_scipy(x, mean, var):
    assert gaussian_logpdf(x, mean, var) == pytest.approx(
        stats.norm(mean, math.sqrt(var)).logpdf(x), rel=1e-12, abs=1e-12
    )


@given(m=reals(-3, 3), s2=positives(1e-2, 5.0))
def test_kl_to_standard_matches_quadrature(m, s2):
    from scipy import integrate

    q = stats.norm(m, math.sqrt(s2))
    p = stats.norm(0.0, 1.0)
    lo, hi = m - 12 * math.sqrt(s2), m + 12 * math.sqrt(s2)
    kl, _ = integrate.quad(lambda z: q.pdf(z) * (q.logpdf(z) - p.logpdf(z)), lo, hi, limit=200)
    assert kl_gaussian_standard(m, s2) == pytest.approx(kl, rel=1e-7, abs=1e-9)


@given(dim=st.integers(1, 50), xi=positives(1e-8, 10.0))
def test_floor_bound_is_the_peak_density(dim, xi):
    # The bound is attained by a point at its mean with every variance equal to xi.
    peak = float(np.sum(gaussian_logpdf(np.zeros(dim), np.zeros(dim), np.full(dim, xi))))
    assert variance_floor_bound(dim, xi) == pytest.approx(peak, rel=1e-12, abs=1e-12)
    # any larger variance, or any miss, gives less
    assert float(np.sum(gaussian_logpdf(np.ones(dim), np.zeros(dim), np.full(dim, 2 * xi)))) < peak


def test_floor_bound_scales_with_points_and_std_floor():
    assert variance_floor_bound(3, 0.01, n_points=4) == pytest.approx(4 * variance_floor_bound(3, 0.01))
    assert std_floor_to_variance(0.1) == pytest.approx(0.01)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "abc"])
def test_non_positive_floor_is_rejected_by_name(bad):
    with pytest.raises(ValueError, match="floor_variance"):
        variance_floor_bound(2, bad)


def test_validation_messages_name_the_argument():
    with pytest.raises(ValueError, match=r"v must be a finite real number with v > 0"):
        check_positive("v", -1)
    with pytest.raises(ValueError, match=r"q must be an integer in \[1, 9\]"):
        check_int("q", 10, 1, 9)
    with pytest.raises(ValueError, match="policy must be one of 'learned', 'floor'"):
        check_choice("policy", "nope", ["learned", "floor"])
    with pytest.raises(ValueError, match=r"data must contain only finite values.*index \(1, 0\)"):
        check_finite_array("data", [[1.0, 2.0], [np.nan, 1.0]], ndim=2)
    with pytest.raises(ValueError, match=r"data must have shape \(any, 3\)"):
        check_finite_array("data", np.zeros((4, 2)), shape=(None, 3))


def test_provenance_and_json_round_trip():
    rec = provenance(seed=3, parameters={"xi": 1e-3, "arr": np.arange(3)}, command="vaetheory x")
    back = json.loads(dumps(rec))
    assert back["vaetheory_version"] == __version__
    assert back["seed"] == 3 and back["parameters"]["arr"] == [0, 1, 2]
    assert to_jsonable([float("inf"), float("-inf"), float("nan")]) == ["inf", "-inf", "nan"]
