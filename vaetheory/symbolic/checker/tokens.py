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
                tokens.append(Token("cmd", m.group(0), line, col))
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
