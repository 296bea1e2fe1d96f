"""``python -m benchmarks``: run every benchmark and write results.json and results.md.

On a machine shared with other work, ``OMP_WAIT_POLICY=PASSIVE python -m benchmarks`` keeps
idle OpenMP threads from spinning against the other work (measured here under load: 16-72 steps/s
with the default policy against 280-290 with PASSIVE for the same small 2-thread training loop).
It is not the default: a full run with PASSIVE measured the 2-thread rows 2-3x slower than a
default-policy run on a quieter machine. The policy in force is recorded in results.json.

``python -m benchmarks`` (full mode) writes ``benchmarks/results.json`` and ``benchmarks/results.md``
next to this file, unless ``--out DIR`` is given. ``python -m benchmarks --smoke`` runs every
benchmark at a tiny size with one repeat, to check that each one executes; it writes to ``--out``
or to a fresh temporary directory, never over the committed results. ``--only NAME[,NAME]`` runs a
subset (names: see :data:`benchmarks.BENCHMARKS`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks import BENCHMARKS, run_all
from benchmarks._harness import RESULTS_JSON, RESULTS_MD, log
from benchmarks.report import render_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat: check that all run")
    parser.add_argument("--out", type=Path, default=None, help="directory for results.json and results.md")
    parser.add_argument(
        "--only", default=None, help=f"comma-separated subset of: {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads for the whole run (default: torch's own default, all cores; smoke: 1)",
    )
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1; got {args.threads}")

    only = None
    if args.only:
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(only) - set(BENCHMARKS))
        if unknown:
            parser.error(f"--only: unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")

    if args.out is not None:
        out_dir = args.out
    elif args.smoke:
        out_dir = Path(tempfile.mkdtemp(prefix="vaetheory-bench-smoke-"))
    else:
        out_dir = Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)

    results = run_all(smoke=args.smoke, only=only, threads=args.threads)
    (out_dir / RESULTS_JSON).write_text(results.to_json() + "\n", encoding="utf-8")
    (out_dir / RESULTS_MD).write_text(render_markdown(results.to_dict()) + "\n", encoding="utf-8")
    log(f"wrote {out_dir / RESULTS_JSON} and {out_dir / RESULTS_MD}")
    failed = [e["benchmark"] for e in results.errors]
    if failed:
        log(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
