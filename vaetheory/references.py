"""The bibliography: the papers behind each result vaetheory computes, as BibTeX.

Every entry is a paper (or source) cited by vaetheory's own theory reference
(:mod:`vaetheory.theory`, printed by ``vaetheory theory``), with its authors, title, venue, year and
arXiv identifier as the reference's citation lines give them; the test suite checks the two
against each other. Given names were looked up on the paper's own pages (arXiv/ar5iv, the authors'
project page, the journal); no DOI or page number is given that was not confirmed that way.
vaetheory's own derivations are the source of truth; a citation tells a reader where to read more.

:data:`RESULTS` maps each result name (``"floor-bound"``, ``"linear-vae-optimum"``, ...) to the
theory section that states it and the keys of the papers it rests on; :func:`references_for` and
:func:`bibtex` turn them into BibTeX; :func:`vaetheory_reference` is the entry for the toolkit
itself (version from ``vaetheory.__version__``, matching ``CITATION.cff``).
"""

from __future__ import annotations

import dataclasses

from vaetheory import __version__


@dataclasses.dataclass(frozen=True)
class Reference:
    """One BibTeX entry: ``@entry_type{key, field = {value}, ...}``.

    ``fields`` keeps BibTeX's order (author, title, venue, year, ...); values are BibTeX source
    (capitals that must survive a bibliography style are braced, e.g. ``{VAE}``).
    """

    key: str
    entry_type: str
    fields: tuple[tuple[str, str], ...]

    def field(self, name: str) -> str | None:
        """The value of field ``name``, or ``None`` when the entry has no such field."""
        return dict(self.fields).get(name)

    def to_bibtex(self) -> str:
        """The entry as BibTeX source text."""
        width = max(len(name) for name, _ in self.fields)
        lines = [f"@{self.entry_type}{{{self.key},"]
        lines += [f"  {name.ljust(width)} = {{{value}}}," for name, value in self.fields]
        lines.append("}")
        return "\n".join(lines)


def _ref(key: str, entry_type: str, /, **fields: str) -> Reference:
    return Reference(key, entry_type, tuple((name, value) for name, value in fields.items()))


#: every paper the theory reference cites (plus the two seed sources: the Cross Validated thread and
#: the thesis chapter), keyed by BibTeX key
REFERENCES: dict[str, Reference] = {
    ref.key: ref
    for ref in [
        # theory section 2
        _ref(
            "mattei2018leveraging",
            "inproceedings",
            author="Mattei, Pierre-Alexandre and Frellsen, Jes",
            title="Leveraging the Exact Likelihood of Deep Latent Variable Models",
            booktitle="Advances in Neural Information Processing Systems (NeurIPS)",
            volume="31",
            year="2018",
            eprint="1802.04826",
            archiveprefix="arXiv",
            url="https://papers.nips.cc/paper/7642-leveraging-the-exact-likelihood-of-deep-latent-variable-models",
        ),
        _ref(
            "dai2018connections",
            "article",
            author="Dai, Bin and Wang, Yu and Aston, John and Hua, Gang and Wipf, David",
            title=(
                "Connections with Robust {PCA} and the Role of Emergent Sparsity in Variational "
                "Autoencoder Models"
            ),
            journal="Journal of Machine Learning Research",
            volume="19",
            year="2018",
            url="http://www.jmlr.org/papers/volume19/17-704/17-704.pdf",
            note="Its Theorem 5 on the unbounded VAE objective is as cited in the Cross Validated thread",
        ),
        _ref(
            "dai2019diagnosing",
            "inproceedings",
            author="Dai, Bin and Wipf, David",
            title="Diagnosing and Enhancing {VAE} Models",
            booktitle="International Conference on Learning Representations (ICLR)",
            year="2019",
            eprint="1903.05789",
            archiveprefix="arXiv",
        ),
        _ref(
            "akrami2020addressing",
            "misc",
            author="Akrami, Haleh and Joshi, Anand A. and Aydore, Sergul and Leahy, Richard M.",
            title="Addressing Variance Shrinkage in Variational Autoencoders using Quantile Regression",
            year="2020",
            eprint="2010.09042",
            archiveprefix="arXiv",
            howpublished="arXiv preprint arXiv:2010.09042",
        ),
        _ref(
            "rybkin2021simple",
            "inproceedings",
            author="Rybkin, Oleh and Daniilidis, Kostas and Levine, Sergey",
            title="Simple and Effective {VAE} Training with Calibrated Decoders",
            booktitle="International Conference on Machine Learning (ICML)",
            year="2021",
            eprint="2006.13202",
            archiveprefix="arXiv",
        ),
        # theory section 3
        _ref(
            "tipping1999probabilistic",
            "article",
            author="Tipping, Michael E. and Bishop, Christopher M.",
            title="Probabilistic Principal Component Analysis",
            journal="Journal of the Royal Statistical Society: Series B (Statistical Methodology)",
            volume="61",
            number="3",
            pages="611--622",
            year="1999",
        ),
        _ref(
            "lucas2019dont",
            "inproceedings",
            author="Lucas, James and Tucker, George and Grosse, Roger and Norouzi, Mohammad",
            title="Don't Blame the {ELBO}! {A} Linear {VAE} Perspective on Posterior Collapse",
            booktitle="Advances in Neural Information Processing Systems (NeurIPS)",
            volume="32",
            year="2019",
            eprint="1911.02469",
            archiveprefix="arXiv",
        ),
        # theory section 4
        _ref(
            "burda2016importance",
            "inproceedings",
            author="Burda, Yuri and Grosse, Roger and Salakhutdinov, Ruslan",
            title="Importance Weighted Autoencoders",
            booktitle="International Conference on Learning Representations (ICLR)",
            year="2016",
            eprint="1509.00519",
            archiveprefix="arXiv",
        ),
        _ref(
            "kingma2014auto",
            "inproceedings",
            author="Kingma, Diederik P. and Welling, Max",
            title="Auto-Encoding Variational {B}ayes",
            booktitle="International Conference on Learning Representations (ICLR)",
            year="2014",
            eprint="1312.6114",
            archiveprefix="arXiv",
        ),
        # theory section 7 (remedies)
        _ref(
            "seitzer2022pitfalls",
            "inproceedings",
            author="Seitzer, Maximilian and Tavakoli, Arash and Antic, Dimitrije and Martius, Georg",
            title=(
                "On the Pitfalls of Heteroscedastic Uncertainty Estimation with Probabilistic Neural Networks"
            ),
            booktitle="International Conference on Learning Representations (ICLR)",
            year="2022",
            eprint="2203.09168",
            archiveprefix="arXiv",
        ),
        _ref(
            "stirn2023faithful",
            "inproceedings",
            author=(
                "Stirn, Andrew and Wessels, Hans-Hermann and Schertzer, Megan and Pereira, Laura and "
                "Sanjana, Neville E. and Knowles, David A."
            ),
            title="Faithful Heteroscedastic Regression with Neural Networks",
            booktitle="International Conference on Artificial Intelligence and Statistics (AISTATS)",
            year="2023",
            eprint="2212.09184",
            archiveprefix="arXiv",
        ),
        _ref(
            "theis2016note",
            "inproceedings",
            author="Theis, Lucas and van den Oord, Aäron and Bethge, Matthias",
            title="A Note on the Evaluation of Generative Models",
            booktitle="International Conference on Learning Representations (ICLR)",
            year="2016",
            eprint="1511.01844",
            archiveprefix="arXiv",
        ),
        # The seed sources: the thread (theory sections 1, 2 and 5), the thesis chapter (3, 4 and 6)
        _ref(
            "crossvalidated373858",
            "misc",
            key="Cross Validated",
            title="Is the optimization of the {G}aussian {VAE} well-posed?",
            howpublished="Cross Validated (stats.stackexchange.com), question 373858 and its answers",
            url="https://stats.stackexchange.com/questions/373858/is-the-optimization-of-the-gaussian-vae-well-posed",
            note="Question and answers by Cross Validated users; the lambda-vs-sigma* answer is the second",
        ),
        _ref(
            "thesisch5",
            "misc",
            key="Variational Autoencoders",
            title="Variational Autoencoders: theory and implementations",
            howpublished="Chapter 5 of a doctoral thesis",
            note=(
                "The simple VAE, its implementations and the variance of p(x|z); the thesis's author "
                "and institution are not recorded in vaetheory's sources, so they are not given here"
            ),
        ),
    ]
}


@dataclasses.dataclass(frozen=True)
class ResultSources:
    """What a named result is, the theory section that states it, and the papers it rests on."""

    name: str
    description: str
    theory_section: str
    keys: tuple[str, ...]


#: result name -> the theory section (``vaetheory theory N``) and the bibliography keys it rests on
RESULTS: dict[str, ResultSources] = {
    r.name: r
    for r in [
        ResultSources(
            "elbo-1d",
            "ELBO, exact marginal and optimal encoder of the 1-D Gaussian VAE",
            "theory section 1",
            ("kingma2014auto",),
        ),
        ResultSources(
            "thread-sigma-star",
            "the lambda-vs-sigma* question of the Cross Validated thread and its sign error",
            "theory section 1",
            ("crossvalidated373858", "kingma2014auto"),
        ),
        ResultSources(
            "unbounded-likelihood",
            "a Gaussian decoder with a learned variance has an unbounded likelihood / ELBO",
            "theory sections 1 and 2",
            ("mattei2018leveraging", "dai2018connections", "crossvalidated373858"),
        ),
        ResultSources(
            "floor-bound",
            "a floor xi on the decoder variance bounds log p(x) by -(d/2) log(2 pi xi) per point",
            "theory section 2",
            ("mattei2018leveraging",),
        ),
        ResultSources(
            "variance-shrinkage",
            "jointly learning mean and variance shrinks the decoder variance",
            "theory section 2",
            ("akrami2020addressing",),
        ),
        ResultSources(
            "sigma-vae",
            "a shared learned decoder variance has the closed form sigma*^2 = MSE (sigma-VAE)",
            "theory section 2",
            ("rybkin2021simple",),
        ),
        ResultSources(
            "dai-wipf-manifold",
            "on r-dimensional manifold data the shared variance gamma -> 0 and the cost falls as "
            "((d - r)/2) log gamma",
            "theory sections 2 and 3",
            ("dai2019diagnosing",),
        ),
        ResultSources(
            "ppca",
            "probabilistic PCA: maximum-likelihood W, sigma^2 and log-likelihood",
            "theory section 3",
            ("tipping1999probabilistic",),
        ),
        ResultSources(
            "linear-vae-optimum",
            "the linear VAE's global optimum equals pPCA; posterior collapse iff l_j <= sigma^2",
            "theory section 3",
            ("lucas2019dont", "tipping1999probabilistic"),
        ),
        ResultSources(
            "beta-vae-collapse",
            "beta-VAE: direction j collapses iff l_j <= beta sigma^2 (small sigma and small beta alike)",
            "theory section 3",
            ("lucas2019dont", "thesisch5"),
        ),
        ResultSources(
            "variance-split",
            "latent and noise shares of the total variance at the pPCA optimum",
            "theory section 3",
            ("tipping1999probabilistic", "thesisch5"),
        ),
        ResultSources(
            "iwae",
            "the importance-weighted bound L_k: ELBO = L_1 <= L_k <= L_{k+1} <= log p(x)",
            "theory section 4",
            ("burda2016importance",),
        ),
        ResultSources(
            "active-units",
            "active units: A_u = Cov_x(E_q[u]) > 0.01",
            "theory section 4",
            ("burda2016importance",),
        ),
        ResultSources(
            "gaussian-mlp-decoder",
            "the Gaussian MLP decoder of appendix C.2 (tanh hidden layer, mean and log-variance heads)",
            "theory section 4",
            ("kingma2014auto",),
        ),
        ResultSources(
            "remedies",
            "which remedies bound the likelihood (floors, fixed, discretised, quantile, Bernoulli) and "
            "which only change the gradient (beta-NLL, faithful) or the family (Student-t)",
            "theory section 7",
            (
                "seitzer2022pitfalls",
                "stirn2023faithful",
                "akrami2020addressing",
                "theis2016note",
                "mattei2018leveraging",
                "rybkin2021simple",
            ),
        ),
        ResultSources(
            "thesis-ch5",
            "the reproduction of the thesis chapter's experiments (simple VAE, variance policies, sampling)",
            "theory sections 3, 4 and 6",
            ("thesisch5", "kingma2014auto", "lucas2019dont"),
        ),
    ]
}


def result_names() -> list[str]:
    """The names :func:`references_for` accepts, in the order of the theory sections."""
    return list(RESULTS)


def references_for(result: str) -> list[Reference]:
    """The references a named result rests on.

    Raises ``ValueError`` naming ``result`` and listing the known names if it is unknown.
    """
    if result not in RESULTS:
        raise ValueError(f"unknown result {result!r}; result must be one of: {', '.join(RESULTS)}")
    return [REFERENCES[key] for key in RESULTS[result].keys]


def vaetheory_reference() -> Reference:
    """The BibTeX entry for vaetheory itself (the same facts as ``CITATION.cff``)."""
    return _ref(
        "vaetheory",
        "misc",
        author="{The vaetheory developers}",
        title=(
            "vaetheory: machine-checked algebra, closed forms and {PyTorch} experiments on the "
            "well-posedness of {G}aussian {VAE}s with a learned decoder variance"
        ),
        version=__version__,
        note=f"Python package, version {__version__}",
    )


def bibtex(references: list[Reference]) -> str:
    """BibTeX source for ``references``, one entry after another, separated by blank lines."""
    return "\n\n".join(ref.to_bibtex() for ref in references) + "\n"
