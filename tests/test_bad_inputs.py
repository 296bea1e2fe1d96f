"""Bad input at the door: every case is a ValueError (CLI: exit 2, ``vaetheory CMD: error: ...``)
naming the argument and its accepted range, never a traceback and never a NaN."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from vaetheory.cli import main
from vaetheory.densities import (
    gaussian_logpdf,
    kl_gaussian_standard,
    log_std_floor_to_variance,
    std_floor_to_variance,
)
from vaetheory.linear import unboundedness_rate


def _error(capsys, *argv):
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vaetheory {argv[0]}: error: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize("variance", [-1.0, 0.0, np.nan, np.inf, [1.0, -0.5]])
def test_gaussian_logpdf_and_kl_refuse_a_non_positive_variance_instead_of_nan(variance):
    with pytest.raises(ValueError, match=r"^variance must"):
        gaussian_logpdf(np.zeros(2), np.zeros(2), variance)
    with pytest.raises(ValueError, match=r"^variance must"):
        kl_gaussian_standard(np.zeros(2), variance)


def test_gaussian_logpdf_and_kl_refuse_non_finite_points_and_means():
    with pytest.raises(ValueError, match=r"^x must contain only finite"):
        gaussian_logpdf([np.nan], 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^mean must contain only finite"):
        kl_gaussian_standard([np.inf], 1.0)


@pytest.mark.parametrize("dim,rank", [(5, 6), (5, -1), (0, 0), (5, 2.5)])
def test_unboundedness_rate_refuses_a_rank_outside_0_to_d(dim, rank):
    with pytest.raises(ValueError, match=r"^(rank|dim) must be an integer"):
        unboundedness_rate(dim, rank)
    assert unboundedness_rate(5, 5) == 0.0 and unboundedness_rate(5, 0) == -2.5


def test_std_and_log_std_floors_whose_variance_float64_cannot_hold_are_refused():
    for bad in (1e200, 1e-200):
        with pytest.raises(ValueError, match=r"^std_floor must lie in \[1.49e-154, 1.34e\+154\]"):
            std_floor_to_variance(bad)
    for bad in (1000.0, -1000.0):
        with pytest.raises(ValueError, match=r"^log_std_floor must lie in \[-354.2, 354.9\]"):
            log_std_floor_to_variance(bad)
    assert log_std_floor_to_variance(-6.0) == pytest.approx(math.exp(-12.0), rel=1e-15)


def test_blowup_with_a_single_point_runs(capsys):
    assert main(["blowup", "--points", "1", "--kmax", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_points"] == 1 and out["runs"][0]["others_max_loglik"] == []
    assert main(["blowup", "--points", "1", "--kmax", "3"]) == 0
    assert "best other" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,match",
    [
        (
            ["--implied-bound", "1000", "--unit", "log_std", "--dim", "3"],
            r"--implied-bound \(read as log_std\)",
        ),
        (["--implied-bound", "1e200", "--unit", "std", "--dim", "3"], r"--implied-bound \(read as std\)"),
        (["--implied-bound", "0", "--dim", "3"], r"--implied-bound \(read as variance\) must lie in"),
        (["--implied-bound", "1e-3"], r"--implied-bound needs --dim"),
        (["--implied-bound", "1e-3", "--dim", "0"], r"--dim must be an integer in \[1, inf\]"),
        (["--dim", "64"], r"--dim and --unit only apply to --implied-bound"),
        (["--unit", "std"], r"--dim and --unit only apply to --implied-bound"),
        (["--floor", "0"], r"--floor \(a VARIANCE\) must lie in \[2.23e-308, 1.8e\+308\]"),
        (["--floor", "nan"], r"--floor \(a VARIANCE\) must lie in"),
        (["--floor-method", "softclip"], r"--floor-method softclip applies a floor"),
        (["--points", "0"], r"--points must be an integer in \[1, 1797\]"),
        (["--kmax", "1"], r"--kmax must be an integer in \[2, 200\]"),
    ],
)
def test_blowup_options_out_of_range_exit_2_naming_the_option(capsys, argv, match):
    err = _error(capsys, "blowup", *argv)
    assert re.search(match, err), err


def test_synthetic_data_too_large_for_memory_exit_2(capsys):
    err = _error(capsys, "linear", "--data", "synthetic:n=1e11", "--latent", "2")
    assert "GiB" in err and "memory available" in err
