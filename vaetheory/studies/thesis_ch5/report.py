"""The study's report: the per-configuration table and ``summary.md``, as Markdown text.

All text about a run is rendered here (the command line prints :func:`table_rows` and
:func:`verdict_text`); every number is read from the run.
"""

from __future__ import annotations

import dataclasses

from vaetheory.results import to_jsonable
from vaetheory.studies.thesis_ch5.claims import check_claims, format_number
from vaetheory.studies.thesis_ch5.configurations import DEFAULT_SETTINGS, QUICK_SETTINGS

_g = format_number
#: how a claim's ``supported`` reads in the summary and on the command line
VERDICTS = {True: "supported", False: "NOT supported", None: "not checked"}


def verdict_text(supported: bool | None) -> str:
    """``supported``, ``NOT supported`` or ``not checked`` (a run lacking the configurations)."""
    return VERDICTS[supported]


TABLE_HEADERS = [
    "config",
    "variance",
    "sigma (std)",
    "beta",
    "q",
    "beta sigma^2",
    "recon MSE",
    "ELBO",
    "L_k",
    "mean dec. variance",
    "KL (nats)",
    "active units",
    "linear theory: active (threshold)",
    "linear theory: recon MSE",
    "pixel var. ancestral / mu(z) / mu+alpha sigma",
]


def table_rows(reproduction) -> list[list[str]]:
    """One row per configuration (strings), in the order of :data:`TABLE_HEADERS`."""
    rows = []
    for c in reproduction.configurations:
        pv = c.sample_pixel_variance
        rows.append(
            [
                c.config,
                c.policy,
                _g(c.sigma),
                _g(c.beta),
                str(c.latent),
                _g(c.effective_variance),
                _g(c.recon_mse),
                _g(c.elbo),
                _g(c.iwae_bound),
                _g(c.mean_decoder_variance),
                _g(c.kl_total),
                f"{c.active_units}/{c.latent}",
                f"{c.predicted_active_units} (> {_g(c.predicted_threshold_variance)})",
                _g(c.linear_recon_mse),
                f"{_g(pv['ancestral'])} / {_g(pv['mean'])} / {_g(pv['mean_plus_std'])}",
            ]
        )
    return rows


def render_table(reproduction) -> str:
    """The per-configuration table and each configuration's KL per latent dimension, as Markdown."""
    k = reproduction.configurations[0].iwae_k if reproduction.configurations else 0
    lines = [
        f"Held-out measurements ({reproduction.n_test} points of {reproduction.data}); L_k with k = {k}; "
        "active units: A_u = Var_x(E_q[u]) > 0.01 (Burda et al. 2016); linear theory: "
        "min(q, #{j : l_j > threshold}), threshold beta sigma^2 (fixed sigma) or pPCA's sigma^2_ML "
        "(learned), l_j the training-data covariance eigenvalues; linear recon MSE: the linear VAE's "
        "global optimum on the same held-out points.",
        "",
        "| " + " | ".join(TABLE_HEADERS) + " |",
        "|" + "|".join("---" for _ in TABLE_HEADERS) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(reproduction)]
    lines += ["", "KL per latent dimension (nats, mean over held-out points, largest first):", ""]
    for c in reproduction.configurations:
        kl = sorted(c.kl_per_dimension, reverse=True)
        lines.append(f"- {c.config}: " + ", ".join(f"{v:.3g}" for v in kl))
    return "\n".join(lines)


def render_summary(reproduction) -> str:
    """``summary.md``: for each claim of the chapter, the criterion, what this run shows, the verdict."""
    prov = reproduction.provenance
    spectrum = ", ".join(f"{v:.3g}" for v in reproduction.spectrum[:8])
    named = {"quick": QUICK_SETTINGS, "default": DEFAULT_SETTINGS}
    label = next(
        (k for k, v in named.items() if to_jsonable(dataclasses.asdict(v)) == reproduction.settings), "custom"
    )
    lines = [
        "# Thesis chapter 5 reproduction: what each common fix does to a VAE",
        "",
        f"Data: {reproduction.data_source}; {reproduction.n_train} training and {reproduction.n_test} "
        f"held-out points, images {reproduction.image_shape[0]}x{reproduction.image_shape[1]}. "
        f"Seed {reproduction.seed}; {reproduction.settings['steps']} training steps per configuration "
        f"({label} settings); vaetheory "
        f"{prov.get('vaetheory_version')}, commit {prov.get('git_commit')}.",
        f"Largest eigenvalues of the training-data covariance: {spectrum}.",
        "",
        "Every number below is computed by this run (see results.json); each verdict follows the "
        "stated criterion.",
        "",
    ]
    for i, claim in enumerate(check_claims(reproduction), 1):
        verdict = verdict_text(claim.supported)
        lines += [
            f"## {i}. {claim.claim}",
            "",
            f"- chapter: {claim.where}",
            f"- criterion: {claim.criterion}",
            f"- this run: {claim.shown}",
            f"- verdict: **{verdict}** by this run",
            "",
        ]
    lines += ["## Table", "", render_table(reproduction)]
    return "\n".join(lines)
