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
import math
import os
import struct
import zlib
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


#: delimiters tried when suggesting one for a CSV file that does not parse with commas
CSV_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes", " ": "spaces"}
_NPY_MAGIC = b"\x93NUMPY"


def _file_name(p: Path) -> str:
    return f"data file {str(p)!r}"


def check_data_path(path: str | os.PathLike[str], what: str = "data file") -> Path:
    """``path`` as a :class:`Path` that names an existing regular file, or a ``ValueError`` saying
    whether it does not exist or is a directory (or another kind of file)."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{what} {str(p)!r} is a directory, not a file")
    if not p.exists():
        raise ValueError(f"{what} {str(p)!r} does not exist")
    if not p.is_file():
        raise ValueError(f"{what} {str(p)!r} is not a regular file")
    return p


def load_array_file(path: str | os.PathLike[str], *, header: bool | None = None) -> np.ndarray:
    """A data matrix from a ``.npy`` or ``.csv`` file (rows are points, comma-separated CSV).

    CSV: a first row is a header when ``header=True``, or with ``header=None`` (default) when every
    one of its fields is non-numeric; a row with some numbers and some text (``1,2,x``) is an error,
    never a header. Every error names the file, the line as an editor numbers it (1-based, the
    header included) and the column; a file that parses with another delimiter gets it suggested;
    complex and non-finite values are refused. ``.npy``: a file without NumPy's magic header (an IDX
    or any other file) is reported as not a .npy file; complex, object and structured arrays are
    refused.
    """
    p = check_data_path(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        arr = _load_npy(p)
    elif suffix == ".csv":
        arr = _load_csv(p, header)
    else:
        raise ValueError(f"data file {str(p)!r} must end in .npy or .csv; got {suffix or 'no suffix'!r}")
    if arr.ndim == 1:
        arr = arr[:, None]
    return check_finite_array(_file_name(p), arr, ndim=2, min_rows=2)


def _load_npy(p: Path) -> np.ndarray:
    name = _file_name(p)
    with open(p, "rb") as fh:
        magic = fh.read(len(_NPY_MAGIC))
    if magic != _NPY_MAGIC:
        looks = ""
        if len(magic) >= 4 and magic[0] == 0 and magic[1] == 0 and magic[2] in _IDX_DTYPES:
            looks = " (it starts like an IDX file: load it with vaetheory.datasets.read_idx)"
        elif magic[:2] == b"\x1f\x8b":
            looks = " (it is gzip-compressed)"
        elif magic[:2] == b"PK":
            looks = " (it is a zip archive, e.g. a .npz: save one array with numpy.save)"
        raise ValueError(f"{name} is not a .npy file: it lacks NumPy's magic header{looks}")
    try:
        arr = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ValueError(f"{name} holds an object array (pickled data); save a numeric array") from None
        raise ValueError(f"{name} is a damaged .npy file: {exc}") from None
    except (EOFError, OSError) as exc:
        raise ValueError(f"{name} is a truncated or damaged .npy file: {exc}") from None
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{name} does not hold a single array")
    if arr.dtype.names is not None:
        raise ValueError(
            f"{name} holds a structured array (fields {arr.dtype.names}); save a plain numeric one"
        )
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} holds complex values (dtype {arr.dtype}); only real values are accepted")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} holds {arr.dtype} values; only real numbers are accepted")
    return arr


def _parse_field(text: str) -> float | None:
    """The field as a float, or None if it is not a real number."""
    try:
        return float(text)
    except ValueError:
        return None


def _is_complex(text: str) -> bool:
    """A complex literal such as ``1+2j`` (with a digit: a bare ``j`` is text, e.g. a header)."""
    try:
        complex(text)
    except ValueError:
        return False
    return any(ch.isdigit() for ch in text)


def _suggest_delimiter(line: str) -> str:
    for delim, word in CSV_OTHER_DELIMITERS.items():
        fields = line.split() if delim == " " else line.split(delim)
        if len(fields) > 1 and all(_parse_field(f.strip()) is not None for f in fields):
            return f"; the file may be separated by {word} ({delim!r}), not commas: CSV files must use commas"
    return ""


def _load_csv(p: Path, header: bool | None) -> np.ndarray:
    """Parse a comma-separated file (see :func:`load_array_file`) with line and column in errors."""
    name = _file_name(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name} is not UTF-8 text (byte {exc.start}); is it really a CSV file?") from None
    lines = text.splitlines()
    numbered = [
        (i + 1, line) for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise ValueError(f"{name} holds no data rows")
    first_no, first = numbered[0]
    first_fields = [f.strip() for f in first.split(",")]
    if header is None:
        # a row of numbers under another delimiter ("1;2;3") is data, not a header
        header = not _suggest_delimiter(first) and all(
            _parse_field(f) is None and not _is_complex(f) for f in first_fields
        )
    rows = numbered[1:] if header else numbered
    if not rows:
        raise ValueError(f"{name} holds a header (line {first_no}) and no data rows")
    try:  # fast path (numpy's parser); any problem is located by the line-by-line parser below
        fast = np.loadtxt((line for _, line in rows), delimiter=",", ndmin=2, comments=None, dtype=np.float64)
    except ValueError:
        fast = None
    if fast is not None and np.all(np.isfinite(fast)):
        return fast
    return _parse_csv_rows(name, rows, first_no, header)


def _parse_csv_rows(name: str, rows, first_no: int, header: bool) -> np.ndarray:
    width = None
    out = []
    for line_no, line in rows:
        fields = line.split(",")
        if width is None:
            width = len(fields)
            width_line = line_no
        elif len(fields) != width:
            raise ValueError(
                f"{name}, line {line_no}: {len(fields)} columns, but line {width_line} has {width}"
                + (_suggest_delimiter(line) if len(fields) == 1 else "")
            )
        values = []
        for col, field in enumerate(fields, start=1):
            f = field.strip()
            value = _parse_field(f)
            if value is None:
                if _is_complex(f):
                    why = f"{f!r} is a complex number; only real values are accepted"
                elif not f:
                    why = "the field is empty"
                else:
                    why = f"{f!r} is not a number"
                hint = _suggest_delimiter(line) if len(fields) == 1 else ""
                if line_no == first_no and not header:
                    hint += (
                        "; a first row is taken as a header only when every field in it is text "
                        "(or when a header is declared)"
                    )
                raise ValueError(f"{name}, line {line_no}, column {col}: {why}{hint}")
            if not math.isfinite(value):
                raise ValueError(
                    f"{name}, line {line_no}, column {col}: {f!r} is not finite; only finite values "
                    "are accepted"
                )
            values.append(value)
        out.append(values)
    return np.array(out, dtype=np.float64)


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (MNIST's format; ``.gz`` compressed or not) into a numpy array.

    The header is two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension (LeCun et al., the MNIST database). A ``.gz`` file that is not gzip, or
    whose compressed stream is truncated or corrupt, is a ``ValueError`` naming the file.
    """
    p = check_data_path(path, "IDX file")
    if p.suffix == ".gz":
        try:
            with gzip.open(p, "rb") as fh:
                raw = fh.read()
        except gzip.BadGzipFile:
            raise ValueError(f"IDX file {str(p)!r} ends in .gz but is not a gzip file") from None
        except EOFError:
            raise ValueError(
                f"IDX file {str(p)!r} is truncated: its gzip stream ends before the end marker"
            ) from None
        except (OSError, zlib.error) as exc:
            raise ValueError(f"IDX file {str(p)!r} is a damaged gzip file: {exc}") from None
    else:
        raw = p.read_bytes()
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
