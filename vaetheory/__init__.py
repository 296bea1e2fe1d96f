"""vaetheory: is ELBO training of a Gaussian VAE with a learned decoder variance well-posed?

The package is layered so that each layer depends only on the ones above it:

* :mod:`vaetheory.densities`, :mod:`vaetheory.provenance`, :mod:`vaetheory.results` -- shared
  float64 formulas (each written once), provenance records and result values.
* :mod:`vaetheory.symbolic` (sympy), :mod:`vaetheory.linear` (numpy/scipy) and
  :mod:`vaetheory.empirical` (PyTorch) -- the three routes to the theory. ``symbolic`` and
  ``linear`` import neither torch nor matplotlib.
* :mod:`vaetheory.plots` -- draws result values; computes nothing.
* :mod:`vaetheory.cli` -- the ``vaetheory`` command line: parses, calls the library, renders.

``import vaetheory`` is light: it imports neither torch nor matplotlib.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
