"""The study's data: a fixed held-out split, pixels scaled to [0, 1] (digits / 16, MNIST / 255)."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

from vaetheory._validation import check_choice, check_int
from vaetheory.studies.thesis_ch5.configurations import THESIS_DATA


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

    ``digits`` (scikit-learn's bundled 8x8 digits, divided by 16): a seeded 80/20 split. ``mnist``
    and ``fashion-mnist``: the standard train and t10k files in ``data_dir``
    (:func:`vaetheory.datasets.load_mnist`, divided by 255), each subsampled to ``max_train`` /
    ``max_test`` points by a seeded permutation.
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
