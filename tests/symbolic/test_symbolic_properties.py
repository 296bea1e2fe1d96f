"""Property: gradient ascent on the 1-D ELBO reaches the symbolic optimum (m*, s*) and log p(x).

theory section 1. The ELBO being ascended is built in torch independently of the symbolic
module: E_q[log p(x|z)] by Gauss-Hermite quadrature (exact for this quadratic integrand) with
``torch.distributions.Normal.log_prob``, and KL(q || p(z)) by ``torch.distributions.kl_divergence``.
Gradient ascent in (m, log s) from a random start: Adam (the optimiser VAEs are trained with) for a
few hundred steps, then L-BFGS with a strong-Wolfe line search until the gradient vanishes. The
targets are the symbolic m* = w(x-b)/(w^2+v), s* = sqrt(v/(w^2+v)) and the exact log p(x).

Tolerances: |m - m*| <= 1e-6 s*, |s/s* - 1| <= 1e-6, and the final ELBO within 1e-10 nats of
log p(x) (the gap is KL(q || p(z|x)), quadratic in the parameter error); after Adam alone the ELBO
is already within 0.05 nats of log p(x).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.strategies import budget
from vaetheory.symbolic import derive_one_point

torch = pytest.importorskip("torch")


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(math.log(lo), math.log(hi)).map(math.exp)


decoders = st.fixed_dictionaries(
    {
        "x": st.floats(-3, 3, allow_nan=False),
        "w": st.floats(-2, 2, allow_nan=False),
        "b": st.floats(-2, 2, allow_nan=False),
        "v": log_uniform(0.05, 5.0),
    }
)

NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(6)  # exact for polynomials of degree <= 11


def torch_elbo(m, log_s, x, w, b, v):
    """ELBO(m, s) with torch.distributions, independent of the symbolic module."""
    dist = torch.distributions
    s = log_s.exp()
    z = m + s * torch.as_tensor(NODES, dtype=torch.float64)
    weights = torch.as_tensor(WEIGHTS / math.sqrt(2 * math.pi), dtype=torch.float64)
    log_lik = dist.Normal(w * z + b, math.sqrt(v)).log_prob(torch.tensor(x, dtype=torch.float64))
    expected_log_lik = (weights * log_lik).sum()
    kl = dist.kl_divergence(dist.Normal(m, s), dist.Normal(torch.zeros((), dtype=torch.float64), 1.0))
    return expected_log_lik - kl


@settings(max_examples=budget(10, 200))
@given(case=decoders, seed=st.integers(0, 2**31 - 1))
def test_gradient_ascent_reaches_the_symbolic_optimum(case, seed):
    torch.set_num_threads(1)
    one = derive_one_point()
    x, w, b, v = case["x"], case["w"], case["b"], case["v"]
    m_star = one.optimal_m.evaluate(x=x, w=w, b=b, v=v)
    s_star = one.optimal_s.evaluate(w=w, v=v)
    log_px = one.log_marginal.evaluate(x=x, w=w, b=b, v=v)

    gen = torch.Generator().manual_seed(seed)
    start = torch.randn(2, generator=gen, dtype=torch.float64) * torch.tensor([2.0, 1.0], dtype=torch.float64)
    params = start.clone().requires_grad_(True)
    adam_steps = budget(300, 2000)
    adam = torch.optim.Adam([params], lr=0.05)
    for _ in range(adam_steps):
        adam.zero_grad()
        (-torch_elbo(params[0], params[1], x, w, b, v)).backward()
        adam.step()
    after_adam = torch_elbo(params[0], params[1], x, w, b, v).item()
    lbfgs = torch.optim.LBFGS(
        [params],
        lr=1,
        max_iter=200,
        tolerance_grad=1e-13,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )

    def closure():
        lbfgs.zero_grad()
        loss = -torch_elbo(params[0], params[1], x, w, b, v)
        loss.backward()
        return loss

    lbfgs.step(closure)
    m, s = params[0].item(), math.exp(params[1].item())
    final = torch_elbo(params[0], params[1], x, w, b, v).item()
    note(f"start {start.tolist()}; after Adam ELBO={after_adam}; reached m={m}, s={s}, ELBO={final}")
    note(f"symbolic m*={m_star}, s*={s_star}, log p(x)={log_px}")
    assert log_px - after_adam <= 0.05
    assert abs(m - m_star) <= 1e-6 * s_star
    assert s / s_star == pytest.approx(1.0, abs=1e-6)
    assert final == pytest.approx(log_px, abs=1e-10)
    assert final <= log_px + 1e-12  # the ELBO never exceeds log p(x)
