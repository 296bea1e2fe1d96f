"""MNIST / Fashion-MNIST from a directory of IDX files, on small files the tests write; the split."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from vaetheory.datasets import load_mnist, load_mnist_labels
from vaetheory.studies.thesis_ch5 import load_thesis_data


def _idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: 00 00 08 ndim, big-endian uint32 dims, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write(path, array: np.ndarray, gz: bool):
    data = _idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


def _mnist_dir(root, *, gz: bool, n_train=6, n_test=4, side=5, dotted=False, seed=0):
    rng = np.random.default_rng(seed)
    images = {
        "train": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "t10k": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
    }
    labels = {k: rng.integers(0, 10, len(v), dtype=np.uint8) for k, v in images.items()}
    sep = "." if dotted else "-"
    for stem in ("train", "t10k"):
        _write(root / f"{stem}-images{sep}idx3-ubyte", images[stem], gz)
        _write(root / f"{stem}-labels{sep}idx1-ubyte", labels[stem], gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_idx_images_scaled_to_unit_interval(tmp_path, gz):
    images, labels = _mnist_dir(tmp_path, gz=gz)
    x = load_mnist(tmp_path, split="train")
    assert x.shape == (6, 25) and x.dtype == np.float64
    np.testing.assert_array_equal(x, images["train"].reshape(6, 25) / 255.0)
    raw = load_mnist(tmp_path, kind="fashion", split="test", scale="none")
    np.testing.assert_array_equal(raw, images["t10k"].reshape(4, 25).astype(float))
    np.testing.assert_array_equal(load_mnist_labels(tmp_path, split="test"), labels["t10k"])


def test_load_mnist_accepts_the_dotted_file_names(tmp_path):
    images, _ = _mnist_dir(tmp_path, gz=True, dotted=True)
    np.testing.assert_array_equal(load_mnist(tmp_path, split="test"), images["t10k"].reshape(4, 25) / 255.0)


def test_load_mnist_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_missing_file_lists_the_expected_names(tmp_path):
    with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_load_mnist_corrupt_header_is_a_clear_error(tmp_path):
    _mnist_dir(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[0:2] = b"\x1f\x8b"  # not the IDX magic
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="no valid IDX header"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_file_is_a_clear_error(tmp_path):
    _mnist_dir(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ValueError, match="data bytes"):
        load_mnist(tmp_path)


def test_load_mnist_labels_file_as_images_is_rejected(tmp_path):
    _write(tmp_path / "train-images-idx3-ubyte", np.arange(5, dtype=np.uint8), gz=False)
    with pytest.raises(ValueError, match="images of shape"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("bad", [{"kind": "kmnist"}, {"split": "valid"}, {"scale": "std"}])
def test_load_mnist_unknown_option_names_the_argument(tmp_path, bad):
    _mnist_dir(tmp_path, gz=False)
    with pytest.raises(ValueError, match=next(iter(bad))):
        load_mnist(tmp_path, **bad)


def test_thesis_data_uses_the_standard_splits_and_image_shape(tmp_path):
    _mnist_dir(tmp_path, gz=True, n_train=8, n_test=5, side=6)
    data = load_thesis_data("fashion-mnist", tmp_path, seed=1, max_train=7)
    assert data.x_train.shape == (7, 36) and data.x_test.shape == (5, 36)
    assert data.image_shape == (6, 6)
    assert data.x_train.min() >= 0 and data.x_train.max() <= 1


def test_thesis_digits_split_is_fixed_by_the_seed_and_disjoint():
    a = load_thesis_data("digits", seed=3)
    b = load_thesis_data("digits", seed=3)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert len(a.x_train) + len(a.x_test) == 1797 and a.image_shape == (8, 8)
    c = load_thesis_data("digits", seed=4)
    assert not np.array_equal(a.x_test, c.x_test)


def test_thesis_data_mnist_needs_a_directory():
    with pytest.raises(ValueError, match="data_dir"):
        load_thesis_data("mnist")
