"""The symbols of the 1-D Gaussian VAE, with the assumptions that make simplification correct.

Model (theory section 1): :math:`z\\sim\\mathcal N(0,1)`, :math:`p(x|z)=\\mathcal N(wz+b, v)`,
:math:`q(z)=\\mathcal N(m, s^2)`. ``v`` is the decoder VARIANCE, ``s`` the encoder STANDARD
DEVIATION, ``xi`` a floor on the decoder variance, ``lam`` the precision parameter
:math:`\\lambda = 1/(2v)` of the Cross Validated thread (named ``lam`` because ``lambda`` is a
Python keyword that :func:`sympy.sympify` cannot read back).

Every expression vaetheory prints as a string parses back with :func:`parse_expression` (a safe
parser of vaetheory's own: nothing in the string is executed), or with :func:`sympy.sympify`
followed by :func:`with_assumptions` for trusted strings.
"""

from __future__ import annotations

import sympy as sp

#: data point
x = sp.Symbol("x", real=True)
#: encoder mean
m = sp.Symbol("m", real=True)
#: encoder standard deviation (q(z) = N(m, s^2))
s = sp.Symbol("s", positive=True)
#: decoder weight
w = sp.Symbol("w", real=True)
#: decoder bias
b = sp.Symbol("b", real=True)
#: decoder variance
v = sp.Symbol("v", positive=True)
#: floor on the decoder variance (v >= xi)
xi = sp.Symbol("xi", positive=True)
#: the thread's precision parameter, lambda = 1/(2 v)
lam = sp.Symbol("lam", positive=True)
#: number of data points
n = sp.Symbol("n", positive=True, integer=True)
#: (1/n) sample variance of the data, S_n = (1/n) sum_i (x_i - mean)^2
S_n = sp.Symbol("S_n", positive=True)
#: sample mean of the data
x_mean = sp.Symbol("x_mean", real=True)
#: latent variable
z = sp.Symbol("z", real=True)
#: standard-normal variable used for changes of variables, z = mean + std * u
u = sp.Symbol("u", real=True)
#: the marginal variance c = w^2 + v of p(x) = N(b, c)
c = sp.Symbol("c", positive=True)

#: name -> symbol, for parsing strings back into expressions with the right assumptions
SYMBOLS: dict[str, sp.Symbol] = {
    sym.name: sym for sym in (x, m, s, w, b, v, xi, lam, n, S_n, x_mean, z, u, c)
}

#: how each symbol is typeset
LATEX_NAMES: dict[sp.Symbol, str] = {
    lam: r"\lambda",
    xi: r"\xi",
    S_n: r"S_n",
    x_mean: r"\bar{x}",
}

#: what each symbol means, for the JSON output and the reader
SYMBOL_MEANINGS: dict[str, str] = {
    "x": "data point (real)",
    "m": "encoder mean, q(z) = N(m, s^2) (real)",
    "s": "encoder standard deviation (> 0)",
    "w": "decoder weight, p(x|z) = N(w z + b, v) (real)",
    "b": "decoder bias (real)",
    "v": "decoder variance (> 0)",
    "xi": "floor on the decoder variance, v >= xi (> 0)",
    "lam": "precision parameter lambda = 1/(2 v) of the thread's second answer (> 0)",
    "n": "number of data points (positive integer)",
    "S_n": "(1/n) sample variance of the data (> 0 for n >= 2 distinct points)",
    "x_mean": "sample mean of the data (real)",
    "z": "latent variable, prior z ~ N(0, 1)",
}


def with_assumptions(expr: sp.Expr) -> sp.Expr:
    """Replace plain symbols (as :func:`sympy.sympify` makes them) by vaetheory's symbols."""
    return expr.xreplace({sym: SYMBOLS[sym.name] for sym in expr.free_symbols if sym.name in SYMBOLS})


def parse_expression(text: str) -> sp.Expr:
    """Parse a string printed by vaetheory back into the identical sympy expression.

    Nothing in ``text`` is executed: it is read by vaetheory's own parser
    (:mod:`vaetheory.symbolic.checker.expression`: NFKC-normalised, ASCII names, numbers, ``+ - * /
    ** ^``, brackets and a fixed table of functions, ``log exp sqrt Abs sign sin cos tan tanh atan
    erf erfc Max Min Rational Matrix``, and the constants ``pi oo E I zoo nan``) and built into
    sympy objects directly; vaetheory's names get their assumptions, any other name is a plain
    symbol. Raises ``ValueError`` (naming the column) for anything else.
    """
    from vaetheory.symbolic.checker.expression import build_expression

    if not isinstance(text, str):
        raise ValueError(f"text must be a str; got {type(text).__name__}")
    return build_expression(text, 1, 1, lambda name, _col: SYMBOLS.get(name) or sp.Symbol(name))


def latex(expr) -> str:
    """LaTeX of ``expr`` with vaetheory's symbol names (``lam`` typeset as ``\\lambda``)."""
    return sp.latex(expr, symbol_names=LATEX_NAMES)
