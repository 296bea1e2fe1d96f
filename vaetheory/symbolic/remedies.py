r"""Each remedy's theory (theory section 7): bounded or not, its divergent path and rate, what it changes.

Every statement is a sympy computation (:class:`~vaetheory.symbolic.formula.Check`, ``holds``
computed, never typed in), in one dimension of one point (a dimension of the decoder at the
point it reproduces; the d-dimensional statements are d times these, the VAE's by the
construction of theory section 2: a decoder that reproduces one point while its scale shrinks,
with the encoder at the prior, whose KL is 0).

:func:`remedy_theory` returns one :class:`RemedyTheory` per row of ``vaetheory remedies``: its
``bounded`` and ``bounds`` (``"value"``, ``"gradient"``, ``"value+gradient"``, ``"none"``) are read
from the checks, and ``proof`` names the statement and where it is derived.
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from vaetheory.results import Result
from vaetheory.symbolic.formula import Check, check_identity, reduce_to_zero

THEORY = "theory section 7 (remedies)"
WHERE = "vaetheory.symbolic.remedies"

_x, _mu = sp.symbols("x mu", real=True)
_s, _nu, _h, _xi, _sigma, _t, _r = sp.symbols("s nu h xi sigma t r", positive=True)
_lv = sp.Symbol("ell", real=True)  # the log variance
_beta = sp.Symbol("beta", positive=True)
_k = sp.Symbol("k", positive=True)  # the step along a path


def _check(name: str, statement: str, holds, residual=0) -> Check:
    return Check(name=name, statement=statement, residual=residual, holds=bool(holds))


def _limit_is(name, statement, expr, var, point, value, direction="+") -> Check:
    got = sp.limit(expr, var, point, direction)
    return _check(name, statement, got == value, residual=got)


def gaussian_log_density(x, mu, var):
    return -sp.log(2 * sp.pi * var) / 2 - (x - mu) ** 2 / (2 * var)


def student_t_log_density(x, mu, s, nu):
    return (
        sp.loggamma((nu + 1) / 2)
        - sp.loggamma(nu / 2)
        - sp.log(nu * sp.pi) / 2
        - sp.log(s)
        - (nu + 1) / 2 * sp.log(1 + ((x - mu) / s) ** 2 / nu)
    )


@dataclasses.dataclass(frozen=True)
class RemedyTheory(Result):
    """One row's theory: bounded, what it bounds, its divergent path and rate, and the checks."""

    name: str
    bounded: bool | None
    bounds: str
    changes: str
    path: str | None
    rate: str | None
    statement: str
    checks: tuple[Check, ...]
    open_question: str | None = None

    @property
    def proved(self) -> bool:
        return all(c.holds for c in self.checks)

    @property
    def proof(self) -> dict:
        return {"statement": self.statement, "where": f"{THEORY}; {WHERE}", "proved": self.proved}

    def to_dict(self):
        return {
            "name": self.name,
            "bounded": self.bounded,
            "bounds": self.bounds,
            "changes": self.changes,
            "path": self.path,
            "rate": self.rate,
            "proof": self.proof,
            "open_question": self.open_question,
            "checks": [c.to_dict() for c in self.checks],
        }


def _gaussian_path_checks(prefix: str) -> tuple[Check, ...]:
    """mu = x, sigma^2 = e^{-k}: log N = k/2 - log(2 pi)/2 -> oo, rate 1/2 per unit k."""
    path = gaussian_log_density(_x, _x, sp.exp(-_k))
    return (
        _limit_is(
            f"{prefix}_diverges",
            "mu = x, sigma^2 = e^(-k): log N(x; mu, sigma^2) -> +oo as k -> oo",
            path,
            _k,
            sp.oo,
            sp.oo,
            "-",
        ),
        check_identity(
            f"{prefix}_rate", "d/dk log N along the path = 1/2", sp.diff(path, _k), sp.Rational(1, 2)
        ),
    )


def _student_t() -> list[Check]:
    at_mean = student_t_log_density(_x, _x, _s, _nu)
    const = sp.loggamma((_nu + 1) / 2) - sp.loggamma(_nu / 2) - sp.log(_nu * sp.pi) / 2
    path = at_mean.subs(_s, sp.exp(-_k / 2))  # s^2 = e^-k, as the Gaussian path
    c_inf = sp.limit(const, _nu, sp.oo)
    return [
        check_identity("t_at_mean", "log t_nu(mu; mu, s) = C(nu) - log s", at_mean, const - sp.log(_s)),
        _limit_is(
            "t_diverges", "for every nu > 0: log t_nu(mu; mu, s) -> +oo as s -> 0+", at_mean, _s, 0, sp.oo
        ),
        check_identity(
            "t_rate", "s^2 = e^(-k): d/dk log t = 1/2, the Gaussian's rate", sp.diff(path, _k), sp.S.Half
        ),
        _check(
            "t_dof_alone_bounded",
            "at fixed s, C(nu) -> -log(2 pi)/2 as nu -> oo and -> -oo as nu -> 0+: nu alone does not diverge",
            reduce_to_zero(c_inf + sp.log(2 * sp.pi) / 2) == 0 and sp.limit(const, _nu, 0, "+") == -sp.oo,
            residual=c_inf,
        ),
    ]


def _beta_nll() -> list[Check]:
    nll = -gaussian_log_density(_x, _mu, sp.exp(_lv))
    w = sp.exp(_beta * _lv)  # sg[sigma^(2 beta)]: a constant for the gradient
    g_plain = sp.diff(nll, _lv)
    # the value-preserving form: value NLL, gradient w * dNLL
    surrogate_grad = w * g_plain
    # gradient flow of the log variance at a reproduced point (x = mu): dl/dt = -(w dNLL/dl)
    flow_plain = -g_plain.subs(_mu, _x)
    flow_beta = -surrogate_grad.subs(_mu, _x)
    solution = -sp.log(1 + _beta * _t / 2) / _beta  # l(0) = 0
    residual = sp.simplify(sp.diff(solution, _t) - flow_beta.subs(_lv, solution))
    loglik_along = (-nll).subs(_mu, _x).subs(_lv, solution)
    roots_plain = sp.solve(sp.Eq(g_plain.subs(_x, _mu + _r), 0), _lv)
    roots_beta = sp.solve(sp.Eq(surrogate_grad.subs(_x, _mu + _r), 0), _lv)
    return [
        check_identity(
            "beta_nll_log_variance_gradient",
            "d(beta-NLL)/d log sigma^2 = sigma^(2 beta) dNLL/d log sigma^2",
            surrogate_grad,
            sp.exp(_lv) ** _beta * g_plain,
        ),
        _check(
            "beta_nll_same_stationary_points",
            "for one point, the zeros in log sigma^2 of both gradients are log r^2 (r = x - mu): the same",
            roots_plain == roots_beta
            and len(roots_plain) == 1
            and reduce_to_zero(roots_plain[0] - 2 * sp.log(_r)) == 0,
            residual=roots_beta,
        ),
        check_identity(
            "beta_nll_plain_flow",
            "at x = mu the plain flow is dl/dt = 1/2 ... sign: -1/2",
            flow_plain,
            -sp.S.Half,
        ),
        _check(
            "beta_nll_flow_solution",
            "at x = mu, dl/dt = -exp(beta l)/2 is solved by l(t) = -(1/beta) log(1 + beta t/2): "
            "the variance decays as a power of t, not exponentially",
            residual == 0,
            residual=residual,
        ),
        _limit_is(
            "beta_nll_still_diverges",
            "along that flow log N(x; x, sigma^2(t)) = -(1/2) log 2 pi + log(1 + beta t/2)/(2 beta) -> +oo",
            loglik_along,
            _t,
            sp.oo,
            sp.oo,
            "-",
        ),
    ]


def _faithful() -> list[Check]:
    mean_term = -((_x - _mu) ** 2) / 2
    variance_term = gaussian_log_density(_x, sp.Symbol("m_sg", real=True), sp.exp(_lv))
    fitted = sp.solve(sp.Eq(sp.diff(variance_term, _lv), 0), _lv)
    fitted_ll = gaussian_log_density(_x, _x + _r, _r**2)
    return [
        check_identity(
            "faithful_mean_gradient",
            "the mean's gradient is that of the unit-variance term: x - mu",
            sp.diff(mean_term, _mu),
            _x - _mu,
        ),
        _check(
            "faithful_variance_fit",
            "the variance fitted to the stop-gradient residual r: sigma^2 = r^2 = (x - sg mu)^2",
            len(fitted) == 1
            and reduce_to_zero(sp.exp(fitted[0]) - (_x - sp.Symbol("m_sg", real=True)) ** 2) == 0,
            residual=fitted,
        ),
        _limit_is(
            "faithful_still_diverges",
            "a mean that reproduces the point (r -> 0, as MSE training of an interpolating mean) with "
            "its fitted variance r^2: log N = -log(2 pi r^2)/2 - 1/2 -> +oo",
            fitted_ll,
            _r,
            0,
            sp.oo,
        ),
    ]


def _discretised() -> list[Check]:
    cdf = lambda u: (1 + sp.erf(u / sp.sqrt(2))) / 2  # noqa: E731
    prob_centre = cdf(_h / (2 * _sigma)) - cdf(-_h / (2 * _sigma))
    return [
        check_identity(
            "discretised_is_a_probability",
            "P(bin) = Phi(b) - Phi(a) with a <= b: the centred bin has P = erf(h/(2 sqrt 2 sigma)) in [0, 1]",
            prob_centre,
            sp.erf(_h / (2 * sp.sqrt(2) * _sigma)),
        ),
        _check(
            "discretised_bounded_by_zero",
            "erf < 1 for every real argument: log P < 0, so log p(x) <= 0 per point (d terms, each <= 0)",
            sp.limit(sp.erf(_r), _r, sp.oo) == 1 and sp.diff(sp.erf(_r), _r).is_positive,
        ),
        _limit_is(
            "discretised_supremum_zero",
            "sigma -> 0 with mu at the bin's centre: P -> 1, log P -> 0 (the supremum, not attained)",
            prob_centre,
            _sigma,
            0,
            1,
        ),
    ]


def _dequantised() -> list[Check]:
    u = sp.Symbol("u", positive=True)
    v = sp.Symbol("v", positive=True)
    expected = sp.integrate(
        gaussian_log_density(_mu + (u - sp.S.Half) * _h + sp.Symbol("c", real=True), _mu, v), (u, 0, 1)
    )
    expected = sp.simplify(expected.subs(sp.Symbol("c", real=True), 0))
    v_star = sp.solve(sp.Eq(sp.diff(expected, v), 0), v)
    sup = sp.simplify(expected.subs(v, v_star[0])) if len(v_star) == 1 else sp.nan
    return [
        check_identity(
            "dequantised_expected_log_density",
            "E_u log N(mu + (u - 1/2) h; mu, v) = -log(2 pi v)/2 - h^2/(24 v) (mu at the bin centre)",
            expected,
            -sp.log(2 * sp.pi * v) / 2 - _h**2 / (24 * v),
        ),
        _check(
            "dequantised_gaussian_supremum",
            "its maximum over v is at v = h^2/12, value -(1/2)(1 + log(pi h^2/6)): finite",
            len(v_star) == 1
            and reduce_to_zero(v_star[0] - _h**2 / 12) == 0
            and reduce_to_zero(sup + (1 + sp.log(sp.pi * _h**2 / 6)) / 2) == 0,
            residual=sup,
        ),
        _limit_is(
            "dequantised_once_diverges",
            "dequantised ONCE, the data are fixed reals: the learned Gaussian's path mu = y, v = e^-k -> +oo",
            gaussian_log_density(_x, _x, sp.exp(-_k)),
            _k,
            sp.oo,
            sp.oo,
            "-",
        ),
    ]


def _quantile() -> list[Check]:
    tau = sp.Symbol("tau", positive=True)

    def ald(t, r_pos, r_neg):  # the asymmetric Laplace density on r >= 0 and on r < 0 (unit scale)
        return t * (1 - t) * sp.exp(-t * r_pos), t * (1 - t) * sp.exp((1 - t) * r_neg)

    pos, neg = ald(tau, _x, _x)
    norm = sp.integrate(pos, (_x, 0, sp.oo), conds="none") + sp.integrate(neg, (_x, -sp.oo, 0), conds="none")
    low = sp.Rational(15, 100)
    mid_pos, mid_neg = ald(sp.S.Half, _x, _x)
    low_pos, low_neg = ald(low, _x, _x)
    product_norm = sp.integrate(mid_pos * low_pos, (_x, 0, sp.oo)) + sp.integrate(
        mid_neg * low_neg, (_x, -sp.oo, 0)
    )
    gap = sp.Symbol("g", positive=True)
    plug_in = gaussian_log_density(_x, _x, (gap / sp.Symbol("z85", positive=True)) ** 2)
    return [
        check_identity(
            "quantile_ald_normalised",
            "the asymmetric Laplace exp(-rho_tau) tau (1 - tau) integrates to 1",
            norm,
            1,
        ),
        _check(
            "quantile_pinball_nonnegative",
            "rho_tau(r) >= 0 on both branches: each term <= log(tau (1 - tau)), the objective is bounded",
            (_r * tau).is_nonnegative and (-_r * (tau - 1)).subs(tau, sp.Rational(15, 100)).is_positive,
        ),
        _check(
            "quantile_not_a_likelihood_of_x",
            "the product of the median's and the 0.15-quantile's densities of one x does not integrate to 1",
            sp.simplify(product_norm - 1) != 0,
            residual=sp.nsimplify(product_norm),
        ),
        _limit_is(
            "quantile_plug_in_unbounded",
            "the plug-in Gaussian N(q_0.5, (g/z_0.85)^2) at a point whose quantiles meet (g -> 0): +oo",
            plug_in,
            gap,
            0,
            sp.oo,
        ),
    ]


def _floor() -> list[Check]:
    sup_v = sp.solve(sp.Eq(sp.diff(gaussian_log_density(_x, _x, _xi), _xi), 0), _xi)
    return [
        _check(
            "floor_monotone",
            "at mu = x, log N = -log(2 pi v)/2 is decreasing in v: its sup over v >= xi is -log(2 pi xi)/2",
            sp.diff(gaussian_log_density(_x, _x, _xi), _xi).is_negative and sup_v == [],
        )
    ]


def _bernoulli() -> list[Check]:
    p = sp.Symbol("p", positive=True)
    return [
        _check(
            "bernoulli_bounded",
            "log p^x (1 - p)^(1 - x) <= 0 for p in (0, 1)",
            sp.log(p).subs(p, sp.Rational(1, 2)).is_negative and sp.limit(sp.log(p), p, 1, "-") == 0,
        )
    ]


def _fixed() -> list[Check]:
    return [
        check_identity(
            "fixed_bound",
            "at mu = x, log N(x; x, s^2) = -log(2 pi s^2)/2: a constant bound",
            gaussian_log_density(_x, _x, _s**2),
            -sp.log(2 * sp.pi * _s**2) / 2,
        )
    ]


@functools.lru_cache(maxsize=1)
def remedy_theory() -> dict[str, RemedyTheory]:
    """Name -> :class:`RemedyTheory` for every row of the remedies table (sympy; about a second)."""
    gauss = _gaussian_path_checks("gaussian")
    floor = tuple(_floor())
    rows = [
        RemedyTheory(
            "learned",
            False,
            "none",
            "objective: the plain likelihood",
            "mu = x_i, sigma^2 = e^-k, q = prior",
            "1/2 nat per dimension per unit k",
            "log N(x; x, e^-k) -> +oo (theory section 2)",
            gauss,
        ),
        RemedyTheory(
            "floor_clamp",
            True,
            "value+gradient",
            "objective: variance >= xi",
            None,
            None,
            "sigma^2 >= xi gives log p(x) <= -(d/2) log(2 pi xi)",
            floor,
        ),
        RemedyTheory(
            "floor_softclip",
            True,
            "value+gradient",
            "objective: variance > xi",
            None,
            None,
            "sigma^2 > xi gives log p(x) < -(d/2) log(2 pi xi)",
            floor,
        ),
        RemedyTheory(
            "floor_softplus",
            True,
            "value+gradient",
            "objective: variance > xi",
            None,
            None,
            "sigma^2 > xi gives log p(x) < -(d/2) log(2 pi xi)",
            floor,
        ),
        RemedyTheory(
            "floor_gaussian_nll",
            True,
            "value",
            "the value is floored, the gradient passes through",
            "the parameter exp(l) -> 0 below eps",
            None,
            "the value used is max(exp(l), eps) >= eps: bounded; the raw variance is not",
            floor,
        ),
        RemedyTheory(
            "fixed",
            True,
            "value+gradient",
            "objective: sigma fixed",
            None,
            None,
            "log N(x; mu, s^2) <= -(1/2) log(2 pi s^2) per dimension",
            tuple(_fixed()),
        ),
        RemedyTheory(
            "shared",
            False,
            "none",
            "objective: one variance",
            "a decoder reproducing every training point on its own latent region, shared sigma^2 = e^-k",
            "1/2 nat per dimension per unit k",
            "log p(x_i) >= log P(region_i) + log N(x_i; x_i, e^-k) -> +oo",
            gauss,
        ),
        RemedyTheory(
            "calibrated",
            False,
            "none",
            "objective: sigma^2 = MSE (closed form)",
            "the same memorising decoder: MSE = e^-k -> 0",
            "1/2 nat per dimension per unit k",
            "sigma^2 = MSE -> 0 with the reconstruction error: the shared path",
            gauss,
        ),
        RemedyTheory(
            "bernoulli",
            True,
            "value+gradient",
            "another family (binary data)",
            None,
            None,
            "a probability: log p(x) <= 0",
            tuple(_bernoulli()),
        ),
        RemedyTheory(
            "student_t",
            False,
            "none",
            "another family (heavy tails)",
            "mu = x_i, s^2 = e^-k, any nu",
            "1/2 nat per dimension per unit k",
            "log t_nu(x; x, s) = C(nu) - log s -> +oo",
            tuple(_student_t()),
        ),
        RemedyTheory(
            "student_t_learned_dof",
            False,
            "none",
            "another family, nu learned",
            "mu = x_i, s^2 = e^-k, nu fixed along the path",
            "1/2 nat per dimension per unit k",
            "learning nu adds a bounded term C(nu) <= sup C; s -> 0 still diverges",
            tuple(_student_t()),
        ),
        RemedyTheory(
            "beta_nll",
            False,
            "none",
            "gradient only: value and supremum are the plain likelihood's",
            "the plain path; along gradient flow sigma^2(t) = (1 + beta t/2)^(-1/beta)",
            "log-likelihood grows as log(1 + beta t/2)/(2 beta) (plain: t/4)",
            "the gradient in log sigma^2 is sigma^(2 beta) times the plain one",
            tuple(_beta_nll()),
            open_question="stationary points coincide for free per-point parameters (proved); in a shared "
            "network the weighted gradient field is not a gradient and its zeros may differ (not settled)",
        ),
        RemedyTheory(
            "beta_nll_1",
            False,
            "none",
            "gradient only (beta = 1: the mean's gradient is the MSE's)",
            "as beta_nll",
            "log-likelihood grows as log(1 + t/2)/2",
            "as beta_nll, beta = 1",
            tuple(_beta_nll()),
        ),
        RemedyTheory(
            "faithful",
            False,
            "none",
            "gradient only: value is the plain likelihood",
            "an interpolating mean (r -> 0) with its fitted variance r^2",
            "-log|r| per dimension",
            "the mean's gradient is the MSE's; the variance fits r^2 -> 0 where the mean interpolates",
            tuple(_faithful()),
        ),
        RemedyTheory(
            "discretised",
            True,
            "value+gradient",
            "another family: a probability of bins",
            None,
            None,
            "P(bin) <= 1: log p(x) <= 0 per point (sup 0, as sigma -> 0)",
            tuple(_discretised()),
        ),
        RemedyTheory(
            "dequantised",
            True,
            "value",
            "the data: fresh uniform noise each step",
            "dequantised once: the learned path on fixed reals",
            None,
            "E_u log p(x + u h) <= log(P(bin)/h) <= -d log h per point (Jensen; Theis et al. 2016); "
            "one Gaussian: <= -(d/2)(1 + log(pi h^2/6))",
            tuple(_dequantised()),
            open_question="bounded in expectation over fresh noise only; a finite set of noise draws is "
            "a fixed sample, on which the likelihood is unbounded (the check dequantised_once_diverges)",
        ),
        RemedyTheory(
            "quantile",
            True,
            "value+gradient",
            "another objective (pinball losses); not a likelihood of x",
            "the plug-in Gaussian diverges as the quantile gap -> 0",
            None,
            "each pinball term is an asymmetric-Laplace log-density <= log(tau (1 - tau))",
            tuple(_quantile()),
        ),
    ]
    return {row.name: row for row in rows}


__all__ = ["THEORY", "RemedyTheory", "remedy_theory"]
