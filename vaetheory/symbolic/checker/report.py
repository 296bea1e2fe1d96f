r"""Verdicts as values, and their text and LaTeX renderings.

:class:`StepVerdict` is one step's verdict (``holds``, ``fails`` or ``undecided``) with its reason,
the evidence it rests on (``symbolic`` proof, or ``numeric`` evidence at random points with a stated
tolerance), a counterexample and the corrected expression where a step fails;
:class:`DerivationCheck` is the whole derivation's, with ``first_failure`` and provenance.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vaetheory.results import Result

VERDICTS = ("holds", "fails", "undecided")


@dataclasses.dataclass(frozen=True)
class StepVerdict(Result):
    """The verdict on one step; ``line`` is its line number in the file (the line of its relation)."""

    line: int
    column: int
    text: str
    kind: str
    verdict: str
    reason: str
    evidence: str | None = None
    counterexample: dict[str, Any] | None = None
    corrected: str | None = None
    corrected_latex: str | None = None
    evaluated: tuple[dict[str, str], ...] = ()
    numeric: dict[str, Any] | None = None
    follows_from_previous: bool | None = None
    true_of_start: bool | None = None


@dataclasses.dataclass(frozen=True)
class DerivationCheck(Result):
    """The verdicts on every step of a derivation."""

    title: str
    format: str
    steps: tuple[StepVerdict, ...]
    first_failure: int | None
    warnings: tuple[str, ...]
    definitions: dict[str, str]
    provenance: dict[str, Any]
    strict: bool = False

    @property
    def all_hold(self) -> bool:
        return all(s.verdict == "holds" for s in self.steps)

    @property
    def all_proved(self) -> bool:
        """Every step holds by a symbolic proof (no numeric evidence)."""
        return all(s.verdict == "holds" and s.evidence == "symbolic" for s in self.steps)

    @property
    def exit_code(self) -> int:
        """0 when every step holds (with ``strict``: by proof), 1 otherwise."""
        return 0 if (self.all_proved if self.strict else self.all_hold) else 1

    def to_text(self) -> str:
        return render_text(self)

    def to_latex(self) -> str:
        return render_latex(self)


def _fmt(x: float | str) -> str:
    return x if isinstance(x, str) else f"{x:.6g}"


def _point(values: dict[str, Any], latex: bool) -> str:
    if latex:  # the input's LaTeX names, each assignment in math mode for the LaTeX report
        return ", ".join(f"${k} = {_fmt(v)}$" for k, v in values.items())
    return ", ".join(f"{k} = {_fmt(v)}" for k, v in values.items())


def _counterexample_text(cex: dict[str, Any], notation: str = "plain", math: bool = False) -> str:
    """The counterexample; with ``notation="latex"`` its point uses the input's LaTeX names.

    ``math`` (the LaTeX report) wraps each LaTeX assignment in ``$...$``; the text report prints
    ``\\sigma^* = 0.5`` as the user wrote the symbol.
    """
    tex = notation == "latex" and "values_latex" in cex

    def point(key: str) -> str:
        if not tex:
            return _point(cex[key], False)
        vals = cex[f"{key}_latex"]
        return _point(vals, True) if math else ", ".join(f"{k} = {_fmt(v)}" for k, v in vals.items())

    values = point("values")
    text = f"at {values}: " if values else ""
    if "other_values" in cex:
        other = point("other_values")
        return (
            f"{text}LHS - RHS = {_fmt(cex['difference'])}, but with {other} it is "
            f"{_fmt(cex['other_difference'])}: the gap depends on the variables, so it is no constant"
        )
    if "condition" in cex:
        return f"{text}{cex['condition_latex'] if tex and 'condition_latex' in cex else cex['condition']}"
    return f"{text}LHS = {_fmt(cex['lhs'])}, RHS = {_fmt(cex['rhs'])}, difference {_fmt(cex['difference'])}"


def render_text(check: DerivationCheck) -> str:
    lines = []
    if check.title:
        lines.append(check.title)
    for w in check.warnings:
        lines.append(f"warning: {w}")
    for s in check.steps:
        label = s.verdict.upper() + (f" ({s.evidence})" if s.evidence else "")
        lines.append(f"line {s.line}: {label} [{s.kind}]  {s.text}")
        lines.append(f"    {s.reason}")
        for ev in s.evaluated:
            lines.append(f"    evaluated: {ev['term']} = {ev['value']}")
        if s.counterexample:
            lines.append(f"    counterexample: {_counterexample_text(s.counterexample, check.format)}")
        if s.corrected:  # in the input's notation: LaTeX for a LaTeX derivation
            shown = s.corrected_latex if check.format == "latex" and s.corrected_latex else s.corrected
            lines.append(f"    corrected: {shown}")
    n = len(check.steps)
    held = sum(s.verdict == "holds" for s in check.steps)
    tail = f"first failure: line {check.first_failure}" if check.first_failure else "no step fails"
    lines.append(f"{held} of {n} steps hold; {tail}.")
    if check.strict:
        proved = sum(s.verdict == "holds" and s.evidence == "symbolic" for s in check.steps)
        lines.append(f"--strict: {proved} of {n} steps proved symbolically.")
    return "\n".join(lines)


def _tex_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\":
            out.append(r"\textbackslash{}")
        elif ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "~":
            out.append(r"\textasciitilde{}")
        elif ch == "^":
            out.append(r"\textasciicircum{}")
        else:
            out.append(ch)
    return "".join(out)


def _counterexample_latex(cex: dict[str, Any], notation: str) -> str:
    """The counterexample for the LaTeX report: names in math mode (the input's names), prose as text."""
    if notation != "latex" or "values_latex" not in cex:
        return _tex_escape(_counterexample_text(cex))
    head = f"at {_point(cex['values_latex'], True)}: " if cex["values"] else ""
    if "other_values" in cex:
        other = _point(cex["other_values_latex"], True)
        return head + (
            f"LHS - RHS = {_fmt(cex['difference'])}, but with {other} it is {_fmt(cex['other_difference'])}"
            f": the gap depends on the variables, so it is no constant"
        )
    if "condition" in cex:
        cond, tex = cex["condition"], cex.get("condition_latex", cex["condition"])
        name = next((k for k in cex["values"] if cond.startswith(f"{k} = ")), None)
        if name is not None and tex != cond:  # the leading name in math mode, the rest as text
            lead = tex[: len(tex) - len(cond) + len(name)]
            return head + f"${lead}$" + _tex_escape(cond[len(name) :])
        return head + _tex_escape(cond)
    return head + _tex_escape(
        f"LHS = {_fmt(cex['lhs'])}, RHS = {_fmt(cex['rhs'])}, difference {_fmt(cex['difference'])}"
    )


def render_latex(check: DerivationCheck) -> str:
    """A complete LaTeX document (article class, amsmath) listing the verdicts."""
    title = _tex_escape(check.title or "Derivation check")
    body = [
        r"\documentclass{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\begin{document}",
        r"\sloppy",
        rf"\section*{{{title}}}",
    ]
    for w in check.warnings:
        body.append(rf"\noindent\textit{{Warning:}} {_tex_escape(w)}\par")
    body.append(r"\begin{enumerate}")
    for s in check.steps:
        ev = f" ({s.evidence})" if s.evidence else ""
        if check.format == "latex":  # the step parsed, so it uses only standard amsmath commands
            shown = "\\begin{align*}\n" + s.text + "\n\\end{align*}"
        else:
            shown = rf"\texttt{{{_tex_escape(s.text)}}}\\"
        body.append(
            rf"\item[line {s.line}] \textbf{{{s.verdict}}}{_tex_escape(ev)} [{_tex_escape(s.kind)}]: "
            rf"{shown} {_tex_escape(s.reason)}"
        )
        for e in s.evaluated:
            body.append(rf"\\ evaluated: \texttt{{{_tex_escape(e['term'])}}} $= {e['latex']}$")
        if s.counterexample:
            body.append(rf"\\ counterexample: {_counterexample_latex(s.counterexample, check.format)}")
        if s.corrected_latex:
            body.append(rf"\\ corrected: $\displaystyle {s.corrected_latex}$")
    body.append(r"\end{enumerate}")
    tail = f"first failure: line {check.first_failure}" if check.first_failure else "no step fails"
    body.append(rf"\noindent {_tex_escape(tail)}.")
    body.append(r"\end{document}")
    return "\n".join(body) + "\n"
