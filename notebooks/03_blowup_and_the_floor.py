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
# # The blow-up, and the floor that stops it
#
# A Gaussian decoder $p(x\mid z)=\mathcal N(\mu(z),\operatorname{diag}\sigma^2(z))$ whose variance is
# learned has an unbounded likelihood (Mattei & Frellsen 2018; theory section 2). This notebook
# builds the explicit sequence of network parameters along which $\log p(\text{data})\to+\infty$,
# measures the growth rate against the theory's $\tfrac12$ nat per dimension per unit of $k$, and
# shows a floor $\xi$ on the decoder *variance* capping it below $-\tfrac d2\log(2\pi\xi)$ per point.
# Every log-likelihood here is exact (quadrature over the 1-D latent), computed with PyTorch in
# float64. Quick settings: a few seconds.

# %%
import itertools

import torch

from vaetheory.densities import variance_floor_bound
from vaetheory.empirical.construction import blowup_sequence, construction_data

torch.set_num_threads(1)
torch.set_flush_denormal(True)

# %% [markdown]
# ## The construction
# One tanh hidden unit drives $\log\sigma_k^2(z)=-\tfrac k2(1+\tanh kz)$ and the mean sits on the
# first point, $\mu(z)=x_1$. For $z>0$ the variance tends to $e^{-k}$, so $\log p_k(x_1)$ grows like
# $\tfrac{dk}2$ while the other points keep a bounded density. The data: the first 5 of
# scikit-learn's bundled digits, scaled to $[0,1]$ ($d=64$).

# %%
data = construction_data(5)
ks = (0, 4, 8, 12, 16, 20)
floors = (1e-2, 1e-3)
result = blowup_sequence(data, ks=ks, floors=floors)

print(f"n = {result.n_points} points, d = {result.dim}")
print(
    f"measured growth of log p(x_1): {result.measured_rate_per_dimension:.4f} nats per dimension per "
    f"unit of k (theory {result.theory_rate_per_dimension})"
)
assert abs(result.measured_rate_per_dimension - result.theory_rate_per_dimension) < 0.01

# %% [markdown]
# ## With and without a floor
# Each row: the sequence index $k$, then for each policy the log-likelihood of the whole data set
# (nats). Unfloored it grows without bound; with a floor $\xi$ on the variance, the exploding point
# plateaus under the bound $-\tfrac d2\log(2\pi\xi)$.

# %%
header = "   k " + "".join(
    f"{'learned (no floor)' if run.floor is None else f'floor xi={run.floor:g}':>22s}" for run in result.runs
)
print(header)
for j, k in enumerate(result.ks):
    print(f"{k:4.0f} " + "".join(f"{run.total_loglik[j]:22.2f}" for run in result.runs))

for run in result.runs[1:]:
    bound = variance_floor_bound(result.dim, run.floor)
    print(
        f"floor xi = {run.floor:g}: max log p(x_1) along the sequence {max(run.loglik):.3f} "
        f"<= bound -(d/2) log(2 pi xi) = {bound:.3f}"
    )
    assert max(run.loglik) <= bound
unfloored = result.runs[0].total_loglik
assert all(later > earlier for earlier, later in itertools.pairwise(unfloored))

# %% [markdown]
# ## Floors hidden in common code
# Two popular implementations floor the variance without saying so: `torch.nn.GaussianNLLLoss`
# clamps the variance at `eps = 1e-6` (its *value* only: the gradient passes through), and the
# sigma-VAE code soft-clips $\log\sigma\ge-6$ (a variance floor $e^{-12}$). The bounds they imply:

# %%
from vaetheory.empirical.policies import floor_report

for method in ("gaussian_nll", "softclip"):
    print(floor_report(method, dim=result.dim).summary(), end="\n\n")

# %% [markdown]
# ## The figures of this area
# The blow-up figure of the construction above, and the training figure of `vaetheory figures --only
# empirical`, drawn by the same library functions, each with its caption (also in each figure's JSON
# sidecar). To stay quick, the training figure here is drawn from two short runs (learned variance
# and a floor $\xi = 10^{-2}$, 200 Adam steps) and shows the one-sample ELBO of the batch; the
# catalogue's figure evaluates the whole-set $L_k$ instead.

# %%
import json
import tempfile
from pathlib import Path

from IPython.display import Image, display

from vaetheory.empirical.training import TrainConfig, train
from vaetheory.figures import empirical as empirical_figures
from vaetheory.provenance import provenance

figure_dir = tempfile.TemporaryDirectory(prefix="vaetheory-figures-")  # removed below
written = empirical_figures.blowup_figure(Path(figure_dir.name) / "empirical_blowup", result)
configs = [
    TrainConfig(variance="learned", steps=200, log_every=10, seed=0),
    TrainConfig(variance="floor", floor_variance=1e-2, steps=200, log_every=10, seed=0),
]
series = [
    empirical_figures.run_series(train(c, progress=False), empirical_figures.run_label(c)) for c in configs
]
written += empirical_figures.training_figure(
    Path(figure_dir.name) / "empirical_training",
    series,
    provenance(seed=0, parameters={"steps": 200, "policies": ["learned", "floor 1e-2"]}),
    caption=empirical_figures.training_caption(series, "on digits scaled to [0, 1] (200 steps)"),
)
for path in written:
    if path.suffix == ".png":
        display(Image(filename=str(path), width=700))
        print(f"{path.stem}: {json.loads(path.with_suffix('.json').read_text())['caption']}", end="\n\n")
figure_dir.cleanup()

# %% [markdown]
# From the command line: `vaetheory blowup --help`, `vaetheory train --help` and `vaetheory demo`.
# Cite with `vaetheory cite unbounded-likelihood` and `vaetheory cite floor-bound`.
