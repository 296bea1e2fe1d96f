"""Judgements: does one relation, condition or root hold, by proof or at random points?

* :meth:`Judge.judge_relation` -- ``A rel B`` (or ``A = B + constant``): a counterexample at random
  points first (decisive, re-checked at 50 digits), then a symbolic proof; where sympy finishes
  without a proof, numeric agreement at many points is reported as ``numeric`` evidence, and where
  it runs past the bound the result is undecided with the numeric evidence found;
* :meth:`Judge.judge_condition` -- two equations with the same roots in a variable;
* :meth:`Judge.judge_root` -- a value that makes a condition vanish.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import sympy as sp

from vaetheory.symbolic.checker.bounded import StepTimeout, run_bounded
from vaetheory.symbolic.checker.gaussian import evaluate
from vaetheory.symbolic.checker.numeric import (
    Evaluator,
    NumericEvidence,
    compare,
    is_real,
    sample_point,
    value_at,
)
from vaetheory.symbolic.checker.scope import Scope


@dataclasses.dataclass
class Settings:
    seed: int
    step_timeout: float
    n_points: int
    tolerance: float
    #: time.monotonic() at which the whole run must end, and the bound it came from (seconds)
    total_deadline: float | None = None
    total_timeout: float | None = None


@dataclasses.dataclass
class Judgement:
    """One comparison's outcome: ``holds`` True/False/None, evidence, reason, counterexample."""

    holds: bool | None
    evidence: str | None
    reason: str
    counterexample: dict | None = None
    numeric: NumericEvidence | None = None


class Deadline:
    def __init__(self, seconds: float):

        self._time = time.monotonic
        self.end = self._time() + seconds

    def left(self) -> float:
        return self.end - self._time()


def tidy(expr: sp.Expr) -> sp.Expr:
    """A readable form: expanded; logs with one coefficient merged where their arguments are positive."""
    expr = sp.expand(sp.expand_log(sp.sympify(expr)))
    if not isinstance(expr, sp.Add):
        return expr
    groups: dict[sp.Expr, list[sp.Expr]] = {}
    rest = []
    for term in expr.args:
        coeff, factors = term.as_coeff_mul()
        if len(factors) == 1 and isinstance(factors[0], sp.log) and factors[0].args[0].is_positive:
            groups.setdefault(abs(coeff), []).append(factors[0].args[0] ** sp.sign(coeff))
        else:
            rest.append(term)
    logs = [c * sp.log(sp.Mul(*args)) for c, args in groups.items()]
    return sp.Add(*rest, *logs)


def is_zero(expr: sp.Expr) -> bool:
    """Symbolic proof that ``expr`` is 0 (False means "not proven", not "nonzero").

    Cheap rewrites first (expand, expand_log under the assumptions, cancel), then one simplify.
    """
    if expr == 0:
        return True
    expanded = sp.expand(sp.expand_log(expr))
    if expanded.has(sp.erfc):
        expanded = sp.expand(expanded.rewrite(sp.erf))
    if expanded == 0 or sp.cancel(sp.together(expanded)) == 0:
        return True
    return sp.simplify(expanded) == 0


def prepare(expr: sp.Expr, scope: Scope) -> sp.Expr:
    """``expr`` with the header's definitions substituted and every special form evaluated."""
    for _ in range(8):
        new = expr.xreplace(scope.definitions)
        if new == expr:
            break
        expr = new
    return evaluate(expr)


def drop_constants(expr: sp.Expr, scope: Scope) -> sp.Expr:
    return expr.xreplace({c: 0 for c in scope.constant_symbols()})


class Judge:
    """The judgements, with the declarations (scope) and settings of one derivation."""

    def __init__(self, scope: Scope, settings: Settings):
        self.scope = scope
        self.settings = settings

    def _rng(self, line: int, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.settings.seed, line, salt])

    def _variables(self, exprs) -> list[sp.Symbol]:
        free = set().union(*[e.free_symbols for e in exprs if e is not None])
        declared = [v for v in self.scope.variables if v in free]
        if declared or self.scope.variables:
            return declared
        return sorted(free - self.scope.constant_symbols(), key=lambda s: s.name)

    def judge_relation(self, lhs, rhs, relation, const, line, deadline, salt=0) -> Judgement:
        """``lhs relation rhs`` (evaluated expressions), or ``lhs = rhs + constant`` with ``const``."""
        s = self.settings
        lhs0 = drop_constants(lhs, self.scope) if const else lhs
        rhs0 = drop_constants(rhs, self.scope) if const else rhs
        vary = self._variables([lhs0, rhs0]) if const else None
        if const and not vary:
            vary = sorted((lhs0 - rhs0).free_symbols, key=lambda x: x.name)
        infinite = (sp.oo, -sp.oo, sp.zoo)
        if relation == "=" and not const and (lhs0 in infinite or rhs0 in infinite) and lhs0 != rhs0:
            other = rhs0 if lhs0 in infinite else lhs0
            if other in infinite or other.is_finite:
                return Judgement(False, "symbolic", f"the left side is {lhs0}, the right side {rhs0}")
        numeric = None
        try:
            numeric = run_bounded(
                lambda: compare(lhs0, rhs0, relation, self._rng(line, salt), n_points=s.n_points,
                                tolerance=s.tolerance, vary=vary or None),
                min(deadline.left(), s.step_timeout / 2),
            )  # fmt: skip
        except StepTimeout:
            numeric = None
        except Exception:
            numeric = None
        if numeric is not None and numeric.counterexample is not None:
            what = (
                "LHS - RHS is not free of " + ", ".join(v.name for v in vary)
                if const
                else "the two sides differ"
            )
            if relation != "=":
                what = f"LHS {relation} RHS is false"
            else:
                try:
                    gap = run_bounded(lambda: tidy(lhs0 - rhs0), deadline.left())
                    what += f": LHS - RHS = {gap}"
                except StepTimeout:
                    pass
            return Judgement(False, "numeric", f"{what} (counterexample checked at 50 digits)",
                             numeric.counterexample, numeric)  # fmt: skip

        def symbolic() -> tuple[bool, str]:
            if relation == "=" and not const and lhs0 == rhs0:
                return True, f"both sides are {lhs0}"
            diff = lhs0 - rhs0
            if const:
                ok = all(is_zero(sp.diff(diff, v)) for v in vary)
                return ok, "LHS - RHS is free of " + ", ".join(v.name for v in vary) + " (a constant)"
            if relation == "=":
                return is_zero(diff), "LHS - RHS simplifies to 0"
            gap = sp.simplify(rhs0 - lhs0)
            test = {
                "<=": gap.is_nonnegative,
                ">=": gap.is_nonpositive,
                "<": gap.is_positive,
                ">": gap.is_negative,
            }
            return bool(test[relation]), f"RHS - LHS = {gap} has a definite sign under the assumptions"

        try:
            proven, why = run_bounded(symbolic, deadline.left())
        except StepTimeout as exc:
            return Judgement(None, None, f"could not decide: {exc}{_numeric_note(numeric)}", None, numeric)
        if proven:
            return Judgement(True, "symbolic", why, None, numeric)
        closed = not (lhs0.free_symbols | rhs0.free_symbols)
        if numeric is not None and closed and numeric.points == 1 and not const:
            return Judgement(
                True,
                "numeric",
                f"sympy could not prove it; the two numbers agree to a relative {numeric.tolerance:g} "
                "at 30 significant digits",
                None,
                numeric,
            )
        if numeric is not None and numeric.points >= max(5, s.n_points // 2):
            return Judgement(
                True,
                "numeric",
                f"sympy could not prove it; it holds at {numeric.points} random points "
                f"(relative tolerance {numeric.tolerance:g}; "
                f"{numeric.skipped} points outside the domain skipped)",
                None,
                numeric,
            )
        return Judgement(
            None, None, f"could not decide: sympy could not prove it{_numeric_note(numeric)}", None, numeric
        )

    def judge_condition(self, written, reference, var, line, deadline) -> Judgement:
        """Is ``written = 0`` the same condition on ``var`` as ``reference = 0`` (same roots)?"""

        def symbolic():
            ratio = sp.cancel(sp.together(sp.expand_log(written / reference)))
            if var in ratio.free_symbols:
                ratio = sp.simplify(ratio)
            if ratio == 1:
                return True, "it is the condition itself", None
            if ratio != 0 and var not in ratio.free_symbols and ratio.is_finite is not False:
                return True, f"it is the condition times {ratio}", None
            if ratio.is_positive or ratio.is_negative:
                return True, f"it is the condition times {ratio}, which has a definite sign", None
            roots_w = sp.solve(written, var)
            roots_r = sp.solve(reference, var)
            missing = [r for r in roots_r if not any(is_zero(r - w) for w in roots_w)]
            extra = [w for w in roots_w if not any(is_zero(r - w) for r in roots_r)]
            if not missing and not extra and roots_r:
                return True, f"both have the roots {var} = {roots_r}", None
            if missing or extra:
                return (
                    False,
                    f"roots differ: the condition has {var} = {roots_r}, the line {var} = {roots_w}",
                    (
                        missing,
                        extra,
                    ),
                )
            return None, "sympy found no roots to compare", None

        try:
            proven, why, diff = run_bounded(symbolic, deadline.left())
        except StepTimeout as exc:
            return Judgement(None, None, f"could not decide: {exc}")
        if proven is False:
            try:
                cex = run_bounded(
                    lambda: self._condition_counterexample(written, reference, var, diff, line),
                    deadline.left(),
                )
            except StepTimeout:
                cex = None
            return Judgement(False, "symbolic", why, cex)
        return Judgement(proven, "symbolic" if proven else None, why)

    def _condition_counterexample(self, written, reference, var, diff, line) -> dict | None:
        missing, extra = diff
        rng = self._rng(line, 7)
        for root, this, other, label in [(r, written, reference, "line") for r in missing] + [
            (r, reference, written, "condition") for r in extra
        ]:
            params = sorted(
                (root.free_symbols | this.free_symbols | other.free_symbols) - {var}, key=lambda x: x.name
            )
            for _ in range(30):
                point = sample_point(params, rng)
                r = value_at(root, point)
                if r is None or (var.is_positive and r <= 0):
                    continue
                point[var] = r
                v_this, v_other = value_at(this, point), value_at(other, point)
                if v_this is None or v_other is None or abs(v_this) < 1e-9 * (1 + abs(r)):
                    continue
                values = {s.name: float(x) for s, x in sorted(point.items(), key=lambda kv: kv[0].name)}
                where = (
                    "a root of the true condition" if label == "line" else "a root of the line's condition"
                )
                return {
                    "values": values,
                    "condition": f"{var.name} = {r:.6g} is {where}, where the {label}'s expression is "
                    f"{v_this:.6g}, not 0",
                    "lhs": v_this,
                    "rhs": 0.0,
                    "difference": v_this,
                }
        return None

    def judge_root(self, condition, var, value, line, deadline) -> Judgement:
        """Does ``var = value`` solve ``condition = 0``?"""
        at = condition.xreplace({var: value})

        def numeric() -> Judgement | None:
            rng = self._rng(line, 11)
            params = sorted(
                (at.free_symbols | value.free_symbols | condition.free_symbols) - {var}, key=lambda x: x.name
            )
            f_value, f_at = Evaluator(value), Evaluator(at)
            f_num = Evaluator(condition.as_numer_denom()[0])
            for _ in range(3 * self.settings.n_points):
                point = sample_point(params, rng)
                v, c = f_value(point), f_at(point)
                if v is None or c is None or not (is_real(v) and is_real(c)) or (var.is_positive and v <= 0):
                    continue
                full = dict(point)
                full[var] = float(v)
                scale = 1 + abs(float(v)) + float(abs(f_num(full) or 0))
                if abs(c) > 1e3 * self.settings.tolerance * scale:
                    values = {s.name: float(x) for s, x in sorted(full.items(), key=lambda kv: kv[0].name)}
                    said = f"the condition's expression is {float(c):.6g} there, not 0"
                    cex = {
                        "values": values,
                        "condition": said,
                        "lhs": float(c),
                        "rhs": 0.0,
                        "difference": float(c),
                    }
                    shown = tidy(condition)
                    return Judgement(False, "numeric", f"{var} = {value} is not a root of {shown} = 0", cex)
            return None

        try:
            found = run_bounded(numeric, min(deadline.left(), self.settings.step_timeout / 2))
        except StepTimeout:
            found = None
        if found is not None:
            return found
        try:
            proven = run_bounded(lambda: is_zero(at), deadline.left())
        except StepTimeout as exc:
            return Judgement(None, None, f"could not decide: {exc}")
        if proven:
            return Judgement(True, "symbolic", f"{var} = {value} makes {condition} vanish")
        return Judgement(
            None, None, "could not decide: sympy could not simplify the condition at the value to 0"
        )

    # -- steps -----------------------------------------------------------------------------------


def _numeric_note(numeric: NumericEvidence | None) -> str:
    if numeric is None:
        return "; no numeric evidence"
    return (
        f"; numeric evidence: equal at {numeric.points} random points (largest relative difference "
        f"{numeric.max_relative_difference:.3g}, tolerance {numeric.tolerance:g})"
    )
