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
import math
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
    refute,
    sample_point,
    special_points,
    value_at,
    wide_value,
)
from vaetheory.symbolic.checker.scope import Scope
from vaetheory.symbolic.checker.sums import at_terms, expand_finite, sum_structure, symbolic_sums, term_symbol


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
    expr = sp.expand(sp.expand_log(sp.sympify(expr, strict=True)))
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


def tidy_value(expr: sp.Expr, variables=()) -> sp.Expr:
    """The shortest of several readable forms of ``expr`` (a corrected expression).

    :func:`tidy`, ``simplify``, ``logcombine`` of it, ``powsimp``, and the expansion collected in the
    variables of interest; sympy's ``count_ops`` decides, ties going to the earlier form. Each is an
    equivalent rewrite, so whichever is chosen is the same value.
    """
    base = tidy(expr)
    forms = [base]
    try:
        simple = sp.simplify(expr)
        forms += [simple, sp.logcombine(simple), sp.powsimp(simple)]
        if variables:
            forms.append(sp.collect(sp.expand(simple), list(variables)))
    except Exception:  # a rewrite sympy cannot do leaves the tidy form
        pass
    return min(forms, key=lambda e: (sp.count_ops(e), len(str(e))))


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
    expr = expand_finite(expr, scope.indexed, scope.symbols)
    return expand_finite(evaluate(expr), scope.indexed, scope.symbols)


def not_a_real_value(expr) -> str | None:
    """Why ``expr`` cannot enter a judgement (nan, zoo, complex, an infinity inside it), or None.

    A side that is exactly ``oo`` or ``-oo`` (a limit's value) is allowed.
    """
    if not isinstance(expr, sp.Basic):
        return None
    if expr in (sp.oo, -sp.oo):
        return None
    if expr.has(sp.nan):
        return f"{expr} contains nan (an undefined value, such as 0/0)"
    if expr.has(sp.zoo):
        return f"{expr} contains zoo (complex infinity, such as a division by zero)"
    if expr.has(sp.oo, -sp.oo):
        return f"{expr} contains an infinity inside an expression"
    if expr.has(sp.I):
        return f"{expr} is complex (contains I)"
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Function, sp.Pow)) and node.is_extended_real is False:
            return f"{expr} is complex under the assumptions ({node} is not real)"
    return None


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
        if symbolic_sums(lhs) or symbolic_sums(rhs):
            return self._judge_sums(lhs, rhs, relation, const, line, deadline, salt)
        s = self.settings
        lhs0 = drop_constants(lhs, self.scope) if const else lhs
        rhs0 = drop_constants(rhs, self.scope) if const else rhs
        vary = self._variables([lhs0, rhs0]) if const else None
        if const and not vary:
            vary = sorted((lhs0 - rhs0).free_symbols, key=lambda x: x.name)
        bad = next((e for e in (lhs0, rhs0) if not_a_real_value(e)), None)
        if bad is not None:
            return Judgement(None, None, f"could not decide: {not_a_real_value(bad)}")
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
        if numeric is None or numeric.points < max(5, s.n_points // 2):
            return Judgement(
                None,
                None,
                f"could not decide: sympy could not prove it{_numeric_note(numeric)}",
                None,
                numeric,
            )
        # before any numeric "holds": search for a refutation, sympy's own first
        hints, refuted = self._sympy_refutation(lhs0, rhs0, relation, const, deadline)
        try:
            search = run_bounded(
                lambda: refute(lhs0, rhs0, relation, self._rng(line, salt + 100), n_points=s.n_points,
                               tolerance=s.tolerance, vary=vary or None, hints=hints),
                deadline.left(),
            )  # fmt: skip
        except StepTimeout:
            search = None
        except Exception:  # a search that cannot run gives no evidence
            search = None
        if search is not None and search.counterexample is not None:
            what = f"LHS {relation} RHS is false" if relation != "=" else "the two sides differ"
            if const:
                what = "LHS - RHS is not free of " + ", ".join(v.name for v in vary)
            return Judgement(False, "numeric", f"{what}: counterexample found by the refutation search "
                             f"({search.method}; confirmed at 50 and 100 digits)", search.counterexample,
                             search)  # fmt: skip
        if refuted is not None:
            return Judgement(False, "symbolic", refuted, None, numeric)
        if search is None:
            return Judgement(
                None, None, "could not decide: sympy could not prove it, and the search for a counterexample "
                f"did not finish within the step's time bound{_numeric_note(numeric)}", None, numeric,
            )  # fmt: skip
        return Judgement(
            True,
            "numeric",
            f"sympy could not prove it; no counterexample at {numeric.points} random points of the typical "
            f"range nor in a search for one: {search.method} (relative tolerance {numeric.tolerance:g}; "
            f"{numeric.skipped + search.skipped} points outside the domain skipped)",
            None,
            search,
        )

    def _judge_sums(self, lhs, rhs, relation, const, line, deadline, salt) -> Judgement:
        """A relation between sums with a symbolic number of terms n (see :mod:`.sums`)."""
        indexed, known = self.scope.indexed, self.scope.symbols
        n, why = sum_structure(sp.expand(lhs - rhs), indexed)
        if n is None:
            return Judgement(None, None, f"could not decide: sums of this form are out of scope ({why})")
        added = []
        for base, template in indexed.items():
            if template in self.scope.variables:
                added += [term_symbol(base, k, indexed, known) for k in (1, 2, 3)]
        self.scope.variables.extend(added)
        try:
            results = {}
            for count in (1, 2, 3):
                a, b = at_terms(lhs, n, count, indexed, known), at_terms(rhs, n, count, indexed, known)
                res = self.judge_relation(a, b, relation, const, line, deadline, salt=salt + 10 * count)
                if res.holds is False:
                    cex = dict(res.counterexample or {})
                    if cex:
                        cex["values"] = {n.name: float(count), **cex.get("values", {})}
                    return Judgement(
                        False,
                        res.evidence,
                        f"false with {n} = {count} terms: {res.reason}",
                        cex or None,
                        res.numeric,
                    )
                results[count] = res
            if any(r.holds is None for r in results.values()):
                bad = next(r for r in results.values() if r.holds is None)
                return Judgement(None, None, f"with the sums written out: {bad.reason}", None, bad.numeric)
            evidence = "numeric" if any(r.evidence == "numeric" for r in results.values()) else "symbolic"
            form = (
                "the summands depend on the index only through indexed symbols and the number of terms "
                "enters outside the sums at most linearly"
            )
            if relation == "=":
                return Judgement(
                    True,
                    evidence,
                    f"holds with {n} = 1, 2 and 3 terms; {form}, so with 1 and 2 it holds for every {n}",
                    None,
                    results[2].numeric,
                )
            # an inequality: D(n) = sum (g + a) + b with g + a >= 0 and b >= 0 is sufficient
            gap = rhs - lhs if relation in ("<=", "<") else lhs - rhs
            d1, d2 = at_terms(gap, n, 1, indexed, known), at_terms(gap, n, 2, indexed, known)
            shift = {term_symbol(b, 2, indexed, known): term_symbol(b, 1, indexed, known) for b in indexed}
            per_term = d2 - d1
            rest = d1 - per_term.xreplace(shift)
            strict = "<" if relation in ("<", ">") else "<="
            first = self.judge_relation(
                sp.Integer(0), per_term, strict, False, line, deadline, salt=salt + 50
            )
            second = self.judge_relation(sp.Integer(0), rest, "<=", False, line, deadline, salt=salt + 60)
            if first.holds and second.holds:
                ev = "numeric" if "numeric" in (first.evidence, second.evidence) else evidence
                return Judgement(
                    True,
                    ev,
                    f"holds with {n} = 1, 2 and 3 terms; {form}, and each term's part "
                    f"{per_term} and the rest {sp.simplify(rest)} have the sign, so it holds for "
                    f"every {n}",
                    None,
                    results[2].numeric,
                )
            return Judgement(
                None,
                None,
                f"could not decide: it holds with {n} = 1, 2 and 3 terms, but the "
                "termwise argument for every n does not apply",
            )
        finally:
            for sym in added:
                self.scope.variables.remove(sym)

    def _sympy_refutation(self, lhs, rhs, relation, const, deadline) -> tuple[list, str | None]:
        """Points where RHS - LHS may change sign (its roots), and a refutation from a limit at an end.

        Only for one free symbol (others make roots and limits depend on them); bounded by a
        quarter of the time left.
        """
        free = sorted((lhs.free_symbols | rhs.free_symbols), key=lambda x: x.name)
        if const or len(free) != 1 or free[0].is_integer:
            return [], None
        x = free[0]
        gap = rhs - lhs if relation in ("<=", "<") else lhs - rhs
        ends = (
            [(0, "+"), (sp.oo, "-")] if (x.is_positive or x.is_nonnegative) else [(-sp.oo, "+"), (sp.oo, "-")]
        )
        if x.is_negative:
            ends = [(-sp.oo, "+"), (0, "-")]

        def work():
            points, refuted = [], None
            try:
                roots = sp.solve(gap, x)
            except Exception:  # no roots found: no hints
                roots = []
            for r in roots[:10]:
                try:
                    value = complex(sp.N(r, 30))
                except (TypeError, ValueError):
                    continue
                if value.imag == 0 and math.isfinite(value.real):
                    for f in (1 - 1e-6, 1 + 1e-6, 0.5, 2.0):
                        v = value.real * f
                        if (not x.is_positive or v > 0) and (not x.is_nonnegative or v >= 0):
                            points.append({x: v})
            for end, direction in ends:
                try:
                    lim = sp.limit(gap, x, end, direction)
                except Exception:  # sympy could not take the limit: no refutation
                    continue
                if lim.has(sp.nan, sp.zoo, sp.I) or lim.free_symbols or isinstance(lim, sp.AccumBounds):
                    continue
                wrong = lim != 0 if relation == "=" else lim.is_negative is True
                if wrong:
                    side = "RHS - LHS" if relation in ("<=", "<") else "LHS - RHS"
                    refuted = f"{side} tends to {lim} as {x} -> {end}{direction if end == 0 else ''}"
                    break
            return points, refuted

        try:
            return run_bounded(work, max(min(deadline.left() / 4, 5.0), 1e-3))
        except StepTimeout:
            return [], None
        except Exception:  # sympy's route failed: the numeric search still runs
            return [], None

    def judge_condition(self, written, reference, var, line, deadline) -> Judgement:
        """Is ``written = 0`` the same condition on ``var`` as ``reference = 0`` (same roots)?"""

        if symbolic_sums(written) or symbolic_sums(reference):
            return Judgement(
                None,
                None,
                "could not decide: conditions on sums with a symbolic number of terms are out of scope",
            )
        for expr in (written, reference):
            why = not_a_real_value(expr)
            if why is not None:
                return Judgement(None, None, f"could not decide: {why}")

        def symbolic():
            if reference == 0 or is_zero(reference):
                return (
                    None,
                    "the condition it is compared with is identically 0 (there is nothing to solve)",
                    None,
                )
            ratio = sp.cancel(sp.together(sp.expand_log(written / reference)))
            if var in ratio.free_symbols:
                ratio = sp.simplify(ratio)
            usable = not_a_real_value(ratio) is None
            if usable and ratio == 1:
                return True, "it is the condition itself", None
            if usable and var not in ratio.free_symbols and ratio.is_zero is False and ratio.is_finite:
                return True, f"it is the condition times {ratio}, which is never 0", None
            if usable and (ratio.is_positive or ratio.is_negative):
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

    def _domain_violation(self, var, value, line, deadline) -> Judgement | None:
        """A failing judgement when ``value`` breaks an assumption declared for ``var``, else None."""
        names = ("real", "positive", "nonnegative", "negative", "integer")
        checks = [(n, getattr(value, f"is_{n}")) for n in names if getattr(var, f"is_{n}") is True]
        for name, known in checks:
            if known is False:
                return Judgement(
                    False, "symbolic", f"{var} = {value} is not {name}, but {var} is declared {name}"
                )
        unknown = [name for name, known in checks if known is None]
        if not unknown:
            return None
        params = sorted(value.free_symbols, key=lambda x: x.name)
        f_value = Evaluator(value)
        rng = self._rng(line, 13)
        points = special_points(params, rng, 2 * self.settings.n_points)
        points += [{p: wide_value(p, rng) for p in params} for _ in range(3 * self.settings.n_points)]
        for point in points:
            if deadline.left() <= 0:
                break
            v = f_value(point)
            if v is None:
                continue
            bad = None
            if not is_real(v):
                bad = "real"
            else:
                v = float(v)
                tests = {"positive": v > 0, "nonnegative": v >= 0, "negative": v < 0,
                         "integer": float(v).is_integer(), "real": True}  # fmt: skip
                bad = next((n for n in unknown if not tests[n]), None)
            if bad is not None:
                values = {s.name: float(x) for s, x in sorted(point.items(), key=lambda kv: kv[0].name)}
                said = f"{var} = {_num_text(v)} there, which is not {bad}"
                cex = {
                    "values": values,
                    "condition": said,
                    "lhs": _num_text(v),
                    "rhs": 0.0,
                    "difference": 0.0,
                }
                reason = f"{var} = {value} is not always {bad}, but {var} is declared {bad}"
                return Judgement(False, "numeric", reason, cex)
        return None

    def judge_domain(self, var, value, line, deadline) -> Judgement | None:
        """A failing (or undecided) judgement when ``value`` may break ``var``'s assumptions, else None."""
        try:
            return run_bounded(lambda: self._domain_violation(var, value, line, deadline), deadline.left())
        except StepTimeout as exc:
            return Judgement(
                None, None, f"could not decide whether {var} = {value} respects its assumptions: {exc}"
            )

    def judge_root(self, condition, var, value, line, deadline, *, domain: bool = True) -> Judgement:
        """Does ``var = value`` solve ``condition = 0`` (with ``domain``: respecting its assumptions)?"""
        if symbolic_sums(condition) or symbolic_sums(value):
            return Judgement(
                None, None, "could not decide: roots of sums with a symbolic number of terms are out of scope"
            )
        for expr in (condition, value):
            why = not_a_real_value(expr)
            if why is not None:
                return Judgement(None, None, f"could not decide: {why}")
        if domain:
            violation = self.judge_domain(var, value, line, deadline)
            if violation is not None:
                return violation
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


def _kw(template: sp.Symbol) -> dict:
    kw = {k: True for k in ("positive", "nonnegative", "negative", "integer", "real")
          if getattr(template, f"is_{k}") is True}  # fmt: skip
    return kw or {"real": True}


def _num_text(v) -> float | str:
    return float(v) if is_real(v) else f"{complex(v):.6g}".strip("()")


def _numeric_note(numeric: NumericEvidence | None) -> str:
    if numeric is None:
        return "; no numeric evidence"
    return (
        f"; numeric evidence: equal at {numeric.points} random points (largest relative difference "
        f"{numeric.max_relative_difference:.3g}, tolerance {numeric.tolerance:g})"
    )
