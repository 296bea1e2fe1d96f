r"""Held-out evaluation of one trained configuration: the numbers and the images the figures draw.

Numerical scale of \sigma = 10^{-4}: the reconstruction term is ||x - \mu||^2 / (2 \sigma^2), a factor
1/(2\sigma^2) = 5 \cdot 10^7 on the squared error. Training uses Adam (through
:func:`vaetheory.empirical.training.train`), whose update is invariant to a constant rescaling of
the loss (up to its \epsilon = 10^{-8}, far below these gradients), so the objective is optimised as
written, in float32, without rescaling or clipping; by the identity ELBO_\beta(\sigma^2) =
\beta ELBO(\beta \sigma^2) + const this is the same optimisation as \sigma = 1 with \beta = 10^{-8}.
The reported ELBO at \sigma = 10^{-4} is accordingly of order -10^7 nats: that is the model's true
ELBO, not an overflow.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vaetheory._validation import check_int
from vaetheory.results import Result
from vaetheory.studies.thesis_ch5.configurations import RunSettings, ThesisConfiguration

#: threshold on A_u = Cov_x(E_q[u]) for an active unit (Burda et al. 2016, arXiv:1509.00519)
ACTIVE_UNIT_THRESHOLD = 0.01
#: \alpha of the \mu(z) + \alpha \sigma(z) samples (figure 5.15 uses "any \alpha")
SAMPLE_ALPHA = 1.0
#: points per axis of the q = 2 grid of z (odd: the centre is z = 0; few enough to read 8x8 digits)
LATENT_GRID_SIZE = 7
#: the grid's probabilities p run evenly from the first to the second (z = \Phi^{-1}(p))
LATENT_GRID_P_RANGE = (0.05, 0.95)


@dataclasses.dataclass(frozen=True)
class ConfigurationResult(Result):
    """The measurements of one configuration on held-out data (and the linear prediction beside them).

    ``config`` is the configuration's label; ``policy`` its decoder-variance policy (``variance`` is
    the old name of the same value, kept in ``results.json``); ``sigma`` the fixed decoder STD (null
    when learned); ``effective_variance`` the VARIANCE \\beta \\sigma^2; ``latent`` the latent size.
    ``recon_mse``: mean over held-out points and pixels of (x - \\mu(m(x)))^2. ``elbo``: mean held-out
    ELBO (\\beta = 1, nats per point); ``objective``: the \\beta-weighted one it was trained on;
    ``iwae_bound``: mean L_k with k = ``iwae_k`` (Burda et al. 2016). ``mean_decoder_variance``: mean of
    \\sigma^2(m(x)) over held-out points and pixels (a VARIANCE). ``kl_per_dimension``: mean KL of each
    latent dimension; ``activity``: A_u = Var_x(m_u(x)); ``active_units``: #{u : A_u > 0.01}.
    ``sample_pixel_variance``: per sampling mode, the variance across samples of each pixel, averaged
    over pixels; ``sample_nearest_sq_distance``: per mode, the mean over samples of the squared distance
    (per pixel) to the nearest held-out image. ``aggregate_second_moment``: mean of m^2 + s^2 over
    held-out points and dimensions (1 under the prior). ``latent_grid_pixel_variance`` (q = 2 only):
    variance of \\mu(z) across the grid of z, averaged over pixels.
    """

    config: str
    variance: str
    policy: str
    sigma: float | None
    beta: float
    latent: int
    effective_variance: float | None
    chapter_figures: str
    recon_mse: float
    elbo: float
    objective: float
    iwae_k: int
    iwae_bound: float
    mean_decoder_variance: float
    kl_per_dimension: tuple[float, ...]
    kl_total: float
    activity: tuple[float, ...]
    active_units: int
    active_unit_threshold: float
    predicted_active_units: int
    predicted_threshold_variance: float
    linear_recon_mse: float
    linear_elbo: float
    sample_alpha: float
    sample_pixel_variance: dict[str, float]
    sample_nearest_sq_distance: dict[str, float]
    aggregate_second_moment: float
    latent_grid_pixel_variance: float | None
    train_seconds: float
    final_train_objective: float | None
    stopped_reason: str | None
    provenance: dict[str, Any]


def _nearest_sq_distance(samples: np.ndarray, reference: np.ndarray) -> float:
    """Mean over samples of min_i ||s - x_i||^2 / d (squared distance per pixel to the nearest x_i).

    scipy's ``cdist`` sums the squared differences directly (no |s|^2 + |x|^2 - 2 s.x cancellation).
    """
    from scipy.spatial.distance import cdist

    d2 = cdist(samples, reference, metric="sqeuclidean")
    return float(np.mean(d2.min(axis=1)) / samples.shape[1])


def latent_grid(n: int = LATENT_GRID_SIZE) -> np.ndarray:
    r"""z_i = \Phi^{-1}(p_i), p evenly spaced in [0.05, 0.95]: the grid of Kingma & Welling (2014), fig. 4.

    Exactly symmetric (z_{n+1-i} = -z_i, computed as (z_i - z_{n+1-i}) / 2), so an odd ``n`` has
    z = 0 exactly at its centre.
    """
    from scipy.stats import norm

    z = norm.ppf(np.linspace(*LATENT_GRID_P_RANGE, check_int("n", n, low=2)))
    return (z - z[::-1]) / 2.0


def evaluate_configuration(
    model, config: ThesisConfiguration, x_test: np.ndarray, settings: RunSettings, *, seed: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Held-out metrics of a trained model, and the images the figures draw.

    Returns ``(metrics, arrays)``: metrics are the measured fields of :class:`ConfigurationResult`;
    arrays hold ``originals``, ``reconstructions``, ``samples_<mode>`` and, for q = 2, ``grid_z`` and
    ``grid_means``.
    """
    import torch

    from vaetheory.empirical import diagnostics, estimators, sampling

    dtype = next(model.parameters()).dtype
    x = torch.as_tensor(x_test, dtype=dtype)
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    with torch.no_grad():
        recon = sampling.reconstruct(model, x, mode="mean", seed=seed)
        recon_mse = float(torch.mean((recon - x) ** 2))
        f64, n_mc = torch.float64, settings.elbo_samples
        elbo = float(estimators.elbo(model, x, n_samples=n_mc, generator=gen, dtype=f64).mean())
        objective = elbo
        if config.beta != 1.0:
            objective = float(
                estimators.elbo(model, x, n_samples=n_mc, beta=config.beta, generator=gen, dtype=f64).mean()
            )
        lk = float(estimators.iwae_bound(model, x, settings.iwae_k, generator=gen, dtype=f64).mean())
        enc_mean, enc_var = model.encode(x)
        _, dec_var = model.decoder_params(enc_mean, x)
        kl_dim = np.asarray(diagnostics.kl_per_dimension(model, x), dtype=np.float64).reshape(-1)
        au = diagnostics.active_units(model, x, threshold=ACTIVE_UNIT_THRESHOLD)
        second_moment = float(torch.mean(enc_mean**2 + enc_var))
        arrays: dict[str, np.ndarray] = {
            "originals": x_test[:12],
            "reconstructions": recon[:12].double().numpy(),
        }
        pixel_var, nearest = {}, {}
        for mode in sampling.SAMPLING_MODES:
            s = sampling.sample(model, settings.n_generated, mode=mode, alpha=SAMPLE_ALPHA, seed=seed)
            s = s.double().numpy()
            pixel_var[mode] = float(np.mean(np.var(s, axis=0)))
            nearest[mode] = _nearest_sq_distance(s, x_test)
            arrays[f"samples_{mode}"] = s[:36]
        grid_var = None
        if config.latent == 2:
            g = latent_grid(LATENT_GRID_SIZE)
            zz = np.array([[a, b] for b in g[::-1] for a in g])  # rows: z_2 from high to low
            means, _ = model.decoder_params(torch.as_tensor(zz, dtype=dtype))
            means = means.double().numpy()
            grid_var = float(np.mean(np.var(means, axis=0)))
            arrays["grid_z"] = g
            arrays["grid_means"] = means
    metrics = {
        "recon_mse": recon_mse,
        "elbo": elbo,
        "objective": objective,
        "iwae_k": settings.iwae_k,
        "iwae_bound": lk,
        "mean_decoder_variance": float(torch.mean(dec_var)),
        "kl_per_dimension": tuple(float(v) for v in kl_dim),
        "kl_total": float(np.sum(kl_dim)),
        "activity": tuple(float(v) for v in np.asarray(au.activity, dtype=np.float64).reshape(-1)),
        "active_units": int(au.count),
        "active_unit_threshold": ACTIVE_UNIT_THRESHOLD,
        "sample_alpha": SAMPLE_ALPHA,
        "sample_pixel_variance": pixel_var,
        "sample_nearest_sq_distance": nearest,
        "aggregate_second_moment": second_moment,
        "latent_grid_pixel_variance": grid_var,
    }
    return metrics, arrays
