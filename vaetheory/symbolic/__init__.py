"""Symbolic (sympy) analysis of the 1-D Gaussian VAE. Imports neither torch nor matplotlib.

Model (theory section 1): z ~ N(0,1), p(x|z) = N(w z + b, v), q(z) = N(m, s^2); ``v`` a
variance, ``s`` a standard deviation. Everything is derived by sympy from the densities:

* :func:`derive_one_point` -- ELBO, exact log marginal, posterior, gap = KL(q || p(z|x)), optimal
  encoder with its Hessian;
* :func:`analyse_sigma_star` -- the thread's second answer (lambda vs sigma*), its sign error, the
  follow-up comment;
* :func:`derive_supremum` -- the blow-up path and its rate, the n-point supremum, the variance floor;
* :func:`thread_claims` -- a verdict with a sympy proof for every claim of the thread;
* :func:`derive` -- all of it, rendered by :func:`to_text`, :func:`to_latex_document`,
  :func:`to_json_dict`.

Each result is a :class:`Formula`: ``.expression`` (sympy), ``.latex()``, ``.evaluate(**values)``
(float64, validated), ``.function()`` (the raw ``lambdify``-ed numpy function).
"""

from vaetheory.symbolic._symbols import SYMBOLS, parse_expression, with_assumptions
from vaetheory.symbolic.checker import check_derivation
from vaetheory.symbolic.claims import CONDITIONAL, CORRECT, VERDICTS, WRONG, Claim, thread_claims
from vaetheory.symbolic.derivation import (
    Derivation,
    SymbolicDerivation,
    claims_table,
    derive,
    to_json_dict,
    to_latex_document,
    to_text,
)
from vaetheory.symbolic.formula import Check, Formula, Step
from vaetheory.symbolic.one_point import OnePointVAE, derive_one_point
from vaetheory.symbolic.sigma_star import SigmaStarAnalysis, analyse_sigma_star
from vaetheory.symbolic.supremum import Supremum, derive_supremum

__all__ = [
    "CONDITIONAL",
    "CORRECT",
    "SYMBOLS",
    "VERDICTS",
    "WRONG",
    "Check",
    "Claim",
    "Derivation",
    "Formula",
    "OnePointVAE",
    "SigmaStarAnalysis",
    "Step",
    "Supremum",
    "SymbolicDerivation",
    "analyse_sigma_star",
    "check_derivation",
    "claims_table",
    "derive",
    "derive_one_point",
    "derive_supremum",
    "parse_expression",
    "thread_claims",
    "to_json_dict",
    "to_latex_document",
    "to_text",
    "with_assumptions",
]

# The derivation checker (vaetheory.symbolic.checker) is exported below by its own module's owner.
