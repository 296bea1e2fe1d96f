"""Hypothesis-generated inequality chains whose truth is known (issue 14): no false step holds.

Each chain is ``A <= B <= C`` (or with ``>=``) in a positive ``x`` built from families whose
truth is decided here by arithmetic, not by the checker:

* a shift: ``f(x) <= f(x) + d`` is true exactly when ``d >= 0``;
* false only near 0: ``a log x >= -K`` with ``a > 0`` fails for ``x < exp(-K/a)`` (as small as 1e-11);
* false only near infinity: ``x <= 10^k`` fails for ``x > 10^k`` (up to 1e11), and
  ``log x <= x / 10^k`` fails around ``x = 10^k`` where the log wins;
* true bounds: ``log x <= x - 1``, ``x + 1/x >= 2``, ``(x - t)^2 >= 0``.

A false step must fail or be undecided (never hold); a step after a false one is checked against
the start of the chain, so it need not hold either, and is not asserted on.
"""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.strategies import budget
from vaetheory.symbolic.checker import check_derivation

TRUE_BOUNDS = [("log(x)", "<=", "x - 1"), ("x + 1/x", ">=", "2"), ("(x - 3)**2", ">=", "0"),
               ("log(x)", "<=", "x")]  # fmt: skip


@st.composite
def steps(draw):
    """``(lhs, relation, rhs, truth)`` of one step."""
    kind = draw(st.sampled_from(["shift", "near0", "nearoo", "logoo", "true"]))
    if kind == "shift":
        a = draw(st.integers(1, 5))
        d = draw(st.integers(-3, 3))
        f = draw(st.sampled_from(["log(x)", "x**2", "1/x", "x*log(x)"]))
        return f"{a}*{f}", "<=", f"{a}*{f} + ({d})/7", d >= 0
    if kind == "near0":
        a, k = draw(st.integers(1, 3)), draw(st.integers(2, 25))
        return f"{a}*log(x)", ">=", f"-{k}", False  # false for x < exp(-k/a), as small as 1e-11
    if kind == "nearoo":
        k = draw(st.integers(2, 11))
        return "x", "<=", f"10**{k}", False
    if kind == "logoo":
        k = draw(st.integers(1, 9))
        return "log(x)", "<=", f"x/10**{k}", False  # at x = 10^k: log(10^k) > 1
    return (*draw(st.sampled_from(TRUE_BOUNDS)), True)


@settings(max_examples=budget(12, 150))
@given(first=steps(), second=steps())
def test_no_false_step_of_a_generated_chain_holds(first, second):
    lines = [f"{a} {rel} {b}" for a, rel, b, _ in (first, second)]
    text = "# positive: x\n" + "\n".join(lines) + "\n"
    note(text)
    result = check_derivation(text, n_points=20)
    for step, (_, _, _, truth) in zip(result.steps, (first, second)):
        if not truth:
            assert step.verdict != "holds", (step.text, step.reason)


@settings(max_examples=budget(6, 60))
@given(k=st.integers(3, 11), a=st.integers(1, 4))
def test_a_latex_chain_false_only_at_its_last_step_fails_there(k, a):
    # a log N <= -(a/2) log(2 pi v) holds; -(a/2) log(2 pi v) <= k is false for v < exp(-2k/a)/(2 pi)
    text = (
        "% positive: v\n% real: x, mu\n\\begin{align*}\n"
        f"{a}\\log\\mathcal{{N}}(x; \\mu, v) &\\le -\\frac{{{a}}}{{2}}\\log(2\\pi v) \\\\\n"
        f"&\\le {k}\n\\end{{align*}}\n"
    )
    result = check_derivation(text, n_points=20)
    assert result.steps[0].verdict == "holds"
    assert result.steps[1].verdict == "fails", result.steps[1].reason  # false for v < exp(-2k/a)/(2 pi)
