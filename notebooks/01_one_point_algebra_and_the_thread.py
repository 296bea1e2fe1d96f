# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The 1-D Gaussian VAE, and the Cross Validated thread's claims
#
# One data point $x$, prior $z\sim\mathcal N(0,1)$, decoder $p(x\mid z)=\mathcal N(wz+b,\ v)$ ($v$ a
# *variance*), encoder $q(z)=\mathcal N(m, s^2)$ ($s$ a *standard deviation*). `vaetheory.symbolic`
# derives everything with sympy from the densities (theory section 1) and proves each identity
# it states. This notebook walks through the derivation, checks it numerically by quadrature, and
# then settles the thread "Is the optimization of the Gaussian VAE well-posed?" (Cross Validated,
# question 373858).

# %%
import math

import numpy as np
from IPython.display import Math, display
from scipy import integrate

from vaetheory.densities import gaussian_logpdf, kl_gaussian_standard
from vaetheory.symbolic.one_point import derive_one_point

one = derive_one_point()
for formula in (one.elbo, one.log_marginal, one.optimal_m, one.optimal_s):
    display(Math(f"{formula.lhs} = {formula.latex()}"))

# %% [markdown]
# ## Every identity sympy proved
# Each check is an identity reduced to zero by sympy (or, for the maximum, a sign sympy decides
# from the symbols' assumptions $v>0$, $s>0$):

# %%
for check in one.checks:
    print(f"{'holds' if check.holds else 'FAILS'}  {check.name:34s} {check.statement}")
assert all(check.holds for check in one.checks)

# %% [markdown]
# ## An independent route: numerical quadrature
# The ELBO is $E_q[\log p(x\mid z)] - \mathrm{KL}(q\,\|\,p(z))$; integrate the first term numerically
# (with the shared float64 `gaussian_logpdf`) and compare with the derived closed form at a few
# parameter values. The log marginal is checked the same way, $\log\int p(x\mid z)p(z)\,dz$.

# %%
rng = np.random.default_rng(0)
for _ in range(3):
    point = {"x": rng.normal(), "w": rng.normal(), "b": rng.normal(), "v": rng.uniform(0.2, 2)}
    enc = {"m": rng.normal(), "s": rng.uniform(0.3, 1.5)}

    def integrand(z, p=point, e=enc):
        q_density = math.exp(gaussian_logpdf(z, e["m"], e["s"] ** 2))
        return q_density * gaussian_logpdf(p["x"], p["w"] * z + p["b"], p["v"])

    expected_loglik, _ = integrate.quad(integrand, -np.inf, np.inf)
    elbo_numeric = expected_loglik - kl_gaussian_standard(enc["m"], enc["s"] ** 2)
    elbo_closed = one.elbo.evaluate(**point, **enc)

    def joint(z, p=point):
        return math.exp(gaussian_logpdf(p["x"], p["w"] * z + p["b"], p["v"]) + gaussian_logpdf(z, 0, 1))

    marginal_numeric = math.log(integrate.quad(joint, -np.inf, np.inf)[0])
    marginal_closed = one.log_marginal.evaluate(**point)
    print(
        f"ELBO {elbo_closed:+.10f} (sympy) {elbo_numeric:+.10f} (quadrature);  "
        f"log p(x) {marginal_closed:+.10f} (sympy) {marginal_numeric:+.10f} (quadrature)"
    )
    assert np.isclose(elbo_closed, elbo_numeric, rtol=1e-8, atol=1e-10)
    assert np.isclose(marginal_closed, marginal_numeric, rtol=1e-8, atol=1e-10)

# %% [markdown]
# ## The thread's second answer: $\sigma^*$ as a function of $\lambda$
# Identity decoder $w=1$, $b=0$, data $x=0$, precision written $\lambda=1/(2v)$.
# `analyse_sigma_star` substitutes this setting into the derived ELBO, solves
# $\partial\mathcal L/\partial s=0$, and reproduces the answer's algebra to locate its error:

# %%
from vaetheory.symbolic.sigma_star import analyse_sigma_star

thread = analyse_sigma_star()
for formula in (thread.elbo, thread.sigma_star, thread.sigma_star_claimed, thread.elbo_at_sigma_star_limit):
    display(Math(f"\\text{{{formula.title}:}}\\quad {formula.lhs} = {formula.latex()}"))
for check in thread.checks:
    print(f"{'holds' if check.holds else 'FAILS'}  {check.statement}")
assert all(check.holds for check in thread.checks)

# %% [markdown]
# So $s^*=(2\lambda+1)^{-1/2}$, not the answer's $(2\lambda')^{-1/2}$ with $\lambda'=\lambda-\tfrac12$
# (that one appears only if the prior's $-s^2/2$ enters with a $+$ sign). At $s^*(\lambda)$ the ELBO
# tends to $-\tfrac12\log 2\pi$ as $\lambda\to\infty$: for this decoder, held fixed, it is bounded,
# against the follow-up comment. The comment's conclusion still holds for decoders that may ignore
# $z$, and for several distinct points a linear decoder's supremum is finite:

# %%
from vaetheory.symbolic.supremum import derive_supremum

supremum = derive_supremum()
for check in supremum.checks:
    print(f"{'holds' if check.holds else 'FAILS'}  {check.statement}")
assert all(check.holds for check in supremum.checks)

# %% [markdown]
# ## The figures of this area
# The figures `vaetheory figures --only symbolic` makes, drawn here by the same library functions at
# quick settings (the derivations above are reused), each with its caption: what is drawn and the
# numbers measured on it (the caption is also in each figure's JSON sidecar).

# %%
import json
import tempfile
from pathlib import Path

from IPython.display import Image, display

from vaetheory.figures import symbolic as symbolic_figures

figure_dir = tempfile.TemporaryDirectory(prefix="vaetheory-figures-")  # removed below
written = symbolic_figures.make_figures(Path(figure_dir.name), quick=True, seed=0)
for path in written:
    if path.suffix == ".png":
        display(Image(filename=str(path), width=700))
        print(f"{path.stem}: {json.loads(path.with_suffix('.json').read_text())['caption']}", end="\n\n")
figure_dir.cleanup()

# %% [markdown]
# From the command line: `vaetheory derive --help` (and `--latex` for a compilable document).
# Cite with `vaetheory cite thread-sigma-star` or `vaetheory cite elbo-1d`.
