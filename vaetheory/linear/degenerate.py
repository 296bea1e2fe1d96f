r"""Degenerate data: :math:`\mathrm{rank}(S)\le q` makes the pPCA likelihood (and the linear-VAE
ELBO) unbounded, and the rate at which it grows.

theory sections 2 and 3. Along the path :math:`\sigma^2 = t \to 0`,
:math:`W(t) = U_q(L_q - tI)_+^{1/2}`, :math:`\mu = \bar x` (the optimum at each fixed :math:`t`), the
per-point log-likelihood is the profile :math:`g(t)`
(:func:`~vaetheory.linear.ppca.profile_log_likelihood`). If the data span an
:math:`r`-dimensional affine subspace, :math:`r = \mathrm{rank}(S)\le q`, then for :math:`t < l_r`

.. math:: g(t) = -\tfrac12\Big[d\log 2\pi + \sum_{j\le r}\log l_j + r\Big] - \frac{d-r}{2}\log t,

exactly (derived): a straight line of slope :math:`-(d-r)/2` in :math:`\log t`, so
:math:`g\to+\infty` as :math:`t\to0`. At the optimal encoder the ELBO equals :math:`g`, so this is
the linear case of the Dai & Wipf (2019) rate, :math:`\frac{d-r}{2}\log\gamma` per point in ELBO
units (their :math:`(d-r)\log\gamma` is twice the negative ELBO). If :math:`r > q` the likelihood is
bounded: :math:`g(t)\to-\infty` as :math:`t\to0`.

References: B. Dai and D. Wipf, "Diagnosing and Enhancing VAE Models", ICLR 2019,
arXiv:1903.05789; M. E. Tipping and C. M. Bishop (1999).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vaetheory._validation import check_int, check_positive_array
from vaetheory.linear._checks import check_latent_size
from vaetheory.linear.ppca import as_moments, eigenbasis_log_likelihood, loading_at, profile_log_likelihood
from vaetheory.results import Result


def unboundedness_rate(dim: int, rank: int) -> float:
    r"""Slope :math:`d\,g/d\log\sigma^2 = -(d-r)/2` of the per-point log-likelihood (= ELBO at the
    optimal encoder) along the degenerate path (Dai & Wipf 2019, linear case; derived).

    ``dim`` >= 1 and ``0 <= rank <= dim`` (a ``ValueError`` names the argument otherwise)."""
    dim = check_int("dim", dim, low=1)
    rank = check_int("rank", rank, low=0, high=dim)
    return -0.5 * (dim - rank)


@dataclass(frozen=True)
class DegeneratePath(Result):
    r"""The per-point log-likelihood along :math:`\sigma^2=t`, :math:`W=U_q(L_q-tI)_+^{1/2}`.

    Attributes
    ----------
    q, dim, rank : latent size, data dimension d, numerical rank r of S.
    degenerate : :math:`r \le q` (unbounded likelihood).
    noise_variances : the path's :math:`t` values (decoder VARIANCES).
    log_likelihood_per_point : :math:`g(t)` at each (closed form from the eigenvalues).
    rate : :math:`-(d-r)/2` when degenerate, else ``nan``.
    intercept : the constant :math:`-\frac12[d\log 2\pi+\sum_{j\le r}\log l_j + r]` of the exact line
        :math:`g(t) = \mathrm{intercept} + \mathrm{rate}\log t` (valid for :math:`t<l_r`), else ``nan``.
    line_valid_below : :math:`l_r`, below which the line is exact (``nan`` if not degenerate).
    """

    q: int
    dim: int
    rank: int
    degenerate: bool
    noise_variances: np.ndarray
    log_likelihood_per_point: np.ndarray
    rate: float
    intercept: float
    line_valid_below: float

    def theory_line(self, noise_variances) -> np.ndarray:
        """The exact line ``intercept + rate * log(t)`` (degenerate data only)."""
        return self.intercept + self.rate * np.log(np.asarray(noise_variances, dtype=np.float64))

    def loading(self, moments, noise_variance: float) -> np.ndarray:
        """The path's ``W(t)`` for these moments (to score data along the path)."""
        return loading_at(moments, self.q, noise_variance)


def degenerate_path(data_or_moments, q, noise_variances) -> DegeneratePath:
    r"""The profile log-likelihood along the path :math:`t\to0` and, for :math:`\mathrm{rank}(S)\le q`,
    its exact line of slope :math:`-(d-r)/2` in :math:`\log t` (module docstring)."""
    moments = as_moments(data_or_moments)
    d = moments.dim
    q = check_latent_size(q, d)
    ts = check_positive_array("noise_variances", noise_variances, ndim=1)
    r = moments.rank
    values = np.array([profile_log_likelihood(moments.eigenvalues, q, t) for t in ts])
    degenerate = moments.is_degenerate(q)
    if degenerate and r > 0:
        lam = moments.eigenvalues[:r]
        # g(t) + ((d - r)/2) log t is the eigenbasis log-likelihood with c_j = l_j (j <= r) at t = 1:
        # the discarded eigenvalues are exact zeros, so their l_j / t terms vanish
        intercept = eigenbasis_log_likelihood(moments.eigenvalues, lam, 1.0)
        rate = unboundedness_rate(d, r)
        valid_below = float(lam[-1])
    else:
        intercept, rate, valid_below = math.nan, math.nan, math.nan
    return DegeneratePath(
        q=q,
        dim=d,
        rank=r,
        degenerate=degenerate,
        noise_variances=ts,
        log_likelihood_per_point=values,
        rate=rate,
        intercept=intercept,
        line_valid_below=valid_below,
    )
