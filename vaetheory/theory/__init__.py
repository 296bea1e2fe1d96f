"""vaetheory's own theory reference: the formulas, derivations and citations the package implements.

One numbered section per area, shipped as package data (``vaetheory/theory/section_N.md``) and
printed by ``vaetheory theory [SECTION]``. Code, help texts, JSON outputs and the README cite it
as "theory section N"; :func:`find_section_citations` finds every such citation in a text, and the
test suite checks that each one names a section that exists here.

Each section is plain text with ``#``/``##`` headings and ends with a ``## References`` list whose
lines start with a bibliography key of :mod:`vaetheory.references` in brackets, e.g.
``- [mattei2018leveraging] Mattei, P.-A. and Frellsen, J. (2018). ...``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from importlib import resources

_FILE = re.compile(r"^section_(\d+)\.md$")
_REFERENCE_LINE = re.compile(r"^- \[([A-Za-z0-9]+)\]\s*(.*)$")


@dataclasses.dataclass(frozen=True)
class Section:
    """One numbered section of the reference."""

    number: int
    title: str
    text: str

    @property
    def references(self) -> dict[str, str]:
        """Bibliography key -> the citation line of this section's ``## References`` list."""
        _, _, tail = self.text.partition("\n## References\n")
        out: dict[str, str] = {}
        for line in tail.splitlines():
            match = _REFERENCE_LINE.match(line.strip())
            if match:
                out[match.group(1)] = match.group(2)
        return out

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "title": self.title,
            "text": self.text,
            "references": list(self.references),
        }


@functools.lru_cache(maxsize=1)
def sections() -> tuple[Section, ...]:
    """Every section of the reference, in order of its number."""
    found = []
    for entry in resources.files(__name__).iterdir():
        match = _FILE.match(entry.name)
        if not match:
            continue
        text = entry.read_text(encoding="utf-8")
        first, _, _ = text.partition("\n")
        heading = re.match(r"^# (\d+)\. (.+)$", first)
        if heading is None or int(heading.group(1)) != int(match.group(1)):
            raise RuntimeError(f"{entry.name}: first line must be '# {match.group(1)}. Title'")
        found.append(Section(int(match.group(1)), heading.group(2).strip(), text))
    return tuple(sorted(found, key=lambda s: s.number))


def section_numbers() -> list[int]:
    """The numbers of the sections, in order."""
    return [s.number for s in sections()]


def section(number: int | str) -> Section:
    """Section ``number`` (an int, or a string such as ``"2"``).

    Raises ``ValueError`` naming the accepted numbers for anything else.
    """
    accepted = ", ".join(str(n) for n in section_numbers())
    text = str(number).strip()
    if not text.isascii() or not text.isdecimal():
        raise ValueError(f"unknown theory section {str(number)!r}; SECTION must be one of: {accepted}")
    for s in sections():
        if s.number == int(text):
            return s
    raise ValueError(f"unknown theory section {str(number)!r}; SECTION must be one of: {accepted}")


# "theory section 2", "theory sections 1 and 3", "theory sections 1-2", "theory sections 1, 2 and 4",
# "theory s.2", the retired file-name form of the same, "theory section 1 (...) and section 2"; a
# number followed by ".<digit>" (a subsection of another document, e.g. "section 5.3") is not a
# citation of this reference.
_NUMBER = r"\d+(?![.]\d)"
_LIST = rf"{_NUMBER}(?:\s*(?:-|–|,|and|or|&)\s*{_NUMBER})*"
_CITATION = re.compile(
    rf"\b(?:theory|THEORY\.md)\s+(?:sections?|s\.|§)\s*(?P<list>{_LIST})"
    rf"(?P<tail>(?:\s*\([^()]*\))?\s*(?:and|or|,)\s+sections?\s+{_LIST})?",
    re.IGNORECASE,
)


def _expand(numbers: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|and|or|&)\s*", numbers.strip()):
        if not part:
            continue
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2:
            low, high = int(bounds[0]), int(bounds[1])
            out += list(range(low, high + 1)) if low <= high else [low, high]
        else:
            out.append(int(bounds[0]))
    return out


def find_section_citations(text: str) -> list[tuple[int, str]]:
    """Every citation of a section of this reference in ``text``: ``(number, the cited words)``.

    Recognised: "theory section 2", "theory sections 1 and 3", "theory sections 1-2" (a range: 1 and
    2), "theory section 2;", "theory s.2" (also after the retired file name), and a second
    "... and section 4" after a first.
    """
    found: list[tuple[int, str]] = []
    for match in _CITATION.finditer(text):
        numbers = _expand(match.group("list"))
        tail = match.group("tail")
        if tail:
            numbers += _expand(re.split(r"sections?", tail, flags=re.IGNORECASE)[-1])
        found += [(n, match.group(0)) for n in numbers]
    return found
