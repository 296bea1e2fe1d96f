r"""The 1-D Gaussian VAE for one data point, derived by sympy from the densities.

Model (theory section 1): :math:`z\sim\mathcal N(0,1)`, :math:`p(x|z)=\mathcal N(x; wz+b, v)`
(``v`` a variance), :math:`q(z)=\mathcal N(z; m, s^2)` (``s`` a standard deviation).

* ELBO: :math:`\mathcal L = E_q[\log p(x|z)] - \mathrm{KL}(q\|p(z))`, both expectations computed by
  sympy under :math:`q` (:func:`vaetheory.symbolic.gaussian.expectation`), giving
  :math:`-\tfrac12\log(2\pi v) - [(x-b-wm)^2 + w^2 s^2]/(2v) - \tfrac12(m^2+s^2-1-\log s^2)`.
* Exact log marginal: :math:`\log\int p(x|z)p(z)\,dz = \log\mathcal N(x; b, w^2+v)`.
* Exact posterior :math:`p(z|x)=\mathcal N(w(x-b)/(w^2+v),\ v/(w^2+v))`, and the identity
  :math:`\log p(x) - \mathcal L = \mathrm{KL}(q\|p(z|x))`.
* Optimal encoder (sympy ``solve`` of the gradient): :math:`m^*=w(x-b)/(w^2+v)`,
  :math:`s^{*2}=v/(w^2+v)`, a maximum (Hessian negative definite), where :math:`\mathcal L=\log p(x)`.

Kingma & Welling (2014), arXiv:1312.6114, for the ELBO; the closed forms are vaetheory's own
derivation (theory section 1).
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from vaetheory.results import Result
from vaetheory.symbolic._symbols import b, m, s, v, w, x, z
from vaetheory.symbolic.formula import Check, Formula, Step, check_identity
from vaetheory.symbolic.gaussian import (
    expectation,
    log_integral_of_exp_quadratic,
    normal_logpdf,
)

THEORY = "theory section 1"


@dataclasses.dataclass(frozen=True)
class OnePointVAE(Result):
    """Everything derived for one data point; each field a :class:`Formula` or a :class:`Check`."""

    reconstruction: Formula
    kl_prior: Formula
    elbo: Formula
    log_marginal: Formula
    posterior_mean: Formula
    posterior_variance: Formula
    kl_posterior: Formula
    gap: Formula
    optimal_m: Formula
    optimal_s: Formula
    hessian_at_optimum: Formula
    checks: tuple[Check, ...]


def elbo_presented() -> sp.Expr:
    r"""The ELBO grouped as theory section 1 writes it (checked equal to the derived one)."""
    return (
        -sp.log(2 * sp.pi * v) / 2
        - ((x - b - w * m) ** 2 + w**2 * s**2) / (2 * v)
        - (m**2 + s**2 - 1 - sp.log(s**2)) / 2
    )


@functools.lru_cache(maxsize=1)
def derive_one_point() -> OnePointVAE:
    """Derive the one-point results (memoised: the derivation runs once per process)."""
    log_lik = normal_logpdf(x, w * z + b, v)
    log_prior = normal_logpdf(z, 0, 1)
    log_q = normal_logpdf(z, m, s**2)

    # ELBO = E_q[log p(x|z)] - KL(q || p(z)), each expectation integrated against q.
    reconstruction = expectation(log_lik, z, m, s**2)
    kl_prior = sp.collect(expectation(log_q - log_prior, z, m, s**2), s)
    elbo_derived = sp.expand(reconstruction - kl_prior)
    elbo = elbo_presented()

    # log p(x) = log of the Gaussian integral of p(x|z) p(z) over z.
    log_marginal_derived = log_integral_of_exp_quadratic(log_lik + log_prior, z)
    log_marginal = -sp.log(2 * sp.pi * (w**2 + v)) / 2 - (x - b) ** 2 / (2 * (w**2 + v))

    # Exact posterior: log p(z|x) = log p(x|z) + log p(z) - log p(x), quadratic in z.
    log_post = sp.expand(log_lik + log_prior - log_marginal)
    quad = sp.Poly(log_post, z)
    post_var = sp.factor(-1 / (2 * quad.coeff_monomial(z**2)))
    post_mean = sp.factor(sp.cancel(quad.coeff_monomial(z) * post_var))
    # KL(q || N(mu, tau)) integrated against q with placeholders mu, tau, then the posterior's put in
    mu, tau = sp.Symbol("mu", real=True), sp.Symbol("tau", positive=True)
    kl_generic = expectation(log_q - normal_logpdf(z, mu, tau), z, m, s**2)
    kl_generic_closed = ((s**2 + (m - mu) ** 2) / tau - 1 - sp.log(s**2 / tau)) / 2
    kl_post = kl_generic_closed.subs({mu: post_mean, tau: post_var})
    gap = log_marginal - elbo

    # Stationary point of the ELBO in (m, s), with s > 0 carried by the symbol's assumption.
    gradient = [sp.diff(elbo, m), sp.diff(elbo, s)]
    solutions = sp.solve(gradient, [m, s], dict=True, simplify=False)
    if len(solutions) != 1:  # pragma: no cover - would mean the model changed
        raise AssertionError(f"expected one stationary point, got {solutions}")
    m_star = sp.factor(solutions[0][m])
    s_star = solutions[0][s]
    hessian = sp.hessian(elbo, (m, s)).subs({m: m_star, s: s_star}).applyfunc(sp.cancel)
    # the posterior variance with s^2 = s*^2 read off directly
    checks = (
        check_identity("elbo_from_densities", "E_q[log p(x|z)] - KL(q||p(z)) = ELBO", elbo_derived, elbo),
        check_identity(
            "log_marginal_is_gaussian",
            "log int p(x|z) p(z) dz = log N(x; b, w^2 + v)",
            log_marginal_derived,
            normal_logpdf(x, b, w**2 + v),
        ),
        check_identity(
            "posterior_is_gaussian",
            "log p(x|z) + log p(z) - log p(x) = log N(z; m_post, v_post)",
            log_post,
            normal_logpdf(z, post_mean, post_var),
        ),
        check_identity(
            "kl_to_posterior_closed_form",
            "E_q[log q(z) - log N(z; mu, tau)] = (1/2)[(s^2 + (m - mu)^2)/tau - 1 - log(s^2/tau)]",
            kl_generic,
            kl_generic_closed,
        ),
        check_identity("gap_is_kl_to_posterior", "log p(x) - ELBO = KL(q || p(z|x))", gap, kl_post),
        check_identity("optimal_m_is_posterior_mean", "m* = posterior mean", m_star, post_mean),
        check_identity("optimal_s_is_posterior_std", "s*^2 = posterior variance", s_star**2, post_var),
        check_identity(
            "elbo_at_optimum_is_log_marginal",
            "ELBO(m*, s*) = log p(x)",
            elbo.subs({m: m_star, s: s_star}),
            log_marginal,
        ),
        Check(
            name="optimum_is_a_maximum",
            statement="Hessian of the ELBO in (m, s) at (m*, s*) is negative definite: H_mm < 0, det H > 0",
            residual=sp.Tuple(hessian[0, 0], sp.factor(hessian.det())),
            holds=bool(
                sp.factor(-hessian[0, 0]).is_positive
                and sp.factor(hessian.det()).is_positive
                and hessian[0, 1] == 0
            ),
        ),
    )
    ql, pz = r"\mathbb{E}_{q}", r"p(z)"
    elbo_steps = (
        Step("decoder log-density, log of N(x; wz+b, v)", r"\log p(x\mid z)", log_lik),
        Step(
            "its expectation under q = N(m, s^2), integrated by sympy",
            rf"{ql}[\log p(x\mid z)]",
            reconstruction,
        ),
        Step(
            "KL to the prior, E_q[log q(z) - log p(z)] integrated by sympy",
            rf"\mathrm{{KL}}(q\,\|\,{pz})",
            kl_prior,
        ),
        Step(
            "ELBO = reconstruction - KL, regrouped (sympy checks the two are equal)",
            r"\mathcal{L}(m, s)",
            elbo,
        ),
    )
    f = functools.partial(Formula, theory=THEORY)
    return OnePointVAE(
        reconstruction=f(
            key="reconstruction",
            title="expected log-likelihood E_q[log p(x|z)]",
            lhs=rf"{ql}[\log p(x\mid z)]",
            expression=reconstruction,
        ),
        kl_prior=f(
            key="kl_prior", title="KL(q || p(z))", lhs=r"\mathrm{KL}(q\,\|\,p(z))", expression=kl_prior
        ),
        elbo=f(
            key="elbo",
            title="ELBO for one point",
            lhs=r"\mathcal{L}(m, s)",
            expression=elbo,
            steps=elbo_steps,
        ),
        log_marginal=f(
            key="log_marginal",
            title="exact log marginal log p(x)",
            lhs=r"\log p(x)",
            expression=log_marginal,
            steps=(
                Step(
                    "log of the integrand p(x|z) p(z)",
                    r"\log p(x\mid z) + \log p(z)",
                    sp.expand(log_lik + log_prior),
                ),
                Step(
                    "log of its Gaussian integral over z (completing the square, by sympy)",
                    r"\log \int p(x\mid z)\,p(z)\,dz",
                    log_marginal_derived,
                ),
                Step("the same, simplified: a Gaussian N(x; b, w^2 + v)", r"\log p(x)", log_marginal),
            ),
        ),
        posterior_mean=f(
            key="posterior_mean",
            title="mean of the exact posterior p(z|x)",
            lhs=r"\mathbb{E}[z\mid x]",
            expression=post_mean,
            steps=(
                Step(
                    "log posterior = log p(x|z) + log p(z) - log p(x), quadratic in z",
                    r"\log p(z\mid x)",
                    log_post,
                ),
            ),
        ),
        posterior_variance=f(
            key="posterior_variance",
            title="variance of the exact posterior p(z|x)",
            lhs=r"\mathrm{Var}[z\mid x]",
            expression=post_var,
        ),
        kl_posterior=f(
            key="kl_posterior",
            title="KL(q || p(z|x))",
            lhs=r"\mathrm{KL}(q\,\|\,p(z\mid x))",
            expression=kl_post,
        ),
        gap=f(
            key="gap",
            title="gap log p(x) - ELBO (= KL(q || p(z|x)), checked)",
            lhs=r"\log p(x) - \mathcal{L}(m, s)",
            expression=gap,
        ),
        optimal_m=f(
            key="optimal_m",
            title="optimal encoder mean m*",
            lhs="m^*",
            expression=m_star,
            steps=(
                Step("stationarity in m", r"\partial\mathcal{L}/\partial m", gradient[0]),
                Step("stationarity in s", r"\partial\mathcal{L}/\partial s", gradient[1]),
                Step("sympy solve, s > 0", "m^*", m_star),
            ),
        ),
        optimal_s=f(
            key="optimal_s", title="optimal encoder standard deviation s*", lhs="s^*", expression=s_star
        ),
        hessian_at_optimum=f(
            key="hessian_at_optimum",
            title="Hessian of the ELBO in (m, s) at (m*, s*)",
            lhs=r"\nabla^2_{(m,s)}\mathcal{L}\,\big|_{(m^*,s^*)}",
            expression=sp.ImmutableMatrix(hessian),
        ),
        checks=checks,
    )
