r"""Training a VAE with a named decoder-variance policy, recording what the blow-up theory predicts.

Each logged step records, from that step's minibatch (no extra forward pass), one :class:`LogEntry`
(a line of ``log.jsonl``; the keys are a contract):

``step``, ``elbo`` (mean per-point ELBO of the batch, nats), ``max_point_loglik`` (the largest
per-point log-likelihood estimate in the batch: the per-point ELBO with one reparameterised sample
and the analytic KL, a lower bound on :math:`\log p(x_i)` in expectation; under a floor
:math:`\le-\tfrac d2\log(2\pi\xi)` for every sample; ``max_point_elbo``, written after the keys
of :data:`LOG_KEYS`, is the same value under the name that says what it is, the old name is kept),
``argmax_point`` (its training index),
``min_variance`` (the smallest decoder VARIANCE used in the batch; null for Bernoulli),
``argmin_point`` (the training point it belongs to), for the ``floor`` policy
``min_unfloored_variance`` (the smallest variance the head asks for before the floor, at the
encoder means of the batch), ``bound`` (the floor's
:math:`-\tfrac d2\log(2\pi\xi)` per point, the fixed variance's, 0 for Bernoulli, null otherwise),
and ``loss``.

Every step (logged or not) also feeds the run's :class:`BoundCheck` (``TrainResult.bound_check``,
``summary.json``'s ``bound_check``): the largest one-sample per-point ELBO of the run against
the bound.

With ``learned`` the likelihood is unbounded (theory section 2; Mattei & Frellsen 2018): on
digits, whose border pixels are constant, the per-pixel variance of those pixels can shrink
without limit. A step whose loss or gradient is not finite stops the run with the step, the
quantity, and the likely cause read from what was measured (the data range, the decoder
variance, the trend of the batch ELBO, the gradient and parameter norms, each with its numbers;
``TrainResult.stopped_reason``); the log and the last good checkpoint are kept.

The output directory is a :class:`vaetheory.rundir.RunDirectory` (locked for the run, reused only
with ``resume`` or ``overwrite``, every file written atomically). Checkpoints (``checkpoint.pt``)
hold only tensors, numbers and dicts and load with ``torch.load(weights_only=True)``, which
executes no code; ``config.json`` holds the configuration.

Training runs in float32: data, floors and fixed variances that float32 cannot represent
(:data:`FLOAT32_MAX`, :data:`FLOAT32_TINY`) are refused at the door.

Devices (``train(..., device=)``, ``vaetheory train --device``; :func:`check_device`): the data,
the model (weights and the policy's floor buffers), Adam's state and the minibatch/noise generator
live on the device; the default is the CPU. A step reads back one boolean (is the loss and every
gradient finite?) and nothing else; the log entry's numbers are read back at logged steps only,
the running peak of the bound check is kept on the device and read at checkpoints and at the end.
Checkpoints hold CPU tensors (and load with ``map_location="cpu"``), so a run started on a GPU
resumes on the CPU and vice versa. On the same device type the resumed run is bit for bit the
uninterrupted one; across device types the generator's state cannot carry over (CUDA's Philox and
the CPU's Mersenne twister are different generators), so the generator is reseeded from
``(seed, step)`` (:func:`resume_seed`) and ``TrainResult.generator_reseeded_at`` records the step.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaetheory._validation import check_choice, check_finite_array, check_int, check_positive
from vaetheory.empirical.model import (
    LIKELIHOODS,
    GaussianVAE,
    VAEConfig,
    build_model,
    gaussian_bound_per_point,
)
from vaetheory.empirical.policies import check_floor_method, check_policy, get_policy
from vaetheory.results import Result, to_jsonable
from vaetheory.rundir import RunDirectory, read_checkpoint, read_json, read_jsonl

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
LOG = "log.jsonl"
SUMMARY = "summary.json"
#: the files of a training run: their presence means a directory holds one
RUN_FILES = (CONFIG, LOG, CHECKPOINT, SUMMARY)

#: float32's largest finite number and smallest normal number: training runs in float32
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_TINY = float(np.finfo(np.float32).tiny)
#: seeds are accepted in [0, SEED_MAX] (torch's generators take a signed 64-bit seed)
SEED_MAX = 2**63 - 1
#: a decoder variance at or below this at a breakdown is reported as collapsed: log variance
#: <= -69, within 8 decades of float32's smallest normal number, where (x - mu)^2 / variance overflows
COLLAPSED_VARIANCE = 1e-30
#: what the BoundCheck's ``peak`` is
PEAK_STATISTIC = (
    "the largest one-sample per-point ELBO, log p(x_i | z) - beta KL(q(z | x_i) || p(z)) with one "
    "reparameterised z and the analytic KL, in float32, at the parameters before the update, over "
    "every point of every minibatch of every training step"
)
#: the device types training runs on (``cuda`` where ``torch.cuda.is_available()``)
DEVICES = ("cpu", "cuda")
#: the keys of a log line, in order (``min_unfloored_variance`` follows for the floor policy)
LOG_KEYS = (
    "step",
    "elbo",
    "max_point_loglik",
    "argmax_point",
    "min_variance",
    "argmin_point",
    "bound",
    "loss",
)


def _check_number(name: str, value: Any) -> float:
    """A real number given as a number (a string or a bool is refused, not converted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    return float(value)


def _check_float32_range(name: str, value: float, what: str = "") -> None:
    if not FLOAT32_TINY <= value <= FLOAT32_MAX:
        raise ValueError(
            f"{name}{what} must lie in [{FLOAT32_TINY:.3g}, {FLOAT32_MAX:.3g}]: training runs in float32, "
            f"which flushes smaller values to 0 and overflows larger ones; got {value!r}"
        )


def check_device(device: Any, *, name: str = "device") -> torch.device:
    """``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a :class:`torch.device`) as a torch.device.

    Anything else (``"meta"``, ``"mps"``, a typo) is a ``ValueError`` naming ``name`` and the
    accepted values; so is ``cuda`` when ``torch.cuda.is_available()`` is False or ``N`` is not
    below ``torch.cuda.device_count()``. Nothing falls back silently to the CPU.
    """
    accepted = "cpu or cuda (cuda:N for the N-th GPU)"
    if isinstance(device, torch.device):
        parsed = device
    elif isinstance(device, str):
        try:
            parsed = torch.device(device.strip())
        except (RuntimeError, ValueError):
            raise ValueError(f"{name} must be {accepted}; got {device!r}") from None
    else:
        raise ValueError(f"{name} must be {accepted}; got {type(device).__name__} {device!r}")
    if parsed.type not in DEVICES:
        raise ValueError(f"{name} must be {accepted}; got {device!r}")
    if parsed.type == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(
            f"{name} {device}: no CUDA device is available here (torch.cuda.is_available() is False: a "
            f"CPU-only torch build or no GPU visible); accepted here: cpu"
        )
    count = torch.cuda.device_count()
    if parsed.index is not None and parsed.index >= count:
        raise ValueError(
            f"{name} {device}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}"
        )
    return parsed


def resume_seed(seed: int, step: int) -> int:
    """The generator seed of a run resumed at ``step`` on another device type (module docstring)."""
    words = np.random.SeedSequence([int(seed), int(step)]).generate_state(2, np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


def _to_cpu(tree):
    """``tree`` with every tensor on the CPU (a checkpoint's state; a CPU tensor is kept as it is)."""
    if isinstance(tree, torch.Tensor):
        return tree.cpu()
    if isinstance(tree, dict):
        return {k: _to_cpu(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_cpu(v) for v in tree)
    return tree


def _check_hidden(hidden: Any) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (tuple, list)):
        raise ValueError(
            f"hidden must be a tuple of layer widths (positive integers), e.g. (128,); got {hidden!r}"
        )
    return tuple(check_int("hidden width", h, low=1) for h in hidden)


@dataclass(frozen=True)
class TrainConfig:
    """A training run. ``floor_variance`` is a floor on the VARIANCE; ``sigma`` the fixed decoder STD.

    ``data`` is ``"digits"`` (scikit-learn's digits scaled to [0, 1]; binarised at 0.5 for
    ``likelihood="bernoulli"``) or the path of a ``.npy``/``.csv`` file (rows are points);
    ``n_points`` keeps only its first ``n_points`` rows (a tiny data set shows the blow-up sooner).
    Validated on construction: numbers must be numbers (``lr="0.1"`` is refused), ``hidden`` a
    tuple of widths, ``seed`` in [0, 2**63 - 1], floors and ``sigma**2`` inside float32's normal
    range; ``variance``, ``floor_variance`` and ``sigma`` apply to the Gaussian likelihood only.
    """

    variance: str = "learned"
    floor_variance: float | None = None
    floor_method: str = "clamp"
    sigma: float | None = None
    beta: float = 1.0
    likelihood: str = "gaussian"
    data: str = "digits"
    latent: int = 2
    hidden: tuple[int, ...] = (128,)
    steps: int = 1000
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 100
    n_points: int | None = None

    def __post_init__(self) -> None:
        check_policy(self.variance)
        check_floor_method(self.floor_method)
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        if self.floor_variance is not None:
            xi = check_positive("floor_variance", _check_number("floor_variance", self.floor_variance))
            _check_float32_range("floor_variance", xi)
        if self.sigma is not None:
            s = check_positive("sigma", _check_number("sigma", self.sigma))
            _check_float32_range("sigma", s * s, " squared (the fixed variance)")
        if self.likelihood == "bernoulli" and (
            self.variance != "learned" or self.floor_variance is not None or self.sigma is not None
        ):
            raise ValueError(
                "variance, floor_variance and sigma apply to the gaussian likelihood only: a Bernoulli "
                f"decoder has no variance; got variance={self.variance!r}, "
                f"floor_variance={self.floor_variance!r}, sigma={self.sigma!r}"
            )
        object.__setattr__(self, "beta", check_positive("beta", _check_number("beta", self.beta)))
        object.__setattr__(self, "lr", check_positive("lr", _check_number("lr", self.lr)))
        check_int("latent", self.latent, low=1)
        object.__setattr__(self, "hidden", _check_hidden(self.hidden))
        check_int("steps", self.steps, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_int("seed", self.seed, low=0, high=SEED_MAX)
        check_int("log_every", self.log_every, low=1)
        check_int("checkpoint_every", self.checkpoint_every, low=1)
        if self.n_points is not None:
            check_int("n_points", self.n_points, low=2)

    def model_config(self, data_dim: int) -> VAEConfig:
        """The :class:`VAEConfig` of this run for data of ``data_dim`` columns (validates the combination)."""
        gaussian = self.likelihood == "gaussian"
        return VAEConfig(
            data_dim=data_dim,
            latent_dim=self.latent,
            hidden=self.hidden,
            likelihood=self.likelihood,
            variance=self.variance if gaussian else "learned",
            floor_variance=self.floor_variance,
            floor_method=self.floor_method,
            sigma=self.sigma,
        )


@dataclass(frozen=True)
class LogEntry:
    """One line of ``log.jsonl`` (module docstring); :meth:`to_dict` gives the contract's keys in order."""

    step: int
    elbo: float
    max_point_loglik: float
    argmax_point: int
    min_variance: float | None
    argmin_point: int | None
    bound: float | None
    loss: float
    min_unfloored_variance: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in LOG_KEYS}
        # the right name of max_point_loglik (kept as the old key): a one-sample per-point ELBO
        out["max_point_elbo"] = self.max_point_loglik
        if self.min_unfloored_variance is not None:
            out["min_unfloored_variance"] = self.min_unfloored_variance
        return out

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> LogEntry:
        return cls(**{k: entry.get(k) for k in (*LOG_KEYS, "min_unfloored_variance")})


@dataclass(frozen=True)
class BoundCheck(Result):
    """The run's peak against its bound, computed at every training step.

    ``peak`` is :data:`PEAK_STATISTIC`; ``step`` and ``point`` say where it was reached (the
    training step and the training point's index). ``bound`` is the policy's per-point bound
    (``-(d/2) log(2 pi xi)`` for a floor xi, ``-(d/2) log(2 pi sigma^2)`` for a fixed variance, 0 for
    Bernoulli; null for a policy without one). ``held`` is True exactly when ``peak <= bound +
    tolerance``, False otherwise, and null without a bound (or before any step ran); ``margin`` is
    ``bound - peak`` (negative when exceeded). The bound holds for every one-sample value here,
    not only for its expectation: log p(x | z) <= bound for every z when every variance is >= xi,
    and beta KL >= 0. ``tolerance`` allows for float32 rounding of the d-term sum:
    ``8 * 2**-23 * (|bound| + d)``.
    """

    bound: float | None
    peak: float | None
    step: int | None
    point: int | None
    held: bool | None
    margin: float | None
    tolerance: float | None = None
    statistic: str = PEAK_STATISTIC

    @classmethod
    def of(cls, bound: float | None, peak: float | None, step, point, data_dim: int) -> BoundCheck:
        if bound is None or peak is None:
            return cls(bound=bound, peak=peak, step=step, point=point, held=None, margin=None)
        tolerance = 8 * 2.0**-23 * (abs(bound) + data_dim)
        return cls(
            bound=bound,
            peak=peak,
            step=step,
            point=point,
            held=bool(peak <= bound + tolerance),
            margin=bound - peak,
            tolerance=tolerance,
        )

    def verdict(self) -> str:
        """One line: held, EXCEEDED, or no bound, with the numbers."""
        if self.bound is None:
            where = (
                "" if self.peak is None else f"; peak {self.peak:.6g} at step {self.step}, point {self.point}"
            )
            return f"no bound for this policy (the likelihood is unbounded){where}"
        if self.held is None:
            return f"bound {self.bound:.6g} nats per point: not checked (no step ran)"
        word = "held" if self.held else "EXCEEDED"
        return (
            f"bound {word}: peak {self.peak:.6g} (step {self.step}, training point {self.point}) vs bound "
            f"{self.bound:.6g} nats per point, margin {self.margin:.3g}"
        )


@dataclass(frozen=True)
class TrainResult(Result):
    """A finished (or stopped) run: its history, the model, and why it stopped early (None if it did not)."""

    config: TrainConfig
    model: Any
    history: list
    stopped_reason: str | None
    steps_done: int
    last_good_step: int
    bound: float | None
    out_dir: str | None
    provenance: dict
    bound_check: BoundCheck | None = None
    #: the device the run (its last segment, if resumed) trained on, e.g. ``"cpu"`` or ``"cuda:0"``
    device: str = "cpu"
    #: the step at which a resume on another device type reseeded the generator, else None
    generator_reseeded_at: int | None = None

    @property
    def entries(self) -> list[LogEntry]:
        """The history as typed :class:`LogEntry` values."""
        return [LogEntry.from_dict(h) for h in self.history]

    def to_dict(self) -> dict[str, Any]:
        out = {
            f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "model"
        }
        out["config"] = to_jsonable(dataclasses.asdict(self.config))
        return out


def load_training_data(config: TrainConfig, data=None) -> np.ndarray:
    """The run's data as float64 ``[n, d]``: ``data`` if given, else ``config.data``; validated.

    Values float32 cannot represent are refused (training runs in float32): ``|x| > 3.4e38``
    (overflow to inf) and nonzero ``|x| < 1.18e-38`` (flushed to 0).
    """
    source = config.data if data is None else "the array given"
    if data is None:
        if config.data == "digits":
            from vaetheory.datasets import load_digits

            data = load_digits(scale="unit", binarize=config.likelihood == "bernoulli")
        else:
            from vaetheory.datasets import load_array_file

            data = load_array_file(config.data)
    arr = check_finite_array("data", data, ndim=2, min_rows=2)
    if config.n_points is not None:
        if config.n_points > arr.shape[0]:
            raise ValueError(
                f"n_points must be <= the number of data points ({arr.shape[0]}); got {config.n_points}"
            )
        arr = arr[: config.n_points]
    magnitude = np.abs(arr)
    outside = (magnitude > FLOAT32_MAX) | ((magnitude < FLOAT32_TINY) & (arr != 0))
    if outside.any():
        r, c = (int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"data ({source}): the value {float(arr[r, c])!r} at point "
            f"{r}, column {c} (0-based; {int(outside.sum())} such values) is outside float32's range; "
            f"training runs in float32, which needs |x| <= {FLOAT32_MAX:.3g} and nonzero |x| >= "
            f"{FLOAT32_TINY:.3g} (smaller values are flushed to 0): rescale the data"
        )
    if config.likelihood == "bernoulli" and not np.all((arr == 0) | (arr == 1)):
        raise ValueError("data must be binary (0 or 1) for likelihood='bernoulli'")
    return arr


# -- memory --------------------------------------------------------------------------------------
def count_parameters(model_config: VAEConfig) -> int:
    """The number of parameters :class:`GaussianVAE` allocates for ``model_config`` (without building it)."""
    c = model_config
    widths = list(c.hidden)

    def linear(sizes):
        return sum(a * b + b for a, b in itertools.pairwise(sizes))

    enc_width = widths[-1] if widths else c.data_dim
    dec_width = widths[0] if widths else c.latent_dim
    n = linear([c.data_dim, *widths]) + (enc_width * c.latent_dim + c.latent_dim)
    n += (enc_width * c.latent_dim + c.latent_dim) if widths else c.latent_dim
    n += linear([c.latent_dim, *reversed(widths)]) + (dec_width * c.data_dim + c.data_dim)
    if c.likelihood == "gaussian":
        policy = get_policy(c)
        if policy.raw_head:
            n += (dec_width * c.data_dim + c.data_dim) if widths else c.data_dim
        own = torch.nn.Module()  # the policy's own parameters (a shared log-variance, ...)
        policy.build(own)
        n += sum(p.numel() for p in own.parameters())
    return n


def estimate_training_memory(model_config: VAEConfig, batch_size: int) -> int:
    """Bytes a run needs, estimated before allocating: 8 float32 copies of the parameters (weights,
    gradients, Adam's two moments, the last good state's three copies, the serialised checkpoint)
    and 8 float32 activations per hidden unit per point of a minibatch."""
    widths = sum(model_config.hidden) * 2 + model_config.data_dim * 3 + model_config.latent_dim * 4
    return 4 * 8 * count_parameters(model_config) + 4 * 8 * batch_size * widths


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else physical memory), or None."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return None


def check_memory(model_config: VAEConfig, batch_size: int) -> None:
    """Refuse, before allocating, a model whose training cannot fit in the memory available."""
    need = estimate_training_memory(model_config, batch_size)
    have = available_memory()
    if have is not None and need > have:
        raise ValueError(
            f"hidden {model_config.hidden} (with batch_size {batch_size}) needs about {need / 2**30:.3g} GiB "
            f"({count_parameters(model_config):,} parameters, 8 float32 copies each, and the activations); "
            f"{have / 2**30:.3g} GiB is available: choose smaller hidden widths"
        )


# -- numerics ------------------------------------------------------------------------------------
def _flushing_denormals() -> bool:
    """Whether the process currently flushes denormal floats to zero (torch.set_flush_denormal)."""
    return float(torch.tensor(1e-300, dtype=torch.float64) * 1e-10) == 0.0


@contextlib.contextmanager
def flush_denormals():
    """Flush denormal floats to zero inside the block (or decorated function), then restore.

    Subnormal Adam moments slow CPU training by 20-30%; ``torch.set_flush_denormal(True)`` removes
    that, but it is process-wide state (it also changes numpy's arithmetic), so every training entry
    point sets it through this context manager and gives the previous setting back.
    """
    was_flushing = _flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_flushing)


def _min_unfloored_variance(model: GaussianVAE, x: torch.Tensor) -> float | None:
    r"""The smallest variance the decoder head asks for BEFORE the floor, at the encoder means of ``x``.

    The policy's unfloored variance (:meth:`GaussianVAE.unfloored_variance`: :math:`e^{\ell}`,
    ``softplus(l)`` for the softplus method). With ``gaussian_nll`` the gradient passes through the
    floor, so this can fall far below :math:`\xi` while the floored value stays.
    """
    mean, _ = model.encode(x)
    unfloored = model.unfloored_variance(mean)
    return None if unfloored is None else float(unfloored.min())


def _detached_copy(tree):
    """``tree`` (dicts, lists, tuples, tensors, numbers) with every tensor cloned: cheaper than deepcopy."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone()
    if isinstance(tree, dict):
        return {k: _detached_copy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_detached_copy(v) for v in tree)
    return copy.deepcopy(tree)


# -- the pieces of a run -------------------------------------------------------------------------
class _Peak:
    """The running maximum of the one-sample per-point ELBO (:data:`PEAK_STATISTIC`).

    :meth:`update` runs at every step and only keeps a reference to the step's per-point values
    and indices (no operation, no read-back); every :data:`FOLD_STEPS` steps (or
    :data:`FOLD_POINTS` points), and before any read, the kept steps are folded into the maximum,
    its step and its point, tensors on the batch's device, with one ``argmax`` over all of them.
    ``value``, ``step``, ``point`` and :meth:`state` read them back. The result is that of a
    step-by-step update: a later step replaces the peak only when strictly larger, and of equal
    values the earliest step's first point is taken (``torch.argmax`` returns the first maximum in
    the (step, point) order of the stacked values).
    """

    #: at most this many steps, or this many per-point values, wait to be folded in
    FOLD_STEPS = 32
    FOLD_POINTS = 1 << 15

    def __init__(self, value: float | None = None, step: int | None = None, point: int | None = None):
        self._host = (value, step, point)
        self._tensors: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        self._pending_points = 0

    def update(self, step: int, point_elbo: torch.Tensor, index: torch.Tensor) -> None:
        self._pending.append((step, point_elbo, index))
        self._pending_points += point_elbo.numel()
        if len(self._pending) >= self.FOLD_STEPS or self._pending_points >= self.FOLD_POINTS:
            self._fold()

    def _fold(self) -> None:
        if not self._pending:
            return
        steps, values, indices = zip(*self._pending)
        self._pending, self._pending_points = [], 0
        values = torch.stack(values)  # [steps, batch]: every step draws the same number of points
        flat = torch.argmax(values)  # the first maximum in (step, point) order
        v = values.reshape(-1).take(flat)  # take: indexing by a tensor would read it back
        p = torch.stack(indices).reshape(-1).take(flat)
        s = torch.tensor(steps, dtype=torch.int64).to(values.device).take(flat // values.shape[1])
        if self._tensors is None:
            value, at, point = self._host
            device = values.device
            self._tensors = (
                torch.tensor(-math.inf if value is None else value, dtype=values.dtype).to(device),
                torch.tensor(-1 if at is None else at, dtype=torch.int64).to(device),
                torch.tensor(-1 if point is None else point, dtype=torch.int64).to(device),
            )
        value, at, point = self._tensors
        better = v > value
        self._tensors = (
            torch.where(better, v, value),
            torch.where(better, s, at),
            torch.where(better, p, point),
        )

    def _read(self) -> tuple[float | None, int | None, int | None]:
        self._fold()
        if self._tensors is not None:
            value, at, point = self._tensors
            at = int(at)
            self._host = (None, None, None) if at < 0 else (float(value), at, int(point))
        return self._host

    @property
    def value(self) -> float | None:
        return self._read()[0]

    @property
    def step(self) -> int | None:
        return self._read()[1]

    @property
    def point(self) -> int | None:
        return self._read()[2]

    def state(self) -> dict:
        value, step, point = self._read()
        return {"value": value, "step": step, "point": point}


@dataclass
class TrainingTrend:
    """What the loop measured at logged steps, for the stop message: ELBO, variance, norms."""

    best: tuple[int, float] | None = None
    last: tuple[int, float] | None = None
    min_variance: tuple[int, float] | None = None
    grad_first: tuple[int, float] | None = None
    grad_last: tuple[int, float] | None = None
    param_first: tuple[int, float] | None = None
    param_last: tuple[int, float] | None = None

    def add_entry(self, entry: dict) -> None:
        step, elbo = int(entry["step"]), float(entry["elbo"])
        if self.best is None or elbo > self.best[1]:
            self.best = (step, elbo)
        self.last = (step, elbo)
        if entry.get("min_variance") is not None:
            self.min_variance = (step, float(entry["min_variance"]))

    def add_norms(self, step: int, grad_norm: float, param_norm: float) -> None:
        self.grad_first = self.grad_first or (step, grad_norm)
        self.grad_last = (step, grad_norm)
        self.param_first = self.param_first or (step, param_norm)
        self.param_last = (step, param_norm)

    def diverged(self) -> bool:
        """The batch ELBO fell from its best by more than max(5 nats, a quarter of |best|)."""
        if self.best is None or self.last is None:
            return False
        return self.best[1] - self.last[1] > max(5.0, 0.25 * abs(self.best[1]))


@dataclass
class StepResult:
    """What :func:`train_step` did: the failure (a sentence) or the batch's values and log entry."""

    failure: str | None
    point_elbo: torch.Tensor
    index: torch.Tensor
    batch: torch.Tensor
    entry: LogEntry | None = None
    grad_norms: torch.Tensor | None = None


@dataclass
class _Trainer:
    """The state one step needs: model, optimizer, generator, data, and the run's constants."""

    config: TrainConfig
    model_config: VAEConfig
    model: GaussianVAE
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    X: torch.Tensor
    bound: float | None
    params: list
    #: the step at which a resume on another device type reseeded the generator (module docstring)
    reseeded_at: int | None = None

    def snapshot(self, step: int, peak: _Peak) -> dict:
        """A checkpoint state: tensors, numbers and dicts only (loads with ``weights_only=True``).

        The tensors stay on the training device (this is also the in-memory last good state);
        :meth:`TrainingFiles.checkpoint` writes them as CPU tensors.
        """
        return {
            "model": _detached_copy(self.model.state_dict()),
            "optimizer": _detached_copy(self.optimizer.state_dict()),
            "generator": self.generator.get_state().clone(),
            "generator_device": self.generator.device.type,
            "step": step,
            "peak": peak.state(),
        }

    def restore(self, state: dict, where: str) -> None:
        saved_device = state.get("generator_device", "cpu")  # checkpoints before devices: the CPU's
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if saved_device == self.generator.device.type:
                self.generator.set_state(state["generator"])
            else:  # another generator: its state cannot carry over; reseeded from (seed, step)
                self.generator.manual_seed(resume_seed(self.config.seed, int(state["step"])))
                self.reseeded_at = int(state["step"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ValueError(
                f"checkpoint {where} does not match the model of its config.json ({reason})"
            ) from None

    def params_finite(self) -> bool:
        return bool(torch.isfinite(torch.nn.utils.get_total_norm(self.params)))


def train_step(t: _Trainer, step: int, *, log: bool) -> StepResult:
    """One Adam step on a minibatch drawn with replacement: forward, backward, checks, log entry, update.

    The update is skipped when the loss or a gradient is not finite (``failure`` says which). The
    log entry (with ``log``) is taken from this step's forward pass, before the update.
    """
    n = t.X.shape[0]
    index = torch.randint(n, (min(t.config.batch_size, n),), generator=t.generator, device=t.X.device)
    xb = t.X[index]
    point_elbo, variance = t.model.elbo_terms(xb, beta=t.config.beta, generator=t.generator)
    loss = -point_elbo.mean()
    for p in t.params:  # optimizer.zero_grad(set_to_none=True), without its profiler hook
        p.grad = None
    loss.backward()
    grads = [p.grad for p in t.params if p.grad is not None]
    # one fused reduction: the norms of all gradients at once, stacked with the loss; then the
    # step's only read-back from the device, one boolean: are the loss and every gradient finite?
    checked = torch.stack([*torch._foreach_norm(grads), loss.detach()])
    norms = checked[:-1]
    if not bool(torch.isfinite(checked).all()):
        if not torch.isfinite(loss):
            return StepResult(
                f"the loss (negative ELBO) is {float(loss.detach())!r}", point_elbo.detach(), index, xb
            )
        bad = [
            name
            for name, p in t.model.named_parameters()
            if p.grad is not None and not torch.all(torch.isfinite(p.grad))
        ]
        return StepResult(f"the gradient of {', '.join(bad)} is not finite", point_elbo, index, xb)
    entry = _log_entry(t, step, point_elbo, variance, loss, index, xb) if log else None
    t.optimizer.step()
    return StepResult(None, point_elbo.detach(), index, xb, entry, norms if log else None)


def _log_entry(t: _Trainer, step, point_elbo, variance, loss, index, xb) -> LogEntry:
    with torch.no_grad():
        j = int(torch.argmax(point_elbo))
        min_variance = argmin_point = unfloored = None
        if variance is not None:
            per_point = variance.amin(dim=(0, 2)) if variance.dim() == 3 else variance.amin(dim=-1)
            i = int(torch.argmin(per_point))
            min_variance, argmin_point = float(per_point[i]), int(index[i])
        if t.model.policy is not None and t.model.policy.floored:
            unfloored = _min_unfloored_variance(t.model, xb)
        return LogEntry(
            step=step,
            elbo=float(point_elbo.mean()),
            max_point_loglik=float(point_elbo[j]),
            argmax_point=int(index[j]),
            min_variance=min_variance,
            argmin_point=argmin_point,
            bound=t.bound,
            loss=float(loss),
            min_unfloored_variance=unfloored,
        )


# -- why a run broke down ------------------------------------------------------------------------
def _smallest_variance(model: GaussianVAE, x: torch.Tensor, index: torch.Tensor):
    """``(finite_encoder, variance, point)``: the smallest decoder variance at the encoder means of ``x``."""
    with torch.no_grad():
        mean, _ = model.encode(x)
        if not torch.all(torch.isfinite(mean)):
            return False, None, None
        _, variance = model.decoder_params(mean[None], x)
        if variance is None:
            return True, None, None
        per_point = variance[0].min(dim=1).values
        j = int(torch.argmin(torch.nan_to_num(per_point, nan=-1.0)))
        return True, float(per_point[j]), int(index[j])


def diagnose_breakdown(
    trend: TrainingTrend,
    *,
    encoder_finite: bool,
    smallest_variance: float | None,
    point: int | None,
    data_range: float,
    data_dim: int,
    lr: float,
) -> tuple[str, str]:
    """``(cause, measured)``: the likely cause of a non-finite step, from what was measured, with numbers.

    In order: the data range (a squared residual summed over d dimensions past float32's largest
    number), the encoder output (not finite: the parameters overflowed), the decoder variance
    (collapsed: at or below :data:`COLLAPSED_VARIANCE`, or not finite), the trend of the batch ELBO
    (it fell from its best by more than max(5 nats, a quarter of its magnitude): the run diverged),
    the gradient norm (grew more than 1000-fold) and the parameter norm (more than 10-fold). The
    first that applies is the cause; the others, and every number measured, follow in ``measured``.
    """
    d, v = data_dim, smallest_variance
    findings, measured = [], []
    if d * data_range**2 > FLOAT32_MAX:
        findings.append(
            f"the data range: the largest |x| is {data_range:.3g}, so a squared residual summed over {d} "
            f"dimensions passes float32's largest number {FLOAT32_MAX:.3g}; rescale the data"
        )
    if not encoder_finite:
        findings.append("the parameters overflowed: the encoder output is not finite")
    elif v is not None:
        measured.append(f"smallest decoder variance now {v:.3g} (training point {point})")
        if not (math.isfinite(v) and v > COLLAPSED_VARIANCE):
            log_v = f", log variance {math.log(v):.1f}" if math.isfinite(v) and v > 0 else ""
            findings.append(
                f"the decoder variance collapsed (smallest variance {v:.3g}{log_v}, at training point "
                f"{point}; collapsed means <= {COLLAPSED_VARIANCE:g}): the unbounded likelihood of a "
                "learned variance (theory section 2) driven past what float32 represents"
            )
    if trend.best is not None:
        (s0, best), (s1, last) = trend.best, trend.last
        measured.append(f"batch ELBO best {best:.4g} (step {s0}), last logged {last:.4g} (step {s1})")
        if trend.diverged():
            findings.append(
                f"the loss trend: the batch ELBO fell from its best {best:.4g} (step {s0}) to {last:.4g} "
                f"(step {s1}): the run diverged (learning rate {lr:g} too large for it?)"
            )
    if trend.grad_first is not None:
        (g0s, g0), (g1s, g1) = trend.grad_first, trend.grad_last
        (p0s, p0), (p1s, p1) = trend.param_first, trend.param_last
        measured.append(f"gradient norm {g0:.3g} (step {g0s}) -> {g1:.3g} (step {g1s})")
        measured.append(f"parameter norm {p0:.3g} (step {p0s}) -> {p1:.3g} (step {p1s})")
        if g1 > 1e3 * max(g0, 1e-30):
            findings.append(f"the gradient norm grew from {g0:.3g} (step {g0s}) to {g1:.3g} (step {g1s})")
        if p1 > 10 * max(p0, 1e-30):
            findings.append(f"the parameter norm grew from {p0:.3g} (step {p0s}) to {p1:.3g} (step {p1s})")
    if not findings:
        findings.append(
            "none of the measured quantities (data range, decoder variance, ELBO trend, gradient and "
            "parameter norms) was out of range before this step"
        )
    return findings[0], "; ".join(findings[1:] + measured)


# -- the run directory of a training run ---------------------------------------------------------
def open_training_dir(
    out_dir, *, resume: bool = False, overwrite: bool = False, extra_files: tuple[str, ...] = ()
) -> RunDirectory:
    """The (unopened) :class:`~vaetheory.rundir.RunDirectory` of a training run in ``out_dir``.

    It holds a run when any of :data:`RUN_FILES` exists; ``overwrite`` removes them (and
    ``extra_files``, such as the command line's figure) first.
    """
    return RunDirectory(
        out_dir,
        markers=RUN_FILES,
        resume=resume,
        overwrite=overwrite,
        what="training run",
        remove_on_overwrite=(*RUN_FILES, *extra_files),
    )


def _config_record(config: TrainConfig, model_config: VAEConfig) -> dict:
    return {
        "train": to_jsonable(dataclasses.asdict(config)),
        "model": to_jsonable(dataclasses.asdict(model_config)),
    }


class TrainingFiles:
    """The files of one training run in a locked :class:`~vaetheory.rundir.RunDirectory`.

    ``config.json``, ``log.jsonl`` (appended, flushed per line, fsynced before every checkpoint,
    so the log always reaches the checkpoint's step), ``checkpoint.pt`` (atomic) and
    ``summary.json`` (atomic). :meth:`start` checks the resume key and restores a checkpoint.
    """

    def __init__(self, run_dir: RunDirectory):
        self.run_dir = run_dir
        self.saved_step: int | None = None
        self._log = None

    def path(self, name: str) -> Path:
        return self.run_dir.file(name)

    def start(self, config: TrainConfig, record: dict, trainer: _Trainer) -> tuple[int, list[dict], dict]:
        """Write the config (and, resuming, restore the checkpoint): ``(start step, history, peak)``."""
        start, history, peak = 0, [], {}
        if self.run_dir.resume:
            start, history, peak = self._restore(config, record, trainer)
        self.run_dir.write_json(CONFIG, record)
        self.run_dir.write_text(LOG, "".join(json.dumps(to_jsonable(e)) + "\n" for e in history))
        try:
            self._log = open(self.path(LOG), "a")  # held open for the run; close() closes it
        except OSError as exc:
            raise ValueError(f"cannot open {str(self.path(LOG))!r}: {exc.strerror or exc}") from None
        return start, history, peak

    def _restore(self, config: TrainConfig, record: dict, trainer: _Trainer):
        ckpt = self.path(CHECKPOINT)
        if not ckpt.exists():
            raise ValueError(
                f"cannot resume: {str(ckpt)!r} does not exist (the run wrote no checkpoint yet); "
                "start over with --overwrite (overwrite=True)"
            )
        if not self.path(CONFIG).exists():
            raise ValueError(
                f"cannot resume: {str(self.path(CONFIG))!r} is missing, so nothing says which configuration "
                f"{CHECKPOINT} belongs to; start over with --overwrite (overwrite=True)"
            )
        saved = self.run_dir.read_json(CONFIG, what="config")
        if not isinstance(saved, dict) or not isinstance(saved.get("train"), dict):
            raise ValueError(f"config {str(self.path(CONFIG))!r} is damaged: it has no 'train' section")
        mine = {k: v for k, v in record["train"].items() if k != "steps"}
        theirs = {k: v for k, v in saved["train"].items() if k != "steps"}
        if mine != theirs:
            changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            raise ValueError(
                f"cannot resume {str(self.run_dir.path)!r}: the configuration differs in {', '.join(changed)}"
            )
        state = self.run_dir.read_checkpoint(CHECKPOINT)
        if not {"model", "optimizer", "generator", "step"} <= set(state):
            raise ValueError(
                f"checkpoint {str(ckpt)!r} is not a vaetheory training checkpoint (keys missing)"
            )
        start = int(state["step"])
        if start > config.steps:
            raise ValueError(
                f"steps ({config.steps}) is below the checkpoint's step ({start}) in {str(ckpt)!r}: a "
                f"resumed run continues up to --steps; give --steps >= {start}"
            )
        trainer.restore(state, repr(str(ckpt)))
        self.saved_step = start
        history = self._replay_log(config, start)
        peak = state.get("peak") or {}
        if not peak and history:  # a checkpoint from before the bound check: the logged steps' peak
            best = max(history, key=lambda h: h["max_point_loglik"])
            peak = {"value": best["max_point_loglik"], "step": best["step"], "point": best["argmax_point"]}
        return start, history, peak

    def _replay_log(self, config: TrainConfig, start: int) -> list[dict]:
        path = self.path(LOG)
        if not path.exists():
            raise ValueError(
                f"cannot resume: log {str(path)!r} is missing, so the history before the checkpoint's step "
                f"{start} is lost; start over with --overwrite (overwrite=True)"
            )
        entries, _torn = read_jsonl(path, what="log")
        history = []
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or not isinstance(entry.get("step"), int):
                raise ValueError(f"log {str(path)!r} is damaged: entry {number} has no integer 'step'")
            if entry["step"] <= start:
                history.append(entry)
        have = {e["step"] for e in history}
        missing = [s for s in range(config.log_every, start + 1, config.log_every) if s not in have]
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
            raise ValueError(
                f"log {str(path)!r} is truncated: it has no entry for step {shown} although the checkpoint "
                f"is at step {start}; the history cannot be rebuilt: start over with --overwrite "
                "(overwrite=True)"
            )
        return history

    def append(self, entry: LogEntry, last_good_step: int) -> None:
        try:
            self._log.write(json.dumps(to_jsonable(entry.to_dict())) + "\n")
            self._log.flush()
        except OSError as exc:
            raise ValueError(self._lost(LOG, exc, last_good_step)) from None

    def checkpoint(self, state: dict) -> None:
        try:
            self._log.flush()
            os.fsync(self._log.fileno())
        except OSError as exc:
            raise ValueError(self._lost(LOG, exc, self.saved_step)) from None
        try:
            self.run_dir.write_checkpoint(CHECKPOINT, _to_cpu(state))  # resumable on any device
        except ValueError as exc:
            kept = "no checkpoint" if self.saved_step is None else f"the checkpoint of step {self.saved_step}"
            raise ValueError(f"{exc}; on disk: {kept}, resumable with --resume") from None
        self.saved_step = int(state["step"])

    def _lost(self, name: str, exc: OSError, step: int | None) -> str:
        import errno

        why = "no space left on the device" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
        kept = "no checkpoint yet" if step is None else f"the last good checkpoint (step {step}) is intact"
        return f"cannot write {str(self.path(name))!r}: {why}; {kept}: free space and rerun with --resume"

    def summary(self, result: TrainResult) -> None:
        record = result.to_dict()
        record.pop("history")
        self.run_dir.write_json(SUMMARY, record)

    def close(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None


# -- the entry point and the loop ----------------------------------------------------------------
def train(
    config: TrainConfig,
    *,
    data: np.ndarray | None = None,
    out_dir=None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> TrainResult:
    """Train with Adam on minibatches drawn with replacement by a seeded generator (module docstring).

    ``out_dir`` (optional; a path or an unopened/open :func:`open_training_dir`) receives
    ``log.jsonl`` (one JSON object per logged step), ``checkpoint.pt`` every ``checkpoint_every``
    steps and at the end, ``config.json`` and ``summary.json``; it is locked for the run. A
    directory that holds a run is refused unless ``resume=True`` (continue from its
    ``checkpoint.pt``, giving the same numbers as an uninterrupted run; ``steps`` must be >= the
    checkpoint's step) or ``overwrite=True`` (remove it first). The same seed gives the same
    numbers. Denormal floats are flushed to zero during training (``torch.set_flush_denormal``)
    and the previous setting is restored on return. Nothing is printed except the progress bar
    (``progress``, on stderr). ``device`` (:func:`check_device`; default the CPU) holds the data,
    model, optimizer state and generator; checkpoints are written with CPU tensors.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    device = check_device(device)
    arr = load_training_data(config, data)
    model_config = config.model_config(arr.shape[1])
    check_memory(model_config, config.batch_size)
    if out_dir is None:
        if resume or overwrite:
            raise ValueError("resume=True and overwrite=True need out_dir (the run's directory)")
        with flush_denormals():
            return _train(config, arr, model_config, None, progress, device)
    run_dir = (
        out_dir
        if isinstance(out_dir, RunDirectory)
        else open_training_dir(out_dir, resume=resume, overwrite=overwrite)
    )
    opened_here = not run_dir.is_open
    run_dir.open()
    try:
        with flush_denormals():
            return _train(config, arr, model_config, TrainingFiles(run_dir), progress, device)
    finally:
        if opened_here:
            run_dir.close()


def _train(config, arr, model_config, files: TrainingFiles | None, progress, device) -> TrainResult:
    from tqdm import tqdm

    from vaetheory.provenance import provenance

    # the weights are drawn on the CPU (the same initial weights on every device), then moved
    model = build_model(model_config, config.seed).to(device)
    t = _Trainer(
        config=config,
        model_config=model_config,
        model=model,
        # foreach: one fused update over all parameter tensors (the same numbers as the per-tensor loop)
        optimizer=torch.optim.Adam(model.parameters(), lr=config.lr, foreach=True),
        generator=torch.Generator(device=device).manual_seed(config.seed),
        X=torch.as_tensor(arr, dtype=torch.float32).to(device),
        bound=gaussian_bound_per_point(model_config),
        params=list(model.parameters()),
    )
    start, history, peak = 0, [], _Peak()
    try:
        if files is not None:
            start, history, saved_peak = files.start(config, _config_record(config, model_config), t)
            peak = _Peak(**saved_peak) if saved_peak else _Peak()
        bar = tqdm(
            total=config.steps, initial=start, file=sys.stderr, disable=not progress, desc=config.variance
        )
        with contextlib.closing(bar):
            stopped_reason, step, last_good = _loop(t, files, start, history, peak, bar, np.abs(arr).max())
        if stopped_reason is not None:
            t.model.load_state_dict(last_good["model"])
            if files is not None and files.saved_step != last_good["step"]:
                files.checkpoint(last_good)
        result = TrainResult(
            config=config,
            model=t.model,
            history=history,
            stopped_reason=stopped_reason,
            steps_done=step,
            last_good_step=int(last_good["step"]),
            bound=t.bound,
            out_dir=None if files is None else str(files.run_dir.path),
            provenance=provenance(seed=config.seed, parameters=to_jsonable(dataclasses.asdict(config))),
            bound_check=BoundCheck.of(t.bound, peak.value, peak.step, peak.point, arr.shape[1]),
            device=str(device),
            generator_reseeded_at=t.reseeded_at,
        )
        if files is not None:
            files.summary(result)
        return result
    finally:
        if files is not None:
            files.close()


def _loop(t: _Trainer, files, start: int, history: list, peak: _Peak, bar, data_range):
    """The training loop: ``(stopped_reason or None, steps done, last good state)``."""
    c = t.config
    trend = TrainingTrend()
    for entry in history:
        trend.add_entry(entry)
    last_good = t.snapshot(start, peak)
    t.model.train()
    for step in range(start + 1, c.steps + 1):
        logging = step % c.log_every == 0 or step == c.steps
        result = train_step(t, step, log=logging)
        if result.failure is not None:
            finite, v, point = _smallest_variance(t.model, result.batch, result.index)
            cause, measured = diagnose_breakdown(
                trend,
                encoder_finite=finite,
                smallest_variance=v,
                point=point,
                data_range=data_range,
                data_dim=t.X.shape[1],
                lr=c.lr,
            )
            also = f" Measured: {measured}." if measured else ""
            return (
                f"numerical breakdown at step {step}: {result.failure}. Likely cause: {cause}.{also} "
                f"Kept: the log and the last good checkpoint (step {last_good['step']}).",
                step - 1,
                last_good,
            )
        peak.update(step, result.point_elbo, result.index)  # on the device: no read-back
        if result.entry is not None:
            _record_logged_step(t, files, result, step, history, trend, bar, last_good["step"])
        # the last good state is kept (in memory, and on disk with out_dir) every checkpoint_every steps
        if (step % c.checkpoint_every == 0 or step == c.steps) and t.params_finite():
            last_good = t.snapshot(step, peak)
            if files is not None:
                files.checkpoint(last_good)
        bar.update(1)
    return None, c.steps, last_good


def _record_logged_step(t: _Trainer, files, result: StepResult, step, history, trend, bar, good_step):
    """A logged step (every ``log_every`` steps only): history, trend (with norms read back), log file."""
    entry = result.entry.to_dict()
    history.append(entry)
    trend.add_entry(entry)
    grad_norm = float(torch.linalg.vector_norm(result.grad_norms.double()))
    trend.add_norms(step, grad_norm, float(torch.nn.utils.get_total_norm(t.params)))
    if files is not None:
        files.append(result.entry, good_step)
    bar.set_postfix(elbo=f"{entry['elbo']:.4g}", max_loglik=f"{entry['max_point_loglik']:.4g}")


def load_model(out_dir) -> GaussianVAE:
    """The model saved in ``out_dir`` (``config.json`` + ``checkpoint.pt``), loaded without executing code."""
    out = Path(out_dir)
    if not (out / CHECKPOINT).exists() and not (out / CONFIG).exists():
        raise ValueError(f"{str(out)!r} holds no {CHECKPOINT} and {CONFIG} (not a training directory)")
    record = read_json(out / CONFIG, what="config")
    try:
        model_fields = dict(record["model"])
        model_fields["hidden"] = tuple(model_fields["hidden"])
        model = GaussianVAE(VAEConfig(**model_fields))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"config {str(out / CONFIG)!r} is damaged: no valid 'model' section ({exc})"
        ) from None
    state = read_checkpoint(out / CHECKPOINT)
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, TypeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ValueError(
            f"checkpoint {str(out / CHECKPOINT)!r} does not match its config.json ({reason})"
        ) from None
    return model


def read_log(out_dir) -> list[dict]:
    """The entries of ``out_dir/log.jsonl`` (a torn last line, from a kill, is dropped)."""
    return read_jsonl(Path(out_dir) / LOG, what="log")[0]


__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "DEVICES",
    "LOG",
    "RUN_FILES",
    "SUMMARY",
    "BoundCheck",
    "LogEntry",
    "StepResult",
    "TrainConfig",
    "TrainResult",
    "TrainingFiles",
    "TrainingTrend",
    "check_device",
    "check_memory",
    "count_parameters",
    "diagnose_breakdown",
    "estimate_training_memory",
    "flush_denormals",
    "load_model",
    "load_training_data",
    "open_training_dir",
    "read_log",
    "resume_seed",
    "train",
    "train_step",
]
