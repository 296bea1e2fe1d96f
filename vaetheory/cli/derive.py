"""``vaetheory derive``: the 1-D Gaussian VAE derived by sympy, as text, LaTeX or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="derive the 1-D Gaussian VAE with sympy (ELBO, log p(x), optimum, bounds); text, LaTeX or JSON",
        description=(
            "Derive, with sympy and from the densities, the 1-D Gaussian VAE z ~ N(0,1), "
            "p(x|z) = N(w z + b, v), q(z) = N(m, s^2): the ELBO, the exact log marginal, the gap and "
            "its identity with KL(q || p(z|x)), the optimal encoder, the thread's lambda-vs-sigma* "
            "question, the n-point supremum, the blow-up path and the variance floor "
            "(theory sections 1-2). Prints the derivation step by step; --latex writes a "
            "compilable LaTeX document, --json the expressions as sympify-able strings."
        ),
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument(
        "--latex", action="store_true", help="a compilable LaTeX document (one align* per result)"
    )
    fmt.add_argument(
        "--json",
        action="store_true",
        help="a JSON object; expressions as strings sympy.sympify parses (x, m, s, w, b, v, xi, lam)",
    )
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vaetheory.symbolic.derivation import derive, to_json_dict, to_latex_document, to_text

    derivation = derive()
    if args.json:
        from vaetheory.provenance import provenance
        from vaetheory.results import dumps

        text = dumps(to_json_dict(derivation, provenance(parameters={"format": "json"}))) + "\n"
    elif args.latex:
        text = to_latex_document(derivation)
    else:
        text = to_text(derivation)
    if args.out is None:
        print(text, end="")
        return 0
    path = Path(args.out)
    if path.is_dir():
        raise ValueError(f"--out must be a file path; {str(path)!r} is a directory")
    try:
        path.write_text(text)
    except OSError as exc:
        raise ValueError(f"--out: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    print(f"wrote {path}")
    return 0
