"""``vaetheory blowup [--floor XI]... [--json] [--out DIR]``: the likelihood blow-up (theory section 2)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "blowup",
        help="the explicit construction along which a Gaussian decoder's likelihood goes to +infinity",
        description=(
            "A real decoder (one tanh hidden unit, mean on x_1, log sigma_k^2(z) = -(k/2)(1 + tanh(k z))) "
            "and its parameter sequence k = 0, 1, ...: the exact log-likelihood (quadrature, latent 1) of "
            "x_1 grows about k/2 nats per dimension while the other points stay bounded. With a floor xi on "
            "the decoder VARIANCE it plateaus under -(d/2) log(2 pi xi) per point. Data: the first points "
            "of scikit-learn's digits scaled to [0, 1]. Mattei & Frellsen (2018), arXiv:1802.04826."
        ),
    )
    parser.add_argument(
        "--floor",
        type=float,
        action="append",
        default=[],
        metavar="XI",
        help="a floor on the decoder VARIANCE (repeatable); the unfloored run is always shown",
    )
    parser.add_argument(
        "--floor-method",
        default="clamp",
        metavar="M",
        help="how the floor is applied: clamp (default), softclip, softplus, gaussian_nll",
    )
    parser.add_argument("--kmax", type=int, default=30, metavar="K", help="last sequence index (default 30)")
    parser.add_argument("--points", type=int, default=5, metavar="N", help="data points (default 5)")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON object (runs: floor, bound, dim, loglik)"
    )
    parser.add_argument(
        "--implied-bound",
        type=float,
        default=None,
        metavar="VALUE",
        help=(
            "only answer 'what bound does my floor imply?': the floor VALUE (read in --unit) applied by "
            "--floor-method to data of --dim dimensions; prints what it bounds and -(d/2) log(2 pi xi)"
        ),
    )
    parser.add_argument(
        "--unit",
        default="variance",
        metavar="U",
        help="unit of --implied-bound: variance (default), std, log_std (only with --implied-bound)",
    )
    parser.add_argument(
        "--dim",
        type=int,
        default=None,
        metavar="D",
        help="data dimension for --implied-bound (only with it: the construction itself uses d = 64)",
    )
    parser.add_argument(
        "--out", metavar="DIR", default=None, help="write the plot (PDF, PNG, JSON sidecar) here"
    )
    parser.set_defaults(func=run)


def render_blowup(result, *, every: int = 1) -> str:
    """The construction's table and the measured rate as text (shared with ``vaetheory demo``)."""
    from vaetheory.cli._common import format_table

    headers = ["k", "no floor"] + [f"xi={run.floor:g}" for run in result.runs[1:]] + ["best other (no floor)"]
    rows = []
    for j, k in enumerate(result.ks):
        if j % every and j != len(result.ks) - 1:
            continue
        others = result.runs[0].others_max_loglik  # empty with a single point: shown as "-"
        rows.append([f"{k:g}"] + [run.loglik[j] for run in result.runs] + [others[j] if others else None])
    rows.append(["bound"] + [run.bound for run in result.runs] + [None])
    lines = [
        f"Exact log-likelihood (nats) of the exploding point x_{result.point + 1} along the construction",
        f"  mu(z) = x_{result.point + 1}, log sigma_k^2(z) = -(k/2)(1 + tanh(k z)), latent 1, "
        f"d = {result.dim}, n = {result.n_points} points (digits scaled to [0,1])",
        "  bound per floor xi (a VARIANCE): -(d/2) log(2 pi xi)   [theory section 2]",
        "",
        format_table(headers, rows),
        "",
        f"measured growth of log p(x_{result.point + 1}): {result.measured_rate_per_dimension:.4f} nats per "
        f"dimension per unit k (least squares over the last half of k); theory: "
        f"{result.theory_rate_per_dimension:g} (asymptote dk/2 - (d/2) log 2 pi - log 2)",
        f"reference: {result.reference}",
    ]
    return "\n".join(lines)


def _check_floor(value: float, name: str = "--floor (a VARIANCE)") -> float:
    """A ``--floor`` value: a variance floor that float64 holds as a normal number."""
    from vaetheory.densities import VARIANCE_FLOOR_RANGE

    low, high = VARIANCE_FLOOR_RANGE
    if not (low <= value <= high):  # also refuses nan
        raise ValueError(f"{name} must lie in [{low:.3g}, {high:.3g}]; got {value!r}")
    return value


def _check_implied_value(value: float, unit: str) -> None:
    """``--implied-bound`` read in ``--unit``: its variance floor must be a normal float64 number."""
    from vaetheory._validation import check_choice
    from vaetheory.densities import log_std_floor_to_variance, std_floor_to_variance
    from vaetheory.empirical.policies import FLOOR_UNITS

    check_choice("--unit", unit, FLOOR_UNITS)
    name = f"--implied-bound (read as {unit})"
    if unit == "variance":
        _check_floor(value, name)
    elif unit == "std":
        std_floor_to_variance(value, name=name)
    else:
        log_std_floor_to_variance(value, name=name)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from vaetheory._validation import check_int
    from vaetheory.cli._common import print_json
    from vaetheory.empirical.construction import blowup_sequence, construction_data

    if args.implied_bound is not None:
        from vaetheory.empirical.policies import floor_report

        if args.dim is None:
            raise ValueError("--implied-bound needs --dim (the data dimension d, an integer >= 1)")
        dim = check_int("--dim", args.dim, low=1)
        _check_implied_value(args.implied_bound, args.unit)
        report = floor_report(args.floor_method, args.implied_bound, dim, unit=args.unit)
        if args.json:
            print_json(report.to_dict())
        else:
            print(report.summary())
        return 0
    if args.dim is not None or args.unit != "variance":
        raise ValueError(
            "--dim and --unit only apply to --implied-bound (the construction runs on digits, d = 64, with "
            "--floor read as a VARIANCE); give --implied-bound VALUE or leave them out"
        )
    floors = [_check_floor(f) for f in args.floor]
    if not floors and args.floor_method != "clamp":
        raise ValueError(
            f"--floor-method {args.floor_method} applies a floor: give --floor XI (or --implied-bound VALUE)"
        )
    torch.set_num_threads(1)  # many small quadratures: one thread is fastest, and on shared cores
    kmax = check_int("--kmax", args.kmax, low=2, high=200)
    data = construction_data(check_int("--points", args.points, low=1, high=1797))
    result = blowup_sequence(data, ks=tuple(range(kmax + 1)), floors=floors, floor_method=args.floor_method)
    written = []
    if args.out is not None:
        from vaetheory.figures.empirical import blowup_figure

        written = blowup_figure(Path(args.out) / "blowup", result)
    if args.json:
        out = result.to_dict()
        out["files"] = [str(p) for p in written]
        print_json(out)
        return 0
    print(render_blowup(result, every=max(1, kmax // 15)))
    if written:
        print("wrote " + ", ".join(str(p) for p in written))
    return 0
