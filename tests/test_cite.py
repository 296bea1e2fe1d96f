"""The bibliography and ``vaetheory cite``: entries as the packaged theory reference cites them,
BibTeX that compiles, and a CITATION.cff that is valid CFF 1.2.0 with vaetheory's version."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vaetheory import __version__
from vaetheory.cli import main
from vaetheory.references import (
    REFERENCES,
    RESULTS,
    bibtex,
    references_for,
    result_names,
    vaetheory_reference,
)
from vaetheory.theory import find_section_citations, section, sections

ROOT = Path(__file__).resolve().parent.parent
SEED_SOURCES = {"crossvalidated373858", "thesisch5"}
#: the result names other modules and users rely on
REQUIRED_RESULTS = {
    "floor-bound",
    "linear-vae-optimum",
    "ppca",
    "iwae",
    "active-units",
    "unbounded-likelihood",
    "sigma-vae",
    "dai-wipf-manifold",
    "thread-sigma-star",
}
#: venue abbreviations a citation line may use, and the words the entry's venue must then contain
VENUES = {
    "NeurIPS": "Neural Information Processing Systems (NeurIPS)",
    "ICLR": "International Conference on Learning Representations (ICLR)",
    "ICML": "International Conference on Machine Learning (ICML)",
    "AISTATS": "International Conference on Artificial Intelligence and Statistics (AISTATS)",
    "JMLR": "Journal of Machine Learning Research",
    "Journal of the Royal Statistical Society: Series B": "Journal of the Royal Statistical Society",
}


def _surnames(ref) -> list[str]:
    return [name.split(",")[0].strip() for name in ref.field("author").split(" and ")]


def _plain(text: str) -> str:
    """BibTeX title -> plain text (drop the braces that protect capitals)."""
    return text.replace("{", "").replace("}", "")


def _citation_lines() -> list[tuple[int, str, str]]:
    """(section, key, citation line) for every line of every section's References list."""
    return [(s.number, key, line) for s in sections() for key, line in s.references.items()]


def test_every_citation_line_names_a_bibliography_entry_and_every_entry_is_cited():
    lines = _citation_lines()
    assert lines, "the reference cites papers"
    unknown = [(n, key) for n, key, _ in lines if key not in REFERENCES]
    assert not unknown, f"citation lines with keys the bibliography lacks: {unknown}"
    assert {key for _, key, _ in lines} == set(REFERENCES)


def test_every_arxiv_id_in_the_reference_has_exactly_one_entry():
    text = " ".join(s.text for s in sections())
    ids = set(re.findall(r"arXiv:(\d{4}\.\d{4,5})", text))
    assert ids, "the reference cites arXiv papers"
    for arxiv_id in ids:
        owners = [key for key, ref in REFERENCES.items() if ref.field("eprint") == arxiv_id]
        assert len(owners) == 1, f"arXiv:{arxiv_id} has entries {owners}"


@pytest.mark.parametrize(("number", "key", "line"), _citation_lines(), ids=lambda v: str(v)[:30])
def test_citation_line_matches_the_entry(number, key, line):
    """Authors, year, title, venue and arXiv id of each citation line agree with the BibTeX entry."""
    ref = REFERENCES[key]
    where = f"section {number}, [{key}]"
    quoted = re.findall(r'"([^"]+)"', line)
    assert _plain(ref.field("title")) in quoted, f"{where}: title {ref.field('title')!r} not quoted"
    if key in SEED_SOURCES:
        return  # no authors or year recorded for the thread and the thesis chapter
    for surname in _surnames(ref):
        assert surname in line, f"{where}: author {surname} missing"
    assert f"({ref.field('year')})" in line, f"{where}: year {ref.field('year')} missing"
    eprint = ref.field("eprint")
    assert re.findall(r"arXiv:(\d{4}\.\d{4,5})", line) == ([eprint] if eprint else []), where
    venue = ref.field("booktitle") or ref.field("journal") or ""
    named = [abbr for abbr in VENUES if abbr in line]
    if venue:
        assert named, f"{where}: venue {venue!r} not named"
    for abbr in named:
        assert VENUES[abbr] in venue, f"{where}: says {abbr}, entry says {venue!r}"
    if ref.field("volume"):
        assert re.search(rf"\b{ref.field('volume')}\b", line), f"{where}: volume {ref.field('volume')}"


def test_every_result_cites_its_papers_in_its_sections():
    """Each paper a result rests on is cited in one of the sections the result names."""
    for result in RESULTS.values():
        numbers = {n for n, _ in find_section_citations(result.theory_section)}
        cited = set().union(*(section(n).references for n in numbers))
        missing = set(result.keys) - cited
        assert not missing, f"{result.name} ({result.theory_section}): {sorted(missing)} not cited there"


def test_every_result_rests_on_known_references_and_every_reference_is_used():
    assert REQUIRED_RESULTS <= set(result_names())
    used = set()
    for result in result_names():
        refs = references_for(result)
        assert refs, result
        used |= {r.key for r in refs}
    assert used == set(REFERENCES)


def test_unknown_result_is_a_value_error_listing_the_names():
    with pytest.raises(ValueError, match="floor-bound") as info:
        references_for("floor-bond")
    assert "floor-bond" in str(info.value)


def test_bibtex_entries_are_balanced_and_keys_unique():
    text = bibtex([vaetheory_reference(), *REFERENCES.values()])
    keys = re.findall(r"^@\w+\{([^,]+),", text, flags=re.M)
    assert len(keys) == len(set(keys)) == len(REFERENCES) + 1
    assert text.count("{") == text.count("}")


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("bibtex") is None, reason="no TeX")
def test_bibliography_compiles_with_bibtex_without_warnings(tmp_path):
    (tmp_path / "refs.bib").write_text(bibtex([vaetheory_reference(), *REFERENCES.values()]))
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\\begin{document}\\nocite{*}"
        "\\bibliographystyle{plain}\\bibliography{refs}\\end{document}\n"
    )

    def run(*cmd):
        return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    run("pdflatex", "-interaction=nonstopmode", "doc.tex")
    result = run("bibtex", "doc")
    assert result.returncode == 0, result.stdout
    assert "Warning" not in result.stdout, result.stdout
    bbl = (tmp_path / "doc.bbl").read_text()
    assert bbl.count("\\bibitem") == len(REFERENCES) + 1


def test_cite_prints_vaetheory_entry_with_package_version(capsys):
    assert main(["cite"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("@misc{vaetheory,")
    assert f"version = {{{__version__}}}" in out


def test_cite_result_prints_the_papers_it_rests_on(capsys):
    assert main(["cite", "linear-vae-optimum"]) == 0
    out = capsys.readouterr().out
    assert "@inproceedings{lucas2019dont," in out
    assert "@article{tipping1999probabilistic," in out
    assert "@misc{vaetheory," in out
    assert "mattei2018leveraging" not in out


def test_cite_unknown_result_exits_2_listing_the_names(capsys):
    assert main(["cite", "no-such-result"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vaetheory cite: error: unknown result 'no-such-result'")
    for name in result_names():
        assert name in err


def test_cite_list_names_every_result(capsys):
    assert main(["cite", "--list"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert listed == result_names()


def _citation_cff() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_citation_cff_is_valid_cff_1_2_0():
    import jsonschema

    schema = json.loads((Path(__file__).parent / "data" / "cff-schema-1.2.0.json").read_text())
    cff = _citation_cff()
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(cff)
    assert cff["cff-version"] == "1.2.0"


def test_citation_cff_matches_package_version_and_cite_entry():
    cff = _citation_cff()
    assert str(cff["version"]) == __version__
    ref = vaetheory_reference()
    assert " ".join(cff["title"].split()) == _plain(ref.field("title"))
    assert cff["authors"][0]["name"] == _plain(ref.field("author"))


def test_citation_cff_references_match_the_bibliography():
    """CITATION.cff lists the papers of the bibliography with the same authors, titles and years."""
    cff_refs = _citation_cff()["references"]
    papers = {k: r for k, r in REFERENCES.items() if k not in SEED_SOURCES}
    assert len(cff_refs) == len(papers)
    by_title = {_plain(r.field("title")): r for r in papers.values()}
    for entry in cff_refs:
        ref = by_title[entry["title"]]
        names = [f"{a['family-names']}, {a['given-names']}" for a in entry["authors"]]
        assert " and ".join(names) == ref.field("author"), entry["title"]
        assert str(entry["year"]) == ref.field("year"), entry["title"]
        arxiv = [i["value"] for i in entry.get("identifiers", [])]
        assert arxiv == ([f"arXiv:{ref.field('eprint')}"] if ref.field("eprint") else []), entry["title"]


def test_readme_citing_section_names_every_result():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Citing", 1)[1].split("\n## ", 1)[0]
    for name in result_names():
        assert f"`{name}`" in section, name
