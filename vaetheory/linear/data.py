r"""Data for the linear module: synthetic pPCA data with a chosen spectrum, and the ``--data`` spec.

Synthetic data (:func:`synthetic_ppca_data`): :math:`x_i = W z_i + \epsilon_i`, :math:`z_i\sim\mathcal
N(0,I_k)`, :math:`\epsilon_i\sim\mathcal N(0,\nu I_d)`, with :math:`W = Q\,\mathrm{diag}(s)^{1/2}`,
:math:`Q` a random ``d x k`` matrix with orthonormal columns (Haar, ``scipy.stats.ortho_group``)
and :math:`s` the chosen *signal spectrum*. The population covariance then has eigenvalues
:math:`s_j + \nu` (``j <= k``) and :math:`\nu` (the rest): a pPCA model with ``k`` latents. With
``noise = 0`` the data lie on a ``k``-dimensional subspace (degenerate for ``q >= k``).

The ``--data`` spec (:func:`load_data`):

* ``digits``: scikit-learn's bundled 8x8 digits (1797 x 64, pixels 0..16), via
  :func:`vaetheory.datasets.load_digits`;
* ``synthetic:n=500,d=10,spectrum=5;3;1;0.5,noise=0.1,seed=0``: keys ``n`` (points), ``d``
  (dimensions), ``spectrum`` (signal variances, ``;``-separated, at most ``d`` of them), ``noise``
  (noise VARIANCE :math:`\nu\ge0`), ``seed``; any key may be left out (defaults shown);
* a path to a ``.npy`` or ``.csv`` file (rows are points), via
  :func:`vaetheory.datasets.load_array_file`.

Data are used as given unless ``scale`` asks otherwise: ``"unit"`` divides by the largest absolute
value (digits: by 16), ``"standardize"`` centres each column and divides it by its (1/n) standard
deviation (constant columns are only centred).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vaetheory._validation import check_choice, check_int, check_memory, check_positive, check_positive_array
from vaetheory.results import Result

SCALINGS = ("none", "unit", "standardize")
SYNTHETIC_DEFAULTS = {"n": 500, "d": 10, "spectrum": (5.0, 3.0, 1.0, 0.5), "noise": 0.1, "seed": 0}


@dataclass(frozen=True)
class SyntheticData(Result):
    """Synthetic pPCA data and the population parameters that generated it."""

    data: np.ndarray
    loading: np.ndarray
    noise_variance: float
    signal_spectrum: np.ndarray
    seed: int

    @property
    def population_eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the population covariance: ``s_j + noise`` then ``noise``, descending."""
        d, k = self.loading.shape
        out = np.full(d, self.noise_variance)
        out[:k] += np.sort(self.signal_spectrum)[::-1]
        return out


def synthetic_ppca_data(n_points=500, dim=10, spectrum=(5.0, 3.0, 1.0, 0.5), noise_variance=0.1, seed=0):
    r"""Draw ``n_points`` points of dimension ``dim`` from pPCA with signal variances ``spectrum``
    and noise VARIANCE ``noise_variance`` (module docstring); the same seed gives the same data."""
    n = check_int("n", n_points, low=2)
    d = check_int("d", dim, low=2)
    s = check_positive_array("spectrum", spectrum, ndim=1)
    if s.size > d:
        raise ValueError(f"spectrum must hold at most d = {d} variances; got {s.size}")
    nu = check_positive("noise", noise_variance, allow_zero=True)
    seed = check_int("seed", seed, low=0)
    # x, the noise and z (n x (2d + k) float64), the basis (d x d), before anything is allocated
    check_memory("n and d", 8.0 * (n * (2 * d + s.size) + d * d), f"{n} x {d} synthetic data")
    from scipy.stats import ortho_group

    rng = np.random.default_rng(seed)
    basis = ortho_group.rvs(dim=d, random_state=rng)[:, : s.size]
    loading = basis * np.sqrt(s)
    z = rng.standard_normal((n, s.size))
    x = z @ loading.T + np.sqrt(nu) * rng.standard_normal((n, d))
    return SyntheticData(data=x, loading=loading, noise_variance=nu, signal_spectrum=s, seed=seed)


def _spec_int(key: str, value: str) -> int:
    """An integer spec value, written as ``500`` or ``5e2``; a fraction is an error naming the key."""
    try:
        return int(value)
    except ValueError:
        number = float(value)  # a ValueError here is reported as "not a number"
    if not (math.isfinite(number) and number.is_integer()):
        raise ValueError(f"data: synthetic spec value for {key!r} must be an integer; got {value!r}")
    return int(number)


def parse_synthetic_spec(text: str) -> dict:
    """``"synthetic:n=500,d=10,spectrum=5;3;1,noise=0.1,seed=0"`` -> keyword dict (defaults filled)."""
    body = text.split(":", 1)[1] if ":" in text else ""
    out = dict(SYNTHETIC_DEFAULTS)
    for item in filter(None, (p.strip() for p in body.split(","))):
        if "=" not in item:
            raise ValueError(f"data: synthetic spec items must be key=value; got {item!r} in {text!r}")
        key, value = (s.strip() for s in item.split("=", 1))
        check_choice("data: synthetic spec key", key, list(SYNTHETIC_DEFAULTS))
        try:
            if key == "spectrum":
                out[key] = tuple(float(v) for v in value.split(";") if v.strip())
            elif key == "noise":
                out[key] = float(value)
            else:
                out[key] = _spec_int(key, value)
        except ValueError as exc:
            if str(exc).startswith("data:"):  # already says what is wrong (_spec_int)
                raise
            raise ValueError(f"data: synthetic spec value for {key!r} is not a number: {value!r}") from None
    return out


@dataclass(frozen=True)
class LoadedData:
    """A data matrix, the spec it came from, and a short description."""

    data: np.ndarray
    spec: str
    description: str
    scale: str = "none"
    synthetic: SyntheticData | None = field(default=None, repr=False)


def scale_data(data: np.ndarray, scale: str) -> np.ndarray:
    """Apply ``scale`` (``none``, ``unit``, ``standardize``; module docstring)."""
    check_choice("scale", scale, SCALINGS)
    if scale == "unit":
        top = float(np.max(np.abs(data)))
        return data / top if top > 0 else data.copy()
    if scale == "standardize":
        centred = data - data.mean(axis=0)
        # std of each column from the column divided by its largest deviation, so that columns
        # around 1e200 (squares beyond float64) or 1e-200 (squares underflowing) standardise too
        spread = np.max(np.abs(centred), axis=0)
        spread = np.where(spread > 0, spread, 1.0)
        std = (centred / spread).std(axis=0) * spread
        return centred / np.where(std > 0, std, 1.0)
    return data


def load_data(spec: str, scale: str = "none", *, header: bool | None = None) -> LoadedData:
    """The data matrix named by ``spec`` (module docstring), scaled as asked (default: as given).

    ``header`` declares whether a CSV file's first row is a header (None: only when every field in
    it is text; :func:`vaetheory.datasets.load_array_file`).
    """
    from vaetheory.datasets import load_array_file, load_digits

    check_choice("scale", scale, SCALINGS)
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("data must be 'digits', a synthetic:... spec, or a path to a .npy/.csv file")
    spec = spec.strip()
    synthetic = None
    if spec == "digits":
        raw, description = load_digits(), "scikit-learn digits (1797 x 64, pixels 0..16)"
    elif spec.startswith("synthetic"):
        kw = parse_synthetic_spec(spec)
        synthetic = synthetic_ppca_data(kw["n"], kw["d"], kw["spectrum"], kw["noise"], kw["seed"])
        raw = synthetic.data
        spectrum = ";".join(f"{v:g}" for v in kw["spectrum"])
        description = (
            f"synthetic pPCA data: n={kw['n']}, d={kw['d']}, signal spectrum {spectrum}, "
            f"noise variance {kw['noise']:g}, seed {kw['seed']}"
        )
    elif Path(spec).suffix.lower() in (".npy", ".csv"):
        raw, description = load_array_file(spec, header=header), f"file {spec}"
    else:
        raise ValueError(
            f"data must be 'digits', a 'synthetic:key=value,...' spec or a .npy/.csv path; got {spec!r}"
        )
    return LoadedData(
        data=scale_data(raw, scale), spec=spec, description=description, scale=scale, synthetic=synthetic
    )
