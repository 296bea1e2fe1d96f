"""pPCA at d = 784, n = 70000, q = 20 (MNIST's shape): vaetheory's closed forms against the dense route.

Data: :func:`vaetheory.linear.data.synthetic_ppca_data` with 20 signal variances 40, 38, ..., 2,
noise variance 0.5 and seed 0 (float64).

* Log-likelihood of all n points at given (W, sigma^2, mean):
  :func:`vaetheory.linear.ppca.ppca_log_likelihood_samples` (Woodbury identity and determinant
  lemma, O(n d q)) against ``scipy.stats.multivariate_normal.logpdf`` with the full d x d
  covariance C = W W^T + sigma^2 I (formed in the timing, as a user would).
* Fit and log-likelihood: :func:`vaetheory.linear.ppca.ppca_mle` then ``score_samples`` against the
  dense route: ``np.cov`` (1/n), ``scipy.linalg.eigh``, W and sigma^2 from the Tipping-Bishop formulas,
  then the dense ``multivariate_normal.logpdf``.

Both routes' per-point values are compared (largest absolute difference, in the row's details).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.stats import multivariate_normal

from benchmarks._harness import Measurement, Row, log, paired_times, speedup_row


def dense_fit_loglik(X: np.ndarray, q: int) -> np.ndarray:
    """The dense route: covariance, eigendecomposition, pPCA ML parameters, full-covariance logpdf."""
    mean = X.mean(axis=0)
    S = np.cov(X, rowvar=False, bias=True)
    values, vectors = scipy.linalg.eigh(S)
    values, vectors = values[::-1], vectors[:, ::-1]
    sigma2 = values[q:].mean()
    W = vectors[:, :q] * np.sqrt(values[:q] - sigma2)
    C = W @ W.T + sigma2 * np.eye(X.shape[1])
    return multivariate_normal.logpdf(X, mean=mean, cov=C)


def run(smoke: bool) -> list[Row]:
    from vaetheory.linear.data import synthetic_ppca_data
    from vaetheory.linear.ppca import ppca_log_likelihood_samples, ppca_mle

    n, d, q = (500, 20, 3) if smoke else (70000, 784, 20)
    repeats = 1 if smoke else 3
    spectrum = tuple(float(v) for v in np.linspace(40.0, 2.0, q))
    X = synthetic_ppca_data(n_points=n, dim=d, spectrum=spectrum, noise_variance=0.5, seed=0).data
    log(f"ppca: data {X.shape}, {X.nbytes / 2**20:.0f} MiB")
    fit = ppca_mle(X, q)
    W, sigma2, mean = fit.W, fit.noise_variance, fit.mean

    def ours_ll() -> np.ndarray:
        return ppca_log_likelihood_samples(X, W, sigma2, mean)

    def dense_ll() -> np.ndarray:
        return multivariate_normal.logpdf(X, mean=mean, cov=W @ W.T + sigma2 * np.eye(d))

    def ours_fit() -> np.ndarray:
        return ppca_mle(X, q).score_samples(X)

    def dense_fit() -> np.ndarray:
        return dense_fit_loglik(X, q)

    diff_ll = float(np.max(np.abs(ours_ll() - dense_ll())))
    diff_fit = float(np.max(np.abs(ours_fit() - dense_fit())))
    details = {
        "n": n,
        "d": d,
        "q": q,
        "data": f"synthetic_ppca_data, spectrum linspace(40, 2, {q}), noise variance 0.5, seed 0",
        "repeats": repeats,
    }
    t_ours, t_dense = paired_times(ours_ll, dense_ll, repeats, warmup=0)
    rows = [
        speedup_row(
            "ppca",
            f"pPCA log-likelihood of {n} points (d={d}, q={q})",
            Measurement.of("ppca_log_likelihood_samples (Woodbury)", t_ours, "s"),
            Measurement.of("multivariate_normal.logpdf, dense C", t_dense, "s"),
            details={**details, "max_abs_difference_nats": diff_ll},
        )
    ]
    t_ours, t_dense = paired_times(ours_fit, dense_fit, repeats, warmup=0)
    rows.append(
        speedup_row(
            "ppca",
            f"pPCA fit + log-likelihood (n={n}, d={d}, q={q})",
            Measurement.of("ppca_mle + score_samples", t_ours, "s"),
            Measurement.of("np.cov + eigh + dense logpdf", t_dense, "s"),
            details={**details, "max_abs_difference_nats": diff_fit},
        )
    )
    return rows
