r"""The one safe expression reader: a tokenizer and recursive-descent parser of our own.

Nothing here passes text to ``eval``, ``exec``, ``compile``, ``sympify`` or ``parse_expr``. Text is
NFKC-normalised (so full-width ``ｅｖａｌ`` is read as the ASCII name ``eval``, and refused as an
unknown function), every character outside a string must then be ASCII, and the text is parsed
into a tree of our own node classes (:class:`Num`, :class:`Name`, :class:`Str`, :class:`Call`,
:class:`Unary`, :class:`Binary` (a power), :class:`Sum`, :class:`Product`, :class:`Seq`) from a whitelist:

* numbers (``12``, ``0.5``, ``1e-3``; decimals are exact rationals), ASCII names
  (``[A-Za-z][A-Za-z0-9_]*``; a leading underscore is refused), the strings ``'+'``, ``'-'``,
  ``'+-'`` (a limit's direction);
* the operators ``+ - * / ^ **`` (``^`` is a power), brackets ``( )`` and ``[ ]`` (a ``[...]`` with
  commas is a list, for ``Matrix([[...]])``), commas, and the relations ``= == <= >= < > !=``
  (:func:`parse_relation`);
* calls ``f(...)``, where ``f`` must be a function of the reader's fixed table
  (:data:`FUNCTIONS` for :func:`vaetheory.symbolic.parse_expression`; the checker adds its own).

The tree is then built into sympy objects directly (``sp.Symbol``, ``sp.Add``, ``sp.Pow``, ...)
by :class:`Builder`, whose arithmetic also serves the LaTeX reader.

Resource bounds (each a :class:`~vaetheory.symbolic.checker.scope.DerivationSyntaxError`, a
``ValueError``, naming the line and column): a number literal has at most
:data:`MAX_LITERAL_DIGITS` digits; an exact number built by a power has at most
:data:`MAX_NUMBER_DIGITS` digits (estimated *before* it is computed, so ``10**10**10**10`` is
refused at once); a numeric exponent of a symbolic base is at most :data:`MAX_EXPONENT` in
magnitude; brackets, signs and powers nest at most :data:`MAX_NESTING` deep; a text has at most
:data:`MAX_INPUT_CHARS` characters; and reading stops at the deadline it is given.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import unicodedata
from collections.abc import Callable

import sympy as sp

from vaetheory.symbolic.checker.scope import DerivationSyntaxError

#: most characters in one input text (a derivation file, or one expression)
MAX_INPUT_CHARS = 1_000_000
#: most digits in one number literal
MAX_LITERAL_DIGITS = 1_000
#: most decimal digits of an exact number built by a power (estimated before it is computed)
MAX_NUMBER_DIGITS = 10_000
#: largest magnitude of a numeric exponent of a non-numeric base (x**10000 is accepted)
MAX_EXPONENT = 10_000
#: deepest nesting of brackets, signs, powers and function calls
MAX_NESTING = 100
#: the relations :func:`parse_relation` accepts, with the name the checker uses
RELATIONS = {"=": "=", "==": "=", "<=": "<=", ">=": ">=", "<": "<", ">": ">", "!=": "!="}

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_OPERATORS = ("**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "^", "(", ")", "[", "]", ",", "=", "<", ">")
_DIRECTIONS = ("+", "-", "+-")


def normalize(text: str) -> str:
    """``text`` in Unicode normal form NFKC, line by line (the line count is kept)."""
    return "\n".join(unicodedata.normalize("NFKC", ln) for ln in text.split("\n"))


def check_ascii(text: str, line: int, column: int) -> None:
    """Refuse a character that is not ASCII after NFKC normalisation, naming its line and column."""
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            raise DerivationSyntaxError(
                line, column + i, "ASCII text (names, numbers, operators; after Unicode NFKC normalisation)",
                repr(ch),
            )  # fmt: skip


# -- the tree ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Node:
    column: int


@dataclasses.dataclass(frozen=True)
class Num(Node):
    text: str


@dataclasses.dataclass(frozen=True)
class Name(Node):
    name: str


@dataclasses.dataclass(frozen=True)
class Str(Node):
    value: str


@dataclasses.dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclasses.dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclasses.dataclass(frozen=True)
class Binary(Node):
    op: str  # **
    left: Node
    right: Node


@dataclasses.dataclass(frozen=True)
class Sum(Node):
    terms: tuple[tuple[str, Node], ...]  # ("+" or "-", term)


@dataclasses.dataclass(frozen=True)
class Product(Node):
    factors: tuple[tuple[str, Node], ...]  # ("*" or "/", factor)


@dataclasses.dataclass(frozen=True)
class Seq(Node):
    items: tuple[Node, ...]


# -- tokens ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Tok:
    kind: str  # "num", "name", "str", "op", "end"
    text: str
    column: int


def tokenize(text: str, line: int, column: int = 1) -> list[Tok]:
    """The tokens of one (already NFKC-normalised) expression; ``column`` is where ``text`` starts."""
    toks: list[Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = column + i
        if ch.isspace():
            i += 1
            continue
        if ord(ch) > 127:
            check_ascii(ch, line, col)
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            end = m.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                raise DerivationSyntaxError(line, column + end, "an operator after a number", repr(text[end]))
            toks.append(Tok("num", m.group(0), col))
            i = end
        elif ch.isalpha() or ch == "_":
            m = re.compile(r"[A-Za-z0-9_]+").match(text, i)
            word = m.group(0) if m else ch
            if not _NAME.fullmatch(word):
                raise DerivationSyntaxError(
                    line, col, "a name: an ASCII letter, then letters, digits or '_'", repr(word)
                )
            toks.append(Tok("name", word, col))
            i += len(word)
        elif ch in "'\"":
            j = text.find(ch, i + 1)
            if j < 0:
                raise DerivationSyntaxError(line, col, f"{ch} to close the string", "end of text")
            value = text[i + 1 : j]
            if value not in _DIRECTIONS:
                raise DerivationSyntaxError(
                    line, col, "'+', '-' or '+-' (a limit's direction)", text[i : j + 1]
                )
            toks.append(Tok("str", value, col))
            i = j + 1
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise DerivationSyntaxError(
                    line, col, "a name, a number, an operator (+ - * / ^ **) or a bracket", repr(ch)
                )
            toks.append(Tok("op", op, col))
            i += len(op)
    toks.append(Tok("end", "end of expression", column + len(text.rstrip())))
    return toks


# -- the parser --------------------------------------------------------------------------------


class Parser:
    """Recursive descent with Python's precedence: ``+ -`` < ``* /`` < unary sign < ``**``/``^``."""

    def __init__(self, text: str, line: int, column: int = 1, deadline: float | None = None):
        if len(text) > MAX_INPUT_CHARS:
            raise DerivationSyntaxError(
                line, column, f"an expression of at most {MAX_INPUT_CHARS} characters", f"{len(text)}"
            )
        self.line = line
        self.toks = tokenize(text, line, column)
        self.i = 0
        self.depth = 0
        self.deadline = deadline

    # helpers
    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def error(self, expected: str, tok: Tok | None = None):
        tok = tok or self.peek()
        found = tok.text if tok.kind == "end" else repr(tok.text)
        raise DerivationSyntaxError(self.line, tok.column, expected, found)

    def accept(self, text: str) -> Tok | None:
        tok = self.peek()
        if tok.kind == "op" and tok.text == text:
            return self.take()
        return None

    def enter(self, tok: Tok) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise DerivationSyntaxError(
                self.line, tok.column, f"brackets, signs and powers nested at most {MAX_NESTING} deep",
                f"deeper nesting at {tok.text!r}",
            )  # fmt: skip
        check_deadline(self.deadline, self.line, tok.column)

    # grammar
    def parse(self) -> Node:
        node = self.sum()
        tok = self.peek()
        if tok.kind != "end":
            if tok.kind == "op" and tok.text in RELATIONS:
                self.error("one relation per step, outside brackets")
            self.error("an operator or the end of the expression")
        return node

    def sum(self) -> Node:
        first = self.peek()
        self.enter(first)
        terms = [("+", self.product())]
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in ("+", "-"):
                self.take()
                terms.append((tok.text, self.product()))
            else:
                self.depth -= 1
                return terms[0][1] if len(terms) == 1 else Sum(first.column, tuple(terms))

    def product(self) -> Node:
        first = self.peek()
        factors = [("*", self.unary())]
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in ("*", "/"):
                self.take()
                factors.append((tok.text, self.unary()))
            else:
                return factors[0][1] if len(factors) == 1 else Product(first.column, tuple(factors))

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("+", "-"):
            self.take()
            self.enter(tok)
            operand = self.unary()
            self.depth -= 1
            return Unary(tok.column, tok.text, operand)
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("**", "^"):
            self.take()
            self.enter(tok)
            exponent = self.unary()  # right-associative, and x**-2 is x**(-2)
            self.depth -= 1
            return Binary(tok.column, "**", base, exponent)
        return base

    def atom(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            return Num(tok.column, tok.text)
        if tok.kind == "str":
            return Str(tok.column, tok.text)
        if tok.kind == "name":
            if self.peek().kind == "op" and self.peek().text == "(":
                open_tok = self.take()
                self.enter(open_tok)
                args, _ = self.items(")", open_tok)
                self.depth -= 1
                return Call(tok.column, tok.text, args)
            return Name(tok.column, tok.text)
        if tok.kind == "op" and tok.text in ("(", "["):
            self.enter(tok)
            closer = ")" if tok.text == "(" else "]"
            items, comma = self.items(closer, tok)
            self.depth -= 1
            if tok.text == "[" and (len(items) != 1 or comma):
                return Seq(tok.column, items)
            if len(items) != 1:
                self.error("one expression in ( ... )", tok)
            return items[0]
        self.error("a number, a name or '('", tok)

    def items(self, closer: str, open_tok: Tok) -> tuple[tuple[Node, ...], bool]:
        out: list[Node] = []
        comma = False
        if self.accept(closer):
            return (), False
        while True:
            out.append(self.sum())
            if self.accept(","):
                comma = True
                continue
            if self.accept(closer):
                return tuple(out), comma
            self.error(f"',' or {closer!r} to close the {open_tok.text!r} at column {open_tok.column}")


def parse_tree(text: str, line: int, column: int = 1, deadline: float | None = None) -> Node:
    """The tree of one expression (NFKC-normalised first; non-ASCII refused)."""
    return Parser(unicodedata.normalize("NFKC", text), line, column, deadline).parse()


def check_deadline(deadline: float | None, line: int, column: int) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise DerivationSyntaxError(
            line,
            column,
            "input that can be read within the time bounds (--timeout per step, --total-timeout in all)",
            "a step too slow to read",
        )


# -- safe arithmetic (shared with the LaTeX reader) --------------------------------------------


def number(text: str, line: int, column: int) -> sp.Rational:
    """An exact number from a literal (``0.1`` is 1/10, ``1e-3`` is 1/1000), its size capped."""
    mantissa, _, exp_text = text.lower().partition("e")
    digits = len(mantissa.replace(".", ""))
    if (
        digits > MAX_LITERAL_DIGITS
        or len(exp_text) > 6
        or digits + abs(int(exp_text or 0)) > MAX_LITERAL_DIGITS
    ):
        shown = text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"
        raise DerivationSyntaxError(line, column, f"a number of at most {MAX_LITERAL_DIGITS} digits", shown)
    exponent = int(exp_text or 0)
    whole, _, frac = mantissa.partition(".")
    value = sp.Rational(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
    return value * sp.Rational(10) ** exponent


def _log10(n: int) -> float:
    return math.log10(n) + 1 if n > 0 else 0.0


def power(base, exponent, line: int, column: int):
    """``base ** exponent``, refused where the exact result would be too large to build."""
    _need_expr(base, line, column)
    _need_expr(exponent, line, column)
    if isinstance(exponent, sp.Rational):
        big = abs(int(exponent.p)) > MAX_EXPONENT or int(exponent.q) > MAX_EXPONENT
        if isinstance(base, sp.Rational) and base not in (0, 1, -1):
            size = (
                abs(float(exponent)) * max(_log10(abs(int(base.p))), _log10(int(base.q)))
                if not big
                else math.inf
            )
            if size > MAX_NUMBER_DIGITS:
                found = f"{_short(base)}**{_short(exponent)}" + (
                    f" (about {size:.3g} digits)" if not big else ""
                )
                raise DerivationSyntaxError(
                    line, column, f"a power whose exact value has at most {MAX_NUMBER_DIGITS} digits", found
                )
        elif big:
            raise DerivationSyntaxError(
                line, column, f"an exponent of magnitude at most {MAX_EXPONENT}", _short(exponent)
            )
    return sp.Pow(base, exponent)


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}...({len(text)} characters)"


def _need_expr(value, line: int, column: int):
    if not isinstance(value, sp.Expr):
        what = getattr(value, "describe", None)
        raise DerivationSyntaxError(
            line, column, "an expression", what() if callable(what) else type(value).__name__
        )
    return value


def add(a, b, line: int, column: int):
    return sp.Add(_need_expr(a, line, column), _need_expr(b, line, column))


def sub(a, b, line: int, column: int):
    return sp.Add(_need_expr(a, line, column), -_need_expr(b, line, column))


def mul(a, b, line: int, column: int):
    return sp.Mul(_need_expr(a, line, column), _need_expr(b, line, column))


def div(a, b, line: int, column: int):
    return sp.Mul(_need_expr(a, line, column), sp.Pow(_need_expr(b, line, column), -1))


def add_all(terms, line: int, column: int):
    return sp.Add(*[_need_expr(t, line, column) for t in terms])


def mul_all(factors, line: int, column: int):
    return sp.Mul(*[_need_expr(f, line, column) for f in factors])


def neg(a, line: int, column: int):
    return sp.Mul(sp.S.NegativeOne, _need_expr(a, line, column))


# -- building sympy objects from the tree ------------------------------------------------------


def _log(*args):
    if len(args) not in (1, 2):
        raise TypeError("log takes 1 or 2 arguments")
    return sp.log(*args)


def _unary(fn) -> Callable:
    def call(*args):
        if len(args) != 1:
            raise TypeError(f"{fn.__name__} takes 1 argument")
        return fn(args[0])

    return call


def _rational(*args):
    if len(args) != 2 or not all(isinstance(a, sp.Integer) for a in args):
        raise TypeError("Rational takes two integers")
    return sp.Rational(args[0], args[1])


def _matrix(*args):
    if len(args) != 1 or not isinstance(args[0], list) or not all(isinstance(r, list) for r in args[0]):
        raise TypeError("Matrix takes a list of rows, Matrix([[a, b], [c, d]])")
    return sp.Matrix(args[0])


#: the functions of :func:`vaetheory.symbolic.parse_expression` (and of plain derivations)
FUNCTIONS: dict[str, Callable] = {
    "log": _log, "ln": _log, "exp": _unary(sp.exp), "sqrt": _unary(sp.sqrt), "Abs": _unary(sp.Abs),
    "sign": _unary(sp.sign), "sin": _unary(sp.sin), "cos": _unary(sp.cos), "tan": _unary(sp.tan),
    "tanh": _unary(sp.tanh), "atan": _unary(sp.atan), "erf": _unary(sp.erf), "erfc": _unary(sp.erfc),
    "Max": lambda *a: sp.Max(*a), "Min": lambda *a: sp.Min(*a), "Rational": _rational, "Matrix": _matrix,
}  # fmt: skip
#: the constants every reader knows
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "oo": sp.oo, "E": sp.E, "I": sp.I, "zoo": sp.zoo, "nan": sp.nan}


class Builder:
    """Builds sympy objects from a tree.

    ``symbol(name, column)`` resolves a name; ``functions`` (name -> callable of the built
    arguments) and ``constants`` are the fixed tables. A call of a name outside ``functions`` is
    refused before its arguments are built.
    """

    def __init__(
        self,
        line: int,
        symbol: Callable[[str, int], object],
        *,
        functions: dict[str, Callable] | None = None,
        constants: dict[str, object] | None = None,
        deadline: float | None = None,
    ):
        self.line = line
        self.symbol = symbol
        self.functions = FUNCTIONS if functions is None else functions
        self.constants = CONSTANTS if constants is None else constants
        self.deadline = deadline

    def build(self, node: Node):
        check_deadline(self.deadline, self.line, node.column)
        line, col = self.line, node.column
        if isinstance(node, Num):
            return number(node.text, line, col)
        if isinstance(node, Name):
            if node.name in self.constants:
                return self.constants[node.name]
            return self.symbol(node.name, col)
        if isinstance(node, Str):
            return node.value
        if isinstance(node, Seq):
            return [self.build(item) for item in node.items]
        if isinstance(node, Unary):
            value = self.build(node.operand)
            return value if node.op == "+" else neg(value, line, col)
        if isinstance(node, Binary):
            return power(self.build(node.left), self.build(node.right), line, col)
        if isinstance(node, Sum):
            terms = []
            for sign, term in node.terms:
                value = _need_expr(self.build(term), line, term.column)
                terms.append(value if sign == "+" else neg(value, line, term.column))
            return sp.Add(*terms)
        if isinstance(node, Product):
            factors = []
            for op, factor in node.factors:
                value = _need_expr(self.build(factor), line, factor.column)
                factors.append(value if op == "*" else sp.Pow(value, -1))
            return sp.Mul(*factors)
        if isinstance(node, Call):
            fn = self.functions.get(node.name)
            if fn is None:
                known = ", ".join(sorted(self.functions))
                raise DerivationSyntaxError(
                    line, col, f"a function of the table ({known}) or a density named in the header",
                    f"{node.name}(...)",
                )  # fmt: skip
            args = [self.build(a) for a in node.args]
            try:
                return fn(*args)
            except (TypeError, ValueError) as exc:
                if isinstance(exc, DerivationSyntaxError):
                    raise
                raise DerivationSyntaxError(
                    line, col, f"well-formed arguments of {node.name}", str(exc)
                ) from None
        raise AssertionError(node)  # pragma: no cover


def build_expression(
    text: str, line: int, column: int, symbol: Callable[[str, int], object], **tables
) -> object:
    """Parse ``text`` into a tree and build it (see :class:`Builder` for ``symbol`` and the tables)."""
    deadline = tables.get("deadline")
    return Builder(line, symbol, **tables).build(parse_tree(text, line, column, deadline))


def parse_relation(text: str, line: int, column: int = 1) -> tuple[str, str, str, int]:
    """Split ``A REL B`` at its one top-level relation: ``(A, REL, B, column of B)``."""
    toks = tokenize(unicodedata.normalize("NFKC", text), line, column)
    depth, found = 0, []
    for tok in toks:
        if tok.kind == "op" and tok.text in "([":
            depth += 1
        elif tok.kind == "op" and tok.text in ")]":
            depth -= 1
        elif tok.kind == "op" and tok.text in RELATIONS and depth == 0:
            found.append(tok)
    if len(found) != 1:
        raise DerivationSyntaxError(line, column, "one relation (=, <=, >=, <, >)", f"{len(found)}")
    tok = found[0]
    i = tok.column - column
    return text[:i], RELATIONS[tok.text], text[i + len(tok.text) :], tok.column + len(tok.text)
