"""The resumable driver of the thesis chapter's study (:mod:`vaetheory.studies.thesis_ch5`).

:func:`reproduce_thesis_chapter` trains and evaluates every configuration into ``out_dir``:

* ``run.json``: what the run is (data, seed, settings); a rerun with other options is refused
  rather than mixing results, and the directory is locked for the run
  (:class:`vaetheory.rundir.RunDirectory`; every file below is written atomically);
* ``configs/<name>/result.json`` and ``arrays.npz``: one configuration's measurements and images,
  written when it is finished (atomically); a rerun skips every configuration that has them;
* ``configs/<name>/training/``: the training log and checkpoints of
  :func:`vaetheory.empirical.training.train`, which resumes an interrupted configuration;
* ``results.json`` (a list, one object per configuration, each with the run's provenance),
  ``study.json`` (the whole study: configurations, data spectrum, settings, status, provenance),
  ``table.md`` and ``summary.md`` (:mod:`vaetheory.studies.thesis_ch5.report`).

Progress is one line per configuration on stderr.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vaetheory._validation import check_int
from vaetheory.provenance import provenance
from vaetheory.results import Result, dumps, to_jsonable
from vaetheory.rundir import RunDirectory, atomic_write, atomic_write_json, read_json
from vaetheory.studies.thesis_ch5.configurations import (
    DEFAULT_SETTINGS,
    QUICK_SETTINGS,
    RunSettings,
    ThesisConfiguration,
    Variant,
    find_configuration,
    thesis_configurations,
)
from vaetheory.studies.thesis_ch5.data import load_thesis_data
from vaetheory.studies.thesis_ch5.evaluation import ConfigurationResult, evaluate_configuration
from vaetheory.studies.thesis_ch5.theory import linear_prediction

#: how many leading eigenvalues of the data covariance go into results.json
N_SPECTRUM = 64


@dataclasses.dataclass(frozen=True)
class ThesisReproduction(Result):
    """A finished (or resumed) run: every configuration's result, and where the files are."""

    out_dir: str
    data: str
    data_source: str
    n_train: int
    n_test: int
    image_shape: tuple[int, int]
    seed: int
    quick: bool
    settings: dict[str, Any]
    spectrum: tuple[float, ...]
    configurations: tuple[ConfigurationResult, ...]
    status: dict[str, str]
    provenance: dict[str, Any]

    def by_name(self) -> dict[str, ConfigurationResult]:
        """The results by label (for display and files; claims use :meth:`find`)."""
        return {c.config: c for c in self.configurations}

    def find(self, variant: Variant, latent: int) -> ConfigurationResult | None:
        """The result of ``variant`` at ``latent`` (by policy, sigma, beta, latent), or ``None``."""
        return find_configuration(self.configurations, variant, latent)


#: the files of a reproduction at the top of its directory (``run.json`` marks one)
RUN_FILES = ("run.json", "study.json", "results.json", "table.md", "summary.md")


def _run_key(data: str, data_dir, seed: int, quick: bool, settings: RunSettings) -> dict[str, Any]:
    return to_jsonable(
        {
            "data": data,
            "data_dir": None if data_dir is None else str(Path(data_dir).resolve()),
            "seed": seed,
            "quick": quick,
            "settings": dataclasses.asdict(settings),
        }
    )


def _check_run_key(out: Path, key: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
    """Refuse a directory holding another run (or, without ``resume``, any run); record ``key``."""
    path = out / "run.json"
    if path.exists() and not overwrite:
        old = read_json(path, what="run record")
        if not isinstance(old, dict) or old != key:
            old = old if isinstance(old, dict) else {}
            diff = sorted(k for k in key if old.get(k) != key[k])
            raise ValueError(
                f"output directory {str(out)!r} holds a run with other options ({', '.join(diff)} differ); "
                "resume it with the same options, replace it with --overwrite or choose another --out"
            )
        if not resume:
            raise ValueError(
                f"output directory {str(out)!r} already holds this run (run.json); continue it with --resume "
                "(finished configurations are skipped) or replace it with --overwrite"
            )
    atomic_write_json(path, key)


def load_configuration_result(config_dir: Path) -> ConfigurationResult:
    """A finished configuration's :class:`ConfigurationResult` from its ``result.json``."""
    path = Path(config_dir) / "result.json"
    raw = read_json(path, what="configuration result")
    fields = {f.name for f in dataclasses.fields(ConfigurationResult)}
    if isinstance(raw, dict) and "policy" not in raw and "variance" in raw:
        raw = {**raw, "policy": raw["variance"]}  # written before ``policy`` was added beside ``variance``
    missing = sorted(fields - set(raw)) if isinstance(raw, dict) else ["(not an object)"]
    if missing:
        raise ValueError(f"configuration result {str(path)!r} is damaged: it lacks {', '.join(missing)}")
    kwargs = {k: raw[k] for k in fields}
    for k in ("kl_per_dimension", "activity"):
        kwargs[k] = tuple(kwargs[k])
    return ConfigurationResult(**kwargs)


def load_configuration_arrays(config_dir: Path) -> dict[str, np.ndarray]:
    """The images of a finished configuration (originals, reconstructions, samples, grid)."""
    with np.load(Path(config_dir) / "arrays.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _log(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def _train_and_evaluate(
    config: ThesisConfiguration,
    data,
    moments,
    settings: RunSettings,
    *,
    seed: int,
    config_dir: Path,
    progress: bool,
    parameters: dict[str, Any],
    device: str = "cpu",
) -> ConfigurationResult:

    from vaetheory.empirical.training import CHECKPOINT, TrainConfig, train

    train_config = TrainConfig(
        variance=config.policy,
        sigma=config.sigma,
        beta=config.beta,
        data=data.name,
        latent=config.latent,
        hidden=settings.hidden,
        steps=settings.steps,
        batch_size=settings.batch_size,
        lr=settings.lr,
        seed=seed,
        log_every=max(settings.steps // 20, 1),
        checkpoint_every=max(settings.steps // 10, 1),
    )
    start = time.perf_counter()
    train_dir = config_dir / "training"
    # resume an interrupted configuration from its checkpoint; one killed before its first
    # checkpoint has nothing to resume and starts over
    resume = (train_dir / CHECKPOINT).exists()
    trained = train(
        train_config,
        data=data.x_train,
        out_dir=train_dir,
        resume=resume,
        overwrite=not resume,
        progress=progress,
        device=device,
    )
    trained.model.cpu()  # evaluated on the CPU whatever device trained it
    seconds = time.perf_counter() - start
    metrics, arrays = evaluate_configuration(trained.model, config, data.x_test, settings, seed=seed)
    linear = linear_prediction(moments, config, data.x_test)
    history = list(trained.history or [])
    final = float(history[-1]["elbo"]) if history and "elbo" in history[-1] else None
    result = ConfigurationResult(
        config=config.name,
        variance=config.policy,
        policy=config.policy,
        sigma=config.sigma,
        beta=config.beta,
        latent=config.latent,
        effective_variance=config.effective_variance,
        chapter_figures=config.chapter,
        predicted_active_units=linear.active_units,
        predicted_threshold_variance=linear.threshold_variance,
        linear_recon_mse=linear.recon_mse,
        linear_elbo=linear.elbo,
        train_seconds=seconds,
        final_train_objective=final,
        stopped_reason=getattr(trained, "stopped_reason", None),
        provenance=provenance(
            seed=seed, parameters={**parameters, "configuration": dataclasses.asdict(config)}
        ),
        **metrics,
    )
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write(config_dir / "arrays.npz", buffer.getvalue())
    atomic_write(config_dir / "result.json", result.to_json() + "\n")
    return result


def _run_configurations(
    configs, thesis_data, moments, settings, out, *, seed, progress, parameters, device="cpu"
):
    """Train/evaluate (or skip, when finished earlier) each configuration; results and status."""
    results, status = [], {}
    for i, config in enumerate(configs, 1):
        config_dir = out / "configs" / config.name
        tag = f"[{i}/{len(configs)}] {config.name}"
        if (config_dir / "result.json").exists() and (config_dir / "arrays.npz").exists():
            result = load_configuration_result(config_dir)
            status[config.name] = "skipped"
            _log(progress, f"{tag}: finished earlier, skipped")
        else:
            config_dir.mkdir(parents=True, exist_ok=True)
            _log(progress, f"{tag}: training ...")
            result = _train_and_evaluate(
                config,
                thesis_data,
                moments,
                settings,
                seed=seed,
                config_dir=config_dir,
                progress=progress,
                parameters=parameters,
                device=device,
            )
            status[config.name] = "trained"
            _log(
                progress,
                f"{tag}: done in {result.train_seconds:.1f} s; held-out recon MSE {result.recon_mse:.4g}, "
                f"ELBO {result.elbo:.4g}, active units {result.active_units}/{result.latent} "
                f"(linear theory {result.predicted_active_units})",
            )
        results.append(result)
    return results, status


def reproduce_thesis_chapter(
    out_dir: str | os.PathLike[str],
    *,
    data: str = "digits",
    data_dir: str | os.PathLike[str] | None = None,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    configurations: Sequence[ThesisConfiguration] | None = None,
    settings: RunSettings | None = None,
    resume: bool = True,
    overwrite: bool = False,
    device: str = "cpu",
) -> ThesisReproduction:
    """Train and evaluate the chapter's configurations into ``out_dir``; resume an interrupted run.

    ``quick`` selects :data:`QUICK_SETTINGS` (else :data:`DEFAULT_SETTINGS`); ``settings`` overrides
    both (the tests use a smaller run). ``configurations`` defaults to :func:`thesis_configurations`.
    Every configuration is trained with the same ``seed`` (same initialisation and minibatches), so
    the differences between them come from the configuration alone. Torch runs on one thread
    meanwhile (these small networks train fastest so, and a busy machine does not oversubscribe);
    the previous thread count is restored afterwards.

    ``out_dir`` is locked for the run (a second writer is refused, naming the holder). A directory
    holding a run with other options is refused; one holding this run is continued with
    ``resume=True`` (the default here; the command line asks for ``--resume``) and replaced with
    ``overwrite=True`` (its files and ``configs/`` are removed first).

    ``device`` (``"cpu"``, ``"cuda"``; :func:`vaetheory.empirical.training.check_device`) is where
    the configurations train; evaluation runs on the CPU.
    """
    from vaetheory.empirical.training import check_device

    device = check_device(device)

    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    settings = settings or (QUICK_SETTINGS if quick else DEFAULT_SETTINGS)
    configs = tuple(configurations or thesis_configurations())
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f"configurations must have distinct names; got {names}")
    keys = [(c.policy, c.sigma, c.beta, c.latent) for c in configs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"configurations must differ in (policy, sigma, beta, latent); got {keys}")
    thesis_data = load_thesis_data(
        data, data_dir, seed=seed, max_train=settings.max_train, max_test=settings.max_test
    )
    run_dir = RunDirectory(
        out_dir,
        markers=("run.json",),
        resume=not overwrite,  # which runs may be continued is decided by _check_run_key
        overwrite=overwrite,
        what="thesis-ch5 reproduction",
        remove_on_overwrite=RUN_FILES,
    )
    with run_dir:
        if overwrite:
            shutil.rmtree(run_dir.path / "configs", ignore_errors=True)
        return _reproduce(
            run_dir.path,
            data,
            data_dir,
            quick,
            seed,
            settings,
            configs,
            thesis_data,
            resume,
            overwrite,
            progress,
            device,
        )


def _reproduce(
    out, data, data_dir, quick, seed, settings, configs, thesis_data, resume, overwrite, progress, device
):
    from vaetheory.linear.moments import sample_moments
    from vaetheory.studies.thesis_ch5.report import render_summary, render_table

    key = _run_key(data, data_dir, seed, quick, settings)
    _check_run_key(out, key, resume=resume, overwrite=overwrite)
    moments = sample_moments(thesis_data.x_train)
    parameters = {**key, "n_train": len(thesis_data.x_train), "n_test": len(thesis_data.x_test)}
    _log(
        progress,
        f"thesis-ch5: {len(configs)} configurations on {data} ({len(thesis_data.x_train)} training, "
        f"{len(thesis_data.x_test)} held-out points, {settings.steps} steps each) -> {out}",
    )
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results, status = _run_configurations(
            configs,
            thesis_data,
            moments,
            settings,
            out,
            seed=seed,
            progress=progress,
            parameters=parameters,
            device=device,
        )
    finally:
        torch.set_num_threads(threads)
    reproduction = ThesisReproduction(
        out_dir=str(out),
        data=data,
        data_source=thesis_data.source,
        n_train=len(thesis_data.x_train),
        n_test=len(thesis_data.x_test),
        image_shape=thesis_data.image_shape,
        seed=seed,
        quick=quick,
        settings=dataclasses.asdict(settings),
        spectrum=tuple(float(v) for v in moments.eigenvalues[:N_SPECTRUM]),
        configurations=tuple(results),
        status=status,
        provenance=provenance(seed=seed, parameters=parameters),
    )
    record = reproduction.to_dict()
    atomic_write(out / "study.json", dumps(record) + "\n")
    atomic_write(out / "results.json", dumps(results_records(record)) + "\n")
    atomic_write(out / "table.md", render_table(reproduction) + "\n")
    atomic_write(out / "summary.md", render_summary(reproduction) + "\n")
    return reproduction


def results_records(study: dict[str, Any]) -> list[dict[str, Any]]:
    """``results.json``: a list with one object per configuration (the issue's contract).

    Each object holds the configuration's measurements (at least ``config``, ``variance`` and
    ``policy`` (the same policy name; ``variance`` is the old key), ``sigma``, ``beta``, ``latent``,
    ``recon_mse``, ``elbo``, ``active_units``) and, so that one object can be cited on its own,
    the run's ``data``, ``seed``, ``quick`` and ``provenance``.
    The whole study (spectrum, settings, status) is in ``study.json``.
    """
    shared = {k: study[k] for k in ("data", "seed", "quick", "provenance")}
    return [{**entry, **shared} for entry in study["configurations"]]


def load_reproduction(out_dir: str | os.PathLike[str]) -> ThesisReproduction:
    """A finished run read back from ``out_dir/study.json`` (for figures and notebooks)."""
    path = Path(out_dir) / "study.json"
    if not path.is_file():
        raise ValueError(f"{str(path)!r} does not exist; run `vaetheory reproduce thesis-ch5` first")
    raw = read_json(path, what="study record")
    fields = {f.name for f in dataclasses.fields(ThesisReproduction)}
    kwargs = {k: raw[k] for k in fields}
    kwargs["configurations"] = tuple(
        load_configuration_result(Path(out_dir) / "configs" / c["config"]) for c in raw["configurations"]
    )
    kwargs["image_shape"] = tuple(kwargs["image_shape"])
    kwargs["spectrum"] = tuple(kwargs["spectrum"])
    return ThesisReproduction(**kwargs)
