"""Result values of the symbolic module: formulas with their derivation, and checked identities.

A :class:`Formula` is one derived result: the sympy expression, the steps that led to it (for a
reader, for LaTeX), its LaTeX, and a float64 function (``sympy.lambdify`` with numpy) that
validates its arguments at the door. A :class:`Check` is an identity or inequality sympy proved
while deriving (``holds`` is computed, never typed in).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from vaetheory._validation import check_finite_array, check_int, check_positive_array
from vaetheory.results import Result
from vaetheory.symbolic._symbols import latex


@dataclasses.dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs = expression``, with what the line does."""

    text: str
    lhs: str
    expression: Any

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "lhs": self.lhs, "expression": str(self.expression)}


@dataclasses.dataclass(frozen=True)
class Check(Result):
    """An identity or inequality sympy proved: ``residual`` simplifies to ``target`` (or its sign)."""

    name: str
    statement: str
    residual: Any
    holds: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "statement": self.statement,
            "residual": str(self.residual),
            "holds": bool(self.holds),
        }


def _ordered_symbols(expr: sp.Basic) -> tuple[sp.Symbol, ...]:
    return tuple(sorted(expr.free_symbols, key=lambda sym: sym.name))


@functools.cache
def _lambdified(expr: sp.Basic, names: tuple[str, ...]) -> Callable[..., Any]:
    symbols = [next(sym for sym in expr.free_symbols if sym.name == name) for name in names]
    return sp.lambdify(symbols, expr, modules="numpy")


def _validated(name: str, sym: sp.Symbol, value: Any) -> np.ndarray:
    if sym.is_integer:
        return np.asarray(check_int(name, value, low=1), dtype=np.float64)
    if sym.is_positive:
        try:
            return check_positive_array(name, value)
        except ValueError:
            raise ValueError(
                f"{name} must be a finite real number with {name} > 0 (all entries); got {value!r}"
            ) from None
    try:
        return check_finite_array(name, value)
    except ValueError:
        raise ValueError(f"{name} must be a finite real number (no NaN or inf); got {value!r}") from None


@dataclasses.dataclass(frozen=True)
class Formula(Result):
    r"""A derived result: ``lhs = expression``.

    Attributes
    ----------
    key : str
        The name of the result in ``vaetheory derive --json``.
    title : str
        What the result is, in the paper's words.
    lhs : str
        LaTeX of the left-hand side (e.g. ``\mathcal L(m, s)``).
    expression : sympy.Expr
        The result, over vaetheory's symbols (:mod:`vaetheory.symbolic._symbols`).
    steps : tuple of Step
        The derivation, for a reader and for the LaTeX document.
    theory : str
        Where the theory reference states it (``vaetheory theory``).
    """

    key: str
    title: str
    lhs: str
    expression: Any
    steps: tuple[Step, ...] = ()
    theory: str = "theory section 1"

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the free symbols, the keyword arguments of :meth:`evaluate`."""
        return tuple(sym.name for sym in _ordered_symbols(self.expression))

    def latex(self) -> str:
        """LaTeX of the expression (``lam`` typeset as ``\\lambda``)."""
        return latex(self.expression)

    def function(self) -> Callable[..., Any]:
        """The float64 numpy function of :attr:`variables` (positional, in that order), unvalidated."""
        return _lambdified(self.expression, self.variables)

    def evaluate(self, **values: Any) -> float | np.ndarray:
        """The float64 value at ``values`` (one keyword per variable; numpy arrays broadcast).

        Raises ``ValueError`` naming the parameter and its range for a non-finite value, a
        non-positive variance, standard deviation, floor or precision, or a missing/unknown name.
        """
        names = self.variables
        missing = [k for k in names if k not in values]
        extra = [k for k in values if k not in names]
        if missing or extra:
            raise ValueError(
                f"{self.key} takes the parameters {', '.join(names) or '(none)'}; "
                f"missing {missing or 'none'}, unknown {extra or 'none'}"
            )
        symbols = {sym.name: sym for sym in self.expression.free_symbols}
        args = [_validated(k, symbols[k], values[k]) for k in names]
        with np.errstate(all="ignore"):
            out = np.asarray(self.function()(*args), dtype=np.float64)
        out = np.broadcast_to(out, np.broadcast_shapes(out.shape, *(a.shape for a in args)))
        return float(out) if out.ndim == 0 else np.array(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "expression": str(self.expression),
            "latex": self.latex(),
            "variables": list(self.variables),
            "theory": self.theory,
        }


def reduce_to_zero(expr: sp.Basic) -> sp.Basic:
    """``expr`` simplified as far as needed to decide whether it is identically zero.

    Logarithms are expanded (valid under the symbols' positivity assumptions), rational functions
    put over one denominator and cancelled; :func:`sympy.simplify` only if that is not enough.
    """
    # put each log's argument over one denominator first, so that expand_log can split it
    e = expr.replace(lambda a: isinstance(a, sp.log), lambda a: sp.log(sp.together(a.args[0])))
    e = sp.expand(sp.expand_log(e))
    if e == 0:
        return e
    numerator, _ = sp.fraction(sp.together(e))
    if sp.expand(numerator) == 0:
        return sp.Integer(0)
    e = sp.cancel(sp.together(e))
    if e == 0:
        return e
    return sp.simplify(e)


def check_identity(name: str, statement: str, lhs: sp.Basic, rhs: sp.Basic) -> Check:
    """Prove ``lhs == rhs`` with sympy: ``residual`` is ``lhs - rhs`` reduced, ``holds`` its being 0."""
    residual = reduce_to_zero(lhs - rhs)
    return Check(name=name, statement=statement, residual=residual, holds=residual == 0)
