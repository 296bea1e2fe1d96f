"""``vaetheory reproduce STUDY``: rerun a published study with figures, a table and a summary.

``vaetheory reproduce thesis-ch5 --out DIR [--data digits|mnist|fashion-mnist --data-dir PATH]
[--quick] [--seed S]`` trains the thesis chapter's configurations
(:mod:`vaetheory.studies.thesis_ch5`), writes ``DIR/results.json``, ``DIR/table.md``,
``DIR/summary.md`` and the figures, and prints the table and each claim's verdict. Rerunning with
the same options and ``--resume`` resumes: finished configurations are skipped; ``--overwrite``
replaces the run. The directory is locked while the study runs.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="rerun a published study (the thesis chapter 5) with figures, a table and a summary",
        description="Rerun a published study with figures, a table of numbers and a generated summary.",
    )
    studies = parser.add_subparsers(dest="study", metavar="STUDY")
    thesis = studies.add_parser(
        "thesis-ch5",
        help="what each common fix (fixed sigma, beta, mean sampling) does to a VAE",
        description=(
            "The thesis chapter 5 study: learned decoder variance; fixed sigma 1 and 1e-4; beta-VAE with "
            "beta 0.01 and 4 (sigma 1); latent sizes 2 and 20. Trains each configuration with the same "
            "seed, evaluates it on held-out data, and writes results.json, study.json, table.md, "
            "summary.md and the figures into --out. An interrupted run resumes: rerun the same command with "
            "--resume (--overwrite starts over). --out is locked while the study runs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    thesis.add_argument("--out", required=True, help="output directory (created; reused with --resume)")
    thesis.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out (finished configurations are skipped)",
    )
    thesis.add_argument(
        "--overwrite", action="store_true", help="replace the run in --out (its results and checkpoints)"
    )
    thesis.add_argument(
        "--data",
        default="digits",
        choices=["digits", "mnist", "fashion-mnist"],
        help="digits: scikit-learn's bundled 8x8 digits; mnist / fashion-mnist: IDX files in --data-dir",
    )
    thesis.add_argument(
        "--data-dir",
        default=None,
        help="directory with train-images-idx3-ubyte and t10k-images-idx3-ubyte (.gz or not)",
    )
    thesis.add_argument("--quick", action="store_true", help="short training (about a minute on digits)")
    thesis.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the split, initialisation and sampling, in [0, 2**63 - 1]",
    )
    thesis.add_argument("--no-figures", action="store_true", help="write the numbers only")
    thesis.add_argument(
        "--device", default="cpu", help="where to train: cpu or cuda (where torch.cuda.is_available())"
    )
    thesis.set_defaults(func=run)

    def no_study(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=no_study)


def run(args) -> int:
    from vaetheory.cli._common import format_table
    from vaetheory.empirical.training import check_device
    from vaetheory.studies.thesis_ch5 import (
        TABLE_HEADERS,
        check_claims,
        reproduce_thesis_chapter,
        table_rows,
        verdict_text,
    )

    if args.resume and args.overwrite:
        raise ValueError("give --resume (continue the run) or --overwrite (replace it), not both")
    device = check_device(args.device, name="--device")
    reproduction = reproduce_thesis_chapter(
        args.out,
        data=args.data,
        data_dir=args.data_dir,
        quick=args.quick,
        seed=args.seed,
        resume=args.resume,
        overwrite=args.overwrite,
        device=device,
    )
    written = []
    if not args.no_figures:
        from vaetheory.figures.thesis import draw_reproduction_figures

        written = draw_reproduction_figures(reproduction, args.out)
    print(format_table(TABLE_HEADERS, table_rows(reproduction)))
    print()
    for i, claim in enumerate(check_claims(reproduction), 1):
        print(f"claim {i} ({verdict_text(claim.supported)}): {claim.claim}")
    print()
    out = reproduction.out_dir
    print(f"wrote {out}/results.json, {out}/study.json, {out}/table.md, {out}/summary.md")
    for path in written:
        if path.suffix == ".png":
            print(f"wrote {path}")
    return 0
