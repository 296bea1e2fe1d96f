"""Validation at the door for the linear module: data, latent size, pPCA and encoder parameters.

Every error is a :class:`ValueError` naming the argument and the accepted range (via
:mod:`vaetheory._validation`). Internal helpers trust their inputs.
"""

from __future__ import annotations

import numpy as np

from vaetheory._validation import check_finite_array, check_int, check_positive, check_positive_array


def check_data(data, name: str = "data") -> np.ndarray:
    """A finite float64 ``(n, d)`` data matrix with ``n >= 2`` points (rows) and ``d >= 2``."""
    arr = check_finite_array(name, data, ndim=2, min_rows=2)
    if arr.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 columns (dimensions d >= 2); got shape {arr.shape}")
    return arr


def check_latent_size(q, dim: int, name: str = "q") -> int:
    """The latent size ``q`` as an int with ``1 <= q <= d - 1`` (``q >= d`` leaves no noise)."""
    return check_int(name, q, low=1, high=dim - 1)


def check_noise_variance(value, name: str = "noise_variance") -> float:
    """A decoder noise VARIANCE sigma^2 > 0."""
    return check_positive(name, value)


def check_beta(value, name: str = "beta") -> float:
    """The KL weight beta > 0 of the beta-VAE."""
    return check_positive(name, value)


def check_loading(W, dim: int, name: str = "W") -> np.ndarray:
    """A finite ``(d, q)`` loading (decoder weight) matrix with ``1 <= q <= d - 1``."""
    arr = check_finite_array(name, W, ndim=2)
    if arr.shape[0] != dim:
        raise ValueError(f"{name} must have shape (d={dim}, q); got {arr.shape}")
    check_latent_size(arr.shape[1], dim, name=f"{name}.shape[1] (q)")
    return arr


def check_mean(mean, dim: int, name: str = "mean") -> np.ndarray:
    """A finite mean vector of length ``d``."""
    return check_finite_array(name, mean, shape=(dim,))


def check_encoder(V, D, dim: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Encoder weight ``V`` of shape ``(q, d)`` and diagonal encoder VARIANCES ``D > 0`` of length ``q``."""
    V = check_finite_array("V", V, shape=(q, dim))
    D = check_positive_array("D", D, ndim=1)
    if D.shape != (q,):
        raise ValueError(f"D must have shape (q={q},); got {D.shape}")
    return V, D
