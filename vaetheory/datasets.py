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
