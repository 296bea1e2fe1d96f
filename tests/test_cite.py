"""The bibliography and ``vaetheory cite``: entries as THEORY.md gives them, BibTeX that compiles,
and a CITATION.cff that is valid CFF 1.2.0 with vaetheory's version."""

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
    bibtex,
    references_for,
    result_names,
    vaetheory_reference,
)

ROOT = Path(__file__).resolve().parent.parent
THEORY = ROOT.parent / "shared" / "THEORY.md"
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


def _surnames(ref) -> list[str]:
    return [name.split(",")[0].strip() for name in ref.field("author").split(" and ")]


def _plain(text: str) -> str:
    """BibTeX title -> plain text (drop the braces that protect capitals)."""
    return text.replace("{", "").replace("}", "")


def _theory_bullets() -> list[str]:
    if not THEORY.exists():
        pytest.skip(f"{THEORY} not found (the shared theory notes sit beside the checkout)")
    bullets, current = [], []
    for line in THEORY.read_text().splitlines():
        if line.startswith("- ") or line.startswith("#"):
            if current:
                bullets.append(" ".join(current))
            current = [line]
        elif current:
            current.append(line.strip())
    if current:
        bullets.append(" ".join(current))
    return bullets


def _bullet_for(ref) -> str:
    """The THEORY.md bullet citing ``ref``: by its arXiv id, or by its authors and year."""
    bullets = _theory_bullets()
    eprint = ref.field("eprint")
    if eprint:
        hits = [b for b in bullets if f"arXiv:{eprint}" in b]
    else:
        hits = [b for b in bullets if all(s in b for s in _surnames(ref)) and ref.field("year") in b]
    assert hits, f"{ref.key} is not cited in THEORY.md"
    return hits[0]


def test_every_theory_arxiv_id_has_exactly_one_entry():
    text = " ".join(_theory_bullets())
    ids = set(re.findall(r"arXiv:(\d{4}\.\d{4,5})", text))
    assert ids, "THEORY.md cites arXiv papers"
    for arxiv_id in ids:
        owners = [key for key, ref in REFERENCES.items() if ref.field("eprint") == arxiv_id]
        assert len(owners) == 1, f"arXiv:{arxiv_id} has entries {owners}"


@pytest.mark.parametrize("key", sorted(set(REFERENCES) - SEED_SOURCES))
def test_entry_matches_theory_authors_year_and_title(key):
    ref = REFERENCES[key]
    bullet = _bullet_for(ref)
    for surname in _surnames(ref):
        assert surname in bullet, f"{key}: author {surname} not in THEORY.md's citation"
    assert ref.field("year") in bullet, f"{key}: year {ref.field('year')} not in THEORY.md's citation"
    quoted = re.findall(r'"([^"]+)"', bullet)
    if quoted:  # THEORY.md gives the title: it must be the entry's title
        assert _plain(ref.field("title")).lower() in {q.lower() for q in quoted}, key
    venue = ref.field("booktitle") or ref.field("journal") or ""
    for abbreviation in ("NeurIPS", "ICLR", "ICML", "JMLR"):
        if abbreviation in bullet and abbreviation != "JMLR":
            assert abbreviation in venue, f"{key}: THEORY.md says {abbreviation}, entry says {venue!r}"
    if "JMLR" in bullet:
        assert venue == "Journal of Machine Learning Research" and ref.field("volume") in bullet


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
