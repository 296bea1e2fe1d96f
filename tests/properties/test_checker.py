"""Property: the checker proves random identities and refutes their perturbations at the right line.

Random expressions are built from two positive symbols, small integers, +, *, integer powers and
logs; a true rewrite is sympy's expand / expand_log / factor / together of the expression, and a
perturbed one adds a nonzero monomial or flips the sign of one term of the expanded form.
"""

from __future__ import annotations

import sympy as sp
from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.strategies import budget
from vaetheory.symbolic.checker import check_derivation

X, Y = sp.symbols("x y", positive=True)
HEADER = "# positive: x, y\n"

leaves = st.sampled_from([X, Y, sp.Integer(1), sp.Integer(2), sp.Integer(3)])


def _combine(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda ab: ab[0] + ab[1]),
        pair.map(lambda ab: ab[0] * ab[1]),
        st.tuples(children, st.integers(-2, 3)).map(lambda be: be[0] ** be[1]),
        children.map(lambda a: sp.log(a + 1)),
    )


expressions = st.recursive(leaves, _combine, max_leaves=6).filter(lambda e: e.free_symbols and e.is_finite)
rewrites = st.sampled_from(["expand", "expand_log", "factor", "together"])


def _rewrite(expr: sp.Expr, how: str) -> sp.Expr:
    if how == "expand_log":
        return sp.expand_log(expr, force=True)  # all symbols positive: valid
    return getattr(sp, how)(expr)


@settings(max_examples=budget(8, 100))
@given(expr=expressions, how=rewrites)
def test_true_rewrite_is_not_refuted(expr, how):
    other = _rewrite(expr, how)
    text = f"{HEADER}{expr} = {other}\n"
    note(text)
    step = check_derivation(text, n_points=12).steps[0]
    assert step.verdict in ("holds", "undecided")
    assert step.verdict == "holds" or step.counterexample is None


monomials = st.tuples(st.integers(1, 3), st.integers(0, 2), st.integers(0, 2)).map(
    lambda cij: cij[0] * X ** cij[1] * Y ** cij[2]
)


@settings(max_examples=budget(8, 100))
@given(expr=expressions, how=rewrites, delta=monomials, flip=st.booleans())
def test_perturbed_rewrite_fails_at_its_line(expr, how, delta, flip):
    good = _rewrite(expr, how)
    terms = sp.Add.make_args(sp.expand(expr))
    if flip and len(terms) >= 2:
        bad = sp.Add(*terms[1:]) - terms[0]
    else:
        bad = good + delta
    if sp.simplify(bad - expr) == 0:
        return  # the perturbation cancelled (a flipped zero term)
    text = f"{HEADER}x = x\n{expr} = {bad}\n"
    note(text)
    result = check_derivation(text, n_points=12)
    assert result.first_failure == 3
    assert result.steps[1].counterexample is not None


@settings(max_examples=budget(15, 200))
@given(expr=expressions)
def test_latex_printed_by_sympy_reads_back_to_the_same_expression(expr):
    from vaetheory.symbolic.checker.document import read_derivation

    tex = sp.latex(expr)
    note(tex)
    doc = read_derivation("% positive: x, y\n\\begin{align*}\nq &= " + tex + "\n\\end{align*}\n")
    assert sp.simplify(doc.steps[0].rhs - expr) == 0
