r"""The lambda-vs-sigma* analysis of the Cross Validated thread's second answer (the Cross Validated thread).

Setting of the answer: identity decoder (:math:`w=1`, :math:`b=0`), one data point :math:`x=0`,
encoder mean :math:`m=0`, decoder precision written :math:`\lambda = 1/(2v)`. Substituted into the
ELBO derived in :mod:`vaetheory.symbolic.one_point` (theory section 1):

.. math::
    E_q[\log p(0|z)] = -\lambda s^2 + \tfrac12\log(\lambda/\pi), \qquad
    \mathcal L(s) = -(\lambda + \tfrac12)s^2 + \log s + \tfrac12\log(\lambda/\pi) + \tfrac12,

so :math:`s^* = (2\lambda+1)^{-1/2}` (a global maximum: :math:`\mathcal L'' < 0` for all s) and
:math:`\mathcal L(s^*) = -\tfrac12\log(2\pi(1 + 1/(2\lambda))) \to -\tfrac12\log(2\pi)`.

The answer's :math:`s^* = (2\lambda')^{-1/2}`, :math:`\lambda'=\lambda-\tfrac12`, is the stationary
point of the ELBO with the prior's :math:`-s^2/2` entering with a + sign; its first line writes
:math:`E[\log p(0|z)] = +\lambda s^2` (sign flipped, the :math:`\lambda`-dependent
:math:`\tfrac12\log(\lambda/\pi)` dropped), and its second line also flips the sign of
:math:`\log s` (taken literally, the first line has no stationary point for :math:`\lambda > 1/2`).
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from vaetheory.results import Result
from vaetheory.symbolic._symbols import b, lam, m, s, v, w, x, z
from vaetheory.symbolic.formula import Check, Formula, Step, check_identity, reduce_to_zero
from vaetheory.symbolic.gaussian import expectation, normal_logpdf
from vaetheory.symbolic.one_point import derive_one_point

#: lambda' = lambda - 1/2 of the answer, as a positive symbol (the answer's formula needs lambda > 1/2)
lam_prime = sp.Symbol("lam_prime", positive=True)

THEORY = "theory section 1 (the lambda-vs-sigma* question)"

#: the answer's setting: identity decoder, x = 0, m = 0, v = 1/(2 lambda)
ANSWER_SETTING = {w: 1, b: 0, x: 0, m: 0, v: 1 / (2 * lam)}


@dataclasses.dataclass(frozen=True)
class SigmaStarAnalysis(Result):
    """The answer's setting, derived; the answer's algebra reproduced; the comment settled."""

    reconstruction: Formula
    reconstruction_claimed: Formula
    elbo: Formula
    sigma_star: Formula
    sigma_star_claimed: Formula
    elbo_at_sigma_star: Formula
    elbo_at_sigma_star_limit: Formula
    elbo_fixed_s_limit: Formula
    elbo_prior_sign_flipped: Formula
    answer_first_line: Formula
    answer_second_line: Formula
    comment_objective_limit: Formula
    checks: tuple[Check, ...]


def _positive_roots(expr: sp.Expr, var: sp.Symbol) -> list[sp.Expr]:
    """The roots of ``expr`` (a rational function of ``var`` > 0) that can be positive.

    Over one denominator the stationarity conditions here are polynomials in ``var`` whose
    denominators do not vanish for ``var`` > 0; ``sympy.roots`` finds the numerator's roots exactly.
    """
    numerator, denominator = sp.fraction(sp.together(expr))
    roots = sp.roots(sp.Poly(numerator, var))
    if sum(roots.values()) != sp.degree(numerator, var):  # pragma: no cover - not solvable by radicals
        return [r for r in sp.solve(expr, var) if r.is_positive is not False]
    return [r for r in roots if r.is_positive is not False and denominator.subs(var, r) != 0]


@functools.lru_cache(maxsize=1)
def analyse_sigma_star() -> SigmaStarAnalysis:
    """Derive the answer's quantities with the correct signs and reproduce its sign error."""
    one = derive_one_point()
    rec = sp.expand(one.reconstruction.expression.subs(ANSWER_SETTING))
    rec = sp.expand(sp.expand_log(rec))  # -lam s^2 + log(lam)/2 - log(pi)/2
    elbo = sp.expand(sp.expand_log(one.elbo.expression.subs(ANSWER_SETTING)))
    d_elbo = sp.diff(elbo, s)
    (s_star,) = _positive_roots(d_elbo, s)
    second = sp.cancel(sp.diff(elbo, s, 2))
    elbo_star = sp.expand(sp.expand_log(elbo.subs(s, s_star)))
    # -(1/2) log(2 pi (1 + 1/(2 lam))), written so that sympy's log expansion splits it
    elbo_star_presented = -sp.log(sp.pi * (2 * lam + 1) / lam) / 2
    limit_star = sp.limit(elbo_star_presented, lam, sp.oo)
    limit_fixed_s = sp.limit(elbo, lam, sp.oo)

    # The answer's algebra. Its first line, with its constant c dropped:
    first_line = lam * s**2 - (sp.log(1 / s) + s**2 / 2 - sp.Rational(1, 2))
    second_line = (lam - sp.Rational(1, 2)) * s**2 - sp.log(s)
    sigma_claimed = (2 * (lam - sp.Rational(1, 2))) ** sp.Rational(-1, 2)
    # The ELBO with the prior's -s^2/2 entering with a + sign: E_q[log p(z)] -> its s^2 term flipped.
    prior_term = expectation(normal_logpdf(z, 0, 1), z, 0, s**2)  # -log(2 pi)/2 - s^2/2
    entropy = -expectation(normal_logpdf(z, 0, s**2), z, 0, s**2)  # log(2 pi e s^2)/2
    flipped = sp.expand(sp.expand_log(rec + prior_term.subs(s**2, -(s**2)) + entropy))
    # for lambda > 1/2, i.e. lambda' > 0: solve with lambda = lambda' + 1/2, lambda' positive
    above_half = {lam: lam_prime + sp.Rational(1, 2)}
    flipped_roots = [
        r.subs(lam_prime, lam - sp.Rational(1, 2))
        for r in _positive_roots(sp.diff(flipped, s).subs(above_half), s)
    ]
    first_line_derivative = sp.expand(sp.diff(first_line, s))
    first_line_roots = _positive_roots(first_line_derivative.subs(above_half), s)
    # The comment: the answer's objective at a fixed s > 0 as lambda grows (its c held constant).
    comment_limit = sp.limit(second_line, lam, sp.oo)

    checks = (
        check_identity(
            "reconstruction_in_answer_setting",
            "E_q[log p(0|z)] = -lam s^2 + (1/2) log(lam/pi)",
            rec,
            -lam * s**2 + sp.log(lam / sp.pi) / 2,
        ),
        check_identity(
            "elbo_in_answer_setting",
            "ELBO(s) = -(lam + 1/2) s^2 + log s + (1/2) log(lam/pi) + 1/2",
            elbo,
            -(lam + sp.Rational(1, 2)) * s**2 + sp.log(s) + sp.log(lam / sp.pi) / 2 + sp.Rational(1, 2),
        ),
        check_identity("sigma_star", "s* = (2 lam + 1)^(-1/2)", s_star, (2 * lam + 1) ** sp.Rational(-1, 2)),
        Check(
            name="sigma_star_is_global_maximum",
            statement="d^2 ELBO/ds^2 = -(2 lam + 1) - 1/s^2 < 0 for every s > 0: s* is the global maximum",
            residual=second,
            holds=bool((-second).is_positive),
        ),
        check_identity(
            "elbo_at_sigma_star",
            "ELBO(s*) = -(1/2) log(2 pi (1 + 1/(2 lam))) = log p(0)",
            elbo_star,
            elbo_star_presented,
        ),
        check_identity(
            "elbo_at_sigma_star_is_log_marginal",
            "ELBO(s*) = log N(0; 0, 1 + v) with v = 1/(2 lam)",
            elbo_star,
            one.log_marginal.expression.subs(ANSWER_SETTING),
        ),
        Check(
            name="elbo_at_sigma_star_limit",
            statement="ELBO(s*) -> -(1/2) log(2 pi) as lam -> oo (bounded)",
            residual=limit_star,
            holds=reduce_to_zero(limit_star + sp.log(2 * sp.pi) / 2) == 0,
        ),
        Check(
            name="elbo_at_fixed_s_diverges_down",
            statement="for a fixed s > 0, ELBO -> -oo as lam -> oo",
            residual=limit_fixed_s,
            holds=limit_fixed_s == -sp.oo,
        ),
        Check(
            name="claimed_sigma_star_is_flipped_prior_sign",
            statement="the ELBO with the prior's -s^2/2 entering as +s^2/2 is stationary at (2 lam')^(-1/2)",
            residual=sp.Tuple(*flipped_roots),
            holds=len(flipped_roots) == 1 and reduce_to_zero(flipped_roots[0] - sigma_claimed) == 0,
        ),
        check_identity(
            "second_line_is_minus_flipped_elbo",
            "the answer's second line lam' s^2 - log s = -(flipped-sign ELBO) + constant "
            "(d/ds of the sum = 0)",
            sp.diff(second_line + flipped, s),
            sp.Integer(0),
        ),
        Check(
            name="first_line_has_no_stationary_point",
            statement="the answer's first line, taken literally, has derivative 2 lam' s + 1/s > 0 "
            "for lam > 1/2",
            residual=first_line_derivative,
            holds=bool(sp.expand(first_line_derivative.subs(above_half)).is_positive)
            and not first_line_roots,
        ),
        Check(
            name="comment_limit_follows_the_sign_error",
            statement="the answer's objective lam' s^2 - log s (fixed s) -> +oo as lam -> oo",
            residual=comment_limit,
            holds=comment_limit == sp.oo,
        ),
    )
    f = functools.partial(Formula, theory=THEORY)
    ex = r"\mathbb{E}_{z\sim\mathcal{N}(0,s^2)}[\log p(0\mid z)]"
    return SigmaStarAnalysis(
        reconstruction=f(
            key="reconstruction_lambda",
            title="E_q[log p(0|z)] in the answer's setting",
            lhs=ex,
            expression=rec,
        ),
        reconstruction_claimed=f(
            key="reconstruction_claimed",
            title="the answer's E_q[log p(0|z)]",
            lhs=ex + r"\ \text{(answer)}",
            expression=lam * s**2,
        ),
        elbo=f(
            key="elbo_lambda",
            title="ELBO(s) with w=1, b=0, x=0, m=0, v=1/(2 lam)",
            lhs=r"\mathcal{L}(s;\lambda)",
            expression=elbo,
            steps=(
                Step(
                    "the one-point ELBO at w=1, b=0, x=0, m=0, v=1/(2 lambda)",
                    r"\mathcal{L}(s;\lambda)",
                    elbo,
                ),
                Step("stationarity in s", r"\partial\mathcal{L}/\partial s", d_elbo),
                Step(
                    "second derivative: negative for every s > 0",
                    r"\partial^2\mathcal{L}/\partial s^2",
                    second,
                ),
            ),
        ),
        sigma_star=f(key="sigma_star", title="correct s*(lambda)", lhs=r"s^*(\lambda)", expression=s_star),
        sigma_star_claimed=f(
            key="sigma_star_claimed",
            title="the answer's s* = (2 lambda')^(-1/2), lambda' = lambda - 1/2 (defined for lambda > 1/2)",
            lhs=r"s^*_{\text{answer}}(\lambda)",
            expression=sigma_claimed,
        ),
        elbo_at_sigma_star=f(
            key="elbo_at_sigma_star",
            title="ELBO at s*(lambda)",
            lhs=r"\mathcal{L}(s^*;\lambda)",
            expression=elbo_star_presented,
        ),
        elbo_at_sigma_star_limit=f(
            key="elbo_at_sigma_star_limit",
            title="limit of ELBO(s*) as lambda -> oo",
            lhs=r"\lim_{\lambda\to\infty}\mathcal{L}(s^*;\lambda)",
            expression=limit_star,
        ),
        elbo_fixed_s_limit=f(
            key="elbo_fixed_s_limit",
            title="limit of ELBO(s) at fixed s as lambda -> oo",
            lhs=r"\lim_{\lambda\to\infty}\mathcal{L}(s;\lambda)",
            expression=limit_fixed_s,
        ),
        elbo_prior_sign_flipped=f(
            key="elbo_prior_sign_flipped",
            title="the ELBO with the prior's -s^2/2 entering with + sign",
            lhs=r"\tilde{\mathcal{L}}(s;\lambda)",
            expression=flipped,
            steps=(
                Step("E_q[log p(z)] at m = 0", r"\mathbb{E}_q[\log p(z)]", prior_term),
                Step(
                    "the same with its s^2 term's sign flipped",
                    r"\widetilde{\mathbb{E}_q[\log p(z)]}",
                    prior_term.subs(s**2, -(s**2)),
                ),
                Step(
                    "flipped-sign ELBO = reconstruction + flipped prior term + entropy of q",
                    r"\tilde{\mathcal{L}}(s;\lambda)",
                    flipped,
                ),
                Step("its stationary point: the answer's formula", r"\tilde{s}^*", sp.Tuple(*flipped_roots)),
            ),
        ),
        answer_first_line=f(
            key="answer_first_line",
            title="the answer's first line (constant c dropped)",
            lhs=r"\text{answer, line 1}",
            expression=first_line,
        ),
        answer_second_line=f(
            key="answer_second_line",
            title="the answer's second line (constant c' dropped)",
            lhs=r"\text{answer, line 2}",
            expression=second_line,
        ),
        comment_objective_limit=f(
            key="comment_objective_limit",
            title="the answer's objective at fixed s as lambda -> oo (the comment)",
            lhs=r"\lim_{\lambda\to\infty}(\lambda' s^2 - \log s)",
            expression=comment_limit,
        ),
        checks=checks,
    )
