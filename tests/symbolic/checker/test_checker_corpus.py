"""The derivation corpus (issue 14): derivations from papers and textbooks, each correct and planted.

Every file under ``tests/symbolic/checker/corpus/`` names its source (``source:``) and its expected verdict
(``expect: holds`` or ``expect: fails LINE``; the checker ignores that header key). A correct
derivation must hold at every step; its ``__planted`` twin, the same text with one typical error
planted, must hold up to the planted line and *fail* there (never hold, never only undecided).
"""

from __future__ import annotations

import pathlib
import re

import pytest

from vaetheory.symbolic.checker import check_derivation

CORPUS = pathlib.Path(__file__).parent / "corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".tex", ".txt"))


def test_the_corpus_is_large_and_paired():
    names = {p.name for p in FILES}
    planted = [p for p in FILES if "__planted" in p.stem]
    assert len(FILES) >= 60 and len(planted) * 2 == len(FILES)
    for p in planted:
        assert p.name.replace("__planted", "") in names
    for p in FILES:
        text = p.read_text(encoding="utf-8")
        assert re.search(r"^[%#] source: \S", text, re.M), p.name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_verdict(path):
    text = path.read_text(encoding="utf-8")
    expect = re.search(r"^[%#] expect: (holds|fails (\d+))\s*$", text, re.M)
    assert expect is not None, "every corpus file states its expected verdict"
    result = check_derivation(text, n_points=20, name=path.name)
    verdicts = [(s.line, s.verdict) for s in result.steps]
    if expect.group(1) == "holds":
        assert result.all_hold and result.first_failure is None, [
            (s.line, s.verdict, s.reason) for s in result.steps
        ]
        return
    line = int(expect.group(2))
    assert result.first_failure == line, verdicts
    assert all(v == "holds" for ln, v in verdicts if ln < line), verdicts
    assert "fails" in {v for ln, v in verdicts if ln == line}  # two steps may share a line (\Rightarrow)
