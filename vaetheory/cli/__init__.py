"""The ``vaetheory`` command line: parse, call the library, render. No theory lives here.

Each subcommand is one module of this package defining ``register(subparsers)``, which adds its
parser and sets ``func`` (a callable ``args -> int`` exit code). Modules import heavy libraries
(torch, matplotlib, sympy) inside ``func``, so ``vaetheory --help`` stays fast.
Add a subcommand by adding its module to :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vaetheory import __version__

#: subcommand module names, in the order ``--help`` lists them
SUBCOMMANDS: list[str] = [
    "demo",
    "derive",
    "claims",
    "check",
    "linear",
    "blowup",
    "train",
    "sweep",
    "doctor",
    "reproduce",
    "remedies",
    "experiment",
    "figures",
    "cite",
    "theory",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaetheory",
        description=(
            "Is ELBO training of a Gaussian VAE with a learned decoder variance well-posed? "
            "Machine-checked algebra, closed forms and PyTorch experiments."
        ),
    )
    parser.add_argument("--version", action="version", version=f"vaetheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"vaetheory.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vaetheory`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"vaetheory {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vaetheory {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
