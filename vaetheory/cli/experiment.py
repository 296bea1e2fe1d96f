"""``vaetheory experiment NAME --out DIR``: training experiments that show the blow-up and the floors.

``vaetheory experiment --list`` names them. Each run writes ``DIR/results.json``,
``DIR/runs/<name>.json``, ``DIR/summary.md`` and its figure (PDF + PNG + JSON sidecar); ``DIR`` is
locked while it runs, a rerun with ``--resume`` skips finished groups of runs, ``--overwrite``
starts over (:mod:`vaetheory.studies.experiments`).
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from vaetheory.studies.experiments import DESCRIPTIONS, EXPERIMENTS

    parser = subparsers.add_parser(
        "experiment",
        help="training experiments: the blow-up, the floors, against the theory (--list names them)",
        description=(
            "Run a training experiment and write results.json, runs/<name>.json, summary.md (the theory's "
            "prediction beside each measurement, verdicts computed from the runs) and its figure into --out. "
            "Experiments: " + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items())
        ),
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help=f"one of: {', '.join(EXPERIMENTS)}")
    parser.add_argument("--list", action="store_true", help="name the experiments and exit")
    parser.add_argument("--out", metavar="DIR", help="output directory (created; locked while it runs)")
    parser.add_argument(
        "--data",
        default=None,
        help="data set (default: the experiment's own: 'digits', or 'manifold' for gamma-to-zero)",
    )
    parser.add_argument("--quick", action="store_true", help="small settings (under 2 minutes on 2 cores)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the split, dequantisation, weights and noise"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out (finished groups skipped)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    parser.add_argument("--no-figures", action="store_true", help="write the numbers only")
    parser.add_argument(
        "--device",
        default="cpu",
        help=(
            "where to train: cpu (default) or cuda / cuda:N (evaluation stays float64 on the CPU; CUDA "
            "draws other minibatches and noise than the CPU from the same seed)"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vaetheory._validation import check_int
    from vaetheory.studies.experiments import DESCRIPTIONS, EXPERIMENTS, run_experiment

    if args.list:
        for name in EXPERIMENTS:
            print(f"{name}: {DESCRIPTIONS[name]}")
        return 0
    if args.name is None:
        raise ValueError(f"NAME is required (one of: {', '.join(EXPERIMENTS)}), or give --list")
    if args.name not in EXPERIMENTS:
        raise ValueError(f"NAME: unknown experiment {args.name!r}; experiments are: {', '.join(EXPERIMENTS)}")
    if not args.out:
        raise ValueError("--out DIR is required")
    check_int("--seed", args.seed, low=0, high=2**63 - 1)
    from vaetheory.empirical.training import check_device

    device = str(check_device(args.device, name="--device"))
    if args.resume and args.overwrite:
        raise ValueError("give --resume (continue the run) or --overwrite (replace it), not both")
    result = run_experiment(
        args.name,
        args.out,
        quick=args.quick,
        seed=args.seed,
        resume=args.resume,
        overwrite=args.overwrite,
        device=device,
        **({} if args.data is None else {"data": args.data}),
    )
    out = result["out_dir"]
    written = []
    if not args.no_figures:
        from vaetheory.figures.experiments import draw_experiment

        written = draw_experiment(args.name, result, out)
    for check in result["verdicts"]:
        verdict = {True: "agrees", False: "DISAGREES", None: "no prediction"}[check["holds"]]
        print(f"{verdict}: {check['claim']} (measured: {check['measured']})")
    print(f"wrote {out}/results.json, {out}/summary.md, {out}/runs/")
    for path in written:
        print(f"wrote {path}")
    return 0
