r"""The tokens of the LaTeX subset, the math blocks of a file, and a parsed step.

:func:`math_blocks` finds the math blocks (``align``/``align*``/``equation``/``gather``/
``multline`` environments, ``$$...$$``, ``\[...\]``); :func:`tokenize` turns a block into
:class:`Token` values that carry their 1-based line and column in the file, and records
``% step: KIND [VARIABLE]`` comments; :class:`ParsedStep` is one step as read (LaTeX or plain).
"""

from __future__ import annotations

import dataclasses
import re

import sympy as sp

from vaetheory.symbolic.checker.expression import check_ascii

ENV = re.compile(r"\\begin\{(align\*?|equation\*?|gather\*?|multline\*?|eqnarray\*?)\}(.*?)\\end\{\1\}", re.S)
DISPLAY = re.compile(r"\$\$(.*?)\$\$|\\\[(.*?)\\\]", re.S)
ANNOTATION = re.compile(r"step:\s*([A-Za-z-]+)(?:\s+(\S+))?")

RELATIONS = {"=": "=", "<": "<", ">": ">", r"\le": "<=", r"\leq": "<=", r"\leqslant": "<=", r"\ge": ">="}
RELATIONS.update({r"\geq": ">=", r"\geqslant": ">="})
SKIP = {r"\,", r"\;", r"\!", r"\:", r"\ ", r"\quad", r"\qquad", r"\displaystyle", r"\nonumber", r"\notag"}
SKIP |= {r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr"}
SKIP |= {r"\textstyle", r"\limits"}
TIMES = {"*", r"\cdot", r"\times"}
PARALLEL = {r"\parallel", r"\|", r"\Vert", r"\mid\mid"}
FUNCTIONS = {r"\log": sp.log, r"\ln": sp.log, r"\exp": sp.exp}
FRACS = {r"\frac", r"\dfrac", r"\tfrac"}
WORDS = {r"\mathrm", r"\text", r"\operatorname", r"\textrm", r"\mathit", r"\mathsf"}
CLOSERS = {"(": ")", "[": "]", "{": "}", r"\{": r"\}", ".": None}
BIG_OPERATORS = {r"\sum", r"\prod"}
#: accents read as part of a name: \hat{x} is x_hat
DECORATIONS = {r"\hat": "hat", r"\widehat": "hat", r"\bar": "bar", r"\overline": "bar", r"\tilde": "tilde",
               r"\widetilde": "tilde"}  # fmt: skip
_VECTORS = (
    "vectors and matrices are out of scope of the checker (it reads scalar, 1-D derivations; "
    "write one coordinate, or sums over indexed symbols with \\sum_{j=1}^{J})"
)
#: commands refused with a message saying they are out of scope (the expected text of the error)
_SCALAR = "a scalar form ({} is out of scope: " + _VECTORS.replace("{", "{{").replace("}", "}}") + ")"
_VARIANCE = (
    "a supported form (Var, Cov and tr are out of scope: variance and covariance operators are not "
    "read; write the variance as an expectation, E[(z - m)^2])"
)
OUT_OF_SCOPE = {
    r"\top": _SCALAR.format("a transpose"),
    r"\intercal": _SCALAR.format("a transpose"),
    r"\mathbf": _SCALAR.format("a bold symbol"),
    r"\boldsymbol": _SCALAR.format("a bold symbol"),
    r"\bm": _SCALAR.format("a bold symbol"),
    r"\vec": _SCALAR.format("a vector"),
    r"\det": _SCALAR.format("a determinant"),
    r"\operatorname": _VARIANCE,
    r"\max": r"a supported form (\max is out of scope: state the maximiser as a solve step)",
    r"\min": r"a supported form (\min is out of scope: state the minimiser as a solve step)",
    r"\sup": r"a supported form (\sup is out of scope: state the bound as an inequality)",
    r"\inf": r"a supported form (\inf is out of scope: state the bound as an inequality)",
    r"\mathbb": r"\mathbb{E} or \mathbb{KL}",
}
OUT_OF_SCOPE_WORDS = {"Var", "Cov", "tr", "Tr", "diag", "var", "cov"}
#: implications between steps: read as step separators (each side is its own step)
IMPLIES = {r"\Rightarrow", r"\implies", r"\iff", r"\Longrightarrow", r"\Leftrightarrow",
           r"\Longleftrightarrow", r"\therefore"}  # fmt: skip
#: inner environments that only align: their \begin/\end are ignored
INNER_ENV = re.compile(r"\\(?:begin|end)\{(?:aligned|split|gathered|alignedat)\}(?:\{\d+\})?")


@dataclasses.dataclass(frozen=True)
class Token:
    kind: str  # "cmd", "letter", "number", "char", "break", "amp", "end"
    text: str
    line: int
    column: int


@dataclasses.dataclass(frozen=True)
class ParsedStep:
    line: int
    column: int
    lhs: sp.Expr | None
    relation: str
    rhs: sp.Expr
    text: str
    block: int
    annotation: tuple[str, str | None] | None
    #: side conditions (``\text{for } v \ge \xi``): ``(symbol, relation, bound)`` each
    conditions: tuple = ()


class Positions:
    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        import bisect

        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def math_blocks(text: str) -> list[tuple[int, str]]:
    """``(offset, body)`` of each math block, in order of appearance."""
    blocks = [(m.start(2), m.group(2)) for m in ENV.finditer(text)]
    covered = [(m.start(), m.end()) for m in ENV.finditer(text)]
    for m in DISPLAY.finditer(text):
        if any(a <= m.start() < b or m.start() <= a < m.end() for a, b in covered):
            continue
        group = 1 if m.group(1) is not None else 2
        blocks.append((m.start(group), m.group(group)))
    return sorted(blocks)


def tokenize(text: str, offset: int, body: str, pos: Positions, annotations: dict[int, tuple]) -> list[Token]:
    tokens: list[Token] = []
    body = INNER_ENV.sub(lambda m: " " * len(m.group(0)), body)  # same length: columns stay right
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        line, col = pos.at(offset + i)
        if ch.isspace():
            i += 1
        elif ch == "%":
            j = body.find("\n", i)
            j = n if j < 0 else j
            m = ANNOTATION.search(body[i + 1 : j])
            if m:
                annotations[line] = (m.group(1).lower(), m.group(2))
            i = j
        elif ch == "\\":
            if i + 1 < n and body[i + 1] == "\\":
                tokens.append(Token("break", r"\\", line, col))
                i += 2
                if i < n and body[i] == "[":  # \\[2pt]
                    j = body.find("]", i)
                    i = j + 1 if j > 0 else i
            else:
                m = re.match(r"\\([A-Za-z]+|.)", body[i:], re.S)
                kind = "break" if m.group(0) in IMPLIES else "cmd"
                tokens.append(Token(kind, m.group(0), line, col))
                i += len(m.group(0))
        elif ch.isdigit() or (ch == "." and i + 1 < n and body[i + 1].isdigit()):
            m = re.match(r"\d*\.?\d+|\d+", body[i:])
            tokens.append(Token("number", m.group(0), line, col))
            i += len(m.group(0))
        elif ord(ch) > 127:
            check_ascii(ch, line, col)
        elif ch.isalpha():
            tokens.append(Token("letter", ch, line, col))
            i += 1
        elif ch == "&":
            tokens.append(Token("amp", ch, line, col))
            i += 1
        else:
            tokens.append(Token("char", ch, line, col))
            i += 1
    return tokens
