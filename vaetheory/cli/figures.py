"""``vaetheory figures --out DIR``: regenerate every figure vaetheory makes (PDF, PNG, JSON sidecar)."""

from __future__ import annotations

import argparse


def _area_list(text: str) -> list[str]:
    areas = [a.strip() for a in text.split(",") if a.strip()]
    if not areas:
        raise argparse.ArgumentTypeError("expected comma-separated area names")
    return areas


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="regenerate every figure (PDF + PNG + JSON sidecar with provenance)",
        description=(
            "Regenerate every figure the package makes into OUT/<area>/, as vector PDF and PNG with a "
            "JSON sidecar holding the provenance (version, git commit, command, seed, parameters) and "
            "the data drawn. The same seed gives the same data."
        ),
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="output directory (created if needed; locked while figures are made)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the figures DIR already holds (without it such a DIR is refused)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and few steps (a few minutes in all, most of it the thesis area's training)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed in [0, 2**63 - 1] (default: 0)")
    parser.add_argument(
        "--only",
        type=_area_list,
        default=None,
        metavar="AREA,...",
        help="only these areas (comma-separated; default: all registered areas)",
    )
    parser.add_argument(
        "--template",
        choices=("generic", "icml", "neurips"),
        default="generic",
        help=(
            "printed widths of a column / a page: generic 3.3 / 6.9 in, icml 3.25 / 6.75 in, "
            "neurips 2.7 / 5.5 in (default: generic); every text is at least 7 pt at that size"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vaetheory._validation import check_int
    from vaetheory.figures import FIGURE_MODULES
    from vaetheory.rundir import RunDirectory

    check_int("--seed", args.seed, low=0, high=2**63 - 1)
    areas = FIGURE_MODULES if args.only is None else args.only
    unknown = [a for a in areas if a not in FIGURE_MODULES]
    if unknown:
        known = ", ".join(FIGURE_MODULES) or "(none registered)"
        raise ValueError(f"--only: unknown area {', '.join(unknown)}; areas are: {known}")
    # clear errors for a file in the way, a read-only place, another writer, earlier figures
    run_dir = RunDirectory(
        args.out,
        markers=tuple(f"{area}/*.json" for area in FIGURE_MODULES),
        overwrite=args.overwrite,
        what="set of figures",
        remove_on_overwrite=(),  # each figure file is replaced as it is written
    )
    with run_dir:
        return _make(run_dir.path, areas, args)


def _make(out, areas, args) -> int:
    import sys
    import time
    from pathlib import Path

    from vaetheory.figures import make_all

    if not areas:
        print("no figure areas are registered; nothing written", file=sys.stderr)
        return 0
    total = 0
    for area in areas:
        print(f"[{area}] making figures{' (quick)' if args.quick else ''}...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        written = make_all(
            out, quick=args.quick, seed=args.seed, areas=[area], template=getattr(args, "template", "generic")
        )[area]
        elapsed = time.perf_counter() - start
        print(f"[{area}] {len(written)} files in {elapsed:.1f} s", file=sys.stderr, flush=True)
        for path in written:
            print(Path(path))
        total += len(written)
    print(f"wrote {total} files under {out}", file=sys.stderr)
    return 0
