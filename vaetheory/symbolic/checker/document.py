"""A derivation file: its header (symbols, assumptions, variables, densities) and its steps.

Header lines are comments, ``% key: value`` in LaTeX or ``# key: value`` in plain files:

* ``positive: lam, s`` / ``real: x`` / ``nonnegative:`` / ``integer:`` / ``positive integer:`` --
  symbols and their assumptions;
* ``variables: s`` -- the variables of interest (what "+ c" must be free of, what a stationarity
  condition differentiates by, what a step solves for);
* ``constants: c, c'`` -- names of additive constants (default ``c, C, c', C', c'', const``);
* ``define: lam' = lam - 1/2`` -- a name that stands for an expression (sympy syntax);
* ``density: p(x | z) = Normal(z, 1/(2*lam))`` -- a named Gaussian density, mean then VARIANCE;
* ``normal: variance`` (default) or ``normal: std`` -- how to read the second argument of
  ``\\mathcal{N}(m, .)`` in the LaTeX body;
* ``format: latex`` or ``plain`` (otherwise detected), ``title:`` and ``source:`` (free text).
"""

from __future__ import annotations

import dataclasses
import re

import sympy as sp

from vaetheory.symbolic.checker.expression import MAX_INPUT_CHARS, normalize, parse_relation
from vaetheory.symbolic.checker.latex import ParsedStep, lower_bound, read_latex
from vaetheory.symbolic.checker.plain import parse_plain_expr, read_plain
from vaetheory.symbolic.checker.scope import (
    ASSUMPTION_KEYS,
    DensitySpec,
    DerivationSyntaxError,
    Scope,
    checked_name,
)

_HEADER = re.compile(r"^\s*[%#]\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$")
_KEYS = set(ASSUMPTION_KEYS) | {
    "variables",
    "constants",
    "define",
    "density",
    "normal",
    "format",
    "title",
    "source",
    "assume",
}
_DENSITY = re.compile(r"^([A-Za-z][\w'\\^*{}]*)\s*\(([^)]*)\)\s*=\s*(.+)$")


@dataclasses.dataclass
class Derivation:
    """A read derivation: its format, title, source, scope (declarations) and steps."""

    format: str
    title: str
    source: str
    scope: Scope
    steps: list[ParsedStep]


def _names(value: str, number: int = 1, raw: str = "") -> list[str]:
    return [checked_name(v, number, _column(raw, v.strip())) for v in value.split(",") if v.strip()]


def _column(raw: str, part: str) -> int:
    return raw.find(part) + 1 if part and part in raw else 1


def read_derivation(
    text: str, *, step_seconds: float | None = None, total_deadline: float | None = None
) -> Derivation:
    """Read the header and the steps of ``text``; raise :class:`DerivationSyntaxError` if unusable.

    The text is NFKC-normalised first and must hold at most ``MAX_INPUT_CHARS`` characters;
    reading one step (or header line) may take ``step_seconds``, and all of it must end by
    ``total_deadline`` (a ``time.monotonic()`` value).
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str; got {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        line = text.count("\n", 0, MAX_INPUT_CHARS) + 1
        raise DerivationSyntaxError(
            line, 1, f"a derivation of at most {MAX_INPUT_CHARS} characters (the input size limit)",
            f"{len(text)} characters; the limit is passed on line {line}",
        )  # fmt: skip
    text = normalize(text)
    scope = Scope(step_seconds=step_seconds, total_deadline=total_deadline)
    header: list[tuple[int, str, str, str]] = []
    fmt, title, source = None, "", ""
    for number, raw in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(raw)
        if m and m.group(1).lower() in _KEYS:
            header.append((number, m.group(1).lower(), m.group(2), raw))
    assumptions: dict[str, dict] = {}
    for number, key, value, raw in header:
        if key in ASSUMPTION_KEYS:
            for name in _names(value, number, raw):
                assumptions.setdefault(name, {}).update(ASSUMPTION_KEYS[key])
        elif key == "format":
            if value.lower() not in ("latex", "plain"):
                raise DerivationSyntaxError(
                    number, _column(raw, value), "format: latex or format: plain", value
                )
            fmt = value.lower()
        elif key == "normal":
            if value.lower() not in ("variance", "std"):
                raise DerivationSyntaxError(
                    number, _column(raw, value), "normal: variance or normal: std", value
                )
            scope.normal_second = value.lower()
        elif key == "title":
            title = value
        elif key == "source":
            source = value
        elif key == "constants":
            scope.constants = set(_names(value, number, raw))
    for name, kw in assumptions.items():
        scope.symbols[name] = sp.Symbol(name, **kw)
    for number, key, value, raw in header:
        if key == "variables":
            scope.variables = [scope.symbol(n, number, _column(raw, n)) for n in _names(value, number, raw)]
        elif key == "density":
            _read_density(scope, value, number, raw)
    for _number, key, value, _raw in header:
        if key == "define" and "=" in value:
            head = value.partition("=")[0]
            name = checked_name(head, number, _column(raw, head.strip())) if head.strip() else ""
            if name and name not in scope.symbols:
                scope.symbols[name] = sp.Symbol(name, real=True)
    for number, key, value, raw in header:
        if key == "define":
            name, sep, rhs = value.partition("=")
            if not sep or not name.strip():
                raise DerivationSyntaxError(number, _column(raw, value), "define: NAME = EXPRESSION", value)
            sym_name = checked_name(name, number, _column(raw, name.strip()))
            sym = scope.symbols.get(sym_name) or sp.Symbol(sym_name, real=True)
            scope.symbols[sym.name] = sym
            scope.start_step()
            scope.definitions[sym] = parse_plain_expr(rhs, scope, number, _column(raw, rhs.strip()))
    for number, key, value, raw in header:
        if key == "assume":
            for part in _split_top(value):
                scope.start_step()
                col = _column(raw, part.strip())
                left, rel, right, rcol = parse_relation(part, number, col)
                lhs = parse_plain_expr(left, scope, number, col)
                rhs = parse_plain_expr(right, scope, number, rcol)
                scope.conditions.append(lower_bound(lhs, rel, rhs, number, col))
    if fmt is None:
        fmt = "latex" if re.search(r"\\begin\{|\$\$|\\\[", text) else "plain"
    steps = read_latex(text, scope) if fmt == "latex" else read_plain(_blank_header(text), scope)
    if not steps:
        raise DerivationSyntaxError(1, 1, "at least one step (a line with =, <= or >=)")
    return Derivation(fmt, title, source, scope, steps)


def _blank_header(text: str) -> str:
    return "\n".join("" if _HEADER.match(ln) else ln for ln in text.splitlines())


def _read_density(scope: Scope, value: str, number: int, raw: str) -> None:
    m = _DENSITY.match(value)
    if not m:
        raise DerivationSyntaxError(
            number, _column(raw, value), "density: NAME(x | given) = Normal(mean, variance)", value
        )
    name = checked_name(m.group(1), number, _column(raw, m.group(1)))
    params = [
        checked_name(p, number, _column(raw, p.strip())) for p in re.split(r"[|,;]", m.group(2)) if p.strip()
    ]
    symbols = []
    for p in params:
        if p not in scope.symbols:
            scope.symbols[p] = sp.Symbol(p, real=True)
        symbols.append(scope.symbols[p])
    rhs = m.group(3)
    col = _column(raw, rhs)
    inner = re.match(r"^\s*Normal\s*\((.*)\)\s*$", rhs)
    if not inner:
        raise DerivationSyntaxError(number, col, "Normal(mean, variance)", rhs)
    args = _split_top(inner.group(1))
    if len(args) != 2:
        raise DerivationSyntaxError(number, col, "Normal(mean, variance) with two arguments", rhs)
    scope.start_step()
    mean = parse_plain_expr(args[0], scope, number, col)
    variance = parse_plain_expr(args[1], scope, number, col)
    scope.densities[(name, len(symbols))] = DensitySpec(name, tuple(symbols), mean, variance)


def _split_top(text: str) -> list[str]:
    depth, parts, cur = 0, [], ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]
