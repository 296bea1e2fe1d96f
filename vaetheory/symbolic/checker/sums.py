r"""Sums and products over indexed symbols: ``\sum_{j=1}^{J} f(x_j)``.

A sum with numeric limits is written out term by term (at most :data:`MAX_TERMS` terms). A sum
with a symbolic upper limit ``n`` is judged by writing it out at ``n = 1, 2, 3``; that settles an
identity for every ``n`` when the comparison has the *elementwise* form

.. math:: D(n) = \sum_{j=1}^{n} g(x_j) + a\,n + b

(:func:`sum_structure`): every sum runs from 1 to the same ``n``, each summand depends on ``j``
only through symbols indexed by ``j`` (and not on ``n``), the sums enter linearly, and outside the
sums ``n`` enters at most linearly and no indexed symbol appears. Then ``D(1) = g(x_1) + a + b``
and ``D(2) - D(1) = g(x_2) + a``; both vanishing identically gives ``g + a = 0`` and ``b = 0``, so
``D(n) = 0`` for every ``n``. For an inequality ``D(n) >= 0`` the same two parts give a
sufficient condition (``g + a >= 0`` and ``b >= 0``); when it is not met the step is undecided.
"""

from __future__ import annotations

import re

import sympy as sp

#: the most terms a sum or product with numeric limits is written out to
MAX_TERMS = 200
_ASSUMPTIONS = ("positive", "nonnegative", "negative", "integer", "real")


def _numeric_limits(node) -> bool:
    (_, lower, upper) = node.limits[0]
    return bool(lower.is_Integer and upper.is_Integer)


def symbolic_sums(expr) -> list:
    """The sums and products in ``expr`` whose limits are not both numbers."""
    if not isinstance(expr, sp.Basic):
        return []
    return [
        e
        for e in sp.preorder_traversal(expr)
        if isinstance(e, (sp.Sum, sp.Product)) and not _numeric_limits(e)
    ]


def term_symbol(
    base: str, k: int, indexed: dict[str, sp.Symbol], existing: dict[str, sp.Symbol]
) -> sp.Symbol:
    """The symbol ``x_k`` of the indexed ``x`` (one per name: registered in ``existing``)."""
    name = f"{base}_{k}"
    if name not in existing:
        template = indexed.get(base)
        kw = {a: True for a in _ASSUMPTIONS if template is not None and getattr(template, f"is_{a}") is True}
        existing[name] = sp.Symbol(name, **(kw or {"real": True}))
    return existing[name]


def indexed_to_symbols(expr, indexed: dict[str, sp.Symbol], existing: dict[str, sp.Symbol]):
    """Every ``x[k]`` with a numeric ``k`` as the symbol ``x_k`` (see :func:`term_symbol`)."""
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.indices[0].is_Integer,
        lambda e: term_symbol(e.base.label.name, int(e.indices[0]), indexed, existing),
    )


def expand_finite(expr, indexed: dict[str, sp.Symbol], existing: dict[str, sp.Symbol]):
    """``expr`` with every sum and product of numeric limits written out; logs of products as sums."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum, sp.Product):
        return expr

    def log_of_product(e):
        return isinstance(e, sp.log) and isinstance(e.args[0], sp.Product)

    expr = expr.replace(log_of_product, lambda e: sp.Sum(sp.log(e.args[0].function), *e.args[0].limits))

    def finite(e):
        return isinstance(e, (sp.Sum, sp.Product)) and _numeric_limits(e)

    def write_out(e):
        (j, lower, upper) = e.limits[0]
        if int(upper) - int(lower) + 1 > MAX_TERMS:
            raise ValueError(f"a sum or product of at most {MAX_TERMS} terms is written out; got {e}")
        terms = [e.function.xreplace({j: k}) for k in range(int(lower), int(upper) + 1)]
        return sp.Add(*terms) if isinstance(e, sp.Sum) else sp.Mul(*terms)

    for _ in range(4):  # nested sums, innermost first
        new = expr.replace(finite, write_out)
        if new == expr:
            break
        expr = new
    return indexed_to_symbols(expr, indexed, existing)


def sum_structure(diff, indexed: dict[str, sp.Symbol]) -> tuple[sp.Symbol | None, str | None]:
    """``(n, None)`` when ``diff`` has the elementwise form of the module docstring, else ``(None, why)``."""
    sums = symbolic_sums(diff)
    if any(isinstance(s, sp.Product) for s in sums):
        return None, "a product with a symbolic number of factors (write its logarithm, a sum)"
    if any(len(s.limits) != 1 for s in sums):
        return None, "a sum over several indices at once"
    uppers = {s.limits[0][2] for s in sums}
    lowers = {s.limits[0][1] for s in sums}
    if len(uppers) != 1 or lowers != {1} or not isinstance(next(iter(uppers)), sp.Symbol):
        return None, "sums that do not all run from 1 to the same symbol n"
    n = next(iter(uppers))
    for s in sums:
        j = s.limits[0][0]
        body = s.function
        if symbolic_sums(body):
            return None, "a sum inside a sum"
        plain = body.replace(lambda e: isinstance(e, sp.Indexed), lambda e: sp.Dummy())
        if j in plain.free_symbols:
            return None, f"a summand that depends on the index {j} itself, not only through indexed symbols"
        if n in body.free_symbols:
            return None, f"a summand that depends on the number of terms {n}"
    dummies = {s: sp.Dummy(f"sum{k}") for k, s in enumerate(sums)}
    rest = diff.xreplace(dummies)
    if rest.has(sp.Indexed):
        return None, "an indexed symbol outside a sum"
    names = re.compile("^(" + "|".join(map(re.escape, indexed)) + r")_\d+$") if indexed else None
    if names is not None and any(names.match(x.name) for x in rest.free_symbols):
        return None, "a written-out term of a sum (x_1, x_2, ...) next to the sum itself"
    marks = set(dummies.values())
    for d in marks:
        if sp.diff(rest, d).free_symbols & (marks | {n}):
            return None, "a sum that enters nonlinearly (or multiplied by n)"
    outside = rest.xreplace({d: 0 for d in marks})
    if n in outside.free_symbols:
        poly = sp.Poly(sp.expand(outside), n) if sp.expand(outside).is_polynomial(n) else None
        if poly is None or poly.degree() > 1:
            return None, f"the number of terms {n} entering nonlinearly outside the sums"
    return n, None


def at_terms(expr, n: sp.Symbol, count: int, indexed: dict[str, sp.Symbol], existing: dict[str, sp.Symbol]):
    """``expr`` with ``n = count``: its sums written out."""
    return expand_finite(expr.xreplace({n: sp.Integer(count)}), indexed, existing)
