"""``vaetheory sweep SPEC --out DIR [--engine local|ray] ...``: a grid of training runs, resumable."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a grid of training runs described in YAML (local or Ray), resumable, one table",
        description=(
            "Run every point of the grid a YAML SPEC describes (base: the options of vaetheory train by "
            "their long names, e.g. {variance: floor, latent: 2, steps: 500}; grid: option -> values; "
            "optionally zip: axes that vary together, exclude: points to drop) as one training run each, in "
            "DIR/runs/NAME (NAME from the run's settings). Runs of one architecture are trained stacked, "
            "in groups of --group-size. Rerunning the same command skips finished runs and continues the "
            "others. Writes DIR/results.jsonl and DIR/results.csv (one row per finished run); progress "
            "with the time left on stderr. A malformed SPEC exits with status 2 before anything runs; "
            "status 1 if a run failed, stopped or exceeded its bound. With experiment: NAME in the SPEC, "
            "base and grid hold the experiment's options (quick, seed, data and the fields of its "
            "settings) and each point is one run of the experiment; --figures draws its figures from the "
            "table."
        ),
    )
    parser.add_argument("spec", metavar="SPEC", help="the sweep's YAML file")
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="the sweep's directory (locked while running)"
    )
    parser.add_argument(
        "--engine", default="local", metavar="E", help="local (default; no extra dependency) or ray"
    )
    parser.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="--engine ray: join this Ray cluster (auto, HOST:PORT, ray://HOST:10001); default: a local one",
    )
    parser.add_argument("--device", default="cpu", metavar="D", help="cpu (default) or cuda")
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        metavar="N",
        help="groups trained at once (local default 1: in this process; ray default: as resources allow)",
    )
    parser.add_argument(
        "--group-size",
        type=int,
        default=16,
        metavar="K",
        help=(
            "runs trained stacked in one group (default 16); 1 trains each run alone with checkpoints "
            "every checkpoint_every steps, resumed from its checkpoint after a kill"
        ),
    )
    parser.add_argument(
        "--threads", type=int, default=1, metavar="N", help="torch threads (Ray CPUs) per group (default 1)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the runs and groups; train nothing")
    parser.add_argument(
        "--figures",
        action="store_true",
        help=(
            "a SPEC with experiment: NAME: after the sweep, draw from DIR/results.jsonl the experiment's "
            "figure of every point and, for points that differ only in seed, of their mean over the "
            "seeds, into DIR/figures/LABEL/ (on a finished sweep this trains nothing and only draws)"
        ),
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from vaetheory.sweeps.engine import check_options, plan_groups, run_sweep
    from vaetheory.sweeps.spec import load_spec

    check_options(args.engine, args.device, args.max_concurrent, args.group_size, args.threads)
    spec = load_spec(args.spec)
    if args.figures and spec.experiment is None:
        raise ValueError(
            "--figures applies to a SPEC with experiment: NAME (each point one run of the experiment); "
            "this SPEC's runs are training runs (their numbers are in DIR/results.jsonl and results.csv)"
        )
    if args.dry_run and spec.experiment is not None:
        print(f"vaetheory sweep: {len(spec.runs)} points, each one run of experiment {spec.experiment}")
        for run in spec.runs:
            print(f"  {run.name}")
        return 0
    if args.dry_run:
        groups = plan_groups(spec.runs, args.group_size)
        print(
            f"vaetheory sweep: {len(spec.runs)} runs in {len(groups)} groups (group size {args.group_size})"
        )
        for i, group in enumerate(groups):
            print(f"  group {i}: " + ", ".join(r.name for r in group))
        return 0
    outcome = run_sweep(
        spec,
        args.out,
        engine=args.engine,
        address=args.address,
        device=args.device,
        max_concurrent=args.max_concurrent,
        group_size=args.group_size,
        threads=args.threads,
        progress=not args.no_progress,
        command=shlex.join(["vaetheory", *sys.argv[1:]]),
    )
    print(
        f"vaetheory sweep: {outcome.total} runs: {outcome.done_before} finished before, {outcome.trained} "
        f"trained now, {len(outcome.errors)} failed; wrote {args.out}/results.jsonl and results.csv "
        f"({len(outcome.rows)} rows)"
    )
    for name, error in outcome.errors.items():
        print(f"  FAILED {name}: {error}")
    if spec.experiment is not None:
        return _experiment_report(args, spec, outcome)
    exceeded = [r["name"] for r in outcome.rows if (r["bound_check"] or {}).get("held") is False]
    stopped = [r["name"] for r in outcome.rows if r["stopped"] is not None]
    if exceeded:
        print(f"  bound EXCEEDED in {len(exceeded)} runs: {', '.join(exceeded)}")
    if stopped:
        print(f"  stopped (numerical breakdown) in {len(stopped)} runs: {', '.join(stopped)}")
    return 1 if outcome.errors or exceeded or stopped or not outcome.complete else 0


def _experiment_report(args: argparse.Namespace, spec, outcome) -> int:
    """An experiment sweep's lines: each point's verdict count and stopped runs; then its figures.

    Exit status 1 if a point failed or the grid is incomplete; a verdict that disagrees or a run that
    broke down is a measurement of the experiment (as in ``vaetheory experiment``), printed, not a
    failure.
    """
    for row in outcome.rows:
        m = row["metrics"]
        line = (
            f"  {row['name']}: {m['runs']} runs, {m['statements_disagreeing']} of {m['statements_checked']} "
            "checked statements disagree with the theory"
        )
        if row["stopped"]:
            line += "; stopped (numerical breakdown): " + ", ".join(s["run"] for s in row["stopped"])
        print(line)
    if args.figures and outcome.rows:
        from vaetheory.sweeps.figures import draw_sweep_figures

        written, skipped = draw_sweep_figures(args.out)
        for path in written:
            print(f"wrote {path}")
        for reason in skipped:
            print(f"  {reason}")
    return 1 if outcome.errors or not outcome.complete else 0
