"""``vaetheory claims``: the verdict, proved by sympy, on every claim of the Cross Validated thread."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "claims",
        help="verdicts (correct / wrong / correct under a condition) on the thread's claims, proved by sympy",
        description=(
            "Every claim made in the Cross Validated thread 'Is the optimization of the Gaussian VAE "
            "well-posed?' (the question, three answers, the comments), with a verdict, "
            "the condition where one is needed, and the sympy expression and checks that prove it."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vaetheory.symbolic.claims import thread_claims
    from vaetheory.symbolic.derivation import claims_table

    claims = thread_claims()
    if args.json:
        from vaetheory.cli._common import print_json
        from vaetheory.provenance import provenance

        print_json({"claims": [c.to_dict() for c in claims], "provenance": provenance()})
    else:
        print(claims_table(claims), end="")
    return 0
