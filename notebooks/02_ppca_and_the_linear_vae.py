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
# # pPCA and the linear VAE
#
# A linear VAE, $p(x\mid z)=\mathcal N(Wz+\mu,\ \sigma^2 I)$ with encoder
# $q(z\mid x)=\mathcal N(V(x-\mu), D)$, is the one case where everything is known in closed
# form (theory section 3):
#
# * its global optimum is the probabilistic-PCA maximum-likelihood solution (Tipping & Bishop 1999),
#   and there the ELBO *equals* the pPCA log-likelihood (Lucas et al. 2019);
# * with a fixed decoder variance $\sigma^2$, latent direction $j$ is active iff $l_j>\sigma^2$
#   (posterior collapse otherwise), and a $\beta$-VAE collapses iff $l_j\le\beta\sigma^2$;
# * when the data span at most $q$ directions, $\sigma^2_{ML}=0$ and the likelihood is unbounded.
#
# Everything below is computed by `vaetheory.linear` (numpy/scipy, float64) on scikit-learn's
# bundled 8x8 digits (1797 points, 64 dimensions). It runs in a few seconds.

# %%
import numpy as np

from vaetheory.datasets import load_digits
from vaetheory.linear.linear_vae import linear_vae_elbo, linear_vae_optimum
from vaetheory.linear.moments import sample_moments
from vaetheory.linear.ppca import max_log_likelihood, ppca_mle
from vaetheory.linear.variants import (
    beta_vae_optimum,
    fixed_variance_optimum,
    floored_optimum,
    variance_split,
)

X = load_digits(scale="unit")
moments = sample_moments(X)  # one eigendecomposition, reused for every q below
print(f"n = {moments.n_points}, d = {moments.dim}, rank(S) = {moments.rank}")
print("largest eigenvalues l_j of S:", np.round(moments.eigenvalues[:6], 4))

# %% [markdown]
# ## pPCA maximum likelihood, two routes
# The closed form
# $\max\log L/n = -\tfrac12\{d\log 2\pi + \sum_{j\le q}\log l_j + (d-q)\log\sigma^2_{ML} + d\}$
# against the log-density of the data evaluated at $(W_{ML}, \sigma^2_{ML}, \bar x)$:

# %%
for q in (2, 5, 10):
    fit = ppca_mle(moments, q)
    closed_form = max_log_likelihood(moments.eigenvalues, q)
    evaluated = fit.score(X)
    print(
        f"q = {q:2d}: sigma^2_ML = {fit.noise_variance:.5f}, "
        f"max log L / n = {closed_form:.6f} (closed form), {evaluated:.6f} (evaluated)"
    )
    assert np.isclose(closed_form, evaluated, rtol=1e-10)

# %% [markdown]
# scikit-learn's `PCA.score` is the same pPCA log-likelihood, but with parameters from the
# $1/(n-1)$ covariance, so on the training data it is slightly *below* the maximum:

# %%
from sklearn.decomposition import PCA

q = 5
sk = PCA(n_components=q).fit(X).score(X)
ours = ppca_mle(moments, q).log_likelihood_per_point
print(f"q = {q}: ours (ML) {ours:.6f}  >=  scikit-learn {sk:.6f}  (difference {ours - sk:.2e})")
assert ours >= sk

# %% [markdown]
# ## The linear VAE's optimum is pPCA
# At $W^*=U_q(L_q-\sigma^2 I)^{1/2}$, $V^*=M^{-1}W^{*\top}$, $D^*=\sigma^2M^{-1}$ the ELBO (evaluated on
# the data with the closed-form ELBO of theory section 3) equals the maximum pPCA log-likelihood:

# %%
opt = linear_vae_optimum(moments, q)
elbo_on_data = linear_vae_elbo(X, opt.W, opt.V, opt.D, opt.noise_variance, opt.mean)
print(f"ELBO at the optimum (closed form)   {opt.elbo_per_point:.6f}")
print(f"ELBO at the optimum (on the data)   {elbo_on_data:.6f}")
print(f"max pPCA log-likelihood per point   {max_log_likelihood(moments.eigenvalues, q):.6f}")
assert np.isclose(elbo_on_data, opt.elbo_per_point, rtol=1e-10)

# %% [markdown]
# ## Posterior collapse: a fixed decoder variance, and $\beta$
# With $\sigma^2$ fixed, direction $j$ stays active iff $l_j>\sigma^2$. A $\beta$-VAE at $\sigma^2$ has
# the same optimum as a VAE at $\beta\sigma^2$: small $\sigma$ and small $\beta$ act alike.

# %%
q = 10
for sigma2 in (0.05, 0.25, 0.6):
    fixed = fixed_variance_optimum(moments, q, sigma2)
    print(f"sigma^2 = {sigma2:<5}: active directions {fixed.active_directions}")
sigma2, beta = 0.1, 0.5
assert (
    beta_vae_optimum(moments, q, beta, sigma2).active_directions
    == fixed_variance_optimum(moments, q, beta * sigma2).active_directions
)
print(f"beta = {beta} at sigma^2 = {sigma2} collapses like beta = 1 at sigma^2 = {beta * sigma2}")

# %% [markdown]
# ## The variance split, and a floor on the decoder variance
# At the pPCA optimum the latent part carries $\sum_{j\le q}(l_j-\sigma^2_{ML})$ and the noise
# $d\,\sigma^2_{ML}$ of the total variance $\operatorname{tr}S$. A floor $\xi$ on the decoder
# variance binds when $\xi>\sigma^2_{ML}$, and the likelihood stays below $-\tfrac d2\log(2\pi\xi)$.

# %%
split = variance_split(moments, q)
print(
    f"q = {q}: latent {split.latent_variance:.3f} + noise {split.noise_variance_total:.3f} "
    f"= {split.model_total:.3f} (tr S = {split.data_total:.3f}); latent share {split.latent_fraction:.1%}"
)
for xi in (1e-3, 1e-2, 1e-1):
    fl = floored_optimum(moments, q, xi)
    print(
        f"floor xi = {xi:g}: binds {fl.binds!s:5}, log-likelihood per point "
        f"{fl.optimum.log_likelihood_per_point:9.3f} <= bound {fl.bound_per_point:9.3f}"
    )
    assert fl.optimum.log_likelihood_per_point <= fl.bound_per_point

# %% [markdown]
# ## The figures of this area
# The figures `vaetheory figures --only linear` makes (digits' spectrum with the collapse thresholds,
# the variance split, the unboundedness of pPCA on degenerate data), drawn by the same library
# functions at quick settings, each with its caption (also in each figure's JSON sidecar).

# %%
import json
import tempfile
from pathlib import Path

from IPython.display import Image, display

from vaetheory.figures import linear as linear_figures

figure_dir = tempfile.TemporaryDirectory(prefix="vaetheory-figures-")  # removed below
written = linear_figures.make_figures(Path(figure_dir.name), quick=True, seed=0)
for path in written:
    if path.suffix == ".png":
        display(Image(filename=str(path), width=700))
        print(f"{path.stem}: {json.loads(path.with_suffix('.json').read_text())['caption']}", end="\n\n")
figure_dir.cleanup()

# %% [markdown]
# The same results from the command line: `vaetheory linear --help`; the figures:
# `vaetheory figures --out figures --only linear`. Cite with `vaetheory cite linear-vae-optimum`.
