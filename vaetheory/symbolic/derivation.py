r"""The whole symbolic derivation of the 1-D Gaussian VAE, and its three renderings.

:func:`derive` collects every result of :mod:`one_point`, :mod:`sigma_star` and :mod:`supremum`, the
checks sympy proved along the way, and the verdicts of :mod:`claims`. It renders as

* :func:`to_text` -- the derivation step by step, for a reader (``vaetheory derive``);
* :func:`to_latex_document` -- a compilable LaTeX document, one ``align*`` per result
  (``vaetheory derive --latex``);
* :func:`to_json_dict` -- expressions as strings that :func:`sympy.sympify` parses back, over the
  symbols ``x, m, s, w, b, v, xi, lam`` (and ``n, S_n, x_mean, c`` for the n-point results)
  (``vaetheory derive --json``).

theory sections 1 and 2.
"""

from __future__ import annotations

import dataclasses
import functools
import textwrap
from typing import Any

import sympy as sp

from vaetheory.results import Result
from vaetheory.symbolic._symbols import SYMBOL_MEANINGS, latex
from vaetheory.symbolic.claims import Claim, all_checks, thread_claims
from vaetheory.symbolic.formula import Check, Formula
from vaetheory.symbolic.one_point import OnePointVAE, derive_one_point
from vaetheory.symbolic.sigma_star import SigmaStarAnalysis, analyse_sigma_star
from vaetheory.symbolic.supremum import Supremum, derive_supremum


@dataclasses.dataclass(frozen=True)
class SymbolicDerivation(Result):
    """Every symbolic result, check and verdict (``Derivation`` is its old name, kept as an alias).

    Not to be confused with the derivation checker's parsed document
    (:mod:`vaetheory.symbolic.checker.document`).
    """

    one_point: OnePointVAE
    sigma_star: SigmaStarAnalysis
    supremum: Supremum
    checks: tuple[Check, ...]
    claims: tuple[Claim, ...]

    def formulas(self) -> list[Formula]:
        """Every :class:`Formula`, in reading order."""
        out: list[Formula] = []
        for part in (self.one_point, self.sigma_star, self.supremum):
            out += [
                getattr(part, f.name)
                for f in dataclasses.fields(part)
                if isinstance(getattr(part, f.name), Formula)
            ]
        return out

    def formula(self, key: str) -> Formula:
        """The formula named ``key`` (as in the JSON output)."""
        for f in self.formulas():
            if f.key == key:
                return f
        raise ValueError(f"key must be one of {', '.join(f.key for f in self.formulas())}; got {key!r}")

    def to_dict(self) -> dict[str, Any]:
        return to_json_dict(self)


#: the old name of :class:`SymbolicDerivation`
Derivation = SymbolicDerivation


@functools.lru_cache(maxsize=1)
def derive() -> SymbolicDerivation:
    """Run the whole derivation (memoised for the process)."""
    return SymbolicDerivation(
        one_point=derive_one_point(),
        sigma_star=analyse_sigma_star(),
        supremum=derive_supremum(),
        checks=tuple(all_checks().values()),
        claims=thread_claims(),
    )


SECTIONS: tuple[tuple[str, str], ...] = (
    ("one_point", "One data point: ELBO, exact log marginal, posterior, optimal encoder"),
    ("sigma_star", "The thread's second answer: lambda versus sigma*"),
    ("supremum", "Is the objective bounded? n points, the blow-up path, the variance floor"),
)


def _section_formulas(derivation: SymbolicDerivation, part: str) -> list[Formula]:
    obj = getattr(derivation, part)
    return [
        getattr(obj, f.name) for f in dataclasses.fields(obj) if isinstance(getattr(obj, f.name), Formula)
    ]


def compact(expr: Any) -> Any:
    """``expr`` rearranged for a reader: its log-free part over one factored denominator, logs kept,
    when that is shorter.

    Display only (the value is unchanged); matrices and tuples are compacted entrywise.
    """
    if isinstance(expr, (sp.MatrixBase, sp.Tuple)):
        return expr.applyfunc(compact) if isinstance(expr, sp.MatrixBase) else sp.Tuple(*map(compact, expr))
    if not isinstance(expr, sp.Expr) or not isinstance(expr, sp.Add):
        return expr
    logs = [a for a in expr.args if a.has(sp.log)]
    rest = [a for a in expr.args if not a.has(sp.log)]
    if len(rest) < 2:
        return expr
    tidy = sp.factor(sp.together(sp.Add(*rest))) + sp.Add(*logs)
    return tidy if len(sp.sstr(tidy)) < len(sp.sstr(expr)) else expr


# ----------------------------------------------------------------------------------------------- JSON


def to_json_dict(derivation: SymbolicDerivation, provenance: dict[str, Any] | None = None) -> dict[str, Any]:
    """The derivation as JSON-ready data; every expression a string :func:`sympy.sympify` parses."""
    one, thr, sup = derivation.one_point, derivation.sigma_star, derivation.supremum
    out: dict[str, Any] = {
        "model": "z ~ N(0,1), p(x|z) = N(w z + b, v), q(z) = N(m, s^2); v a variance, s a standard deviation",
        "theory": "theory sections 1 and 2",
        "symbols": dict(SYMBOL_MEANINGS, c="marginal variance w^2 + v (> 0)"),
    }
    for f in derivation.formulas():
        out[f.key] = str(f.expression)
    out["optimal_encoder"] = {"m": str(one.optimal_m.expression), "s": str(one.optimal_s.expression)}
    out["posterior"] = {
        "mean": str(one.posterior_mean.expression),
        "variance": str(one.posterior_variance.expression),
    }
    out["npoint_maximiser"] = {
        "b": str(sup.npoint_maximiser_b.expression),
        "w**2 + v": str(sup.npoint_maximiser_c.expression),
    }
    out["sigma_star_claimed_condition"] = "lam > 1/2 (lambda' = lam - 1/2 > 0); undefined otherwise"
    del thr
    out["latex"] = {f.key: f.latex() for f in derivation.formulas()}
    out["titles"] = {f.key: f.title for f in derivation.formulas()}
    out["checks"] = {c.name: c.to_dict() for c in derivation.checks}
    out["claims"] = [c.to_dict() for c in derivation.claims]
    if provenance is not None:
        out["provenance"] = provenance
    return out


# ----------------------------------------------------------------------------------------------- text


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def to_text(derivation: SymbolicDerivation) -> str:
    """The derivation step by step, as plain text for a terminal."""
    lines = [
        "The 1-D Gaussian VAE, derived by sympy from the densities (theory sections 1-2)",
        "Model: z ~ N(0,1), p(x|z) = N(w z + b, v), q(z) = N(m, s^2); "
        "v is a variance, s a standard deviation.",
        "",
    ]
    for part, heading in SECTIONS:
        lines += [heading, "=" * len(heading), ""]
        for f in _section_formulas(derivation, part):
            lines.append(f"{f.title}  [{f.key}]")
            for k, step in enumerate(f.steps, 1):
                lines.append(_wrap(f"{k}. {step.text}:", "   "))
                lines.append(_wrap(f"{sp.sstr(compact(step.expression))}", "      "))
            lines.append(_wrap(f"=> {f.key} = {sp.sstr(f.expression)}", "   "))
            lines.append("")
    lines += ["Checks proved by sympy", "======================", ""]
    for c in derivation.checks:
        lines.append(_wrap(f"[{'holds' if c.holds else 'FAILS'}] {c.name}: {c.statement}", "  "))
    lines.append("")
    lines.append("Verdicts on the thread's claims: `vaetheory claims`.")
    return "\n".join(lines) + "\n"


def claims_table(claims: tuple[Claim, ...]) -> str:
    """The verdict table, as plain text: one block per claim."""
    lines = []
    width = max(len(c.verdict) for c in claims)
    for c in claims:
        lines.append(f"{c.id:<5} {c.verdict:<{width}}  {c.source}")
        lines.append(_wrap(f"claim:     {c.claim}", "      "))
        if c.condition:
            lines.append(_wrap(f"condition: {c.condition}", "      "))
        lines.append(_wrap(f"proof:     {c.proof_statement}", "      "))
        lines.append(_wrap(f"sympy:     {sp.sstr(c.proof)}", "      "))
        lines.append(
            _wrap(f"checks:    {', '.join(c.checks)} ({'all hold' if c.holds else 'NOT ALL HOLD'})", "      ")
        )
        lines.append("")
    counts = {v: sum(c.verdict == v for c in claims) for v in dict.fromkeys(c.verdict for c in claims)}
    lines.append("; ".join(f"{n} {v}" for v, n in counts.items()))
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- LaTeX


def _tex_text(text: str) -> str:
    repl = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\~{}",
        "^": r"\^{}",
    }
    return "".join(repl.get(ch, ch) for ch in text)


def to_latex_document(derivation: SymbolicDerivation) -> str:
    """A compilable LaTeX document: one ``align*`` environment per result, with its steps."""
    out = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb}",
        r"\allowdisplaybreaks",
        r"\title{The 1-D Gaussian VAE, derived by sympy}",
        r"\author{vaetheory}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        r"Model: $z\sim\mathcal{N}(0,1)$, $p(x\mid z)=\mathcal{N}(x; wz+b, v)$, "
        r"$q(z)=\mathcal{N}(z; m, s^2)$; $v$ is a variance, $s$ a standard deviation, "
        r"$\lambda=1/(2v)$, $\xi$ a floor on $v$. theory sections 1 and 2.",
    ]
    for part, heading in SECTIONS:
        out.append(rf"\section*{{{_tex_text(heading)}}}")
        for f in _section_formulas(derivation, part):
            out.append(rf"\paragraph{{{_tex_text(f.title)}}}")
            rows = [
                rf"\intertext{{{k}. {_tex_text(s.text)}:}} {s.lhs} &= {latex(compact(s.expression))}"
                for k, s in enumerate(f.steps, 1)
            ]
            result = rf"{f.lhs} &= {f.latex()}"
            rows.append(r"\intertext{Result:} " + result if rows else result)
            out.append(r"\begin{align*}" + "\n" + " \\\\\n".join(rows) + "\n" + r"\end{align*}")
    out.append(r"\section*{Checks proved by sympy}")
    out.append(r"\begin{itemize}")
    for c in derivation.checks:
        mark = r"$\checkmark$" if c.holds else "FAILS"
        out.append(
            rf"\item[{mark}] \texttt{{{_tex_text(c.name)}}}: "
            rf"{_tex_text(c.statement)}"
        )
    out.append(r"\end{itemize}")
    out.append(r"\section*{Verdicts on the thread's claims}")
    out.append(r"\begin{itemize}")
    for c in derivation.claims:
        cond = rf" \emph{{Condition:}} {_tex_text(c.condition)}." if c.condition else ""
        out.append(
            rf"\item \textbf{{{_tex_text(c.id)}}} ({_tex_text(c.source)}): {_tex_text(c.claim)} "
            rf"\textbf{{Verdict: {_tex_text(c.verdict)}.}}{cond} {_tex_text(c.proof_statement)}."
            "\n" + r"\begin{align*}" + latex(c.proof) + r"\end{align*}"
        )
    out.append(r"\end{itemize}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
