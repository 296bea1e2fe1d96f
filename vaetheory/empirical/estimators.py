r"""Likelihood estimators: the ELBO, the importance-weighted bound L_k, and exact log p(x) by quadrature.

theory section 4. With :math:`w_i = p(x,z_i)/q(z_i\mid x)`, :math:`z_i\sim q(z\mid x)`,

.. math:: L_k(x)=\mathbb E\Big[\log\frac1k\sum_{i=1}^k w_i\Big],\qquad
          \mathrm{ELBO}=L_1\le L_k\le L_{k+1}\le\log p(x)

(Burda, Grosse & Salakhutdinov, ICLR 2016, arXiv:1509.00519). :func:`iwae_bound` draws one
estimate of :math:`L_k` per point, chunked over the k samples with a streaming log-sum-exp so memory
does not grow with k. :func:`exact_log_marginal` integrates
:math:`p(x)=\int p(x\mid z)\,\mathcal N(z;0,I)\,dz` by composite Gauss-Legendre quadrature on
:math:`[-L,L]^q` for a latent of size 1 or 2, in log space. :func:`linear_log_marginal` is the
closed form of a linear decoder (``hidden=()``),
:math:`\mathcal N(x; b, WW^\top+\operatorname{diag}\sigma^2)`,
from ``torch.distributions.MultivariateNormal``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch.distributions import MultivariateNormal

from vaetheory._validation import check_choice, check_finite_array, check_int, check_positive

DTYPES = {None: None, "float32": torch.float32, "float64": torch.float64}


def as_data_tensor(x, model=None, *, name: str = "x", dtype=None) -> torch.Tensor:
    """Validate ``x`` (2-D, finite, ``data_dim`` columns) and return it as a tensor of ``dtype``.

    ``dtype`` defaults to the model's parameter dtype (float32 when no model is given).
    """
    if isinstance(x, torch.Tensor):
        arr = check_finite_array(name, x.detach().cpu().double().numpy(), ndim=2)
    else:
        arr = check_finite_array(name, x, ndim=2)
    if model is not None and arr.shape[1] != model.config.data_dim:
        raise ValueError(f"{name} must have {model.config.data_dim} columns (data_dim); got {arr.shape[1]}")
    if dtype is None:
        dtype = next(model.parameters()).dtype if model is not None else torch.float32
    return torch.as_tensor(arr, dtype=dtype)


def _model_in(model, dtype):
    """``model`` itself, or a copy converted to ``dtype`` (float32 / float64)."""
    if isinstance(dtype, str):
        check_choice("dtype", dtype, ("float32", "float64"))
        dtype = DTYPES[dtype]
    if dtype is None or next(model.parameters()).dtype == dtype:
        return model, next(model.parameters()).dtype
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    return copy.deepcopy(model).to(dtype), dtype


def log_weights(model, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """:math:`\\log p(x\\mid z)+\\log p(z)-\\log q(z\\mid x)` for ``z`` ``[k, n, q]``; shape ``[k, n]``."""
    q = model.posterior(x)
    return model.decode(z, x).log_prob(x) + model.prior(x).log_prob(z) - q.log_prob(z)


def iwae_bound(
    model,
    x,
    k: int,
    *,
    chunk_size: int = 256,
    generator: torch.Generator | None = None,
    dtype=None,
    requires_grad: bool = False,
) -> torch.Tensor:
    r"""One draw of the importance-weighted bound :math:`L_k(x)` per point, shape ``[n]`` (nats).

    .. math:: \hat L_k(x)=\log\frac1k\sum_{i=1}^k\frac{p(x\mid z_i)\,p(z_i)}{q(z_i\mid x)},
              \quad z_i\sim q(z\mid x)

    Samples are drawn ``chunk_size`` at a time and folded into a running
    :math:`\operatorname{logaddexp}`, so memory is :math:`O(\text{chunk\_size}\cdot n\cdot d)` for
    any ``k`` (k = 5000 included). ``dtype`` (``torch.float32``/``float64`` or their names) runs a
    converted copy of the model. Without ``requires_grad`` it runs under ``torch.no_grad``.
    :math:`\mathbb E\hat L_k` increases with k towards :math:`\log p(x)` (Burda et al. 2016); a
    single draw can exceed :math:`\log p(x)`.
    """
    k = check_int("k", k, low=1)
    chunk_size = check_int("chunk_size", chunk_size, low=1)
    model, dtype = _model_in(model, dtype)
    x = as_data_tensor(x, model, dtype=dtype)
    with torch.set_grad_enabled(requires_grad):
        q = model.posterior(x)
        mean, std = q.base_dist.loc, q.base_dist.scale
        total = torch.full((x.shape[0],), -math.inf, dtype=dtype)
        done = 0
        while done < k:
            c = min(chunk_size, k - done)
            eps = torch.randn((c, *mean.shape), generator=generator, dtype=dtype)
            z = mean + std * eps
            total = torch.logaddexp(total, torch.logsumexp(log_weights(model, x, z), dim=0))
            done += c
        return total - math.log(k)


def elbo(model, x, *, n_samples: int = 1, beta: float = 1.0, generator=None, dtype=None) -> torch.Tensor:
    """Per-point ELBO (analytic KL, ``n_samples`` samples), without gradient; see ``GaussianVAE.elbo``."""
    model, dtype = _model_in(model, dtype)
    x = as_data_tensor(x, model, dtype=dtype)
    with torch.no_grad():
        return model.elbo(x, n_samples=n_samples, beta=beta, generator=generator)


def quadrature_rule(
    latent_dim: int, n_panels: int, order: int = 8, half_width: float = 8.0, grading: float = 3.0
):
    r"""Nodes ``[m, q]`` and log weights ``[m]`` for :math:`\int f(z)\,\mathcal N(z;0,I)\,dz` on
    :math:`[-L,L]^q`.

    Composite Gauss-Legendre: ``n_panels`` panels per axis with edges
    :math:`L\sinh(a u)/\sinh a`, :math:`u` evenly spaced in :math:`[-1,1]` (``grading`` :math:`a`;
    0 gives equal panels), so panels are finest near :math:`z=0`, where a decoder like the blow-up
    construction's :math:`\tanh(kz)` switches; ``order`` nodes per panel; the log weight includes the
    prior density. The prior mass outside :math:`[-8,8]` is :math:`<2\times10^{-15}` per axis.
    """
    t, w = np.polynomial.legendre.leggauss(order)
    u = np.linspace(-1.0, 1.0, n_panels + 1)
    edges = half_width * (np.sinh(grading * u) / np.sinh(grading) if grading > 0 else u)
    half = 0.5 * (edges[1:] - edges[:-1])
    mid = 0.5 * (edges[1:] + edges[:-1])
    nodes_1d = (mid[:, None] + half[:, None] * t[None, :]).ravel()
    logw_1d = (
        (np.log(half)[:, None] + np.log(w)[None, :]).ravel() - 0.5 * nodes_1d**2 - 0.5 * math.log(2 * math.pi)
    )
    if latent_dim == 1:
        return nodes_1d[:, None], logw_1d
    grid = np.stack(np.meshgrid(nodes_1d, nodes_1d, indexing="ij"), axis=-1).reshape(-1, 2)
    logw = (logw_1d[:, None] + logw_1d[None, :]).ravel()
    return grid, logw


def exact_log_marginal(
    model,
    x,
    *,
    n_panels: int | None = None,
    order: int = 8,
    half_width: float = 8.0,
    grading: float = 3.0,
    chunk_size: int = 4096,
    dtype=torch.float64,
    max_elements: int = 2**21,
) -> torch.Tensor:
    r"""The marginal log-likelihood per point, ``[n]``:
    :math:`\log p(x)=\log\int p(x\mid z)\,\mathcal N(z;0,I)\,dz`.

    Composite Gauss-Legendre quadrature (:func:`quadrature_rule`) evaluated in log space
    (:math:`\log\sum_j e^{\log w_j+\log p(x\mid z_j)}`), streaming over points and nodes in chunks
    of at most ``chunk_size`` nodes and about ``max_elements`` (nodes x points x dimensions) entries
    per decoded tensor, so memory is flat in the number of points; in float64 by default.
    Only for ``latent_dim`` 1 or 2. Default panels: 600 (latent 1) or 24 per axis
    (latent 2), graded towards z = 0. Checked against the linear-Gaussian closed form
    (:func:`linear_log_marginal`).
    """
    q = model.config.latent_dim
    if q not in (1, 2):
        raise ValueError(f"exact_log_marginal needs latent_dim 1 or 2 (quadrature); got {q}")
    if n_panels is None:
        n_panels = 600 if q == 1 else 24
    n_panels = check_int("n_panels", n_panels, low=1)
    order = check_int("order", order, low=1, high=64)
    half_width = check_positive("half_width", half_width)
    model, dtype = _model_in(model, dtype)
    x = as_data_tensor(x, model, dtype=dtype)
    nodes, logw = quadrature_rule(q, n_panels, order, half_width, grading)
    nodes = torch.as_tensor(nodes, dtype=dtype)
    logw = torch.as_tensor(logw, dtype=dtype)
    max_elements = check_int("max_elements", max_elements, low=1)
    n, d = x.shape
    points = max(1, min(n, max_elements // d))  # points per block
    per_chunk = max(1, min(chunk_size, max_elements // (points * d)))  # nodes per chunk
    total = torch.full((n,), -math.inf, dtype=dtype)
    with torch.no_grad():
        for lo in range(0, n, points):
            xb = x[lo : lo + points]
            acc = total[lo : lo + points]
            for start in range(0, nodes.shape[0], per_chunk):
                z = nodes[start : start + per_chunk]
                log_lik = model.decode(z[:, None, :].expand(-1, xb.shape[0], -1), xb).log_prob(xb)
                weighted = log_lik + logw[start : start + per_chunk, None]
                acc = torch.logaddexp(acc, torch.logsumexp(weighted, 0))
            total[lo : lo + points] = acc
    return total


def linear_log_marginal(model, x, *, dtype=torch.float64) -> torch.Tensor:
    r"""Closed form for a linear Gaussian decoder (``hidden=()``):
    :math:`\log\mathcal N(x; b, WW^\top+\operatorname{diag}\sigma^2)`.

    Uses ``torch.distributions.MultivariateNormal``. Requires a decoder variance free of z
    (``hidden=()`` with any Gaussian policy except ``calibrated``).
    """
    c = model.config
    if c.hidden or c.likelihood != "gaussian" or c.policy.data_dependent:
        raise ValueError("linear_log_marginal needs hidden=() and a gaussian, non-calibrated decoder")
    model, dtype = _model_in(model, dtype)
    x = as_data_tensor(x, model, dtype=dtype)
    with torch.no_grad():
        W = model.decoder_mean.weight
        b = model.decoder_mean.bias
        _, variance = model.decoder_params(torch.zeros(1, c.latent_dim, dtype=dtype))
        cov = W @ W.T + torch.diag(variance[0])
        return MultivariateNormal(b, covariance_matrix=cov).log_prob(x)
