"""Read plain one-step-per-line derivations in sympy syntax.

Each non-blank, non-comment line is ``LHS REL RHS`` or ``REL RHS`` (continuing from the previous
step's right-hand side), with ``REL`` one of ``= == <= >= < >``. ``^`` is a power. Besides sympy's
``log exp sqrt pi oo`` the names are ``E(f, z, Normal(m, v))`` (an expectation), ``KL(q(z) || p(z))``
or ``KL(Normal(m1, v1), Normal(m2, v2))``, ``Normal(x, m, v)`` (a density value), ``diff(f, x)``
and ``limit(f, x, a, '+')`` (kept unevaluated), and the densities named in the header, applied as
``p(x | z)``. Decimals are exact (``0.1`` is 1/10). ``# step: KIND [VAR]`` after a step names its
kind. The text is read by :mod:`~vaetheory.symbolic.checker.expression` (NFKC-normalised,
ASCII names, a fixed table of functions, built into sympy objects directly): nothing is executed.
"""

from __future__ import annotations

import re

import sympy as sp

from vaetheory.symbolic.checker.expression import CONSTANTS, FUNCTIONS, MAX_INPUT_CHARS, build_expression
from vaetheory.symbolic.checker.gaussian import Expectation, GaussianDensity, KLDivergence
from vaetheory.symbolic.checker.scope import DerivationSyntaxError, Scope
from vaetheory.symbolic.checker.tokens import ParsedStep

_ANNOTATION = re.compile(r"#\s*step:\s*([A-Za-z-]+)(?:\s+(\S+))?")
#: most derivative orders in diff(f, x, n)
_MAX_ORDER = 10


class _Dist:
    """``Normal(m, v)`` used as a distribution (in ``E`` and ``KL``)."""

    def __init__(self, mean, variance, point=None):
        for value in (mean, variance):
            if not isinstance(value, sp.Expr):
                raise TypeError("Normal takes expressions")
        self.mean, self.variance, self.point = mean, variance, point

    def describe(self) -> str:
        return "a distribution Normal(mean, variance), not an expression"


def _normal(*args):
    if len(args) == 2:
        return _Dist(*args)
    if len(args) == 3:
        if not all(isinstance(a, sp.Expr) for a in args):
            raise TypeError("Normal takes expressions")
        return GaussianDensity(*args)
    raise TypeError("Normal takes (mean, variance) or (x, mean, variance)")


def _as_dist(value) -> _Dist:
    if isinstance(value, _Dist):
        return value
    if isinstance(value, GaussianDensity):
        return _Dist(value.args[1], value.args[2], value.args[0])
    raise TypeError("expected Normal(mean, variance) or a density named in the header")


def _expect(*args):
    if len(args) != 3 or not isinstance(args[0], sp.Expr) or not isinstance(args[1], sp.Symbol):
        raise TypeError("E takes (f, z, Normal(mean, variance)) with z a symbol")
    body, var, dist = args
    dist = _as_dist(dist)
    return Expectation(body, var, dist.mean, dist.variance)


def _kl(*args):
    if len(args) != 2:
        raise TypeError("KL takes two distributions: KL(q(z) || p(z)) or KL(Normal(m1, v1), Normal(m2, v2))")
    q, p = _as_dist(args[0]), _as_dist(args[1])
    return KLDivergence(q.mean, q.variance, p.mean, p.variance)


def _diff(*args):
    if len(args) < 2 or not isinstance(args[0], sp.Expr):
        raise TypeError("diff takes (f, x), (f, x, n) or (f, x, y, ...)")
    spec = list(args[1:])
    for k, item in enumerate(spec):
        if isinstance(item, sp.Integer) and k > 0 and isinstance(spec[k - 1], sp.Symbol):
            if not 1 <= int(item) <= _MAX_ORDER:
                raise TypeError(f"a derivative's order must be 1..{_MAX_ORDER}")
        elif not isinstance(item, sp.Symbol):
            raise TypeError("diff differentiates by symbols")
    return sp.Derivative(*args)


def _limit(*args):
    if len(args) not in (3, 4) or not isinstance(args[1], sp.Symbol):
        raise TypeError("limit takes (f, x, a) or (f, x, a, '+' | '-' | '+-')")
    f, x, a = args[:3]
    direction = args[3] if len(args) == 4 else "+-"
    if not isinstance(direction, str) or not all(isinstance(e, sp.Expr) for e in (f, a)):
        raise TypeError("limit takes (f, x, a) or (f, x, a, '+' | '-' | '+-')")
    return sp.Limit(f, x, a, dir=direction)


#: the functions of plain derivations: the shared table, then the checker's forms
PLAIN_FUNCTIONS = dict(FUNCTIONS)
PLAIN_FUNCTIONS.update({
    "E": _expect, "Normal": _normal, "KL": _kl, "diff": _diff, "Derivative": _diff,
    "limit": _limit, "Limit": _limit,
})  # fmt: skip
PLAIN_FUNCTIONS.pop("Matrix")
PLAIN_CONSTANTS = {k: v for k, v in CONSTANTS.items() if k in ("pi", "oo", "I")}


def parse_plain_expr(text: str, scope: Scope, line: int, column: int) -> sp.Expr:
    """One expression in plain syntax, its names resolved with ``scope`` (nothing is compiled)."""
    text = text.replace("||", ",").replace("|", ",")
    if not text.strip():
        raise DerivationSyntaxError(line, column, "an expression")
    if len(text) > MAX_INPUT_CHARS:
        raise DerivationSyntaxError(line, column, f"an expression of at most {MAX_INPUT_CHARS} characters")
    _check_brackets(text, line, column)
    functions = dict(PLAIN_FUNCTIONS)
    for name in scope.density_names():
        functions[name] = _density_caller(scope, name, line, column)

    def symbol(name: str, col: int):
        if name == "E":
            raise DerivationSyntaxError(
                line, col, "E(f, z, Normal(mean, variance)) (an expectation), or e for Euler's number", "E"
            )
        if name in scope.density_names():
            raise DerivationSyntaxError(line, col, f"{name}(...) applied to its arguments (it is a density)")
        return scope.symbol(name, line, col)

    value = build_expression(
        text, line, column, symbol, functions=functions, constants=PLAIN_CONSTANTS, deadline=scope.deadline
    )
    if isinstance(value, _Dist):
        raise DerivationSyntaxError(
            line, column, "an expression, not a distribution", "Normal(mean, variance)"
        )
    if not isinstance(value, sp.Expr):
        raise DerivationSyntaxError(line, column, "an expression", type(value).__name__)
    return value


def _check_brackets(text: str, line: int, column: int) -> None:
    pairs = {")": "(", "]": "["}
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in "([":
            stack.append((ch, i))
        elif ch in ")]":
            if not stack or stack[-1][0] != pairs[ch]:
                raise DerivationSyntaxError(line, column + i, "an operand or a matching bracket", repr(ch))
            stack.pop()
    if stack:
        ch, i = stack[-1]
        closer = ")" if ch == "(" else "]"
        end = column + len(text.rstrip())
        raise DerivationSyntaxError(
            line, end, f"{closer!r} to close the {ch!r} at line {line}, column {column + i}", "end of line"
        )


def _density_caller(scope: Scope, name: str, line: int, column: int):
    def call(*args):
        if not all(isinstance(a, sp.Expr) for a in args):
            raise TypeError(f"{name}(...) takes expressions")
        spec = scope.density(name, len(args), line, column)
        return GaussianDensity(*spec.apply(args))

    return call


def read_plain(text: str, scope: Scope) -> list[ParsedStep]:
    """Every step of a plain derivation (header and comment lines skipped)."""
    steps: list[ParsedStep] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        note_match = _ANNOTATION.search(raw)
        note = (note_match.group(1).lower(), note_match.group(2)) if note_match else None
        body = raw.split("#", 1)[0]
        if not body.strip():
            continue
        parts = _split_relation(body, number)
        if parts is None:
            col = len(body) - len(body.lstrip()) + 1
            raise DerivationSyntaxError(
                number, col, "a relation (=, <=, >=, <, >) in the step", repr(body.strip())
            )
        (lhs_text, lhs_col), rel, (rhs_text, rhs_col), rel_col = parts
        scope.start_step()
        lhs = None if not lhs_text.strip() else parse_plain_expr(lhs_text, scope, number, lhs_col)
        rhs = parse_plain_expr(rhs_text, scope, number, rhs_col)
        rel = "=" if rel == "==" else rel
        steps.append(ParsedStep(number, rel_col, lhs, rel, rhs, body.strip(), 0, note))
    return steps


def _split_relation(body: str, line: int):
    depth, found = 0, []
    for m in re.finditer(r"[()\[\]]|<=|>=|==|=|<|>", body):
        t = m.group(0)
        if t in "([":
            depth += 1
        elif t in ")]":
            depth -= 1
        elif depth == 0:
            found.append(m)
    if not found:
        return None
    if len(found) > 1:
        raise DerivationSyntaxError(
            line, found[1].start() + 1, "one relation per step", repr(found[1].group(0))
        )
    m = found[0]
    return (body[: m.start()], 1), m.group(0), (body[m.end() :], m.end() + 1), m.start() + 1
