"""``vaetheory theory [SECTION] [--json]``: the project's own theory reference, by section."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "theory",
        help="print the theory reference: the formulas, derivations and citations vaetheory implements",
        description=(
            "vaetheory's own theory reference, shipped with the package: one numbered section per "
            "area, cited throughout as 'theory section N'. Without SECTION: the list of sections and "
            "the results (see 'vaetheory cite --list') each one states. With SECTION: that section's "
            "text, ending with its references. --json for a JSON object."
        ),
    )
    parser.add_argument("section", nargs="?", metavar="SECTION", help="a section number (see the list)")
    parser.add_argument("--json", action="store_true", help="a JSON object instead of text")
    parser.set_defaults(func=run)


def _results_by_section() -> dict[int, list[str]]:
    from vaetheory.references import RESULTS
    from vaetheory.theory import find_section_citations

    out: dict[int, list[str]] = {}
    for result in RESULTS.values():
        for number in dict.fromkeys(n for n, _ in find_section_citations(result.theory_section)):
            out.setdefault(number, []).append(result.name)
    return out


def run(args: argparse.Namespace) -> int:
    from vaetheory.cli._common import print_json
    from vaetheory.theory import section, sections

    results = _results_by_section()
    if args.section is None:
        if args.json:
            listing = [
                {"number": s.number, "title": s.title, "results": results.get(s.number, [])}
                for s in sections()
            ]
            print_json({"sections": listing})
            return 0
        for s in sections():
            print(f"{s.number:>2}  {s.title}")
        print("\nvaetheory theory N prints section N; vaetheory cite RESULT prints the papers' BibTeX.")
        return 0
    chosen = section(args.section)  # ValueError naming the accepted numbers
    if args.json:
        print_json({**chosen.to_dict(), "results": results.get(chosen.number, [])})
        return 0
    print(chosen.text, end="" if chosen.text.endswith("\n") else "\n")
    return 0
