"""The shipped example derivations get the verdicts theory section 1 and 3 say they should."""

from __future__ import annotations

import pytest
import sympy as sp

from vaetheory.symbolic.checker import check_derivation, example_text, list_examples


def _verdicts(result) -> dict[int, str]:
    return {s.line: s.verdict for s in result.steps}


def test_examples_are_shipped_as_package_data():
    assert set(list_examples()) == {"thread_second_answer", "thread_corrected", "gaussian_kl", "ppca_sigma2"}


@pytest.fixture(scope="module")
def thread_answer():
    return check_derivation(example_text("thread_second_answer"))


def test_thread_answer_first_line_is_flagged_with_the_right_expectation(thread_answer):
    result = thread_answer
    assert _verdicts(result) == {16: "fails", 17: "fails", 18: "fails", 19: "fails"}
    assert result.first_failure == 16
    first = result.steps[0]
    assert first.counterexample is not None and first.counterexample["values"]
    lam, s = sp.symbols("lam sigma_star", positive=True)
    expectation = next(e for e in first.evaluated if e["term"].startswith("E_"))
    value = sp.sympify(expectation["value"], locals={"lam": lam, "sigma_star": s})
    assert sp.simplify(value - (-lam * s**2 + sp.log(lam / sp.pi) / 2)) == 0
    corrected = sp.sympify(first.corrected.replace(" + c", ""), locals={"lam": lam, "sigma_star": s})
    assert sp.simplify(corrected - (-(lam + sp.Rational(1, 2)) * s**2 + sp.log(s))) == 0


def test_thread_answer_stationarity_and_conclusion_fail_against_the_start(thread_answer):
    steps = thread_answer.steps
    stationarity, solution = steps[2], steps[3]
    assert stationarity.kind == "stationarity" and stationarity.follows_from_previous is True
    assert stationarity.true_of_start is False
    assert (
        solution.kind == "solve"
        and solution.follows_from_previous is True
        and solution.true_of_start is False
    )
    lam = sp.Symbol("lam", positive=True)
    right = sp.sympify(solution.corrected.split("=", 1)[1], locals={"lam": lam})
    assert sp.simplify(right - 1 / sp.sqrt(2 * lam + 1)) == 0  # theory section 1: s* = (2 lam + 1)^(-1/2)


def test_corrected_thread_answer_holds_at_every_step_by_proof():
    result = check_derivation(example_text("thread_corrected"))
    assert _verdicts(result) == {12: "holds", 13: "holds", 14: "holds", 15: "holds", 16: "holds"}
    assert all(s.evidence == "symbolic" for s in result.steps)
    assert [s.kind for s in result.steps] == ["expectation+kl", "constant", "stationarity", "solve", "limit"]
    assert result.first_failure is None and result.exit_code == 0


def test_gaussian_kl_example_holds():
    result = check_derivation(example_text("gaussian_kl"))
    assert _verdicts(result) == {10: "holds", 11: "holds", 12: "holds", 16: "holds"}
    assert result.warnings == ()


def test_ppca_noise_variance_example_holds():
    result = check_derivation(example_text("ppca_sigma2"))
    assert _verdicts(result) == {12: "holds", 13: "holds", 14: "holds", 15: "holds", 17: "holds", 18: "holds"}
    kinds = {s.line: (s.kind, s.evidence) for s in result.steps}
    assert kinds[15] == ("solve", "symbolic")
    assert kinds[17] == ("inequality", "numeric")  # labelled: sympy cannot prove it, random points can
    numeric = result.steps[4].numeric
    assert numeric["points"] >= 20 and numeric["tolerance"] == 1e-12


def test_one_line_align_as_in_the_thread_gives_each_step_its_column():
    header = example_text("thread_second_answer").split("The loss")[0]
    one_line = (
        r"$$ \begin{align*} E_{z \sim \mathcal{N}(0, \sigma^*)} [\log P(0\mid z)] - "
        r"\mathcal{D}_{KL}(Q(z\mid X)\parallel P(z)) &= \lambda (\sigma^*)^2 - \left( \log "
        r"\frac{1}{\sigma^*} + \frac{(\sigma^*)^2}{2} - \frac{1}{2} \right) +c\\ &= "
        r"\lambda'(\sigma^*)^2 - \log \sigma^* + c' \\ 2\lambda' \sigma^*-\frac{1}{\sigma^*} &= 0 "
        r"\\ \sigma^* &= (2\lambda')^{-\frac{1}{2}} \end{align*} $$"
    )
    result = check_derivation(header + one_line + "\n")
    line = header.count("\n") + 1
    assert [s.line for s in result.steps] == [line] * 4
    assert len({s.column for s in result.steps}) == 4
    assert [s.verdict for s in result.steps] == ["fails"] * 4
    assert result.steps[1].text.startswith("&=")
