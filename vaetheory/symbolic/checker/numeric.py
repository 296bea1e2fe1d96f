"""Numeric evidence: compare two expressions at points that respect the assumptions.

:func:`compare` draws typical points per symbol from its assumptions (positive: log-uniform in
[0.2, 5]; integer: 1..8 if positive, else -5..5; real: uniform in [-3, 3]). Before any numeric
"holds", :func:`refute` searches for a counterexample where derivations go wrong: every symbol
across its whole declared domain on a logarithmic scale (positive symbols from 1e-12 to 1e12,
reals of both signs up to 1e12 in magnitude, integers small and large), the boundaries and special
points of each domain (0 for nonnegative symbols, 1e-12, 1, 1e12, ...), points sympy found
(roots of RHS - LHS, where its sign can change), and then the margin (B - A for A <= B,
-|A - B| for an identity, relative to 1 + |A| + |B|) minimised with scipy.optimize (Nelder-Mead)
from the worst points found. Both sides are evaluated with mpmath at 30 significant digits; points
where a side is not finite are skipped and counted, and a complex value on both sides is skipped
(it is no evidence for a real claim). A mismatch is confirmed at 50 and at 100 digits before it
is reported as a counterexample.
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
CONFIRM_DIGITS = 100
#: the log10 range of the wide search for positive (and the magnitude of real) symbols
WIDE_EXPONENTS = (-12.0, 12.0)
#: special values of a positive symbol (a nonnegative one adds 0, a real one their negatives)
SPECIAL_POSITIVE = (1e-12, 1e-9, 1e-6, 1e-4, 1e-2, 0.1, 1 / (2 * math.pi * math.e), 0.5, 1.0, 2.0, 10.0,
                    1e2, 1e4, 1e6, 1e9, 1e12)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class NumericEvidence(Result):
    """What the points showed: how many were evaluated, skipped, the largest gap, and how they were found."""

    points: int
    skipped: int
    tolerance: float
    max_relative_difference: float
    counterexample: dict[str, Any] | None = None
    method: str = "random points in the typical range"
    searched: int = 0
    optimizer_starts: int = 0


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


def wide_value(sym: sp.Symbol, rng: np.random.Generator) -> float:
    """A value across the symbol's whole declared domain, on a logarithmic scale."""
    lo, hi = WIDE_EXPONENTS
    if sym.is_integer:
        small = rng.random() < 0.5
        mag = (
            float(rng.integers(1, 11))
            if small
            else float(10 ** int(rng.integers(1, 13)) + rng.integers(0, 10))
        )
        if sym.is_positive:
            return mag
        if sym.is_nonnegative:
            return 0.0 if rng.random() < 0.1 else mag
        if sym.is_negative:
            return -mag
        return 0.0 if rng.random() < 0.1 else mag * (1 if rng.random() < 0.5 else -1)
    mag = float(10 ** rng.uniform(lo, hi))
    if sym.is_positive:
        return mag
    if sym.is_nonnegative:
        return 0.0 if rng.random() < 0.1 else mag
    if sym.is_negative:
        return -mag
    r = rng.random()
    if r < 0.1:
        return 0.0
    if r < 0.4:
        return float(rng.uniform(-3.0, 3.0))
    return mag if r < 0.7 else -mag


def special_values(sym: sp.Symbol) -> list[float]:
    """The boundaries and special points of the symbol's domain."""
    if sym.is_integer:
        pos = [1.0, 2.0, 3.0, 10.0, 100.0, 1e6, 1e12]
    else:
        pos = list(SPECIAL_POSITIVE)
    if sym.is_positive:
        return pos
    if sym.is_nonnegative:
        return [0.0, *pos]
    if sym.is_negative:
        return [-p for p in pos]
    return [0.0, *pos, *(-p for p in pos)]


def special_points(symbols, rng: np.random.Generator, count: int) -> list[dict[sp.Symbol, float]]:
    """``count`` points whose coordinates are special values, mixed: all small, all large, then random."""
    symbols = list(symbols)
    if not symbols:
        return []
    tables = {s: special_values(s) for s in symbols}
    points = []
    for k in range(max(len(t) for t in tables.values())):  # the k-th special value everywhere
        points.append({s: t[min(k, len(t) - 1)] for s, t in tables.items()})
    for _ in range(max(0, count - len(points))):
        points.append({s: t[int(rng.integers(0, len(t)))] for s, t in tables.items()})
    return points[: max(count, len(points))]


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


class _Claim:
    """``lhs relation rhs`` (or, with ``vary``, ``lhs - rhs`` free of ``vary``) tested point by point."""

    def __init__(self, lhs, rhs, relation: str, tolerance: float, vary=None):
        self.lhs, self.rhs = lhs, rhs
        self.f_l, self.f_r = Evaluator(lhs), Evaluator(rhs)
        self.relation, self.tolerance, self.vary = relation, tolerance, vary
        self.symbols = _ordered(lhs.free_symbols | rhs.free_symbols)
        self.used = self.skipped = 0
        self.worst = 0.0

    def _bad(self, a, b, digits_tol: float) -> bool:
        if self.relation == "=":
            return _gap(a, b) > digits_tol
        slack = digits_tol * (1 + abs(a) + abs(b))
        return {"<=": a > b + slack, ">=": a < b - slack, "<": a >= b + slack, ">": a <= b - slack}[
            self.relation
        ]

    def _confirmed(self, point, other=None) -> bool:
        """The violation is still there at 50 and at 100 significant digits."""
        for digits in (CHECK_DIGITS, CONFIRM_DIGITS):
            a, b = self.f_l(point, digits), self.f_r(point, digits)
            if a is None or b is None:
                return False
            if other is not None:
                a2, b2 = self.f_l(other, digits), self.f_r(other, digits)
                if a2 is None or b2 is None or _gap(a - b, a2 - b2) <= self.tolerance:
                    return False
                continue
            if self.relation != "=" and not (is_real(a) and is_real(b)):
                return False
            if self.relation == "=" and not is_real(a) and not is_real(b):
                return False
            if self.relation == "=" and _gap(a, b) <= self.tolerance:
                return False
            if self.relation != "=" and not self._bad(a, b, 0.0):
                return False
        return True

    def test(self, point, rng=None) -> dict | None:
        """A counterexample at ``point``, or None (the point agrees, or was skipped)."""
        a, b = self.f_l(point), self.f_r(point)
        if a is None or b is None:
            self.skipped += 1
            return None
        if self.vary:
            other = dict(point)
            other.update(sample_point(self.vary, rng) if rng is not None else {})
            a2, b2 = self.f_l(other), self.f_r(other)
            if a2 is None or b2 is None:
                self.skipped += 1
                return None
            gap = _gap(a - b, a2 - b2)
            self.worst = max(self.worst, gap)
            self.used += 1
            if gap > self.tolerance and self._confirmed(point, other):
                return {
                    "values": _values(point), "lhs": _num(a), "rhs": _num(b), "difference": _num(a - b),
                    "other_values": {s.name: float(other[s]) for s in self.vary},
                    "other_difference": _num(a2 - b2),
                }  # fmt: skip
            return None
        if not (is_real(a) and is_real(b)) and (self.relation != "=" or not (is_real(a) or is_real(b))):
            self.skipped += 1  # complex on both sides (or in an inequality): no evidence either way
            return None
        self.used += 1
        if self.relation == "=":
            self.worst = max(self.worst, _gap(a, b))
        if self._bad(a, b, self.tolerance) and self._confirmed(point):
            return {"values": _values(point), "lhs": _num(a), "rhs": _num(b), "difference": _num(a - b)}
        return None

    def evidence(self, cex=None, **kw) -> NumericEvidence:
        return NumericEvidence(self.used, self.skipped, self.tolerance, self.worst, cex, **kw)


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
    """Check ``lhs relation rhs`` at random points of the typical range.

    With ``vary`` (the "+ c" case), the claim is that ``lhs - rhs`` does not change when the
    variables in ``vary`` change: each test redraws them and compares the two differences.
    """
    claim = _Claim(lhs, rhs, relation, tolerance, vary)
    for _ in range(n_points * 3):
        if claim.used >= (n_points if claim.symbols else 1):
            break
        cex = claim.test(sample_point(claim.symbols, rng), rng)
        if cex is not None:
            return claim.evidence(cex)
    return claim.evidence()


def _margin_function(lhs, rhs, relation: str, symbols):
    """The margin (negative where the claim is violated) as a float64 numpy function, or None."""
    try:
        f_l = sp.lambdify(symbols, lhs, modules="numpy")
        f_r = sp.lambdify(symbols, rhs, modules="numpy")
    except Exception:  # some expressions have no numpy form: no optimisation then
        return None

    def margin(values) -> float:
        with np.errstate(all="ignore"):
            try:
                a, b = complex(f_l(*values)), complex(f_r(*values))
            except Exception:  # outside the domain: no information
                return math.inf
        if a.imag or b.imag or not (math.isfinite(a.real) and math.isfinite(b.real)):
            return math.inf
        a, b = a.real, b.real
        scale = 1 + abs(a) + abs(b)
        if relation in ("<=", "<"):
            return (b - a) / scale
        if relation in (">=", ">"):
            return (a - b) / scale
        return -abs(a - b) / scale

    return margin


def _to_coords(sym, value: float) -> float:
    if sym.is_positive:
        return math.log(value)
    if sym.is_negative:
        return math.log(-value)
    return value


def _from_coords(sym, u: float) -> float:
    if sym.is_positive:
        return math.exp(min(max(u, -700.0), 700.0))
    if sym.is_negative:
        return -math.exp(min(max(u, -700.0), 700.0))
    if sym.is_nonnegative:
        return abs(u)
    return u


def refute(
    lhs: sp.Expr,
    rhs: sp.Expr,
    relation: str,
    rng: np.random.Generator,
    *,
    n_points: int,
    tolerance: float,
    vary: list[sp.Symbol] | None = None,
    hints: list[dict[sp.Symbol, float]] = (),
    starts: int = 8,
) -> NumericEvidence:
    """Search for a counterexample across the whole domain (see the module docstring)."""
    claim = _Claim(lhs, rhs, relation, tolerance, vary)
    symbols = claim.symbols
    n_wide = 5 * n_points
    points = special_points(symbols, rng, 2 * n_points)
    points += [{s: wide_value(s, rng) for s in symbols} for _ in range(n_wide)] + list(hints)
    method = (
        f"{len(points)} points across the whole domain (positive symbols log-uniform in [1e-12, 1e12], "
        "reals of both signs up to 1e12, integers small and large, the domain's boundaries and special "
        f"points{', sympy roots of RHS - LHS' if hints else ''})"
    )
    scored = []
    margin = None if vary or not symbols else _margin_function(lhs, rhs, relation, symbols)
    for point in points:
        full = {s: point.get(s, sample_value(s, rng)) for s in symbols}
        cex = claim.test(full, rng)
        if cex is not None:
            return claim.evidence(cex, method=method, searched=len(points))
        if margin is not None:
            m = margin([full[s] for s in symbols])
            if math.isfinite(m):
                scored.append((m, full))
    free = [s for s in symbols if not s.is_integer]
    used_starts = 0
    if margin is not None and free and scored:
        from scipy.optimize import minimize

        scored.sort(key=lambda t: t[0])
        for _m, start in scored[:starts]:
            used_starts += 1
            fixed = dict(start)

            def objective(u, fixed=fixed):
                for sym, ui in zip(free, u):
                    fixed[sym] = _from_coords(sym, float(ui))
                return margin([fixed[s] for s in symbols])

            u0 = np.array([_to_coords(s, start[s]) for s in free], dtype=float)
            with np.errstate(all="ignore"):
                options = {"maxiter": 150 * len(free), "xatol": 1e-10, "fatol": 1e-16}
                res = minimize(objective, u0, method="Nelder-Mead", options=options)
            if res.fun < 0:
                point = dict(start)
                point.update({sym: _from_coords(sym, float(ui)) for sym, ui in zip(free, res.x)})
                cex = claim.test(point, rng)
                if cex is not None:
                    method_opt = f"{method}, then scipy.optimize (Nelder-Mead) from {used_starts} starts"
                    return claim.evidence(
                        cex, method=method_opt, searched=len(points), optimizer_starts=used_starts
                    )
    if used_starts:
        method += f", then the margin minimised with scipy.optimize (Nelder-Mead) from {used_starts} starts"
    return claim.evidence(method=method, searched=len(points), optimizer_starts=used_starts)


def value_at(expr: sp.Expr, point: dict[sp.Symbol, float]):
    """``expr`` at ``point`` as a float, or ``None`` where it is not a finite real number."""
    value = Evaluator(sp.sympify(expr, strict=True))(point)
    return None if value is None or not is_real(value) else float(value)
