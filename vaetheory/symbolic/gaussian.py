r"""Gaussian densities and the integrals against them, done by sympy.

Every expectation the 1-D VAE needs is of a polynomial in :math:`z` under a Gaussian, and every
integral of an unnormalised Gaussian reduces, by the change of variables
:math:`z = \mu + \sigma u`, to the standard-normal integrals

.. math:: M_k = \int_{-\infty}^{\infty} u^k\,\frac{e^{-u^2/2}}{\sqrt{2\pi}}\,du,\qquad k = 0, 1, 2, \dots

which sympy computes once each (memoised for the process). This keeps the derivations exact and
fast (a full derivation runs in a fraction of a second) while nothing is typed in: sympy finds the
moments, the completed square and the normalising constants.

This is the one sympy module of Gaussian formulas, in the variance convention (every function takes a
mean and a VARIANCE): the derivations (:mod:`vaetheory.symbolic.one_point`, ``sigma_star``,
``claims``) and the derivation checker (:mod:`vaetheory.symbolic.checker.gaussian`, which adds the
unevaluated density, expectation and KL objects a parsed derivation holds) both use it.
"""

from __future__ import annotations

import functools

import sympy as sp

from vaetheory.symbolic._symbols import u


def normal_pdf(y: sp.Expr, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    r"""The density :math:`\mathcal N(y;\mu,v) = (2\pi v)^{-1/2}\exp(-(y-\mu)^2/(2v))`."""
    return sp.exp(-((y - mean) ** 2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def gaussian_log_density(y: sp.Expr, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    r""":math:`\log\mathcal N(y;\mu,v) = -\tfrac12\log(2\pi v) - (y-\mu)^2/(2v)`, as written (unexpanded)."""
    return -sp.log(2 * sp.pi * variance) / 2 - (y - mean) ** 2 / (2 * variance)


def gaussian_raw_moment(k: int, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    r""":math:`\mathbb E[z^k]` for :math:`z\sim\mathcal N(\mu,v)`.

    :math:`\sum_{j\ \mathrm{even}}\binom kj\mu^{k-j}v^{j/2}(j-1)!!` (the Gaussian raw moments; the
    tests check them against :func:`standard_normal_moment` and ``sympy.stats``).
    """
    return sp.Add(
        *[
            sp.binomial(k, j) * mean ** (k - j) * variance ** (j // 2) * sp.factorial2(j - 1)
            for j in range(0, k + 1, 2)
        ]
    )


def normal_logpdf(y: sp.Expr, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    r""":math:`\log\mathcal N(y;\mu,v)`, obtained by sympy as ``log`` of :func:`normal_pdf`, expanded.

    The density is positive, so splitting the logarithm of the product is valid (``force=True``).
    """
    return sp.expand(sp.expand_log(sp.log(normal_pdf(y, mean, variance)), force=True))


@functools.cache
def standard_normal_moment(k: int) -> sp.Expr:
    r""":math:`M_k = E[u^k]` for :math:`u\sim\mathcal N(0,1)`, by ``sympy.stats`` (memoised).

    ``sympy.stats.moment`` of the standard normal random variable; it agrees with
    ``sympy.integrate(u**k * normal_pdf(u, 0, 1), (u, -oo, oo))`` (the test suite checks both),
    at a fraction of the cost.
    """
    from sympy.stats import Normal, moment

    return sp.sympify(moment(Normal("u", 0, 1), k))


def expectation(f: sp.Expr, var: sp.Symbol, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    r""":math:`E[f(z)]` for :math:`z\sim\mathcal N(\mu,v)` and ``f`` a polynomial in ``var``.

    Substitutes :math:`z=\mu+\sqrt v\,u`, expands in :math:`u` and replaces :math:`u^k` by the
    standard-normal moment :math:`M_k`. ``variance`` is :math:`v` (pass ``s**2`` for a positive
    standard deviation ``s``: sympy reduces :math:`\sqrt{s^2}` to ``s``).
    """
    g = sp.expand(f.subs(var, mean + sp.sqrt(variance) * u))
    poly = sp.Poly(g, u)
    return sp.expand(sum(coeff * standard_normal_moment(k) for (k,), coeff in poly.terms()))


def log_integral_of_exp_quadratic(g: sp.Expr, var: sp.Symbol) -> sp.Expr:
    r""":math:`\log\int_{-\infty}^{\infty} e^{g(z)}\,dz` for ``g`` quadratic in ``var`` with a negative
    leading coefficient :math:`-a`.

    sympy finds the vertex :math:`z_0` (the root of :math:`g'`), substitutes
    :math:`z=z_0+u/\sqrt{2a}`, checks that :math:`g` becomes :math:`-u^2/2 + g(z_0)`, and uses
    :math:`\int e^{-u^2/2}du=\sqrt{2\pi}\,M_0`:

    .. math:: \log\int e^{g} = g(z_0) - \tfrac12\log(2a) + \tfrac12\log(2\pi) + \log M_0.
    """
    poly = sp.Poly(sp.expand(g), var)
    if poly.degree() != 2:
        raise ValueError(f"the exponent must be quadratic in {var}; got degree {poly.degree()}")
    a = sp.factor(-poly.coeff_monomial(var**2))
    if a.is_positive is not True:
        raise ValueError(f"the exponent's leading coefficient must be negative; got {-a}")
    (vertex,) = sp.roots(sp.Poly(sp.diff(g, var), var), var)
    shifted = sp.expand(g.subs(var, vertex + u / sp.sqrt(2 * a)))
    g0 = sp.expand(shifted.coeff(u, 0))
    leftover = sp.cancel(sp.together(shifted - g0 + u**2 / 2))
    if leftover != 0:  # pragma: no cover - a failure of the change of variables itself
        raise AssertionError(f"completing the square left {leftover}")
    return g0 - sp.log(2 * a) / 2 + sp.log(2 * sp.pi) / 2 + sp.log(standard_normal_moment(0))
