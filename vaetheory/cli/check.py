"""``vaetheory check``: find the first wrong line of a derivation (thin: parse, call, render).

Exit codes: 0 when every step holds, 1 when a step fails or could not be decided, 2 for unusable
input (the error names the line, the column and what was expected).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check",
        help="check a derivation step by step (LaTeX align block or plain sympy syntax)",
        description=(
            "Check every step of a derivation: holds (symbolic proof, or numeric evidence at random "
            "points, labelled), fails (with a counterexample and the corrected expression), or "
            "undecided (past the time bound). Exit code 0: every step holds; 1: a step fails or is "
            "undecided; 2: unusable input."
        ),
    )
    p.add_argument("file", nargs="?", help="the derivation file (.tex or .txt); '-' reads stdin")
    p.add_argument("--example", metavar="NAME", help="check a shipped example instead of a file")
    p.add_argument("--list-examples", action="store_true", help="list the shipped examples and exit")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--latex", metavar="OUT.tex", help="also write a LaTeX report of the verdicts")
    p.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per step (default 10)")
    p.add_argument("--points", type=int, default=40, help="random points per numeric check (default 40)")
    p.add_argument(
        "--tolerance",
        type=float,
        default=1e-12,
        help="relative tolerance of numeric checks, in (0, 1e-6] (default 1e-12)",
    )
    p.add_argument(
        "--total-timeout",
        type=float,
        default=600.0,
        help="seconds the whole run may take, reading included; later steps are undecided (default 600)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless every step is proved symbolically (numeric evidence is not enough)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vaetheory.cli._common import print_json
    from vaetheory.symbolic.checker import (
        DerivationSyntaxError,
        check_derivation,
        example_text,
        list_examples,
    )

    if args.list_examples:
        for name, title in list_examples().items():
            print(f"{name:24s} {title}")
        return 0
    if (args.file is None) == (args.example is None):
        raise ValueError("give exactly one of FILE or --example NAME (or --list-examples)")
    report = None
    if args.latex:
        report = Path(args.latex)
        if report.is_dir():
            raise ValueError(f"--latex must name a file to write, not a directory; got {args.latex!r}")
        if not report.parent.is_dir():
            raise ValueError(f"--latex: the directory of {args.latex!r} does not exist")
    if args.example is not None:
        text, name = example_text(args.example), f"example:{args.example}"
    elif args.file == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        path = Path(args.file)
        if path.is_dir():
            raise ValueError(f"FILE must be a derivation file, not a directory; got {args.file!r}")
        if not path.is_file():
            raise ValueError(f"file {args.file!r} does not exist")
        try:
            text, name = path.read_text(encoding="utf-8"), str(path)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"file {args.file!r} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
    try:
        result = check_derivation(
            text,
            seed=args.seed,
            step_timeout=args.timeout,
            n_points=args.points,
            tolerance=args.tolerance,
            name=name,
            total_timeout=args.total_timeout,
            strict=args.strict,
        )
    except DerivationSyntaxError as exc:
        if args.json:
            print_json({"error": exc.to_dict(), "steps": [], "first_failure": None})
        print(f"vaetheory check: error: {name}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.to_text())
    if report is not None:
        _write_atomically(report, result.to_latex())
        print(f"wrote {args.latex}", file=sys.stderr)
    return result.exit_code


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
