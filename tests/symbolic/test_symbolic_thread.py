"""The thread's second answer (lambda vs sigma*) and the verdict table, against numeric routes.

theory section 1 (the lambda-vs-sigma* question); the Cross Validated thread.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from scipy import optimize

from vaetheory.symbolic import CONDITIONAL, VERDICTS, analyse_sigma_star, derive_one_point, thread_claims

lambdas = st.floats(math.log(1e-3), math.log(1e4)).map(math.exp)


@pytest.fixture(scope="module")
def thr():
    return analyse_sigma_star()


def answer_setting_elbo(s: float, lam: float) -> float:
    """The one-point ELBO at w=1, b=0, x=0, m=0, v=1/(2 lam), evaluated by the general formula."""
    return derive_one_point().elbo.evaluate(x=0.0, m=0.0, s=s, w=1.0, b=0.0, v=1 / (2 * lam))


def test_every_sigma_star_check_is_proved(thr):
    assert [c.name for c in thr.checks if not c.holds] == []


@given(lam=lambdas)
def test_sigma_star_maximises_the_elbo(thr, lam):
    res = optimize.minimize_scalar(
        lambda t: -answer_setting_elbo(math.exp(t), lam),
        bounds=(-15, 5),
        method="bounded",
        options={"xatol": 1e-12},
    )
    s_star = thr.sigma_star.evaluate(lam=lam)
    note(f"scipy s* = {math.exp(res.x)}, symbolic s* = {s_star}")
    assert math.exp(res.x) == pytest.approx(s_star, rel=1e-5)
    assert s_star == pytest.approx((2 * lam + 1) ** -0.5, rel=1e-14)
    assert -res.fun == pytest.approx(thr.elbo_at_sigma_star.evaluate(lam=lam), abs=1e-10)
    assert thr.elbo_at_sigma_star.evaluate(lam=lam) == pytest.approx(
        -0.5 * math.log(2 * math.pi * (1 + 1 / (2 * lam))), rel=1e-13
    )


@given(lam=lambdas, s=st.floats(1e-3, 10))
def test_reconstruction_term_is_minus_lambda_s2_plus_log_term(thr, lam, s):
    # E_q[log N(0; z, 1/(2 lam))], q = N(0, s^2), by Gauss-Hermite quadrature (exact for quadratics)
    import numpy as np

    nodes, weights = np.polynomial.hermite_e.hermegauss(8)
    z = s * nodes
    v = 1 / (2 * lam)
    numeric = float(
        np.sum(weights * (-0.5 * np.log(2 * np.pi * v) - z**2 / (2 * v))) / math.sqrt(2 * math.pi)
    )
    assert thr.reconstruction.evaluate(lam=lam, s=s) == pytest.approx(numeric, rel=1e-12, abs=1e-12)
    assert thr.reconstruction_claimed.evaluate(lam=lam, s=s) == pytest.approx(lam * s * s)


@given(lam=st.floats(0.51, 1e3))
def test_claimed_sigma_star_is_the_optimum_with_the_prior_sign_flipped(thr, lam):
    # numerically: the ELBO with the prior's -s^2/2 replaced by +s^2/2 is stationary at (2 lam - 1)^(-1/2)
    flipped = thr.elbo_prior_sign_flipped.function()  # variables (lam, s)
    assert thr.elbo_prior_sign_flipped.variables == ("lam", "s")
    res = optimize.minimize_scalar(
        lambda t: -flipped(lam, math.exp(t)), bounds=(-12, 6), method="bounded", options={"xatol": 1e-12}
    )
    assert math.exp(res.x) == pytest.approx(thr.sigma_star_claimed.evaluate(lam=lam), rel=1e-5)
    assert thr.sigma_star_claimed.evaluate(lam=lam) == pytest.approx((2 * (lam - 0.5)) ** -0.5, rel=1e-13)
    # and the claimed value is not the true maximiser
    assert thr.sigma_star_claimed.evaluate(lam=lam) > thr.sigma_star.evaluate(lam=lam)


def test_claimed_sigma_star_is_undefined_at_or_below_one_half(thr):
    for lam in (0.1, 0.5):
        assert not math.isfinite(thr.sigma_star_claimed.evaluate(lam=lam))


def test_comment_fixed_s_large_lambda_goes_down_not_up(thr):
    s = 0.7
    values = [answer_setting_elbo(s, lam) for lam in (1e1, 1e3, 1e5)]
    assert values[0] > values[1] > values[2]
    assert values[2] < -1e4
    # at s*(lambda) the ELBO increases to -(1/2) log(2 pi) from below
    at_star = [thr.elbo_at_sigma_star.evaluate(lam=lam) for lam in (1e1, 1e3, 1e5)]
    assert at_star[0] < at_star[1] < at_star[2] < -0.5 * math.log(2 * math.pi)
    assert at_star[2] == pytest.approx(-0.5 * math.log(2 * math.pi), abs=1e-5)
    # the answer's own objective lam' s^2 - log s grows without bound (the comment's reading)
    second = [thr.answer_second_line.evaluate(lam=lam, s=s) for lam in (1e1, 1e3, 1e5)]
    assert second[0] < second[1] < second[2]


def test_every_claim_has_a_verdict_and_a_proof_that_holds():
    claims = thread_claims()
    assert len({c.id for c in claims}) == len(claims)
    for c in claims:
        assert c.verdict in VERDICTS
        assert c.holds, c.id
        assert (c.condition is not None) == (c.verdict == CONDITIONAL), c.id
        assert c.checks and str(c.proof)
    sources = {c.source.split(" (")[0] for c in claims}
    assert sources == {
        "question",
        "first answer",
        "second answer",
        "comment on the second answer",
        "third answer",
        "comment on the question",
    }


def test_second_answer_claims_are_judged_as_theory_md_says():
    verdicts = {c.id: c.verdict for c in thread_claims()}
    assert verdicts["A2.2"] == "wrong"  # E[log p(0|z)] = +lambda s^2
    assert verdicts["A2.3"] == "wrong"  # sigma* = (2 lambda')^(-1/2)
    assert verdicts["C3"] == "wrong"  # fixed sigma*, lambda -> oo: unbounded
    assert verdicts["C4"] == CONDITIONAL  # ill-posed: only when the decoder may ignore z
    assert verdicts["A1.2"] == "correct"  # the floor bounds the likelihood
