"""The packaged theory reference and ``vaetheory theory``: every "theory section N" cited anywhere in
the project exists, the reference ships as package data, the command lists, prints and refuses."""

from __future__ import annotations

import json
import math
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

from vaetheory.cli import main
from vaetheory.references import RESULTS
from vaetheory.theory import find_section_citations, section, section_numbers, sections

ROOT = Path(__file__).resolve().parent.parent
#: where citations live: package code and data, help texts (in the code), README, notebooks (and
#: their figure sidecars), tests, benchmarks, CITATION.cff
SCANNED = ("vaetheory", "tests", "notebooks", "benchmarks")
SUFFIXES = {".py", ".md", ".ipynb", ".json", ".txt", ".tex", ".cff", ".toml"}


def _project_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CITATION.cff"]
    for top in SCANNED:
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    # this file's finder examples cite sections 7 and 9 on purpose
    return [p for p in files if p.exists() and "__pycache__" not in p.parts and p != Path(__file__).resolve()]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("(theory section 2).", [2]),
        ("theory section 2; Mattei & Frellsen", [2]),
        ("theory sections 1 and 3", [1, 3]),
        ("theory sections 1-2): the ELBO", [1, 2]),
        ("theory sections 2-3): rank", [2, 3]),
        ("theory sections 3, 4 and 6", [3, 4, 6]),
        ("(THEORY.md s.2)", [2]),
        ("THEORY.md section 4", [4]),
        ("Theory Section 9", [9]),
        ("theory section 1 (unboundedness) and section 2 (the variance floor)", [1, 2]),
        ("theory section 1 (the model) and section 7", [1, 7]),
        ("the thesis chapter, section 5.3.4", []),
        ("Burda et al., section 5.2", []),
        ("appendix C.2", []),
    ],
)
def test_citation_finder_recognises_every_form(text, numbers):
    assert [n for n, _ in find_section_citations(text)] == numbers


def test_every_cited_section_exists():
    """Scan the whole project; a citation of a missing section names the file and the words."""
    known = set(section_numbers())
    cited: dict[int, list[str]] = {}
    for path in _project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, words in find_section_citations(text):
            cited.setdefault(number, []).append(f"{path.relative_to(ROOT)}: {words!r}")
    assert {1, 2, 3, 4} <= set(cited), "the scan finds the code's citations"
    missing = {n: where for n, where in cited.items() if n not in known}
    assert not missing, f"cited theory sections that do not exist: {missing}"


def test_every_result_names_an_existing_section():
    for result in RESULTS.values():
        numbers = [n for n, _ in find_section_citations(result.theory_section)]
        assert numbers, f"{result.name}: {result.theory_section!r} cites no section"
        for number in numbers:
            section(number)  # raises for a missing one


def test_no_project_file_points_at_the_shared_notes():
    """A clone has no ../shared: the package and the tests neither read nor cite it."""
    offenders = []
    for path in _project_files():
        if path.name == "README.md":  # the README's Citing section belongs to another owner
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "THEORY.md" in text or "../shared" in text or 'parent / "shared"' in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def test_sections_are_numbered_from_one_without_gaps_and_titled():
    numbers = section_numbers()
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6
    for s in sections():
        assert s.text.startswith(f"# {s.number}. {s.title}\n")
        assert "\n## References\n" in s.text and s.references, f"section {s.number} cites nothing"


def test_section_titles_match_what_the_code_cites_them_for():
    titles = {s.number: s.title.lower() for s in sections()}
    assert "1-d gaussian vae" in titles[1]
    assert "unbounded" in titles[2] and "floor" in titles[2]
    assert "ppca" in titles[3] or "probabilistic pca" in titles[3]
    assert "estimators" in titles[4]
    assert "checker" in titles[5]
    assert "thesis" in titles[6]


@pytest.mark.parametrize(
    ("number", "formula"),
    [
        # each closed form as the code computes it (the code's own docstrings and tests check them)
        (1, "s*^2 = v / (w^2 + v)"),
        (1, "s* = (2 lambda + 1)^(-1/2)"),
        (1, "-(n/2) (log(2 pi S_n) + 1)"),
        (2, "log p(x) <= -(d/2) log(2 pi xi)"),
        (2, "log sigma_k^2(z) = -k/2 - (k/2) h = -(k/2) (1 + tanh(k z))"),
        (3, "sigma^2_ML = (1/(d - q)) sum_{j > q} l_j"),
        (3, "- ((d - r)/2) log t"),
        (4, "ELBO = L_1 <= L_k <= L_{k+1} <= log p(x)"),
        (5, "|a - b| <= tol (1 + |a| + |b|)"),
        (6, "min(q, #{j : l_j > beta sigma^2})"),
    ],
)
def test_each_section_states_the_formula_the_code_implements(number, formula):
    assert formula in section(number).text


def test_the_quoted_floor_bounds_are_the_computed_ones():
    """The per-dimension bounds printed in section 2 are computed here (4 decimals, as printed)."""
    from vaetheory.densities import variance_floor_bound

    text = section(2).text
    for xi in (1e-6, math.exp(-12)):
        bound = variance_floor_bound(1, xi)
        assert f"{bound:.4f}" in text, (xi, bound)


def test_the_reference_does_not_cite_files_a_user_does_not_have():
    for s in sections():
        assert not re.search(r"\bseeds?\s*0\d\d|\.txt\b|THEORY\.md|\.\./shared", s.text), s.number


def test_reference_is_package_data():
    """pyproject ships every section file (so a wheel, not only a checkout, has the reference)."""
    table = (ROOT / "pyproject.toml").read_text().split("[tool.setuptools.package-data]", 1)[1]
    line = re.search(r'^"vaetheory\.theory" = (\[.*\])$', table.split("\n[", 1)[0], flags=re.M)
    assert line, "pyproject.toml's package-data table ships vaetheory.theory"
    patterns = json.loads(line.group(1))  # a TOML list of plain strings is also JSON
    for path in (ROOT / "vaetheory" / "theory").glob("section_*.md"):
        assert any(fnmatch(path.name, pattern) for pattern in patterns), path.name


def test_theory_lists_the_sections(capsys):
    assert main(["theory"]) == 0
    out = capsys.readouterr().out
    for s in sections():
        assert f"{s.number:>2}  {s.title}" in out


def test_theory_prints_one_section(capsys):
    assert main(["theory", "2"]) == 0
    assert capsys.readouterr().out == section(2).text


def test_theory_json_lists_sections_and_the_results_each_states(capsys):
    assert main(["theory", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)["sections"]
    assert [entry["number"] for entry in listing] == section_numbers()
    by_number = {entry["number"]: entry for entry in listing}
    assert "floor-bound" in by_number[2]["results"] and "ppca" in by_number[3]["results"]
    assert main(["theory", "3", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one["number"] == 3 and one["text"] == section(3).text
    assert "tipping1999probabilistic" in one["references"] and "linear-vae-optimum" in one["results"]


@pytest.mark.parametrize("bad", ["99", "0", "-1", "two", "2.0", "１"])
def test_unknown_section_exits_2_naming_the_accepted_ones(capsys, bad):
    assert main(["theory", bad]) == 2
    err = capsys.readouterr().err
    accepted = ", ".join(str(n) for n in section_numbers())
    assert err.startswith("vaetheory theory: error: unknown theory section"), err
    assert f"must be one of: {accepted}" in err
