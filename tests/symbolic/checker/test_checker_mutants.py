"""Mutation testing: no automatically mutated correct step is reported as holding (issue 14).

Every step of the shipped correct examples (``thread_corrected``, ``gaussian_kl``, ``ppca_sigma2``),
and up to three mutants of each correct derivation of the corpus (``tests/symbolic/checker/corpus/``),
is mutated in the text after its relation, one mutation at a time: a flipped sign, a dropped or
doubled factor 1/2, ``log s`` for ``log s^2`` and back, ``s`` for ``s^2`` and back, ``v`` for
``sqrt v``, a perturbed exponent. A mutant that does not parse is skipped (counted); a mutant that
sympy shows to be equivalent to the original step is skipped (counted); every other mutant's step
must fail or be undecided, never hold.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import sympy as sp

from vaetheory.symbolic.checker import DerivationSyntaxError, check_derivation, example_text
from vaetheory.symbolic.checker.document import read_derivation

MUTATIONS = [
    ("flip a sign", r" \+ ", " - "),
    ("flip a sign", r" - ", " + "),
    ("flip a sign", r"&= -", "&= "),
    ("drop a factor 1/2", r"\\frac\{1\}\{2\}", ""),
    ("double a factor", r"\\frac\{1\}\{2\}", r"\\frac{1}{4}"),
    ("double a factor", r"\{2 s_2\^2\}", "{4 s_2^2}"),
    ("perturb an exponent", r"\^2", "^3"),
    ("perturb an exponent", r"-\\frac\{1\}\{2\}\}", r"\\frac{1}{2}}"),
    ("log s vs log s^2", r"\\log \\sigma\^\*", r"\\log (\\sigma^*)^2"),
    ("log s vs log s^2", r"\\log s\^2", r"\\log s"),
    ("s vs s^2", r"\(\\sigma\^\*\)\^2", r"\\sigma^*"),
    ("s vs s^2", r"s_1\^2 \+", "s_1 +"),
    ("plain: perturb an exponent", r"\*\*2", "**3"),
    ("plain: v vs sqrt v", r"k\*log\(T/k\)", "k*log(sqrt(T/k))"),
    ("plain: v vs sqrt v", r"= T/k", "= sqrt(T/k)"),
    ("plain: s vs s^2", r"k/v\)", "k/v**2)"),
    ("plain: double a factor", r"n/2\*", "n*"),
    ("plain: flip a sign", r"T/v\*\*2 - k/v", "T/v**2 + k/v"),
]
EXAMPLES = ("thread_corrected", "gaussian_kl", "ppca_sigma2")


def _step_lines(text: str) -> list[int]:
    """0-based indices of the lines that hold a step's relation, as the checker reads them.

    A chain's named start (``L &= ...`` with ``L`` undeclared) is a definition, which claims nothing:
    its line is left out.
    """
    d = read_derivation(text)
    named = {s.line for s in d.steps if isinstance(s.lhs, sp.Symbol) and s.lhs.name in d.scope.undeclared}
    return sorted({s.line - 1 for s in d.steps if s.line not in named})


CORPUS = pathlib.Path(__file__).parent / "corpus"
#: the correct derivations of the corpus (their planted twins are not mutated)
CORPUS_FILES = sorted(
    p for p in CORPUS.iterdir() if p.suffix in (".tex", ".txt") and "__planted" not in p.stem
)


def _source(name: str) -> str:
    return example_text(name) if name in EXAMPLES else (CORPUS / name).read_text(encoding="utf-8")


#: mutants per corpus derivation (spread over its mutations), to keep the run short on 2 cores
PER_CORPUS_FILE = 3


def _mutants():
    for name in EXAMPLES:
        yield from _mutants_of(name)
    for path in CORPUS_FILES:
        found = list(_mutants_of(path.name))
        step = max(1, len(found) // PER_CORPUS_FILE)
        yield from found[::step][:PER_CORPUS_FILE]


def _mutants_of(name: str):
    text = _source(name)
    lines = text.splitlines()
    for i in _step_lines(text):
        line = lines[i]
        body = line.split("#", 1)[0]
        rel = body.find("=")
        for label, pattern, repl in MUTATIONS:
            for m in re.finditer(pattern, body[rel:]):
                start, end = rel + m.start(), rel + m.end()
                if re.match(r"\s*[cC]\b", body[end:]):
                    continue  # the sign of an additive constant: an equivalent step
                new = body[:start] + re.sub(pattern, repl, body[start:end]) + body[end:] + line[len(body) :]
                if new != line:
                    yield name, i + 1, label, "\n".join([*lines[:i], new, *lines[i + 1 :]]) + "\n"


MUTANTS = list(_mutants())


def _still_true(original: str, mutant: str, line: int) -> bool:
    """The mutated step is implied by the original: the same relation between the same expressions
    (up to sympy), or a bound ``A <= B`` loosened to ``A <= B'`` with ``B' - B`` provably >= 0.

    The original steps are all true (test_checker_examples), so such a mutant is true and may hold.
    """
    da, db = read_derivation(original), read_derivation(mutant)
    a = next(s for s in da.steps if s.line == line)
    b = next(s for s in db.steps if s.line == line)
    definitions = da.scope.definitions
    same_lhs = (a.lhs is None) == (b.lhs is None) and (a.lhs is None or sp.simplify(b.lhs - a.lhs) == 0)
    if a.relation != b.relation or not same_lhs:
        return False
    gap = b.rhs - a.rhs
    for _ in range(4):  # the header's definitions (d = q + k in ppca_sigma2), nested
        gap = gap.xreplace(definitions)
    gap = sp.simplify(gap)
    if gap == 0:
        return True
    looser = {
        "<=": gap.is_nonnegative,
        "<": gap.is_nonnegative,
        ">=": gap.is_nonpositive,
        ">": gap.is_nonpositive,
    }
    return looser.get(a.relation) is True


def test_there_are_enough_mutants():
    assert len(MUTANTS) >= 30
    assert set(EXAMPLES) <= {m[0] for m in MUTANTS}
    assert len({m[0] for m in MUTANTS} - set(EXAMPLES)) >= 30  # most corpus derivations give mutants


@pytest.mark.parametrize(
    ("example", "line", "label", "text"),
    MUTANTS,
    ids=[f"{m[0]}:{m[1]}:{m[2]}:{k}" for k, m in enumerate(MUTANTS)],
)
def test_no_mutant_holds(example, line, label, text):
    try:
        if _still_true(_source(example), text, line):
            pytest.skip("the mutation gives an equivalent (or a looser, still true) step")
    except DerivationSyntaxError:
        pytest.skip("the mutant does not parse")
    result = check_derivation(text, n_points=20)
    step = next(s for s in result.steps if s.line == line)
    if step.kind == "definition":  # NAME(args) &= ...: it names its expression, it claims nothing
        pytest.skip("a mutated definition is a different derivation, not a wrong line")
    assert step.verdict != "holds", (label, step.text, step.reason)
