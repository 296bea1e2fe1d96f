"""PyTorch experiments: Gaussian VAEs with every decoder-variance policy, blow-up, estimators.

Modules (import them directly; this package does not import torch on its own):

* :mod:`~vaetheory.empirical.policies` -- variance policies and floors, and the bound each implies.
* :mod:`~vaetheory.empirical.model` -- :class:`GaussianVAE` (Gaussian or Bernoulli decoder).
* :mod:`~vaetheory.empirical.estimators` -- ELBO, IWAE L_k, exact log p(x) by quadrature.
* :mod:`~vaetheory.empirical.construction` -- the explicit blow-up sequence (theory section 2).
* :mod:`~vaetheory.empirical.training` -- training runs with logs, checkpoints and resume.
* :mod:`~vaetheory.empirical.sampling` -- ancestral / mean / mean_plus_std sampling.
* :mod:`~vaetheory.empirical.diagnostics` -- active units, KL per dimension, I(x; z), a monitor.
"""
