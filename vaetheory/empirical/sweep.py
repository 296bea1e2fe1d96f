r"""A batched sweep: K configurations of one architecture trained at once, with stacked weights.

Researchers sweep seeds, KL weights :math:`\beta`, variance floors :math:`\xi` and fixed decoder
stds. Runs of one architecture differ only in numbers, so their weights can be stacked along a
leading axis of size K and every layer becomes one batched matrix product (``torch.baddbmm``)
instead of K small ones. :func:`train_sweep` trains the stack; :func:`train_sequential` trains the
same runs one after another with :class:`~vaetheory.empirical.model.GaussianVAE` itself. The two
compute the same numbers (the same initial weights from each run's seed, the same minibatches and
reparameterisation noise from each run's generator, the same Adam update), up to the rounding of a
batched against an unbatched matrix product; ``tests/test_sweep.py`` checks this to a stated
tolerance.

The objective of run k is its mean one-sample (beta-)ELBO over a minibatch (theory section 4;
Kingma & Welling 2014, arXiv:1312.6114),

.. math:: \frac1B\sum_{i\in\text{batch}} \Big[\log p_k(x_i\mid z_i)
          - \beta_k\,\mathrm{KL}\big(q_k(z\mid x_i)\,\|\,\mathcal N(0,I)\big)\Big],
          \quad z_i = m_k(x_i)+s_k(x_i)\odot\varepsilon_i,

with densities from ``torch.distributions`` exactly as in ``GaussianVAE.elbo``. Decoder variances
follow the runs' policy (:mod:`vaetheory.empirical.policies`): per-run floors are applied by
:func:`~vaetheory.empirical.policies.apply_floor` itself, one call per distinct floor.

Random numbers: run k owns ``torch.Generator().manual_seed(seed_k)``; each step draws the
minibatch indices (``torch.randint``, with replacement, ``min(batch_size, n)`` of them) and then
the noise (``torch.randn`` of shape ``[1, B, q]``, as ``GaussianVAE.elbo`` draws it), so a run's
numbers do not depend on which other runs share its sweep. This is the scheme of
:func:`vaetheory.empirical.training.train`, so in float32 a run of the sweep also reproduces
``train(TrainConfig(...))`` with the same seed, beta, batch size and learning rate (tested).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from vaetheory._validation import check_finite_array, check_int, check_positive
from vaetheory.empirical.model import GaussianVAE, VAEConfig, build_model
from vaetheory.empirical.policies import apply_floor
from vaetheory.empirical.training import flush_denormals
from vaetheory.provenance import provenance
from vaetheory.results import Result

#: the fields of VAEConfig that may differ between the runs of one sweep (the rest is the architecture)
PER_RUN_FIELDS = ("floor_variance", "sigma")


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: a model configuration, the seed of its weights and noise, and its beta."""

    config: VAEConfig
    seed: int
    beta: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.config, VAEConfig):
            raise ValueError(f"config must be a VAEConfig; got {type(self.config).__name__}")
        object.__setattr__(self, "seed", check_int("seed", self.seed, low=0))
        object.__setattr__(self, "beta", check_positive("beta", self.beta))

    def describe(self) -> dict:
        return {"config": dataclasses.asdict(self.config), "seed": self.seed, "beta": self.beta}


@dataclasses.dataclass(frozen=True)
class SweepResult(Result):
    """Trained weights and per-step objectives of the runs of a sweep (same order as ``runs``).

    ``neg_elbo[t, k]`` is run k's minibatch loss (negative mean beta-ELBO, nats per point) at step
    ``t + 1``, before that step's update. ``state_dicts[k]`` loads into ``GaussianVAE(runs[k].config)``
    (see :meth:`models`). ``to_dict`` leaves the weights out.
    """

    runs: tuple[SweepRun, ...]
    steps: int
    batch_size: int
    lr: float
    dtype: str
    neg_elbo: np.ndarray
    state_dicts: tuple[dict[str, torch.Tensor], ...]
    provenance: dict

    def models(self) -> list[GaussianVAE]:
        """The trained runs as :class:`GaussianVAE` modules (in ``dtype``)."""
        out = []
        for run, state in zip(self.runs, self.state_dicts):
            model = GaussianVAE(run.config).to(getattr(torch, self.dtype))
            model.load_state_dict(state)
            out.append(model)
        return out

    def to_dict(self) -> dict:
        return {
            "runs": [run.describe() for run in self.runs],
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "dtype": self.dtype,
            "final_neg_elbo": self.neg_elbo[-1].tolist() if self.steps else [],
            "neg_elbo": self.neg_elbo.tolist(),
            "provenance": self.provenance,
        }


def check_runs(runs: Sequence[SweepRun]) -> tuple[SweepRun, ...]:
    """The runs, if they share one architecture (every VAEConfig field but floor_variance and sigma)."""
    runs = tuple(runs)
    if not runs:
        raise ValueError("runs must hold at least one SweepRun")
    for run in runs:
        if not isinstance(run, SweepRun):
            raise ValueError(f"runs must hold SweepRun values; got {type(run).__name__}")
    first = runs[0].config
    for i, run in enumerate(runs[1:], start=1):
        for field in dataclasses.fields(VAEConfig):
            if field.name in PER_RUN_FIELDS:
                continue
            a, b = getattr(first, field.name), getattr(run.config, field.name)
            if a != b:
                raise ValueError(
                    f"runs[{i}].config.{field.name} = {b!r} differs from runs[0]'s {a!r}: runs of one "
                    "sweep share the architecture and policy and may differ only in seed, beta, "
                    + ", ".join(PER_RUN_FIELDS)
                )
    return runs


def _check_common(runs, data, steps, batch_size, lr, dtype):
    runs = check_runs(runs)
    x = check_finite_array("data", data, ndim=2, min_rows=1)
    if x.shape[1] != runs[0].config.data_dim:
        raise ValueError(f"data must have {runs[0].config.data_dim} columns (data_dim); got {x.shape[1]}")
    steps = check_int("steps", steps, low=1)
    batch_size = min(check_int("batch_size", batch_size, low=1), x.shape[0])
    lr = check_positive("lr", lr)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype}")
    return runs, torch.as_tensor(x, dtype=dtype), steps, batch_size, lr


def _draw(
    gen: torch.Generator, n: int, batch_size: int, latent_dim: int, dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step's minibatch indices and reparameterisation noise from a run's generator (in this order)."""
    idx = torch.randint(n, (batch_size,), generator=gen)
    eps = torch.randn((1, batch_size, latent_dim), generator=gen, dtype=dtype)
    return idx, eps


def _result(runs, steps, batch_size, lr, dtype, losses, states) -> SweepResult:
    return SweepResult(
        runs=runs,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        dtype=str(dtype).removeprefix("torch."),
        neg_elbo=np.asarray(losses, dtype=np.float64).reshape(steps, len(runs)),
        state_dicts=tuple(states),
        provenance=provenance(
            seed=runs[0].seed,
            parameters={
                "runs": [r.describe() for r in runs],
                "steps": steps,
                "batch_size": batch_size,
                "lr": lr,
                "dtype": str(dtype),
            },
        ),
    )


@flush_denormals()
def train_sequential(
    runs: Sequence[SweepRun],
    data,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
) -> SweepResult:
    """The reference: each run trained alone, one after another, with ``GaussianVAE.elbo`` and Adam.

    Run k: ``build_model(config_k, seed_k)``, its generator ``manual_seed(seed_k)``; each step draws
    minibatch indices, then ``loss = -model.elbo(x[idx], beta=beta_k, generator=gen).mean()``
    (which draws the noise), and takes one Adam step (learning rate ``lr``).
    """
    runs, x, steps, batch_size, lr = _check_common(runs, data, steps, batch_size, lr, dtype)
    losses = np.zeros((steps, len(runs)))
    states = []
    bar = _progress(progress, steps * len(runs), "sequential runs")
    for k, run in enumerate(runs):
        model = build_model(run.config, run.seed).to(dtype)
        model.train()
        gen = torch.Generator().manual_seed(run.seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for t in range(steps):
            idx = torch.randint(x.shape[0], (batch_size,), generator=gen)
            loss = -model.elbo(x[idx], beta=run.beta, generator=gen).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses[t, k] = float(loss.detach())
            if bar is not None:
                bar.update(1)
        states.append({name: t.detach().clone() for name, t in model.state_dict().items()})
    if bar is not None:
        bar.close()
    return _result(runs, steps, batch_size, lr, dtype, losses, states)


class StackedVAE(nn.Module):
    """K :class:`GaussianVAE` s of one architecture with their weights stacked on a leading axis.

    Parameter ``name`` of run k's model is ``self.stacked[name.replace('.', '__')][k]``. The
    forward pass runs every ``nn.Linear`` as one ``torch.baddbmm`` over the K runs and every
    activation on the stacked tensor.
    """

    def __init__(self, runs: tuple[SweepRun, ...], dtype: torch.dtype):
        super().__init__()
        self.runs = runs
        self.config = runs[0].config
        # structure only (which layers, in which order): built under its own seed so the global
        # RNG is untouched, and kept in a tuple so its parameters are not registered here
        self._structure = (build_model(self.config, 0),)
        models = [build_model(run.config, run.seed).to(dtype) for run in runs]
        self.stacked = nn.ParameterDict(
            {
                name.replace(".", "__"): nn.Parameter(
                    torch.stack([dict(m.named_parameters())[name].detach() for m in models])
                )
                for name, _ in models[0].named_parameters()
            }
        )
        self.buffer_names = [name for name, _ in models[0].named_buffers()]
        self.calibrated_variance = torch.ones(len(runs), dtype=dtype)
        k_shape = (len(runs), 1, 1, 1)
        self.register_buffer("beta", torch.tensor([r.beta for r in runs], dtype=dtype))
        c = self.config
        if c.likelihood == "gaussian" and c.variance == "fixed":
            # torch.full_like(mean, sigma**2) in GaussianVAE: the Python float sigma**2, rounded to dtype
            self.register_buffer(
                "fixed_variance", torch.tensor([r.config.sigma**2 for r in runs], dtype=dtype).view(k_shape)
            )
        # runs sharing a floor value are floored together by one apply_floor call
        self.floor_groups: list[tuple[float, torch.Tensor]] = []
        if c.likelihood == "gaussian" and c.variance == "floor":
            values = sorted({r.config.floor_variance for r in runs})
            self.floor_groups = [
                (v, torch.tensor([k for k, r in enumerate(runs) if r.config.floor_variance == v]))
                for v in values
            ]

    def p(self, name: str) -> torch.Tensor:
        return self.stacked[name.replace(".", "__")]

    def _linear(self, prefix: str, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(
            self.p(f"{prefix}.bias").unsqueeze(1), h, self.p(f"{prefix}.weight").transpose(1, 2)
        )

    def _trunk(self, prefix: str, trunk: nn.Sequential, h: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(trunk):
            h = self._linear(f"{prefix}.{i}", h) if isinstance(layer, nn.Linear) else layer(h)
        return h

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and VARIANCE of every run's q(z|x), ``[K, B, q]`` for ``x`` of shape ``[K, B, d]``."""
        h = self._trunk("encoder_trunk", self._structure[0].encoder_trunk, x)
        mean = self._linear("encoder_mean", h)
        if self.config.hidden:
            log_variance = self._linear("encoder_log_variance", h)
        else:
            log_variance = self.p("encoder_log_variance_param").unsqueeze(1).expand_as(mean)
        return mean, log_variance.exp()

    def decoder_params(self, z: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decoder mean (or logits) and VARIANCE, ``[K, S, B, d]`` for ``z`` of shape ``[K, S, B, q]``."""
        K, S, B, q = z.shape
        h = self._trunk("decoder_trunk", self._structure[0].decoder_trunk, z.reshape(K, S * B, q))
        mean = self._linear("decoder_mean", h).reshape(K, S, B, -1)
        c = self.config
        if c.likelihood == "bernoulli":
            return mean, None
        raw = None
        if "decoder_raw_variance__weight" in self.stacked:
            raw = self._linear("decoder_raw_variance", h).reshape(K, S, B, -1)
        elif "decoder_raw_variance_param" in self.stacked:
            raw = self.p("decoder_raw_variance_param").view(K, 1, 1, -1).expand_as(mean)
        if c.variance == "learned":
            return mean, raw.exp()
        if c.variance == "floor":
            if len(self.floor_groups) == 1:
                return mean, apply_floor(raw, self.floor_groups[0][0], c.floor_method)
            variance = torch.empty_like(raw)
            parts = [(idx, apply_floor(raw[idx], value, c.floor_method)) for value, idx in self.floor_groups]
            return mean, torch.index_put(
                variance, (torch.cat([i for i, _ in parts]),), torch.cat([v for _, v in parts])
            )
        if c.variance == "fixed":
            return mean, self.fixed_variance.expand_as(mean)
        if c.variance == "shared":
            return mean, self.p("decoder_log_variance_shared").exp().view(K, 1, 1, 1).expand_as(mean)
        # calibrated: sigma^2 = MSE(x, mu(z)) over each run's samples, points and dimensions
        mse = ((x.unsqueeze(1) - mean) ** 2).mean(dim=(1, 2, 3))
        self.calibrated_variance = mse.detach().clone()
        return mean, mse.view(K, 1, 1, 1).expand_as(mean)

    def elbo(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Per-run, per-point one-sample beta-ELBO ``[K, B]``; ``x`` ``[K, B, d]``, noise ``[K, 1, B, q]``."""
        mean, variance = self.encode(x)
        # validate_args=False: the stacked tensors are the model's own outputs (GaussianVAE validates)
        q = Independent(Normal(mean, variance.sqrt(), validate_args=False), 1, validate_args=False)
        z = q.base_dist.loc.unsqueeze(1) + q.base_dist.scale.unsqueeze(1) * eps
        dec_mean, dec_variance = self.decoder_params(z, x)
        if dec_variance is None:
            p_x = Independent(Bernoulli(logits=dec_mean, validate_args=False), 1, validate_args=False)
        else:
            p_x = Independent(
                Normal(dec_mean, dec_variance.sqrt(), validate_args=False), 1, validate_args=False
            )
        log_lik = p_x.log_prob(x.unsqueeze(1)).mean(1)
        zeros = torch.zeros(self.config.latent_dim, dtype=x.dtype)
        prior = Independent(
            Normal(zeros, torch.ones_like(zeros), validate_args=False), 1, validate_args=False
        )
        kl = kl_divergence(q, prior)
        return log_lik - self.beta[:, None] * kl

    def state_dict_of(self, k: int) -> dict[str, torch.Tensor]:
        """Run k's weights under GaussianVAE's parameter names (and its buffers)."""
        out = {key.replace("__", "."): p[k].detach().clone() for key, p in self.stacked.items()}
        for name in self.buffer_names:  # only calibrated_variance exists
            out[name] = self.calibrated_variance[k].clone()
        return out


@flush_denormals()
def train_sweep(
    runs: Sequence[SweepRun],
    data,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
) -> SweepResult:
    """Train the runs at once with stacked weights; the same numbers as :func:`train_sequential`.

    Parameters and result: see the module docstring and :class:`SweepResult`. The step runs
    eagerly: ``torch.compile`` of the stacked loss measured no faster on a 2-core CPU (see
    ``benchmarks/bench_sweep.py``).
    """
    runs, x, steps, batch_size, lr = _check_common(runs, data, steps, batch_size, lr, dtype)
    model = StackedVAE(runs, dtype)
    gens = [torch.Generator().manual_seed(run.seed) for run in runs]
    opt = torch.optim.Adam(model.stacked.parameters(), lr=lr)
    n, q = x.shape[0], runs[0].config.latent_dim

    losses = np.zeros((steps, len(runs)))
    bar = _progress(progress, steps, f"sweep of {len(runs)} runs")
    for t in range(steps):
        draws = [_draw(g, n, batch_size, q, dtype) for g in gens]
        idx = torch.stack([d[0] for d in draws])
        eps = torch.stack([d[1] for d in draws])
        per_run = -model.elbo(x[idx], eps).mean(dim=1)  # [K]: run k's minibatch loss
        opt.zero_grad(set_to_none=True)
        per_run.sum().backward()  # run k's parameters get exactly run k's gradient
        opt.step()
        losses[t] = per_run.detach().numpy()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    states = [model.state_dict_of(k) for k in range(len(runs))]
    return _result(runs, steps, batch_size, lr, dtype, losses, states)


def _progress(enabled: bool, total: int, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=None, leave=False, mininterval=0.5)


__all__ = [
    "PER_RUN_FIELDS",
    "StackedVAE",
    "SweepResult",
    "SweepRun",
    "check_runs",
    "train_sequential",
    "train_sweep",
]
