"""Float tolerances for the linear tests, each set from the size of what float64 rounds.

A per-point Gaussian log-likelihood of data is -(1/2)[d log 2 pi + log|C| + y^T C^{-1} y]: its
rounding error is a few machine epsilons times the size of the terms that cancel, not of the
result. The quadratic form is computed as (|y|^2 - y^T W M^{-1} W^T y) / sigma^2 (Woodbury) or as
|y - W V y|^2 / sigma^2 (the ELBO), so its cancelled size is |y|^2 / sigma^2, which grows without
bound as sigma^2 -> 0 (the degenerate path); log|C| sums d logarithms of size |log c_j|. Summing n
points adds log2(n) roundings (pairwise summation), and BLAS kernels (OpenBLAS Haswell, SkylakeX,
Sandybridge, ...) order the d-term dot products differently, which is exactly what these bounds
cover. The factor ``ROUNDINGS`` = 64 allows for the d-term sums, the Cholesky solve and the mean.
"""

from __future__ import annotations

import math

import numpy as np

EPS = float(np.finfo(np.float64).eps)
#: roundings allowed per cancelled term (d-term dot products, Cholesky solve, mean over points)
ROUNDINGS = 64


def loglik_atol(X, noise_variance: float, log_variances=(), *, per_point: bool = False):
    """Absolute tolerance for a mean log-likelihood or ELBO of ``X`` at ``noise_variance`` (or, with
    ``per_point``, an array for each point's value).

    ``ROUNDINGS * eps * (cancelled size)``: |y|^2 / sigma^2 (y = x - mean; its mean over points for
    the mean), plus d (|log(2 pi sigma^2)| + 1) and the sum of |log c_j| of other model variances.
    """
    X = np.asarray(X, dtype=np.float64)
    y2 = np.sum((X - X.mean(axis=0)) ** 2, axis=1)
    d = X.shape[1]
    logs = np.abs(np.log(np.asarray(log_variances, dtype=np.float64))) if len(log_variances) else np.zeros(1)
    constant = d * (abs(math.log(2 * math.pi * noise_variance)) + 1.0) + float(np.sum(logs))
    size = (y2 if per_point else float(np.mean(y2))) / noise_variance + constant
    return ROUNDINGS * EPS * size
