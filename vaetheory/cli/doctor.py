"""``vaetheory doctor RUN_DIR | LOG.jsonl | LOG.csv [--json]``: the six answers for a training log."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="diagnose a training log: negative loss, falling variance, NaN, floors, mean neglect, collapse",
        description=(
            "Read a `vaetheory train` run directory or any trainer's .jsonl/.csv log (columns: step, loss, "
            "min_variance or min_log_variance, argmin_point, max_point_loglik, argmax_point, bound, mse, "
            "kl_per_dim or kl_0, kl_1, ...; all but step optional) and answer the six questions about a "
            "Gaussian likelihood with a learned variance with numbers. Exit status 1 when it warns."
        ),
    )
    parser.add_argument(
        "log", metavar="RUN_DIR|LOG", help="a run directory (log.jsonl + config.json), .jsonl or .csv"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--dtype",
        default="float32",
        metavar="T",
        help="training precision: float32 (default), float16, bfloat16, float64",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="also draw the report to DIR/doctor.{pdf,png,json} (created if needed; locked while written)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the doctor figure DIR already holds (without it such a DIR is refused)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vaetheory.doctor.logs import diagnose_log

    report = diagnose_log(args.log, dtype=args.dtype)
    print(report.to_json() if args.json else report.to_text())
    if args.out is not None:
        import sys
        from pathlib import Path

        from vaetheory.figures.doctor import doctor_figure
        from vaetheory.rundir import RunDirectory

        run_dir = RunDirectory(
            args.out,
            markers=("doctor.json",),
            overwrite=args.overwrite,
            what="doctor figure",
            remove_on_overwrite=(),  # each file is replaced as it is written
        )
        with run_dir:
            written = doctor_figure(
                run_dir.path / "doctor", report, title=f"vaetheory doctor: {Path(args.log).name}"
            )
        print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 1 if report.findings else 0
