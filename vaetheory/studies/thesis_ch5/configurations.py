r"""The configurations of the thesis chapter's study, and the run sizes.

The chapter ("Variational Autoencoders: theory and implementations", chapter 5) trains the
*simple VAE* -- p(z) = N(0, I), p(x|z) = N(\mu(z), diag \sigma^2(z)) with a learned decoder variance,
q(z|x) = N(m(x), diag s^2(x)) -- and compares it with the implementation tricks found in common code,
each a :class:`Variant` (a decoder-variance policy, a fixed decoder std \sigma and a KL weight \beta):

* a learned decoder variance (the simple VAE; figures 5.3-5.5, 5.7, 5.12);
* a fixed decoder standard deviation \sigma = 1, i.e. the MSE objective (section 5.3.2, figures
  5.10-5.11);
* a fixed small standard deviation \sigma = 10^{-4} (figures 5.13-5.14, 5.18);
* the \beta-VAE objective E_q[\log p(x|z)] - \beta KL(q(z|x) || p(z)) (equation 5.4) with a small and
  a large \beta (figures 5.9, 5.16-5.17); here with the MSE decoder (\sigma = 1 fixed), the common
  implementation, so that the linear theory applies;

each at latent sizes q = 2 and q = 20. A configuration is found by its typed fields (``policy``,
``sigma``, ``beta``, ``latent``: :func:`find_configuration`); its ``name`` is a label for people and
for its directory, never parsed.

Names (one convention for the study): ``policy`` is the decoder-variance policy (``"learned"`` or
``"fixed"``; the old name ``variance`` is kept as an alias), ``sigma`` the fixed decoder STANDARD
DEVIATION (``sigma_std`` is its old alias; ``TrainConfig.sigma`` is the same quantity),
``effective_variance`` the VARIANCE \beta \sigma^2, and ``latent`` the latent size q.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TypeVar

from vaetheory._validation import check_int

#: data sets the reproduction runs on
THESIS_DATA = ("digits", "mnist", "fashion-mnist")
#: the fixed small decoder standard deviation of figures 5.13-5.14 and 5.18
SMALL_SIGMA_STD = 1e-4
#: \beta of the small-\beta and large-\beta VAEs (with \sigma = 1 fixed)
SMALL_BETA = 0.01
LARGE_BETA = 4.0
#: latent sizes of the chapter's figures (d = 2 and d = 20 there)
THESIS_LATENTS = (2, 20)


@dataclasses.dataclass(frozen=True)
class Variant:
    """What a configuration does, without its latent size: policy, fixed decoder std, \\beta.

    ``stem`` is the label's first part (``<stem>-z<q>``); ``description`` says it in words;
    ``chapter`` lists the chapter's figures it reproduces. Matching (:meth:`matches`) uses the
    typed fields only, never the label.
    """

    policy: str
    sigma: float | None
    beta: float
    stem: str
    description: str
    chapter: str

    def matches(self, item) -> bool:
        """Whether ``item`` (a configuration or its result) has this variant's policy, sigma and beta."""
        return (item.policy, item.sigma, item.beta) == (self.policy, self.sigma, self.beta)


LEARNED = Variant("learned", None, 1.0, "learned-sigma", "learned sigma", "5.3-5.5, 5.7, 5.12, 5.15")
SIGMA1 = Variant("fixed", 1.0, 1.0, "fixed-sigma1", "sigma = 1", "5.10-5.11")
SIGMA_SMALL = Variant(
    "fixed",
    SMALL_SIGMA_STD,
    1.0,
    f"fixed-sigma{SMALL_SIGMA_STD:g}",
    f"sigma = {SMALL_SIGMA_STD:g}",
    "5.13-5.14, 5.18",
)
BETA_SMALL = Variant(
    "fixed", 1.0, SMALL_BETA, f"beta{SMALL_BETA:g}-sigma1", f"beta = {SMALL_BETA:g}", "5.9, 5.16"
)
BETA_LARGE = Variant(
    "fixed", 1.0, LARGE_BETA, f"beta{LARGE_BETA:g}-sigma1", f"beta = {LARGE_BETA:g}", "5.16-5.17"
)
#: the chapter's five variants, in the order of the table
VARIANTS = (LEARNED, SIGMA1, SIGMA_SMALL, BETA_SMALL, BETA_LARGE)


@dataclasses.dataclass(frozen=True)
class ThesisConfiguration:
    """One trained model of the chapter's study.

    ``name`` is a label (the table's first column and the directory ``configs/<name>``);
    ``policy`` the decoder-variance policy (``"learned"`` or ``"fixed"``); ``sigma`` the fixed
    decoder standard deviation (``None`` when learned); ``beta`` the KL weight of equation 5.4;
    ``latent`` the latent size q; ``chapter`` the chapter's figures it reproduces. ``variance`` and
    ``sigma_std`` are the old names of ``policy`` and ``sigma``.
    """

    name: str
    policy: str
    sigma: float | None
    beta: float
    latent: int
    chapter: str

    @property
    def variance(self) -> str:
        """Old name of :attr:`policy` (it holds a policy name, not a variance)."""
        return self.policy

    @property
    def sigma_std(self) -> float | None:
        """Old name of :attr:`sigma` (the fixed decoder standard deviation)."""
        return self.sigma

    @property
    def effective_variance(self) -> float | None:
        r"""\beta \sigma^2, the decoder variance of the equivalent \beta = 1 model (theory section 3)."""
        return None if self.sigma is None else self.beta * self.sigma**2


def configuration(variant: Variant, latent: int) -> ThesisConfiguration:
    """The configuration of ``variant`` at latent size ``latent``, labelled ``<stem>-z<latent>``."""
    q = check_int("latent", latent, low=1)
    return ThesisConfiguration(
        f"{variant.stem}-z{q}", variant.policy, variant.sigma, variant.beta, q, variant.chapter
    )


def thesis_configurations(latents: Sequence[int] = THESIS_LATENTS) -> tuple[ThesisConfiguration, ...]:
    """The chapter's configurations, the five :data:`VARIANTS` per latent size, labelled ``<stem>-z<q>``.

    ``learned-sigma``: the simple VAE; ``fixed-sigma1``: \\sigma = 1 (MSE); ``fixed-sigma0.0001``:
    \\sigma = 1e-4; ``beta0.01-sigma1`` and ``beta4-sigma1``: \\beta-VAEs with \\sigma = 1.
    """
    return tuple(configuration(v, q) for q in latents for v in VARIANTS)


T = TypeVar("T")


def find_configuration(items: Iterable[T], variant: Variant, latent: int) -> T | None:
    """The item of ``items`` (configurations or their results) of ``variant`` at ``latent``, or ``None``.

    Found by the typed fields ``policy``, ``sigma``, ``beta`` and ``latent``; the label plays no part.
    Two matching items are an error (the study would be ambiguous).
    """
    found = [c for c in items if c.latent == latent and variant.matches(c)]
    if len(found) > 1:
        raise ValueError(
            f"{len(found)} configurations have policy {variant.policy!r}, sigma {variant.sigma!r}, beta "
            f"{variant.beta!r} and latent {latent}; each must be distinct"
        )
    return found[0] if found else None


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
