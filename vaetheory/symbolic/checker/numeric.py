"""Numeric evidence: compare two expressions at random points that respect the assumptions.

Points are drawn per symbol from its assumptions (positive: log-uniform in [0.2, 5]; integer:
1..8 if positive, else -5..5; real: uniform in [-3, 3]) with a seeded generator, and both sides
are evaluated with mpmath at 30 significant digits. Points where a side is not a finite real
number (outside a logarithm's domain, say) are skipped and counted. A mismatch beyond the relative
tolerance is re-evaluated at 50 digits before it is reported as a counterexample.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from vaetheory.results import Result

DIGITS = 30
CHECK_DIGITS = 50


@dataclasses.dataclass(frozen=True)
class NumericEvidence(Result):
    """What the random points showed: how many were evaluated, skipped, and the largest gap."""

    points: int
    skipped: int
    tolerance: float
    max_relative_difference: float
    counterexample: dict[str, Any] | None = None


def sample_value(sym: sp.Symbol, rng: np.random.Generator) -> float:
    if sym.is_integer:
        return (
            float(rng.integers(1, 9)) if sym.is_positive or sym.is_nonnegative else float(rng.integers(-5, 6))
        )
    if sym.is_positive or sym.is_nonnegative:
        return float(math.exp(rng.uniform(math.log(0.2), math.log(5.0))))
    if sym.is_negative:
        return -float(math.exp(rng.uniform(math.log(0.2), math.log(5.0))))
    return float(rng.uniform(-3.0, 3.0))


def sample_point(symbols, rng: np.random.Generator) -> dict[sp.Symbol, float]:
    return {s: sample_value(s, rng) for s in symbols}


def _ordered(symbols) -> list[sp.Symbol]:
    return sorted(symbols, key=lambda s: s.name)


class Evaluator:
    """``expr`` as a fast mpmath function of its free symbols.

    Returns an mpf, or an mpc where the value is not real (a log of a negative number, say: a
    real-valued claim that is complex on one side and real on the other is false there), or
    ``None`` where it is not finite or not defined.
    """

    def __init__(self, expr: sp.Expr):
        self.symbols = _ordered(expr.free_symbols)
        self.expr = expr
        self.fn = sp.lambdify(self.symbols, expr, modules="mpmath")

    def __call__(self, point: dict[sp.Symbol, float], digits: int = DIGITS):
        with mpmath.workdps(digits):
            try:
                value = self.fn(*[mpmath.mpf(point[s]) for s in self.symbols])
                value = mpmath.mpmathify(value)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError, ArithmeticError):
                return None
            if not mpmath.isfinite(value):
                return None
            if isinstance(value, mpmath.mpc):
                if abs(value.imag) <= mpmath.mpf(10) ** (-digits // 2) * (1 + abs(value.real)):
                    return value.real
            return value


def is_real(value) -> bool:
    return not isinstance(value, mpmath.mpc)


def _num(value) -> float | str:
    """A real value as a float; a complex one as a string such as ``'0.69315+3.14159j'``."""
    if is_real(value):
        return float(value)
    return f"{complex(value):.6g}".strip("()")


def _gap(a, b) -> float:
    return float(abs(a - b) / (1 + abs(a) + abs(b)))


def _values(point: dict[sp.Symbol, float]) -> dict[str, float]:
    return {s.name: float(v) for s, v in sorted(point.items(), key=lambda kv: kv[0].name)}


def compare(
    lhs: sp.Expr,
    rhs: sp.Expr,
    relation: str,
    rng: np.random.Generator,
    *,
    n_points: int,
    tolerance: float,
    vary: list[sp.Symbol] | None = None,
) -> NumericEvidence:
    """Check ``lhs relation rhs`` at random points.

    With ``vary`` (the "+ c" case), the claim is that ``lhs - rhs`` does not change when the
    variables in ``vary`` change: each test redraws them and compares the two differences.
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    f_l, f_r = Evaluator(lhs), Evaluator(rhs)
    symbols = _ordered(lhs.free_symbols | rhs.free_symbols)
    used = skipped = 0
    worst = 0.0
    for _ in range(n_points * 3):
        if used >= (n_points if symbols else 1):
            break
        point = sample_point(symbols, rng)
        a, b = f_l(point), f_r(point)
        if a is None or b is None:
            skipped += 1
            continue
        if vary:
            other = dict(point)
            other.update(sample_point(vary, rng))
            a2, b2 = f_l(other), f_r(other)
            if a2 is None or b2 is None:
                skipped += 1
                continue
            gap = _gap(a - b, a2 - b2)
            worst = max(worst, gap)
            used += 1
            if gap > tolerance:
                d1 = f_l(point, CHECK_DIGITS) - f_r(point, CHECK_DIGITS)
                d2 = f_l(other, CHECK_DIGITS) - f_r(other, CHECK_DIGITS)
                if _gap(d1, d2) > tolerance:
                    cex = {
                        "values": _values(point),
                        "lhs": _num(a),
                        "rhs": _num(b),
                        "difference": _num(a - b),
                        "other_values": {s.name: float(other[s]) for s in vary},
                        "other_difference": _num(a2 - b2),
                    }
                    return NumericEvidence(used, skipped, tolerance, worst, cex)
            continue
        if relation != "=" and not (is_real(a) and is_real(b)):
            skipped += 1
            continue
        used += 1
        if relation == "=":
            gap = _gap(a, b)
            bad = gap > tolerance
        else:
            gap = 0.0
            slack = tolerance * (1 + abs(a) + abs(b))
            bad = {"<=": a > b + slack, ">=": a < b - slack, "<": a >= b + slack, ">": a <= b - slack}[
                relation
            ]
        worst = max(worst, gap)
        if bad:
            a50, b50 = f_l(point, CHECK_DIGITS), f_r(point, CHECK_DIGITS)
            if relation == "=":
                confirmed = _gap(a50, b50) > tolerance
            else:
                confirmed = {"<=": a50 > b50, ">=": a50 < b50, "<": a50 >= b50, ">": a50 <= b50}[relation]
            if confirmed:
                cex = {"values": _values(point), "lhs": _num(a), "rhs": _num(b), "difference": _num(a - b)}
                return NumericEvidence(used, skipped, tolerance, worst, cex)
    return NumericEvidence(used, skipped, tolerance, worst, None)


def value_at(expr: sp.Expr, point: dict[sp.Symbol, float]):
    """``expr`` at ``point`` as a float, or ``None`` where it is not a finite real number."""
    value = Evaluator(sp.sympify(expr))(point)
    return None if value is None or not is_real(value) else float(value)
