r"""The linear theory beside the measurement (theory section 3; Lucas et al. 2019, arXiv:1911.02469).

With a fixed decoder variance \sigma^2 and weight \beta, the linear VAE's objective satisfies
ELBO_\beta(\sigma^2) = \beta ELBO(\beta \sigma^2) + const, so latent direction j collapses iff
l_j <= \beta \sigma^2, with l_1 >= l_2 >= ... the eigenvalues of the training data covariance. The
predicted number of active units is therefore min(q, #{j : l_j > \beta \sigma^2}). With a learned
(shared, pPCA) variance \sigma^2_{ML} = mean of the l_j beyond q, and every kept direction with
l_j > \sigma^2_{ML} stays active. Every formula here is :mod:`vaetheory.linear`'s.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vaetheory._validation import check_int
from vaetheory.results import Result
from vaetheory.studies.thesis_ch5.configurations import ThesisConfiguration


@dataclasses.dataclass(frozen=True)
class LinearPrediction(Result):
    r"""The linear VAE's prediction for one configuration (its closed-form global optimum).

    ``active_units``: #{j <= q : l_j > t}; ``threshold_variance``: t = \beta \sigma^2 for a fixed
    decoder variance, pPCA's \sigma^2_{ML} = (1/(d - q)) \sum_{j > q} l_j when it is learned (shared);
    ``recon_mse`` and ``elbo``: the optimum's held-out reconstruction MSE of the encoder mean,
    mean over points and pixels of (x - \mu - W^* V^* (x - \mu))^2, and its held-out ELBO (\beta = 1,
    nats per point). theory section 3; Lucas et al. (2019), arXiv:1911.02469.
    """

    active_units: int
    threshold_variance: float
    recon_mse: float
    elbo: float


def linear_prediction(moments, config: ThesisConfiguration, x_test: np.ndarray) -> LinearPrediction:
    r"""The linear VAE at its global optimum for ``config``, evaluated on ``x_test``.

    ``moments``: :func:`vaetheory.linear.moments.sample_moments` of the training points. Fixed
    \sigma: :func:`vaetheory.linear.variants.beta_vae_optimum` (direction j active iff
    l_j > \beta \sigma^2); learned: :func:`vaetheory.linear.linear_vae.linear_vae_optimum` (shared
    \sigma^2 = \sigma^2_{ML}; the nonlinear model learns a per-pixel variance instead).
    """
    from vaetheory.linear.linear_vae import linear_vae_elbo, linear_vae_optimum
    from vaetheory.linear.variants import beta_vae_optimum

    if config.sigma is None:
        opt = linear_vae_optimum(moments, config.latent)
        threshold = opt.noise_variance
    else:
        opt = beta_vae_optimum(moments, config.latent, config.beta, config.sigma**2)
        threshold = opt.effective_variance
    centred = x_test - opt.mean
    recon = centred @ opt.V.T @ opt.W.T
    elbo = linear_vae_elbo(x_test, opt.W, opt.V, opt.D, opt.noise_variance, opt.mean)
    return LinearPrediction(
        active_units=int(np.sum(opt.active)),
        threshold_variance=float(threshold),
        recon_mse=float(np.mean((centred - recon) ** 2)),
        elbo=elbo,
    )


def predicted_active_curve(spectrum: np.ndarray, q: int, thresholds: np.ndarray) -> np.ndarray:
    r"""min(q, #{j : l_j > t}) for each threshold t = \beta \sigma^2: the linear VAE's active units.

    theory section 3 (a fixed decoder variance \sigma^2 and KL weight \beta; Lucas et al. 2019).
    """
    from vaetheory.linear.moments import active_mask  # the collapse rule, written once in linear

    spectrum = np.asarray(spectrum, dtype=np.float64)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    counts = np.sum(active_mask(spectrum[None, :], thresholds[:, None]), axis=1)
    return np.minimum(counts, check_int("q", q, low=1))
