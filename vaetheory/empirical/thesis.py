r"""The thesis chapter's study: what each common "fix" does to a Gaussian VAE.

The chapter ("Variational Autoencoders: theory and implementations", chapter 5) trains the
*simple VAE* -- p(z) = N(0, I), p(x|z) = N(\mu(z), diag \sigma^2(z)) with a learned decoder variance,
q(z|x) = N(m(x), diag s^2(x)) -- on MNIST and compares it with the implementation tricks found in
common code:

* a learned decoder variance (the simple VAE; figures 5.3-5.5, 5.7, 5.12);
* a fixed decoder standard deviation \sigma = 1, i.e. the MSE objective (section 5.3.2, figures
  5.10-5.11);
* a fixed small standard deviation \sigma = 10^{-4} (figures 5.13-5.14, 5.18);
* the \beta-VAE objective E_q[\log p(x|z)] - \beta KL(q(z|x) || p(z)) (equation 5.4) with a small and
  a large \beta (figures 5.9, 5.16-5.17); here with the MSE decoder (\sigma = 1 fixed), the common
  implementation, so that the linear theory below applies;
* each at latent sizes q = 2 and q = 20;

and three ways to generate (section 5.3.3, figure 5.15): ancestral x ~ N(\mu(z), \sigma^2(z)), the
"deterministic" x = \mu(z), and \mu(z) + \alpha \sigma(z), with z ~ N(0, I).

:func:`thesis_configurations` names those configurations, :func:`reproduce_thesis_chapter` trains
and evaluates each (resumable: one result file per configuration), and
:mod:`vaetheory.empirical.thesis_claims` states what the run shows for each claim of the chapter.

Linear theory beside the measurement (theory section 3; Lucas et al. 2019, arXiv:1911.02469):
with a fixed decoder variance \sigma^2 and weight \beta, the linear VAE's objective satisfies
ELBO_\beta(\sigma^2) = \beta ELBO(\beta \sigma^2) + const, so latent direction j collapses iff
l_j <= \beta \sigma^2, with l_1 >= l_2 >= ... the eigenvalues of the training data covariance. The
predicted number of active units is therefore min(q, #{j : l_j > \beta \sigma^2}). With a learned
(shared, pPCA) variance \sigma^2_{ML} = mean of the l_j beyond q, and every kept direction with
l_j > \sigma^2_{ML} stays active.

Numerical scale of \sigma = 10^{-4}: the reconstruction term is ||x - \mu||^2 / (2 \sigma^2), a factor
1/(2\sigma^2) = 5 \cdot 10^7 on the squared error. Training uses Adam (through
:func:`vaetheory.empirical.training.train`), whose update is invariant to a constant rescaling of
the loss (up to its \epsilon = 10^{-8}, far below these gradients), so the objective is optimised as
written, in float32, without rescaling or clipping; by the identity above this is the same
optimisation as \sigma = 1 with \beta = 10^{-8}. The reported ELBO at \sigma = 10^{-4} is accordingly
of order -10^7 nats: that is the model's true ELBO, not an overflow.

Data: pixels scaled to [0, 1] (digits divided by 16, MNIST by 255), as in the chapter's MNIST.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from vaetheory._validation import check_choice, check_int
from vaetheory.results import Result

#: data sets the reproduction runs on
THESIS_DATA = ("digits", "mnist", "fashion-mnist")
#: the fixed small decoder standard deviation of figures 5.13-5.14 and 5.18
SMALL_SIGMA_STD = 1e-4
#: \beta of the small-\beta and large-\beta VAEs (with \sigma = 1 fixed)
SMALL_BETA = 0.01
LARGE_BETA = 4.0
#: latent sizes of the chapter's figures (d = 2 and d = 20 there)
THESIS_LATENTS = (2, 20)
#: threshold on A_u = Cov_x(E_q[u]) for an active unit (Burda et al. 2016, arXiv:1509.00519)
ACTIVE_UNIT_THRESHOLD = 0.01
#: \alpha of the \mu(z) + \alpha \sigma(z) samples (figure 5.15 uses "any \alpha")
SAMPLE_ALPHA = 1.0
#: points per axis of the q = 2 grid of z (odd: the centre is z = 0; few enough to read 8x8 digits)
LATENT_GRID_SIZE = 7
#: the grid's probabilities p run evenly from the first to the second (z = \Phi^{-1}(p))
LATENT_GRID_P_RANGE = (0.05, 0.95)


@dataclasses.dataclass(frozen=True)
class ThesisConfiguration:
    """One trained model of the chapter's study.

    ``variance`` is the decoder-variance policy (``"learned"`` or ``"fixed"``); ``sigma_std`` the
    fixed decoder standard deviation (``None`` when learned); ``beta`` the KL weight of equation
    5.4; ``latent`` the latent size q; ``chapter`` the chapter's figures it reproduces.
    """

    name: str
    variance: str
    sigma_std: float | None
    beta: float
    latent: int
    chapter: str

    @property
    def effective_variance(self) -> float | None:
        r"""\beta \sigma^2, the decoder variance of the equivalent \beta = 1 model (theory section 3)."""
        return None if self.sigma_std is None else self.beta * self.sigma_std**2


def thesis_configurations(latents: Sequence[int] = THESIS_LATENTS) -> tuple[ThesisConfiguration, ...]:
    """The chapter's configurations, five per latent size, named ``<what>-z<q>``.

    ``learned-sigma``: the simple VAE; ``fixed-sigma1``: \\sigma = 1 (MSE); ``fixed-sigma1e-4``:
    \\sigma = 1e-4; ``beta0.01-sigma1`` and ``beta4-sigma1``: \\beta-VAEs with \\sigma = 1.
    """
    out = []
    for q in latents:
        q = check_int("latent", q, low=1)
        out += [
            ThesisConfiguration(f"learned-sigma-z{q}", "learned", None, 1.0, q, "5.3-5.5, 5.7, 5.12, 5.15"),
            ThesisConfiguration(f"fixed-sigma1-z{q}", "fixed", 1.0, 1.0, q, "5.10-5.11"),
            ThesisConfiguration(
                f"fixed-sigma{SMALL_SIGMA_STD:g}-z{q}", "fixed", SMALL_SIGMA_STD, 1.0, q, "5.13-5.14, 5.18"
            ),
            ThesisConfiguration(f"beta{SMALL_BETA:g}-sigma1-z{q}", "fixed", 1.0, SMALL_BETA, q, "5.9, 5.16"),
            ThesisConfiguration(f"beta{LARGE_BETA:g}-sigma1-z{q}", "fixed", 1.0, LARGE_BETA, q, "5.16-5.17"),
        ]
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Training and evaluation sizes shared by every configuration of one run."""

    steps: int
    batch_size: int
    lr: float
    hidden: tuple[int, ...]
    iwae_k: int
    elbo_samples: int
    n_generated: int
    max_train: int
    max_test: int


#: defaults: the whole study on digits in well under 15 minutes on a 2-core CPU
DEFAULT_SETTINGS = RunSettings(
    steps=6000,
    batch_size=128,
    lr=1e-3,
    hidden=(256,),
    iwae_k=1000,
    elbo_samples=16,
    n_generated=1000,
    max_train=20000,
    max_test=2000,
)
#: ``--quick``: the same study, shorter (about a minute on digits)
QUICK_SETTINGS = RunSettings(
    steps=1200,
    batch_size=128,
    lr=2e-3,
    hidden=(128,),
    iwae_k=100,
    elbo_samples=4,
    n_generated=500,
    max_train=5000,
    max_test=500,
)


@dataclasses.dataclass(frozen=True)
class ThesisData:
    """Training and held-out points (rows, pixels in [0, 1]) and the image shape to draw them."""

    name: str
    x_train: np.ndarray
    x_test: np.ndarray
    image_shape: tuple[int, int]
    source: str


def load_thesis_data(
    data: str = "digits",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    seed: int = 0,
    max_train: int | None = None,
    max_test: int | None = None,
) -> ThesisData:
    """The data set with a fixed held-out split.

    ``digits`` (scikit-learn's bundled 8x8 digits): a seeded 80/20 split. ``mnist`` and
    ``fashion-mnist``: the standard train and t10k files in ``data_dir``
    (:func:`vaetheory.datasets.load_mnist`), each subsampled to ``max_train`` / ``max_test`` points by
    a seeded permutation.
    """
    from vaetheory import datasets

    check_choice("data", data, THESIS_DATA)
    seed = check_int("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    if data == "digits":
        if data_dir is not None:
            raise ValueError("data_dir is only for --data mnist or fashion-mnist; digits is bundled")
        x = datasets.load_digits(scale="unit")
        perm = rng.permutation(len(x))
        n_test = len(x) // 5
        x_train, x_test = x[perm[n_test:]], x[perm[:n_test]]
        source = "scikit-learn bundled digits / 16, seeded 80/20 split"
    else:
        if data_dir is None:
            raise ValueError(f"data {data!r} needs data_dir, a directory holding the IDX files")
        kind = "mnist" if data == "mnist" else "fashion"
        x_train = datasets.load_mnist(data_dir, kind=kind, split="train")
        x_test = datasets.load_mnist(data_dir, kind=kind, split="test")
        x_train = x_train[rng.permutation(len(x_train))]
        x_test = x_test[rng.permutation(len(x_test))]
        source = f"{data} IDX files in {str(data_dir)!r} / 255, train and t10k splits"
    if max_train is not None:
        x_train = x_train[: check_int("max_train", max_train, low=2)]
    if max_test is not None:
        x_test = x_test[: check_int("max_test", max_test, low=2)]
    side = math.isqrt(x_train.shape[1])
    shape = (side, side) if side * side == x_train.shape[1] else (1, x_train.shape[1])
    return ThesisData(data, x_train, x_test, shape, source)


def data_moments(x: np.ndarray):
    r"""Mean and eigenvalues l_1 >= l_2 >= ... of S = (1/n) \sum (x - \bar x)(x - \bar x)^T.

    :func:`vaetheory.linear.moments.sample_moments` of the training points (theory section 3).
    """
    from vaetheory.linear.moments import sample_moments

    return sample_moments(x)


@dataclasses.dataclass(frozen=True)
class LinearPrediction(Result):
    r"""The linear VAE's prediction for one configuration (its closed-form global optimum).

    ``active_units``: #{j <= q : l_j > t}; ``threshold_variance``: t = \beta \sigma^2 for a fixed
    decoder variance, pPCA's \sigma^2_{ML} = (1/(d - q)) \sum_{j > q} l_j when it is learned (shared);
    ``recon_mse`` and ``elbo``: the optimum's held-out reconstruction MSE of the encoder mean,
    mean over points and pixels of (x - \mu - W^* V^* (x - \mu))^2, and its held-out ELBO (\beta = 1,
    nats per point). theory section 3; Lucas et al. (2019), arXiv:1911.02469.
    """

    active_units: int
    threshold_variance: float
    recon_mse: float
    elbo: float


def linear_prediction(moments, config: ThesisConfiguration, x_test: np.ndarray) -> LinearPrediction:
    r"""The linear VAE at its global optimum for ``config``, evaluated on ``x_test``.

    Fixed \sigma: :func:`vaetheory.linear.variants.beta_vae_optimum` (direction j active iff
    l_j > \beta \sigma^2); learned: :func:`vaetheory.linear.linear_vae.linear_vae_optimum` (shared
    \sigma^2 = \sigma^2_{ML}; the nonlinear model learns a per-pixel variance instead).
    """
    from vaetheory.linear.linear_vae import linear_vae_elbo, linear_vae_optimum
    from vaetheory.linear.variants import beta_vae_optimum

    if config.sigma_std is None:
        opt = linear_vae_optimum(moments, config.latent)
        threshold = opt.noise_variance
    else:
        opt = beta_vae_optimum(moments, config.latent, config.beta, config.sigma_std**2)
        threshold = opt.effective_variance
    centred = x_test - opt.mean
    recon = centred @ opt.V.T @ opt.W.T
    elbo = linear_vae_elbo(x_test, opt.W, opt.V, opt.D, opt.noise_variance, opt.mean)
    return LinearPrediction(
        active_units=int(np.sum(opt.active)),
        threshold_variance=float(threshold),
        recon_mse=float(np.mean((centred - recon) ** 2)),
        elbo=elbo,
    )


def predicted_active_curve(spectrum: np.ndarray, q: int, thresholds: np.ndarray) -> np.ndarray:
    r"""min(q, #{j : l_j > t}) for each threshold t = \beta \sigma^2: the linear VAE's active units.

    theory section 3 (a fixed decoder variance \sigma^2 and KL weight \beta; Lucas et al. 2019).
    """
    spectrum = np.asarray(spectrum, dtype=np.float64)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    from vaetheory.linear.moments import active_mask  # the collapse rule, written once in linear

    counts = np.sum(active_mask(spectrum[None, :], thresholds[:, None]), axis=1)
    return np.minimum(counts, check_int("q", q, low=1))


@dataclasses.dataclass(frozen=True)
class ConfigurationResult(Result):
    """The measurements of one configuration on held-out data (and the linear prediction beside them).

    ``recon_mse``: mean over held-out points and pixels of (x - \\mu(m(x)))^2. ``elbo``: mean held-out
    ELBO (\\beta = 1, nats per point); ``objective``: the \\beta-weighted one it was trained on;
    ``iwae_bound``: mean L_k with k = ``iwae_k`` (Burda et al. 2016). ``mean_decoder_variance``: mean of
    \\sigma^2(m(x)) over held-out points and pixels (a VARIANCE). ``kl_per_dimension``: mean KL of each
    latent dimension; ``activity``: A_u = Var_x(m_u(x)); ``active_units``: #{u : A_u > 0.01}.
    ``sample_pixel_variance``: per sampling mode, the variance across samples of each pixel, averaged
    over pixels; ``sample_nearest_sq_distance``: per mode, the mean over samples of the squared distance
    (per pixel) to the nearest held-out image. ``aggregate_second_moment``: mean of m^2 + s^2 over
    held-out points and dimensions (1 under the prior). ``latent_grid_pixel_variance`` (q = 2 only):
    variance of \\mu(z) across the grid of z, averaged over pixels.
    """

    config: str
    variance: str
    sigma: float | None
    beta: float
    latent: int
    effective_variance: float | None
    chapter_figures: str
    recon_mse: float
    elbo: float
    objective: float
    iwae_k: int
    iwae_bound: float
    mean_decoder_variance: float
    kl_per_dimension: tuple[float, ...]
    kl_total: float
    activity: tuple[float, ...]
    active_units: int
    active_unit_threshold: float
    predicted_active_units: int
    predicted_threshold_variance: float
    linear_recon_mse: float
    linear_elbo: float
    sample_alpha: float
    sample_pixel_variance: dict[str, float]
    sample_nearest_sq_distance: dict[str, float]
    aggregate_second_moment: float
    latent_grid_pixel_variance: float | None
    train_seconds: float
    final_train_objective: float | None
    stopped_reason: str | None
    provenance: dict[str, Any]


SAMPLING_MODE_LABELS = {"ancestral": "ancestral", "mean": "mu(z)", "mean_plus_std": "mu(z)+alpha*sigma(z)"}


def _nearest_sq_distance(samples: np.ndarray, reference: np.ndarray) -> float:
    """Mean over samples of min_i ||s - x_i||^2 / d (squared distance per pixel to the nearest x_i)."""
    s2 = np.sum(samples**2, axis=1)[:, None]
    r2 = np.sum(reference**2, axis=1)[None, :]
    d2 = np.clip(s2 + r2 - 2.0 * samples @ reference.T, 0.0, None)
    return float(np.mean(d2.min(axis=1)) / samples.shape[1])


def latent_grid(n: int = LATENT_GRID_SIZE) -> np.ndarray:
    r"""z_i = \Phi^{-1}(p_i), p evenly spaced in [0.05, 0.95]: the grid of Kingma & Welling (2014), fig. 4.

    Exactly symmetric (z_{n+1-i} = -z_i, computed as (z_i - z_{n+1-i}) / 2), so an odd ``n`` has
    z = 0 exactly at its centre.
    """
    from scipy.stats import norm

    z = norm.ppf(np.linspace(*LATENT_GRID_P_RANGE, check_int("n", n, low=2)))
    return (z - z[::-1]) / 2.0


def evaluate_configuration(
    model, config: ThesisConfiguration, x_test: np.ndarray, settings: RunSettings, *, seed: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Held-out metrics of a trained model, and the images the figures draw.

    Returns ``(metrics, arrays)``: metrics are the measured fields of :class:`ConfigurationResult`;
    arrays hold ``originals``, ``reconstructions``, ``samples_<mode>`` and, for q = 2, ``grid_z`` and
    ``grid_means``.
    """
    import torch

    from vaetheory.empirical import diagnostics, estimators, sampling

    dtype = next(model.parameters()).dtype
    x = torch.as_tensor(x_test, dtype=dtype)
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    with torch.no_grad():
        recon = sampling.reconstruct(model, x, mode="mean", seed=seed)
        recon_mse = float(torch.mean((recon - x) ** 2))
        f64, n_mc = torch.float64, settings.elbo_samples
        elbo = float(estimators.elbo(model, x, n_samples=n_mc, generator=gen, dtype=f64).mean())
        objective = elbo
        if config.beta != 1.0:
            objective = float(
                estimators.elbo(model, x, n_samples=n_mc, beta=config.beta, generator=gen, dtype=f64).mean()
            )
        lk = float(estimators.iwae_bound(model, x, settings.iwae_k, generator=gen, dtype=f64).mean())
        enc_mean, enc_var = model.encode(x)
        _, dec_var = model.decoder_params(enc_mean, x)
        kl_dim = np.asarray(diagnostics.kl_per_dimension(model, x), dtype=np.float64).reshape(-1)
        au = diagnostics.active_units(model, x, threshold=ACTIVE_UNIT_THRESHOLD)
        second_moment = float(torch.mean(enc_mean**2 + enc_var))
        arrays: dict[str, np.ndarray] = {
            "originals": x_test[:12],
            "reconstructions": recon[:12].double().numpy(),
        }
        pixel_var, nearest = {}, {}
        for mode in sampling.SAMPLING_MODES:
            s = sampling.sample(model, settings.n_generated, mode=mode, alpha=SAMPLE_ALPHA, seed=seed)
            s = s.double().numpy()
            pixel_var[mode] = float(np.mean(np.var(s, axis=0)))
            nearest[mode] = _nearest_sq_distance(s, x_test)
            arrays[f"samples_{mode}"] = s[:36]
        grid_var = None
        if config.latent == 2:
            g = latent_grid(LATENT_GRID_SIZE)
            zz = np.array([[a, b] for b in g[::-1] for a in g])  # rows: z_2 from high to low
            means, _ = model.decoder_params(torch.as_tensor(zz, dtype=dtype))
            means = means.double().numpy()
            grid_var = float(np.mean(np.var(means, axis=0)))
            arrays["grid_z"] = g
            arrays["grid_means"] = means
    metrics = {
        "recon_mse": recon_mse,
        "elbo": elbo,
        "objective": objective,
        "iwae_k": settings.iwae_k,
        "iwae_bound": lk,
        "mean_decoder_variance": float(torch.mean(dec_var)),
        "kl_per_dimension": tuple(float(v) for v in kl_dim),
        "kl_total": float(np.sum(kl_dim)),
        "activity": tuple(float(v) for v in np.asarray(au.activity, dtype=np.float64).reshape(-1)),
        "active_units": int(au.count),
        "active_unit_threshold": ACTIVE_UNIT_THRESHOLD,
        "sample_alpha": SAMPLE_ALPHA,
        "sample_pixel_variance": pixel_var,
        "sample_nearest_sq_distance": nearest,
        "aggregate_second_moment": second_moment,
        "latent_grid_pixel_variance": grid_var,
    }
    return metrics, arrays
