"""``vaetheory remedies [--quick] [--json] [--out DIR]``: every remedy's theory and runs in one table.

One row per remedy (:mod:`vaetheory.studies.remedies`): ``name``, ``bounded`` and ``bounds``
(value / gradient / none; from the sympy theory of :mod:`vaetheory.symbolic.remedies`, theory
section 7), ``proof`` (statement and where), and the measured columns (held-out log-likelihood,
RMSE of the mean, smallest variance, calibration error, breakdown step, bound check); the same for
regression on Seitzer et al.'s sine data; Stirn et al.'s ordering question answered with numbers;
a summary. ``--out DIR`` (locked, files written atomically, rows resumable with ``--resume``)
receives ``results.json``, ``summary.md``, ``row_NAME.json``, ``regression_NAME.json`` and the
figure ``remedies.{pdf,png,json}``.
"""

from __future__ import annotations

import argparse

HEADERS = ["name", "bounded", "bounds", "heldout_ll", "rmse", "min_var", "calib_err", "breakdown", "bound"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "remedies",
        help="which remedies bound the likelihood and which only change the dynamics: theory and runs",
        description=(
            "Every decoder-variance remedy (floors, fixed, shared, calibrated, Bernoulli, Student-t, "
            "beta-NLL, faithful, discretised, dequantised, quantile regression): bounded or not (sympy, "
            "theory section 7), a VAE run on dequantised digits and a regression run on the sine data."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="short runs; the regression on x in [0, 2] (README: Remedies)"
    )
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--out", default=None, help="output directory (locked; reused with --resume)")
    parser.add_argument(
        "--resume", action="store_true", help="continue the study in --out (rows done are kept)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the study in --out")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the split, noise and training, in [0, 2**32 - 1]"
    )
    parser.add_argument("--no-regression", action="store_true", help="skip the regression table")
    parser.set_defaults(func=run)


def _cell(v, fmt="{:.5g}"):
    return "-" if v is None else (fmt.format(v) if isinstance(v, float) else str(v))


def run(args) -> int:
    from vaetheory._validation import check_int
    from vaetheory.cli._common import format_table, print_json

    seed = check_int("--seed", args.seed, low=0, high=2**32 - 1)
    if args.resume and args.overwrite:
        raise ValueError("give --resume (continue the study) or --overwrite (replace it), not both")
    if (args.resume or args.overwrite) and args.out is None:
        raise ValueError("--resume and --overwrite need --out DIR")
    import dataclasses

    from vaetheory.studies.remedies.study import (
        ROWS,
        StudySettings,
        regression_row_file,
        row_file,
        run_study,
    )

    settings = StudySettings.quick() if args.quick else StudySettings()
    settings = dataclasses.replace(settings, seed=seed)
    written = []
    if args.out is None:
        study = run_study(settings, regression=not args.no_regression)
    else:
        from vaetheory.figures.remedies import remedies_figure
        from vaetheory.results import dumps
        from vaetheory.rundir import RunDirectory

        with RunDirectory(
            args.out,
            markers=("results.json", "row_*.json", "regression_*.json"),
            resume=args.resume,
            overwrite=args.overwrite,
            what="remedies study",
            remove_on_overwrite=(
                "results.json",
                "summary.md",
                *(f"remedies.{e}" for e in ("pdf", "png", "json")),
                *(row_file(r) for r in ROWS),
                *(regression_row_file(r) for r in ROWS),
            ),
            command="vaetheory remedies",
        ) as run_dir:
            study = run_study(settings, run_dir, regression=not args.no_regression)
            run_dir.write_text("results.json", dumps(study) + "\n")
            run_dir.write_text("summary.md", "# Remedies\n\n" + study["summary"] + "\n")
            written = remedies_figure(run_dir.path / "remedies", study)
    if args.json:
        print_json(study)
        return 0
    rows = [
        [
            r["name"],
            r["bounded"],
            r["bounds"],
            _cell(r["heldout_loglik"]),
            _cell(r["rmse"], "{:.4g}"),
            _cell(r["min_variance"], "{:.3g}"),
            _cell(r["calibration_error"], "{:.3f}"),
            _cell(r["breakdown_step"]),
            {True: "held", False: "EXCEEDED", None: "-"}[r.get("bound_held")],
        ]
        for r in study["table"]
    ]
    print("VAE on dequantised digits (bernoulli: binarised digits, a log-probability):")
    print(format_table(HEADERS, rows))
    reg = study["regression"]["table"]
    if reg:
        rs = study["regression"]["settings"]
        print(
            f"\nregression p(y | x) on the sine data (y = {rs['amplitude']:g} sin(2 pi x) + "
            f"N(0, {rs['noise_std']:g}^2), x in [0, {rs['x_high']:g}], {rs['n_train']} points, "
            f"{rs['steps']} steps):"
        )
        print(
            format_table(
                HEADERS[:8],
                [
                    [
                        r["name"],
                        r["bounded"],
                        r["bounds"],
                        _cell(r["heldout_loglik"]),
                        _cell(r["rmse"], "{:.4g}"),
                        _cell(r["min_variance"], "{:.3g}"),
                        _cell(r["calibration_error"], "{:.3f}"),
                        _cell(r["breakdown_step"]),
                    ]
                    for r in reg
                ],
            )
        )
    print("\nproofs (theory section 7, vaetheory.symbolic.remedies):")
    for r in study["table"]:
        mark = "proved" if r["proof"]["proved"] else "NOT PROVED"
        print(f"  {r['name']}: {r['proof']['statement']} [{mark}]")
    print("\n" + study["summary"])
    for path in written:
        if path.suffix == ".png":
            print(f"wrote {path}")
    return 0
