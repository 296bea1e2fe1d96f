r"""Read the LaTeX subset derivations are written in into sympy expressions.

Math blocks: ``align``/``align*``/``equation``/``gather``/``multline`` environments, ``$$...$$``
and ``\[...\]``. Steps are separated by ``\\``; ``&`` is ignored; a step that begins with a relation
(``&= ...``) continues from the previous step's right-hand side. Understood: ``+ - * / \cdot
\times``, implicit products, ``^`` and ``_`` scripts, ``\frac``, ``\sqrt``, ``\log``/``\ln``/
``\exp``, ``( ) [ ] { } \left \right``, Greek letters, primes and ``^*`` on symbols, ``\pi``,
``\infty``, ``\frac{d}{dx}`` and ``\frac{\partial f}{\partial x}``, ``\lim_{x \to a^+}``,
``\mathbb{E}_{z \sim \mathcal{N}(m, v)}[\ldots]`` (or ``E_{z \sim q}``), ``\mathcal{N}(x; m, v)``,
``\mathcal{D}_{KL}(q \parallel p)``, and the densities named in the header.
Anything else is a :class:`DerivationSyntaxError` with the line, column and what was expected.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from vaetheory.symbolic.checker.latex_parser import StepParser
from vaetheory.symbolic.checker.scope import DerivationSyntaxError, Scope
from vaetheory.symbolic.checker.tokens import SKIP, WORDS, ParsedStep, Positions, Token, math_blocks, tokenize


def read_latex(text: str, scope: Scope) -> list[ParsedStep]:
    """Every step of every math block of ``text``, parsed with ``scope``."""
    pos = Positions(text)
    blocks = math_blocks(text)
    if not blocks:
        raise DerivationSyntaxError(
            1, 1, r"a math block (\begin{align*} ... \end{align*}, $$ ... $$ or \[ ... \])"
        )
    steps: list[ParsedStep] = []
    for b, (offset, body) in enumerate(blocks):
        annotations: dict[int, tuple] = {}
        tokens = tokenize(text, offset, body, pos, annotations)
        current: list[Token] = []
        chunks: list[tuple[list[Token], int | None]] = []
        for tok in tokens:
            if tok.kind == "break":
                chunks.append((current, tok.line))
                current = []
            elif tok.kind != "amp" and tok.text not in SKIP and tok.text not in (r"\label", r"\tag"):
                current.append(tok)
            elif tok.text in (r"\label", r"\tag"):
                current.append(tok)
        end_line, _ = pos.at(offset + len(body))
        chunks.append((current, end_line))
        for chunk, break_line in chunks:
            chunk = _drop_labels(chunk)
            while chunk and chunk[-1].kind == "char" and chunk[-1].text in ",.;":
                chunk = chunk[:-1]
            if not chunk:
                continue
            lines = {t.line for t in chunk} | ({break_line} if break_line else set())
            note = next((annotations[ln] for ln in sorted(lines) if ln in annotations), None)
            scope.start_step()
            chunk, condition = _side_condition(chunk)
            try:
                step = StepParser(chunk, scope, body_text=text).step(b, note)
                if condition:
                    step = dataclasses.replace(step, conditions=(_condition(condition, scope, text, b),))
                steps.append(step)
            except RecursionError:  # a safety net: MAX_NESTING is meant to stop this first
                first = chunk[0]
                raise DerivationSyntaxError(first.line, first.column, "less deeply nested input") from None
    return steps


#: words that open a side condition: \text{for } v \ge \xi
CONDITION_WORDS = ("for", "if", "when", "where", "forall", "foreach")


def _side_condition(chunk: list[Token]) -> tuple[list[Token], list[Token]]:
    r"""The step's tokens and those of its side condition (after ``\text{for}``, ``\forall``), if any."""
    for k, tok in enumerate(chunk):
        if tok.text == r"\forall":
            return chunk[:k], chunk[k + 1 :]
        if tok.text in WORDS and k + 1 < len(chunk) and chunk[k + 1].text == "{":
            j, word = k + 2, ""
            while j < len(chunk) and chunk[j].kind == "letter":
                word += chunk[j].text
                j += 1
            if word.lower() in CONDITION_WORDS and j < len(chunk) and chunk[j].text == "}":
                rest = chunk[j + 1 :]
                while rest and rest[-1].kind == "char" and rest[-1].text in ",.;":
                    rest = rest[:-1]
                return chunk[:k], rest
    return chunk, []


def _condition(tokens: list[Token], scope: Scope, text: str, block: int) -> tuple:
    r"""``(symbol, relation, bound)`` of a side condition ``v \ge \xi`` (or ``\xi \le v``)."""
    first = tokens[0] if tokens else None
    if first is None:
        raise DerivationSyntaxError(1, 1, r"a condition after \text{for}, such as v \ge \xi")
    cond = StepParser(tokens, scope, body_text=text).step(block, None)
    return lower_bound(cond.lhs, cond.relation, cond.rhs, first.line, first.column)


def lower_bound(lhs, relation: str, rhs, line: int, column: int) -> tuple:
    r"""A condition as ``(symbol, ">=" | ">", bound)``; refused unless it bounds a symbol from below."""
    if relation in ("<=", "<") and isinstance(rhs, sp.Symbol):
        lhs, rhs, relation = rhs, lhs, relation.replace("<", ">")
    if not (isinstance(lhs, sp.Symbol) and relation in (">=", ">") and lhs not in rhs.free_symbols):
        raise DerivationSyntaxError(
            line, column, "a condition NAME >= EXPRESSION or NAME > EXPRESSION (a lower bound on a symbol)",
            f"{lhs} {relation} {rhs}",
        )  # fmt: skip
    return (lhs, relation, rhs)


def _drop_labels(chunk: list[Token]) -> list[Token]:
    out, i = [], 0
    while i < len(chunk):
        if chunk[i].text in (r"\label", r"\tag") and i + 1 < len(chunk) and chunk[i + 1].text == "{":
            depth, j = 0, i + 1
            while j < len(chunk):
                depth += {"{": 1, "}": -1}.get(chunk[j].text, 0)
                j += 1
                if depth == 0:
                    break
            i = j
        else:
            out.append(chunk[i])
            i += 1
    return out
