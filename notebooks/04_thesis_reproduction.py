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
# # Reproducing the thesis chapter: what each common "fix" does to a Gaussian VAE
#
# The thesis chapter "Variational Autoencoders: theory and implementations" (chapter 5)
# trains the *simple VAE* (a learned decoder variance) and the tricks found in common code: a fixed
# decoder standard deviation $\sigma=1$ (the MSE objective), a tiny fixed $\sigma=10^{-4}$, and
# $\beta$-VAEs with a small and a large $\beta$. `vaetheory reproduce thesis-ch5` trains and
# evaluates each configuration on held-out data and puts the linear theory beside every
# measurement (theory section 3): with a fixed $\sigma^2$ and weight $\beta$, direction $j$
# collapses iff $l_j\le\beta\sigma^2$.
#
# This walk-through runs a *very* small version (latent size 2 only, 200 steps, 800
# training digits) so it finishes in well under a minute; its numbers show the mechanics, not the
# chapter's figures. For those: `vaetheory reproduce thesis-ch5 --out thesis` (about 15 minutes on
# two cores) or `--quick` (a minute or so).

# %%
import dataclasses
import tempfile

import numpy as np
import torch

from vaetheory.linear import sample_moments
from vaetheory.studies.thesis_ch5 import (
    QUICK_SETTINGS,
    check_claims,
    load_thesis_data,
    predicted_active_curve,
    render_table,
    reproduce_thesis_chapter,
    thesis_configurations,
    verdict_text,
)

torch.set_num_threads(1)
torch.set_flush_denormal(True)

for config in thesis_configurations():
    print(
        f"{config.name:22s} policy {config.policy:7s} sigma (std) {config.sigma!s:6s} "
        f"beta {config.beta:<5g} q {config.latent:2d}  (chapter figures {config.chapter})"
    )

# %% [markdown]
# ## The linear theory first (no training)
# The eigenvalues $l_j$ of the training data's covariance decide, for the linear VAE, how many latent
# directions stay active at a threshold $t=\beta\sigma^2$: $\min(q, \#\{j: l_j>t\})$.

# %%
data = load_thesis_data("digits", None, seed=0, max_train=800, max_test=200)
spectrum = sample_moments(data.x_train).eigenvalues
thresholds = np.array([1e-8, 1e-4, 1e-2, 0.04, 1.0, 4.0])
active = predicted_active_curve(spectrum, 20, thresholds)
for t, a in zip(thresholds, active):
    print(f"beta sigma^2 = {t:<7g} -> linear VAE with q = 20 keeps {a:2d} active directions")

# %% [markdown]
# ## A very small run
# The same driver as the command line, with tiny settings and the five configurations at $q=2$.
# Each configuration is trained with the same seed, so differences come from the configuration.

# %%
tiny = dataclasses.replace(
    QUICK_SETTINGS,
    steps=200,
    hidden=(32,),
    iwae_k=20,
    elbo_samples=2,
    n_generated=100,
    max_train=800,
    max_test=200,
)
run_dir = tempfile.TemporaryDirectory(prefix="thesis-ch5-")  # removed at the end
reproduction = reproduce_thesis_chapter(
    run_dir.name,
    quick=True,
    seed=0,
    settings=tiny,
    configurations=thesis_configurations(latents=(2,)),
    progress=False,
)
print(render_table(reproduction))

# %% [markdown]
# ## The figures of this run
# The figures `vaetheory figures --only thesis` draws (reconstructions, samples with the panels left
# out and why, the decoder mean over a grid of $z$, collapse against the linear theory), drawn from
# this run by the same library function, each with its caption (also in each figure's JSON sidecar).

# %%
import json
from pathlib import Path

from IPython.display import Image, display

from vaetheory.figures.thesis import draw_reproduction_figures

written = draw_reproduction_figures(reproduction, Path(run_dir.name) / "figures")
for path in written:
    if path.suffix == ".png":
        display(Image(filename=str(path), width=700))
        print(f"{path.stem}: {json.loads(path.with_suffix('.json').read_text())['caption']}", end="\n\n")

# %% [markdown]
# ## The chapter's claims, checked against this run
# Each claim comes with the criterion checked and what the run shows. With such a short run some
# verdicts can differ from the full reproduction's: read the numbers, not only the verdicts.

# %%
for claim in check_claims(reproduction):
    print(f"- {claim.claim} [{claim.where}]")
    print(f"  criterion: {claim.criterion}\n  shown: {claim.shown}\n  -> {verdict_text(claim.supported)}")
run_dir.cleanup()

# %% [markdown]
# Cite with `vaetheory cite thesis-ch5` (and `vaetheory cite beta-vae-collapse` for the linear theory).
