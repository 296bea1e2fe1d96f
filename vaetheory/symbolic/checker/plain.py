"""Read plain one-step-per-line derivations in sympy syntax.

Each non-blank, non-comment line is ``LHS REL RHS`` or ``REL RHS`` (continuing from the previous
step's right-hand side), with ``REL`` one of ``= == <= >= < >``. ``^`` is a power. Besides sympy's
``log exp sqrt pi oo`` the names are ``E(f, z, Normal(m, v))`` (an expectation), ``KL(q(z) || p(z))``
or ``KL(Normal(m1, v1), Normal(m2, v2))``, ``Normal(x, m, v)`` (a density value), ``diff(f, x)``
and ``limit(f, x, a, '+')`` (kept unevaluated), and the densities named in the header, applied as
``p(x | z)``. Decimals are exact (``0.1`` is 1/10). ``# step: KIND [VAR]`` after a step names its
kind. Only names, numbers, operators and brackets are accepted: no attributes, keywords or
underscore names (nothing is executed).
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize

import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, rationalize, standard_transformations

from vaetheory.symbolic.checker.gaussian import Expectation, GaussianDensity, KLDivergence
from vaetheory.symbolic.checker.scope import DerivationSyntaxError, Scope
from vaetheory.symbolic.checker.tokens import ParsedStep

_REL = re.compile(r"(<=|>=|==|=|<|>)")
_ANNOTATION = re.compile(r"#\s*step:\s*([A-Za-z-]+)(?:\s+(\S+))?")
_BUILTINS = {"log", "exp", "sqrt", "pi", "oo", "E", "Normal", "KL", "diff", "limit", "Derivative", "Limit"}
_BUILTINS |= {"Rational", "Abs", "I"}


class _Dist:
    """``Normal(m, v)`` used as a distribution (in ``E`` and ``KL``)."""

    def __init__(self, mean, variance, point=None):
        self.mean, self.variance, self.point = sp.sympify(mean), sp.sympify(variance), point


def _normal(*args):
    if len(args) == 2:
        return _Dist(*args)
    if len(args) == 3:
        return GaussianDensity(*args)
    raise TypeError("Normal takes (mean, variance) or (x, mean, variance)")


def _as_dist(value) -> _Dist:
    if isinstance(value, _Dist):
        return value
    if isinstance(value, GaussianDensity):
        return _Dist(value.args[1], value.args[2], value.args[0])
    raise TypeError("expected Normal(mean, variance) or a density named in the header")


def _expect(body, var, dist):
    dist = _as_dist(dist)
    return Expectation(body, var, dist.mean, dist.variance)


def _kl(q, p):
    q, p = _as_dist(q), _as_dist(p)
    return KLDivergence(q.mean, q.variance, p.mean, p.variance)


def _limit(f, x, a, direction="+-"):
    return sp.Limit(f, x, a, dir=str(direction))


def check_tokens(text: str, line: int, column: int) -> list[str]:
    """The names in ``text``; raise on anything that is not a name, number, operator or bracket."""
    names: list[str] = []
    _check_brackets(text, line, column)
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise DerivationSyntaxError(line, column, "balanced brackets", str(exc)) from None
    prev = None
    for tok in toks:
        col = column + tok.start[1]
        if tok.type == tokenize.NAME:
            if keyword.iskeyword(tok.string) or tok.string.startswith("_"):
                raise DerivationSyntaxError(line, col, "a symbol name", repr(tok.string))
            if prev is not None and prev.string == ".":
                raise DerivationSyntaxError(line, col - 1, "an operator", "'.'")
            names.append(tok.string)
        elif tok.type == tokenize.OP and tok.string not in "+-*/^()[],**":
            raise DerivationSyntaxError(
                line, col, "an operator (+ - * / ^ **) or a bracket", repr(tok.string)
            )
        elif tok.type == tokenize.STRING and tok.string.strip("'\"") not in ("+", "-", "+-"):
            raise DerivationSyntaxError(line, col, "'+', '-' or '+-' (a limit's direction)", tok.string)
        elif tok.type == tokenize.ERRORTOKEN and tok.string.strip():
            raise DerivationSyntaxError(
                line, col, "a name, a number, an operator or a bracket", repr(tok.string)
            )
        prev = tok
    return names


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


def parse_plain_expr(text: str, scope: Scope, line: int, column: int) -> sp.Expr:
    """One expression in sympy syntax, its names resolved with ``scope``."""
    text = text.replace("||", ",").replace("|", ",")
    if not text.strip():
        raise DerivationSyntaxError(line, column, "an expression")
    names = check_tokens(text, line, column)
    local: dict = {
        "log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "pi": sp.pi, "oo": sp.oo, "E": _expect,
        "Normal": _normal, "KL": _kl, "diff": sp.Derivative, "Derivative": sp.Derivative,
        "limit": _limit, "Limit": _limit, "Rational": sp.Rational, "Abs": sp.Abs, "I": sp.I,
    }  # fmt: skip
    for name in names:
        if name in local:
            continue
        if name in scope.density_names():
            local[name] = _density_caller(scope, name, line, column)
        else:
            local[name] = scope.symbol(name, line, column + text.find(name))
    try:
        value = parse_expr(text, local_dict=local, global_dict={"Integer": sp.Integer, "Float": sp.Float,
                           "Rational": sp.Rational, "Symbol": sp.Symbol},
                           transformations=(*standard_transformations, convert_xor, rationalize))  # fmt: skip
    except SyntaxError as exc:
        offset = (exc.offset or 1) - 1
        raise DerivationSyntaxError(line, column + max(offset, 0), "a complete expression", exc.msg) from None
    except (TypeError, ValueError) as exc:
        raise DerivationSyntaxError(line, column, "well-formed arguments", str(exc)) from None
    if isinstance(value, _Dist):
        raise DerivationSyntaxError(
            line, column, "an expression, not a distribution", "Normal(mean, variance)"
        )
    return sp.sympify(value)


def _density_caller(scope: Scope, name: str, line: int, column: int):
    def call(*args):
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
