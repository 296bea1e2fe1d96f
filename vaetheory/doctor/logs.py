"""Read a training log (``vaetheory train``'s run directory, or any trainer's ``.jsonl`` / ``.csv``).

A log is one row per logged step. The columns the doctor reads (:data:`LOG_COLUMNS`; any other
column is ignored, every one but ``step`` is optional):

``step`` (integer), ``loss`` (mean per-point loss of the batch: negative log-likelihood or
negative ELBO, constants included), ``min_variance`` or ``min_log_variance`` (the smallest
decoder VARIANCE of the batch, or its log) with ``argmin_point`` (its training point),
``max_point_loglik`` with ``argmax_point`` (the largest per-point log-likelihood estimate and
its point), ``bound`` (the bound per point the trainer's floor implies), ``mse`` (the mean's
squared error), ``kl_per_dim`` (a list, in ``.jsonl``) or ``kl_0``, ``kl_1``, ... (columns).

A ``vaetheory train`` run directory holds ``log.jsonl`` (these keys, written by
:mod:`vaetheory.empirical.training`) and ``config.json``, from which the data dimension and the
floor (``model.data_dim``, ``model.variance``, ``model.floor_variance``, ``model.floor_method``,
``model.sigma``) are taken. Empty cells, ``null`` and the strings ``"nan"``, ``"inf"``, ``"-inf"``
(as vaetheory writes non-finite numbers) are read as such. Anything else unreadable is a
``ValueError`` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from vaetheory.doctor.doctor import Doctor, DoctorReport

LOG_COLUMNS = (
    "step",
    "loss",
    "min_variance",
    "min_log_variance",
    "argmin_point",
    "max_point_loglik",
    "argmax_point",
    "bound",
    "mse",
    "kl_per_dim",
)
_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "": None, "null": None, "none": None}


def _number(value, where: str, column: str):
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{where}: column {column!r} must be a number; got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _SPECIAL:
            return _SPECIAL[key]
        try:
            return float(key)
        except ValueError:
            pass
    raise ValueError(f"{where}: column {column!r} must be a number; got {value!r}")


def _row(raw: dict, where: str) -> dict:
    if "step" not in raw:
        raise ValueError(
            f"{where}: no 'step' column (the columns the doctor reads: {', '.join(LOG_COLUMNS)})"
        )
    row: dict = {}
    step = _number(raw["step"], where, "step")
    if step is None or not math.isfinite(step) or step != int(step):
        raise ValueError(f"{where}: column 'step' must be an integer; got {raw['step']!r}")
    row["step"] = int(step)
    for col in LOG_COLUMNS[1:]:
        if col == "kl_per_dim":
            continue
        if col in raw:
            row[col] = _number(raw[col], where, col)
    kl = raw.get("kl_per_dim")
    if kl is not None:
        if not isinstance(kl, list):
            raise ValueError(f"{where}: column 'kl_per_dim' must be a list of numbers; got {kl!r}")
        row["kl_per_dim"] = [_number(k, where, "kl_per_dim") for k in kl]
    else:
        cols = sorted((int(k[3:]), k) for k in raw if k.startswith("kl_") and k[3:].isdigit())
        if cols:
            row["kl_per_dim"] = [_number(raw[k], where, k) for _, k in cols]
    return row


def read_log(path) -> tuple[list[dict], dict]:
    """The rows of a log and what its run directory's ``config.json`` says (``{}`` for a bare log)."""
    p = Path(path)
    config: dict = {}
    if p.is_dir():
        log = p / "log.jsonl"
        if not log.is_file():
            raise ValueError(f"{p}: a run directory must contain log.jsonl (none found)")
        cfg = p / "config.json"
        if cfg.is_file():
            try:
                config = json.loads(cfg.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"{cfg}: not valid JSON ({exc})") from None
            if not isinstance(config, dict):
                raise ValueError(f"{cfg}: expected a JSON object")
        p = log
    if not p.is_file():
        raise ValueError(f"{p}: no such file (give a run directory, a .jsonl or a .csv log)")
    suffix = p.suffix.lower()
    try:
        text = p.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not a text file") from None
    rows: list[dict] = []
    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}, line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(raw, dict):
                raise ValueError(f"{p}, line {number}: expected a JSON object per line")
            rows.append(_row(raw, f"{p}, line {number}"))
    elif suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames:
            raise ValueError(f"{p}: empty CSV (a header row with at least 'step' is needed)")
        for number, raw in enumerate(reader, start=2):
            if None in raw:
                raise ValueError(f"{p}, line {number}: more cells than header columns")
            rows.append(_row(raw, f"{p}, line {number}"))
    else:
        raise ValueError(f"{p}: unknown log type {suffix or '(none)'!r}; expected .jsonl or .csv")
    if not rows:
        raise ValueError(f"{p}: the log has no rows")
    return rows, config


def diagnose_log(path, *, dtype: str = "float32", warn: bool = False) -> DoctorReport:
    """Run :class:`Doctor` over a log (module docstring) and return its report."""
    rows, config = read_log(path)
    model = config.get("model", {}) if isinstance(config.get("model"), dict) else {}
    data_dim = model.get("data_dim")
    floor = method = None
    if model.get("likelihood", "gaussian") == "gaussian":
        if model.get("variance") == "floor":
            floor, method = model.get("floor_variance"), model.get("floor_method")
        elif model.get("variance") == "fixed" and model.get("sigma"):
            floor = float(model["sigma"]) ** 2
    doctor = Doctor(
        data_dim=data_dim if isinstance(data_dim, int) and data_dim >= 1 else None,
        floor_variance=floor,
        floor_method=method,
        dtype=dtype,
        warn=warn,
    )
    for row in rows:
        doctor.observe(
            row["step"],
            loss=row.get("loss"),
            min_variance=row.get("min_variance"),
            min_log_variance=row.get("min_log_variance"),
            point=None if row.get("argmin_point") is None else int(row["argmin_point"]),
            max_point_loglik=row.get("max_point_loglik"),
            max_point=None if row.get("argmax_point") is None else int(row["argmax_point"]),
            mse=row.get("mse"),
            kl_per_dim=row.get("kl_per_dim"),
            bound_per_point=row.get("bound"),
        )
    return doctor.report()


__all__ = ["LOG_COLUMNS", "diagnose_log", "read_log"]
