r"""Gaussian densities, expectations and KL divergences as unevaluated sympy objects.

A parsed derivation keeps :class:`GaussianDensity`, :class:`Expectation` and
:class:`KLDivergence` unevaluated, so a step can be shown as written; :func:`evaluate` turns them
into closed forms:

* :math:`\log\mathcal N(x;\mu,v) = -\tfrac12\log(2\pi v) - (x-\mu)^2/(2v)` (``v`` a VARIANCE);
* :math:`\mathbb E_{z\sim\mathcal N(\mu,v)}[f(z)]` by Gaussian moments when ``f`` is a polynomial in
  ``z`` (:math:`\mathbb E[z^k]=\sum_{j\,\mathrm{even}}\binom kj\mu^{k-j}v^{j/2}(j-1)!!`), otherwise by
  sympy integration against the density;
* :math:`\mathrm{KL}(q\,\|\,p) = \mathbb E_{z\sim q}[\log q(z) - \log p(z)]`, evaluated by the same
  expectation, so no KL formula is written here (theory section 1; the closed form is checked
  against :func:`vaetheory.densities.kl_gaussian_standard` in the tests).
"""

from __future__ import annotations

import sympy as sp

from vaetheory.symbolic.checker.bounded import run_isolated
from vaetheory.symbolic.gaussian import gaussian_log_density, gaussian_raw_moment
from vaetheory.symbolic.gaussian import normal_pdf as gaussian_density


class GaussianDensity(sp.Function):
    r"""The value :math:`\mathcal N(x;\mu,v)` of a Gaussian density at ``x`` (``v`` a variance)."""

    nargs = 3

    @classmethod
    def eval(cls, x, mean, variance):
        return None

    def _sympystr(self, printer):
        x, m, v = (printer._print(a) for a in self.args)
        return f"Normal({x}; mean={m}, variance={v})"

    def _latex(self, printer):
        x, m, v = (printer._print(a) for a in self.args)
        return rf"\mathcal{{N}}\left({x};\, {m},\, {v}\right)"


class Expectation(sp.Function):
    r""":math:`\mathbb E_{z\sim\mathcal N(\mu,v)}[f]`: arguments ``(f, z, mean, variance)``."""

    nargs = 4

    @classmethod
    def eval(cls, body, var, mean, variance):
        return None

    def _sympystr(self, printer):
        f, z, m, v = (printer._print(a) for a in self.args)
        return f"E[{z} ~ N({m}, {v})]({f})"

    def _latex(self, printer):
        f, z, m, v = (printer._print(a) for a in self.args)
        return rf"\mathbb{{E}}_{{{z} \sim \mathcal{{N}}({m}, {v})}}\left[{f}\right]"


class KLDivergence(sp.Function):
    r""":math:`\mathrm{KL}(\mathcal N(\mu_1,v_1)\,\|\,\mathcal N(\mu_2,v_2))`.

    Arguments ``(mean1, var1, mean2, var2)``.
    """

    nargs = 4

    @classmethod
    def eval(cls, m1, v1, m2, v2):
        return None

    def _sympystr(self, printer):
        m1, v1, m2, v2 = (printer._print(a) for a in self.args)
        return f"KL(N({m1}, {v1}) || N({m2}, {v2}))"

    def _latex(self, printer):
        m1, v1, m2, v2 = (printer._print(a) for a in self.args)
        return rf"\mathrm{{KL}}\left(\mathcal{{N}}({m1}, {v1}) \,\middle\|\, \mathcal{{N}}({m2}, {v2})\right)"


def _positive_factor(f: sp.Expr) -> bool:
    base = f.base if isinstance(f, sp.Pow) else f
    return isinstance(base, GaussianDensity) or bool(f.is_positive)


def _split_log(arg: sp.Expr) -> sp.Expr | None:
    """``log`` of a density, or of a product of densities and positive factors, as a sum of logs."""
    if isinstance(arg, GaussianDensity):
        return gaussian_log_density(*arg.args)
    if isinstance(arg, sp.Pow) and isinstance(arg.base, GaussianDensity) and arg.exp.is_real:
        return arg.exp * gaussian_log_density(*arg.base.args)
    if isinstance(arg, sp.Mul) and any(
        isinstance(f.base if isinstance(f, sp.Pow) else f, GaussianDensity) for f in arg.args
    ):
        if all(_positive_factor(f) for f in arg.args):
            parts = [_split_log(f) for f in arg.args]
            return sp.Add(*[p if p is not None else sp.log(f) for p, f in zip(parts, arg.args)])
    return None


def gaussian_expectation(body: sp.Expr, var: sp.Symbol, mean, variance) -> sp.Expr:
    r""":math:`\mathbb E_{z\sim\mathcal N(\mu,v)}[f(z)]`.

    By moments when ``f`` is a polynomial in ``z``, else by sympy integration against the density.
    """
    body = evaluate_densities(body)
    expanded = sp.expand(body)
    if expanded.is_polynomial(var):
        poly = sp.Poly(expanded, var)
        return sp.Add(*[c * gaussian_raw_moment(k, mean, variance) for (k,), c in poly.terms()])
    z = sp.Symbol("z_integration", real=True)
    integrand = body.subs(var, z) * gaussian_density(z, mean, variance)
    # in a child process: an interrupted integrate would leave sympy's meijerint table half-built
    return run_isolated(lambda: sp.integrate(integrand, (z, -sp.oo, sp.oo), conds="none"))


def gaussian_kl(m1, v1, m2, v2) -> sp.Expr:
    r"""The Gaussian KL divergence as an expectation under the first Gaussian.

    :math:`\mathrm{KL}(\mathcal N(\mu_1,v_1)\|\mathcal N(\mu_2,v_2)) =
    \mathbb E_{z\sim\mathcal N(\mu_1,v_1)}[\log\mathcal N(z;\mu_1,v_1)-\log\mathcal N(z;\mu_2,v_2)]`.
    """
    z = sp.Dummy("z", real=True)
    integrand = gaussian_log_density(z, m1, v1) - gaussian_log_density(z, m2, v2)
    return gaussian_expectation(integrand, z, m1, v1)


def evaluate_densities(expr: sp.Expr) -> sp.Expr:
    """Replace logs of densities by log-densities, then the remaining densities by their formula."""
    expr = expr.replace(
        lambda e: isinstance(e, sp.log) and _split_log(e.args[0]) is not None,
        lambda e: _split_log(e.args[0]),
    )
    return expr.replace(lambda e: isinstance(e, GaussianDensity), lambda e: gaussian_density(*e.args))


def evaluate(expr: sp.Expr) -> sp.Expr:
    """Evaluate every expectation, KL divergence, density, derivative and limit in ``expr``."""
    expr = sp.sympify(expr, strict=True)  # sympy objects and numbers only, never text
    expr = expr.replace(lambda e: isinstance(e, KLDivergence), lambda e: gaussian_kl(*e.args))
    expr = expr.replace(lambda e: isinstance(e, Expectation), lambda e: gaussian_expectation(*e.args))
    expr = evaluate_densities(expr)
    if expr.has(sp.Derivative, sp.Limit, sp.Integral):
        expr = expr.doit()
    return expr


def special_terms(expr: sp.Expr) -> list[sp.Expr]:
    """The expectations and KL divergences in ``expr``, outermost first, each once."""
    out: list[sp.Expr] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (Expectation, KLDivergence)) and node not in out:
            out.append(node)
    return out
