"""``vaetheory linear``: pPCA and the linear VAE in closed form for a data set, per latent size.

Thin: parse, call :mod:`vaetheory.linear`, render (table or JSON), optionally write figures.
"""

from __future__ import annotations

import argparse

from vaetheory.cli._common import float_list, int_list

DATA_HELP = (
    "'digits' (scikit-learn's bundled 8x8 digits, raw pixels 0..16, unlike `vaetheory train` and "
    "`reproduce`, which divide them by 16; --scale unit does the same here), a synthetic spec "
    "'synthetic:n=500,d=10,spectrum=5;3;1;0.5,noise=0.1,seed=0' (signal variances ';'-separated, "
    "noise = noise VARIANCE; keys may be left out), or a path to a .npy or .csv file (rows are points)"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "linear",
        help="pPCA / linear VAE in closed form: sigma^2_ML, log-likelihood, ELBO, posterior collapse",
        description=(
            "For each latent size q: the pPCA maximum-likelihood noise variance sigma^2_ML, the "
            "log-likelihood per point (1/n covariance), the linear-VAE ELBO at its closed-form optimum "
            "(equal to it), and the active / collapsed latent directions. With --beta and/or --sigma2: "
            "the beta-VAE / fixed-variance optimum, whose direction j collapses iff l_j <= beta sigma^2. "
            "With --floor: the optimum under sigma^2 >= floor. theory section 3 "
            "(Tipping & Bishop 1999; Lucas et al. 2019)."
        ),
    )
    parser.add_argument("--data", required=True, metavar="DATA", help=DATA_HELP)
    parser.add_argument(
        "--latent", required=True, type=int_list, metavar="Q,...", help="latent sizes, e.g. 2,5,10"
    )
    parser.add_argument(
        "--beta",
        type=float_list,
        default=None,
        metavar="B,...",
        help="KL weights beta > 0 of the beta-VAE (with no --sigma2: at sigma^2_ML of each q)",
    )
    parser.add_argument(
        "--sigma2",
        type=float_list,
        default=None,
        metavar="S,...",
        help="fixed decoder noise VARIANCES sigma^2 > 0 (beta = 1 unless --beta is given)",
    )
    parser.add_argument(
        "--floor",
        type=float_list,
        default=None,
        metavar="XI,...",
        help="floors xi > 0 on the decoder noise VARIANCE: the optimum under sigma^2 >= xi",
    )
    parser.add_argument(
        "--scale",
        choices=("none", "unit", "standardize"),
        default="none",
        help="scale the data first (default: none, data used as given): 'unit' divides by the largest "
        "absolute value, 'standardize' centres each column and divides by its standard deviation",
    )
    parser.add_argument(
        "--csv-header",
        choices=("auto", "yes", "no"),
        default="auto",
        help="whether a .csv file's first row is a header (default auto: only when every field in it is "
        "text; a row such as 1,2,x is an error, never a header)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per latent size")
    parser.add_argument(
        "--out", metavar="DIR", default=None, help="also write the figures (PDF, PNG, JSON) here"
    )
    parser.set_defaults(func=run)


def _directions(js: list[int]) -> str:
    if not js:
        return "none"
    if js == list(range(js[0], js[-1] + 1)) and len(js) > 2:
        return f"{js[0]}-{js[-1]}"
    return ",".join(map(str, js))


def run(args: argparse.Namespace) -> int:
    import sys

    from vaetheory.cli._common import format_table, print_json
    from vaetheory.linear.data import load_data
    from vaetheory.linear.summary import summarize_latent_sizes
    from vaetheory.provenance import provenance

    header = {"auto": None, "yes": True, "no": False}[args.csv_header]
    loaded = load_data(args.data, scale=args.scale, header=header)
    summaries = summarize_latent_sizes(
        loaded.data,
        args.latent,
        betas=args.beta,
        noise_variances=args.sigma2,
        floor_variances=args.floor,
        name=f"--data {args.data!r}",
    )
    params = {
        "data": args.data,
        "scale": args.scale,
        "latent": args.latent,
        "beta": args.beta,
        "sigma2": args.sigma2,
        "floor": args.floor,
        "n_points": int(loaded.data.shape[0]),
        "dim": int(loaded.data.shape[1]),
    }
    seed = loaded.synthetic.seed if loaded.synthetic is not None else None
    prov = provenance(seed=seed, parameters=params)
    if args.out is not None:
        from vaetheory.figures.linear import make_data_figures

        written = make_data_figures(
            args.out,
            loaded.data,
            args.data if loaded.synthetic is None else "synthetic",
            args.latent,
            args.beta or [],
            args.sigma2 or [],
            seed,
        )
        print(f"wrote {len(written)} files to {args.out}", file=sys.stderr)
    if args.json:
        records = []
        for s in summaries:
            record = s.to_dict()
            record["data"] = loaded.description
            record["provenance"] = prov
            records.append(record)
        print_json(records)
        return 0
    n, d = loaded.data.shape
    print(
        f"data: {loaded.description}; n = {n}, d = {d}, scale = {args.scale}, rank(S) = {summaries[0].rank}"
    )
    print("pPCA maximum likelihood = linear-VAE optimum (theory section 3):")
    rows = [
        [
            s.q,
            s.sigma2,
            s.loglik_per_point,
            s.elbo_per_point,
            _directions(s.active_directions),
            _directions(s.collapsed_directions),
            "yes" if s.degenerate else "no",
        ]
        for s in summaries
    ]
    headers = ["q", "sigma2_ML", "loglik/point", "ELBO/point", "active", "collapsed", "degenerate"]
    print(format_table(headers, rows))
    variant_rows = [
        [
            s.q,
            v["beta"],
            v["sigma2"],
            v["threshold"],
            v["elbo_per_point"],
            _directions(v["active_directions"]),
            _directions(v["collapsed_directions"]),
        ]
        for s in summaries
        for v in s.variants
    ]
    if variant_rows:
        print("\nbeta-VAE / fixed variance: direction j collapses iff l_j <= beta * sigma2:")
        print(
            format_table(
                ["q", "beta", "sigma2", "beta*sigma2", "ELBO_beta/pt", "active", "collapsed"], variant_rows
            )
        )
    if args.beta and not args.sigma2 and any(s.degenerate for s in summaries):
        print("\n(beta variants skipped for degenerate q: sigma2_ML = 0; pass --sigma2)")
    floor_rows = [
        [
            s.q,
            f["floor"],
            f["sigma2"],
            "yes" if f["binds"] else "no",
            f["loglik_per_point"],
            f["bound_per_point"],
            _directions(f["active_directions"]),
        ]
        for s in summaries
        for f in s.floors
    ]
    if floor_rows:
        print("\nfloor sigma^2 >= xi on the noise VARIANCE (bound: -(d/2) log(2 pi xi) per point):")
        print(
            format_table(
                ["q", "floor", "sigma2", "binds", "loglik/point", "bound/point", "active"], floor_rows
            )
        )
    return 0
