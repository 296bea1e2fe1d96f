"""``vaetheory cite [RESULT]``: BibTeX for vaetheory and for the papers a result rests on."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cite",
        help="print BibTeX for vaetheory, or for the papers a result rests on",
        description=(
            "Without RESULT: the BibTeX entry for vaetheory. With RESULT (e.g. floor-bound, "
            "linear-vae-optimum): the vaetheory entry followed by the papers that result rests on "
            "(see 'vaetheory theory'). --list shows the result names."
        ),
    )
    parser.add_argument("result", nargs="?", metavar="RESULT", help="a result name (see --list)")
    parser.add_argument(
        "--list", action="store_true", help="list the result names and the papers each rests on"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vaetheory.references import RESULTS, bibtex, references_for, vaetheory_reference

    if args.list:
        if args.result is not None:
            raise ValueError("give either RESULT or --list, not both")
        width = max(len(name) for name in RESULTS)
        for r in RESULTS.values():
            print(f"{r.name.ljust(width)}  {r.description}")
            print(f"{'':{width}}  rests on: {', '.join(r.keys)} ({r.theory_section})")
        return 0
    if args.result is None:
        print(bibtex([vaetheory_reference()]), end="")
        return 0
    papers = references_for(args.result)  # ValueError listing the names for an unknown result
    sources = RESULTS[args.result]
    header = (
        f"% {sources.name}: {sources.description} ({sources.theory_section}).\n"
        "% Cite vaetheory for the computed numbers and figures, and the papers it rests on.\n"
    )
    print(header + "\n" + bibtex([vaetheory_reference(), *papers]), end="")
    return 0
