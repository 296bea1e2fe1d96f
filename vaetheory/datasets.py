"""Data sets as float64 numpy arrays (rows are points). Nothing is downloaded at run time.

* ``digits``: scikit-learn's bundled 8x8 digits (1797 points, 64 dimensions, pixel values 0..16).
  scikit-learn is used here only as the carrier of this bundled file.
* :func:`load_array_file`: a local ``.npy`` or ``.csv`` file (rows are points).
* :func:`read_idx`: the IDX format of MNIST and Fashion-MNIST, read from local files.

Every loader validates what it returns (finite, 2-D, at least two points) and raises
``ValueError`` naming the file or argument otherwise.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from vaetheory._validation import check_choice, check_finite_array

#: scaling choices for the digits data set
DIGITS_SCALINGS = ("none", "unit")


def load_digits(scale: str = "none", binarize: bool = False) -> np.ndarray:
    """scikit-learn's bundled digits as an ``(1797, 64)`` float64 array.

    ``scale="none"`` keeps the raw pixel values 0..16; ``scale="unit"`` divides by 16 so that
    pixels lie in [0, 1]. ``binarize=True`` thresholds the unit-scaled pixels at 0.5 (a fixed,
    deterministic binarisation, for Bernoulli decoders).
    """
    check_choice("scale", scale, DIGITS_SCALINGS)
    from sklearn.datasets import load_digits as _sk_load_digits

    data = np.asarray(_sk_load_digits().data, dtype=np.float64)
    if binarize:
        return (data / 16.0 > 0.5).astype(np.float64)
    if scale == "unit":
        data = data / 16.0
    return data


def digits_labels() -> np.ndarray:
    """The class labels (0..9) of :func:`load_digits`, in the same order."""
    from sklearn.datasets import load_digits as _sk_load_digits

    return np.asarray(_sk_load_digits().target, dtype=np.int64)


def load_array_file(path: str | os.PathLike[str]) -> np.ndarray:
    """A data matrix from a ``.npy`` or ``.csv`` file (rows are points, comma-separated CSV).

    A CSV whose first row does not parse as numbers is taken to have a header row.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        arr = np.load(p, allow_pickle=False)
    elif suffix == ".csv":
        try:
            arr = np.loadtxt(p, delimiter=",", ndmin=2)
        except ValueError:
            arr = np.loadtxt(p, delimiter=",", ndmin=2, skiprows=1)
    else:
        raise ValueError(f"data file {str(p)!r} must end in .npy or .csv; got {suffix or 'no suffix'!r}")
    if arr.ndim == 1:
        arr = arr[:, None]
    return check_finite_array(f"data file {str(p)!r}", arr, ndim=2, min_rows=2)


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (MNIST's format; ``.gz`` compressed or not) into a numpy array.

    The header is two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension (LeCun et al., the MNIST database).
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"IDX file {str(p)!r} does not exist")
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"IDX file {str(p)!r} has no valid IDX header (magic bytes 00 00 <type> <ndim>)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {str(p)!r} is truncated in its header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"IDX file {str(p)!r} holds {len(raw) - header} data bytes; its header {dims} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


# --- MNIST and Fashion-MNIST from a local directory of IDX files ------------------------------------

#: data set kinds that :func:`load_mnist` reads (both use the same IDX file names)
MNIST_KINDS = ("mnist", "fashion")
#: the two standard splits of MNIST and Fashion-MNIST
MNIST_SPLITS = ("train", "test")
#: scalings of the uint8 pixels: ``"unit"`` divides by 255 (pixels in [0, 1]), ``"none"`` keeps 0..255
MNIST_SCALINGS = ("unit", "none")

_MNIST_STEMS = {
    ("train", "images"): "train-images",
    ("train", "labels"): "train-labels",
    ("test", "images"): "t10k-images",
    ("test", "labels"): "t10k-labels",
}


def _mnist_file(data_dir: Path, kind: str, split: str, part: str) -> Path:
    """The IDX file of one split and part in ``data_dir``, under any of its usual names.

    The standard names are ``train-images-idx3-ubyte`` (``-idx1-`` for labels) and
    ``t10k-...``, optionally ``.gz``; some mirrors write ``train-images.idx3-ubyte``.
    """
    stem = _MNIST_STEMS[(split, part)]
    idx = "idx3" if part == "images" else "idx1"
    names = [f"{stem}-{idx}-ubyte", f"{stem}.{idx}-ubyte"]
    candidates = [n + suffix for n in names for suffix in ("", ".gz")]
    for name in candidates:
        if (data_dir / name).is_file():
            return data_dir / name
    raise ValueError(
        f"data directory {str(data_dir)!r} has no {kind} {split} {part} file; expected one of "
        f"{', '.join(candidates)}"
    )


def _check_mnist_args(data_dir, kind: str, split: str) -> Path:
    check_choice("kind", kind, MNIST_KINDS)
    check_choice("split", split, MNIST_SPLITS)
    path = Path(data_dir)
    if not path.is_dir():
        raise ValueError(f"data directory {str(path)!r} does not exist or is not a directory")
    return path


def load_mnist(
    data_dir: str | os.PathLike[str],
    kind: str = "mnist",
    split: str = "train",
    scale: str = "unit",
) -> np.ndarray:
    """MNIST or Fashion-MNIST images from a local directory of IDX files, as ``(n, rows*cols)`` float64.

    Reads the standard file names (``train-images-idx3-ubyte`` / ``t10k-images-idx3-ubyte``, plain
    or ``.gz``; LeCun et al., the MNIST database; Xiao, Rasul & Vollgraf 2017, Fashion-MNIST,
    arXiv:1708.07747, which keeps MNIST's names and format). Each image is flattened row by row.
    ``scale="unit"`` divides the uint8 pixels by 255 so they lie in [0, 1]; ``"none"`` keeps 0..255.
    Nothing is downloaded: a missing directory, a missing file or a corrupt header is a
    ``ValueError`` naming the path.
    """
    path = _check_mnist_args(data_dir, kind, split)
    check_choice("scale", scale, MNIST_SCALINGS)
    file = _mnist_file(path, kind, split, "images")
    images = read_idx(file)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"IDX file {str(file)!r} must hold uint8 images of shape (n, rows, cols); "
            f"got {images.dtype} of shape {images.shape}"
        )
    data = images.reshape(images.shape[0], -1).astype(np.float64)
    if scale == "unit":
        data /= 255.0
    return check_finite_array(f"IDX file {str(file)!r}", data, ndim=2, min_rows=2)


def load_mnist_labels(
    data_dir: str | os.PathLike[str], kind: str = "mnist", split: str = "train"
) -> np.ndarray:
    """The class labels (0..9) of :func:`load_mnist` for the same directory and split, as int64."""
    path = _check_mnist_args(data_dir, kind, split)
    file = _mnist_file(path, kind, split, "labels")
    labels = read_idx(file)
    if labels.ndim != 1:
        raise ValueError(f"IDX file {str(file)!r} must hold a 1-D label array; got shape {labels.shape}")
    return labels.astype(np.int64)
