"""pPCA and the linear VAE in closed form (numpy/scipy, float64). Imports neither torch nor matplotlib.

theory section 3. Modules, one job each:

* :mod:`~vaetheory.linear.moments` -- sample mean and scatter eigendecomposition (computed once);
* :mod:`~vaetheory.linear.ppca` -- pPCA maximum likelihood and the exact log-likelihood
  (determinant lemma + Woodbury; Tipping & Bishop 1999);
* :mod:`~vaetheory.linear.stationary` -- every stationary point and which is the maximum;
* :mod:`~vaetheory.linear.linear_vae` -- the linear VAE's closed-form ELBO, its optimum, rotations
  (Lucas et al. 2019);
* :mod:`~vaetheory.linear.variants` -- fixed variance, beta-VAE, variance floor, variance split;
* :mod:`~vaetheory.linear.degenerate` -- rank(S) <= q: the unbounded path and its rate (Dai & Wipf 2019);
* :mod:`~vaetheory.linear.data` -- synthetic pPCA data and the ``--data`` spec;
* :mod:`~vaetheory.linear.summary` -- the per-latent-size summary printed by ``vaetheory linear``.
"""

from vaetheory.linear.data import load_data, synthetic_ppca_data
from vaetheory.linear.degenerate import degenerate_path, unboundedness_rate
from vaetheory.linear.linear_vae import (
    linear_vae_elbo,
    linear_vae_elbo_samples,
    linear_vae_optimum,
    optimal_diagonal_encoder,
    rotated_elbo,
)
from vaetheory.linear.moments import SampleMoments, sample_moments
from vaetheory.linear.ppca import (
    PPCAFit,
    max_log_likelihood,
    ppca_log_likelihood,
    ppca_log_likelihood_samples,
    ppca_mle,
    profile_log_likelihood,
)
from vaetheory.linear.stationary import stationary_point, stationary_points
from vaetheory.linear.variants import (
    beta_vae_optimum,
    collapse_threshold,
    fixed_variance_optimum,
    floored_optimum,
    variance_split,
)

__all__ = [
    "PPCAFit",
    "SampleMoments",
    "beta_vae_optimum",
    "collapse_threshold",
    "degenerate_path",
    "fixed_variance_optimum",
    "floored_optimum",
    "linear_vae_elbo",
    "linear_vae_elbo_samples",
    "linear_vae_optimum",
    "load_data",
    "max_log_likelihood",
    "optimal_diagonal_encoder",
    "ppca_log_likelihood",
    "ppca_log_likelihood_samples",
    "ppca_mle",
    "profile_log_likelihood",
    "rotated_elbo",
    "sample_moments",
    "stationary_point",
    "stationary_points",
    "synthetic_ppca_data",
    "unboundedness_rate",
    "variance_split",
]
