"""What a run of the thesis chapter's study shows, claim by claim, in numbers.

Each claim of the chapter (chapter 5) is checked by :func:`check_claims` against a stated
criterion on the held-out measurements of
:class:`vaetheory.studies.thesis_ch5.evaluation.ConfigurationResult`; the configurations a claim
needs are found by their typed fields (:class:`~vaetheory.studies.thesis_ch5.configurations.Variant`:
policy, sigma, beta; and the latent size), never by their labels, so relabelling a configuration
cannot change a verdict. :mod:`vaetheory.studies.thesis_ch5.report` writes them as Markdown. Every
number printed is read from the run's results; nothing is typed in.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vaetheory.results import Result
from vaetheory.studies.thesis_ch5.configurations import (
    BETA_LARGE,
    BETA_SMALL,
    LARGE_BETA,
    LEARNED,
    SIGMA1,
    SIGMA_SMALL,
    SMALL_BETA,
    SMALL_SIGMA_STD,
)


@dataclasses.dataclass(frozen=True)
class ClaimCheck(Result):
    """One claim of the chapter, the criterion checked, what the run shows, and the verdict.

    ``supported`` is ``None`` when the run lacks the configurations the criterion needs.
    """

    claim: str
    where: str
    criterion: str
    shown: str
    supported: bool | None
    numbers: dict[str, Any]


def format_number(value: float | None) -> str:
    """A measured number as the summary and the table print it (4 significant digits; ``-`` for None)."""
    return "-" if value is None else f"{value:.4g}"


_g = format_number


def _latents(reproduction) -> list[int]:
    return sorted({c.latent for c in reproduction.configurations})


def _per_latent(reproduction, variants, check) -> tuple[list[str], list[bool], dict[str, Any]]:
    """Apply ``check(results..., q) -> (text, ok, numbers)`` per latent size having all ``variants``."""
    texts, oks, numbers = [], [], {}
    for q in _latents(reproduction):
        found = [reproduction.find(v, q) for v in variants]
        if any(r is None for r in found):
            continue
        text, ok, nums = check(*found, q)
        texts.append(f"q = {q}: {text}")
        oks.append(ok)
        numbers[f"z{q}"] = nums
    return texts, oks, numbers


def _claim(claim, where, criterion, reproduction, variants, check) -> ClaimCheck:
    texts, oks, numbers = _per_latent(reproduction, variants, check)
    if not oks:
        return ClaimCheck(claim, where, criterion, "not run (configurations missing)", None, {})
    return ClaimCheck(claim, where, criterion, "; ".join(texts), all(oks), numbers)


def _recon_better(name: str):
    def check(learned, other, q):
        ratio = other.recon_mse / learned.recon_mse
        text = (
            f"held-out recon MSE {_g(other.recon_mse)} ({name}) vs {_g(learned.recon_mse)} (learned sigma), "
            f"ratio {_g(ratio)}; active units {other.active_units}/{q} vs {learned.active_units}/{q} "
            f"(linear theory: {other.predicted_active_units} and {learned.predicted_active_units})"
        )
        return (
            text,
            other.recon_mse < learned.recon_mse,
            {"learned": learned.recon_mse, name: other.recon_mse},
        )

    return check


def check_claims(reproduction) -> tuple[ClaimCheck, ...]:
    """The chapter's claims, each checked on ``reproduction`` (a :class:`ThesisReproduction`)."""
    claims = [
        _claim(
            "Fixing the decoder std at sigma = 1 (the MSE objective) reconstructs better than a learned "
            "decoder variance.",
            "section 5.3.2, figures 5.10-5.11 vs 5.4-5.5",
            f"held-out recon MSE of {SIGMA1.stem} < that of {LEARNED.stem}, at every latent size",
            reproduction,
            [LEARNED, SIGMA1],
            _recon_better("sigma = 1"),
        ),
        _claim(
            f"Fixing a small decoder std sigma = {SMALL_SIGMA_STD:g} reconstructs better than a learned "
            "decoder variance.",
            "section 5.3.4, figures 5.13-5.14 vs 5.4-5.5",
            f"held-out recon MSE of {SIGMA_SMALL.stem} < that of {LEARNED.stem}, at every latent size",
            reproduction,
            [LEARNED, SIGMA_SMALL],
            _recon_better(f"sigma = {SMALL_SIGMA_STD:g}"),
        ),
    ]

    def small_beta(learned, sigma1, beta_small, q):
        text = (
            f"recon MSE {_g(beta_small.recon_mse)} (beta = {SMALL_BETA:g}) vs {_g(sigma1.recon_mse)} "
            f"(beta = 1, same sigma = 1) and {_g(learned.recon_mse)} (learned sigma)"
        )
        ok = beta_small.recon_mse < sigma1.recon_mse and beta_small.recon_mse < learned.recon_mse
        return text, ok, {"beta_small": beta_small.recon_mse, "beta1": sigma1.recon_mse}

    claims.append(
        _claim(
            "A small beta gives more accurate reconstructions.",
            "section 5.3.1, figure 5.9 vs 5.5",
            f"recon MSE of {BETA_SMALL.stem} < that of {SIGMA1.stem} (beta = 1) and of {LEARNED.stem}",
            reproduction,
            [LEARNED, SIGMA1, BETA_SMALL],
            small_beta,
        )
    )

    def mean_sampling(learned, q):
        pv, nd = learned.sample_pixel_variance, learned.sample_nearest_sq_distance
        text = (
            f"pixel variance across samples {_g(pv['mean'])} for mu(z) vs {_g(pv['ancestral'])} ancestral; "
            f"squared distance per pixel to the nearest held-out image {_g(nd['mean'])} vs "
            f"{_g(nd['ancestral'])}"
        )
        ok = pv["mean"] < pv["ancestral"] and nd["mean"] < nd["ancestral"]
        return text, ok, {"pixel_variance": pv, "nearest_sq_distance": nd}

    claims.append(
        _claim(
            "Returning mu(z) ('deterministic sampling') gives cleaner samples than ancestral sampling.",
            "section 5.3.3, figure 5.12 vs 5.7",
            f"for {LEARNED.stem}: pixel variance of mu(z) samples < ancestral, and mu(z) samples lie "
            "closer to held-out images than ancestral samples",
            reproduction,
            [LEARNED],
            mean_sampling,
        )
    )

    def alpha_sampling(learned, q):
        nd = learned.sample_nearest_sq_distance
        text = (
            f"distance to the nearest held-out image {_g(nd['mean_plus_std'])} for mu(z) + "
            f"{learned.sample_alpha:g} sigma(z) vs {_g(nd['mean'])} for mu(z) and {_g(nd['ancestral'])} "
            "ancestral"
        )
        ok = nd["mean_plus_std"] <= 2.0 * nd["mean"]
        return text, ok, {"nearest_sq_distance": nd}

    claims.append(
        _claim(
            "mu(z) + alpha sigma(z) gives samples that look as good as mu(z) (pixels perfectly correlated).",
            "section 5.3.4, figure 5.15",
            f"for {LEARNED.stem}: the squared distance per pixel from mu(z) + alpha sigma(z) samples to "
            "the nearest held-out image is at most twice that of mu(z) samples",
            reproduction,
            [LEARNED],
            alpha_sampling,
        )
    )

    def collapse(beta_small, beta_large, q):
        text = (
            f"active units {beta_large.active_units}/{q} (beta = {LARGE_BETA:g}) vs "
            f"{beta_small.active_units}/{q} (beta = {SMALL_BETA:g}); total KL {_g(beta_large.kl_total)} vs "
            f"{_g(beta_small.kl_total)} nats"
        )
        nums = {"active_large": beta_large.active_units, "active_small": beta_small.active_units}
        if beta_large.latent_grid_pixel_variance is not None:
            text += (
                f"; variance of mu(z) over the z grid {_g(beta_large.latent_grid_pixel_variance)} vs "
                f"{_g(beta_small.latent_grid_pixel_variance)}"
            )
        return text, beta_large.active_units < beta_small.active_units, nums

    claims.append(
        _claim(
            "A large beta collapses the posterior: q(z|x) ~ p(z), and mu(z) barely depends on z.",
            "section 5.4.1, figures 5.16-5.17",
            f"active units (A_u > 0.01) of {BETA_LARGE.stem} < those of {BETA_SMALL.stem}",
            reproduction,
            [BETA_SMALL, BETA_LARGE],
            collapse,
        )
    )

    def alike(sigma_small, beta_small, sigma1, q):
        ratio = sigma_small.recon_mse / beta_small.recon_mse
        tol = max(1, round(0.2 * q))
        text = (
            f"beta*sigma^2 = {_g(sigma_small.effective_variance)} vs {_g(beta_small.effective_variance)}; "
            f"recon MSE {_g(sigma_small.recon_mse)} vs {_g(beta_small.recon_mse)} (ratio {_g(ratio)}; "
            f"beta = 1, sigma = 1: {_g(sigma1.recon_mse)}); active units {sigma_small.active_units} vs "
            f"{beta_small.active_units} of {q}"
        )
        ok = (
            max(sigma_small.recon_mse, beta_small.recon_mse) < sigma1.recon_mse
            and abs(sigma_small.active_units - beta_small.active_units) <= tol
        )
        return text, ok, {"recon_ratio": ratio, "active_units_tolerance": tol}

    claims.append(
        _claim(
            "Small fixed sigma and small beta act alike (for a linear VAE exactly: ELBO_beta(sigma^2) = "
            "beta ELBO(beta sigma^2) + const).",
            "section 5.3.4, figure 5.14 vs 5.9; theory section 3",
            f"{SIGMA_SMALL.stem} and {BETA_SMALL.stem} both reconstruct better than {SIGMA1.stem}, and "
            "their active units differ by at most max(1, 0.2 q)",
            reproduction,
            [SIGMA_SMALL, BETA_SMALL, SIGMA1],
            alike,
        )
    )

    def spread(sigma_small, beta_small, beta_large, q):
        text = (
            f"E[m^2 + s^2] of q(z|x) over held-out points {_g(sigma_small.aggregate_second_moment)} "
            f"(sigma = {SMALL_SIGMA_STD:g}), {_g(beta_small.aggregate_second_moment)} "
            f"(beta = {SMALL_BETA:g}) "
            f"vs {_g(beta_large.aggregate_second_moment)} (beta = {LARGE_BETA:g}); the prior has 1"
        )
        ok = min(sigma_small.aggregate_second_moment, beta_small.aggregate_second_moment) > max(
            1.0, beta_large.aggregate_second_moment
        )
        return text, ok, {}

    claims.append(
        _claim(
            "Small beta or small fixed sigma let q(z|x) spread far beyond the prior N(0, I), so decoding "
            "z ~ p(z) visits inputs the decoder was not trained on.",
            "section 5.4.1, figures 5.16a, 5.17b, 5.18",
            f"second moment of the encoder's aggregate q(z) for {SIGMA_SMALL.stem} and {BETA_SMALL.stem} "
            f"> 1 (the prior's) and > that of {BETA_LARGE.stem}",
            reproduction,
            [SIGMA_SMALL, BETA_SMALL, BETA_LARGE],
            spread,
        )
    )

    fixed = [c for c in reproduction.configurations if c.effective_variance is not None]
    if fixed:
        agree = [c for c in fixed if c.active_units == c.predicted_active_units]
        shown = "; ".join(
            f"{c.config}: {c.active_units} measured vs {c.predicted_active_units} predicted "
            f"(threshold {_g(c.effective_variance)})"
            for c in fixed
        )
        claims.append(
            ClaimCheck(
                "The linear VAE predicts posterior collapse: direction j is active iff l_j > beta sigma^2.",
                "theory section 3 (Lucas et al. 2019); chapter section 5.6",
                "measured active units equal min(q, #{j : l_j > beta sigma^2}) for the fixed-sigma "
                f"configurations (agreement in {len(agree)} of {len(fixed)})",
                shown,
                len(agree) == len(fixed),
                {c.config: [c.active_units, c.predicted_active_units] for c in fixed},
            )
        )
    return tuple(claims)
