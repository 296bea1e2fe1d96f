"""Properties: nothing read reaches a built-in; random identities are proved, perturbations refuted.

Random expressions are built from two positive symbols, small integers, +, *, integer powers and
logs; a true rewrite is sympy's expand / expand_log / factor / together of the expression, and a
perturbed one adds a nonzero monomial or flips the sign of one term of the expanded form.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import sys

import pytest
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


# -- nothing in an input reaches a Python built-in or a string-compiling sympy function ---------


class _Reached(BaseException):
    """A trapped function was called (a BaseException, so no ``except Exception`` can hide it)."""


@contextlib.contextmanager
def _trapped():
    """``eval``, ``exec``, ``compile``, new imports, and ``sympify``/``parse_expr`` of a string raise."""
    import sympy.parsing.sympy_parser as sympy_parser

    core_sympify = sys.modules["sympy.core.sympify"]  # the module (sympy.core.sympify is the function)

    real_import, real_sympify = builtins.__import__, core_sympify.sympify

    def trap(*args, **kwargs):
        raise _Reached(args[:1])

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        full = (
            importlib.util.resolve_name("." * level + name, (globals or {}).get("__package__"))
            if level
            else name
        )
        if full not in sys.modules:
            raise _Reached(f"import {full}")
        return real_import(name, globals, locals, fromlist, level)

    def guarded_sympify(a, *args, **kwargs):
        if isinstance(a, str):
            raise _Reached(f"sympify({a!r})")
        return real_sympify(a, *args, **kwargs)

    patches = [(builtins, n, trap) for n in ("eval", "exec", "compile")]
    patches += [(builtins, "__import__", guarded_import), (core_sympify, "sympify", guarded_sympify)]
    patches += [
        (sp, "sympify", guarded_sympify),
        (sympy_parser, "parse_expr", trap),
        (sp, "parse_expr", trap),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    try:
        for obj, name, fn in patches:
            setattr(obj, name, fn)
        yield
    finally:
        for obj, name, fn in saved:
            setattr(obj, name, fn)


def _read_all_ways(text: str) -> None:
    """Read ``text`` as a plain body, a LaTeX body, a define: and a density: line, and an expression."""
    from vaetheory.symbolic import parse_expression
    from vaetheory.symbolic.checker.document import read_derivation

    one_line = text.replace("\n", " ")
    attempts = [
        lambda: parse_expression(text),
        lambda: read_derivation(f"# positive: x\nx = {one_line}\n"),
        lambda: read_derivation(f"\\begin{{align*}}\nx &= {one_line}\n\\end{{align*}}\n"),
        lambda: read_derivation(f"# define: a = {one_line}\nx = a\n"),
        lambda: read_derivation(f"% define: a = {one_line}\n\\begin{{align*}}\nx &= a\n\\end{{align*}}\n"),
        lambda: read_derivation(f"# density: p(x | z) = Normal({one_line}, 1)\nx = p(x, z)\n"),
    ]
    for attempt in attempts:
        with _trapped():
            try:
                attempt()
            except ValueError:  # refused, with a message: fine; any other exception fails the test
                pass


_WORDS = ["eval", "exec", "compile", "__import__", "os", "system", "lambda", "import", "chr", "print",
          "getattr", "x", "log", "exp", "sqrt", "Normal", "E", "KL", "diff", "limit", "pi", "oo"]  # fmt: skip
_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
_names = st.sampled_from(_WORDS).flatmap(lambda w: st.sampled_from([w, w.translate(_FULLWIDTH), w.upper()]))


def _trees(children):
    return st.one_of(
        st.tuples(
            children, st.sampled_from(["+", "-", "*", "/", "**", "^", ".", ",", ";", "=="]), children
        ).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(_names, st.lists(children, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"[{c}]"),
        children.map(lambda c: f"'{c}'"),
    )


expression_texts = st.recursive(
    st.one_of(_names, st.integers(-99, 99).map(str), st.sampled_from(["0.5", "1e3", "'+'", '"os"'])),
    _trees,
    max_leaves=8,
)
_ALPHABET = st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"])
random_texts = st.text(_ALPHABET, max_size=80) | st.text(
    st.sampled_from(list("()[]{},._'\"\\^*+-/ exvalimport")), max_size=60
)


@settings(max_examples=budget(60, 600))
@given(text=expression_texts)
def test_random_expression_trees_never_reach_a_builtin(text):
    note(text)
    _read_all_ways(text)


@settings(max_examples=budget(60, 600))
@given(text=random_texts)
def test_random_text_never_reaches_a_builtin(text):
    note(repr(text))
    _read_all_ways(text)


def test_the_trap_catches_what_it_should():  # the property above cannot pass vacuously
    _read_all_ways("x")  # imports done
    with pytest.raises(_Reached):
        with _trapped():
            sp.sympify("1 + 1")
    with pytest.raises(_Reached):
        with _trapped():
            eval("1")  # the trap must fire
