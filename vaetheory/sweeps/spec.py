"""A sweep SPEC: a YAML file of base settings and the axes to cross, parsed, validated and expanded.

The file (read with ``yaml.safe_load``, at most :data:`MAX_SPEC_BYTES`) is a mapping with the keys

``base`` (required)
    the options of ``vaetheory train`` that every run shares, by their long names without the
    leading dashes (``variance``, ``floor``, ``floor_method``, ``beta``, ``latent``, ``steps``,
    ``seed``, ``data``, ...; ``batch-size`` may be written ``batch_size``). See :data:`OPTIONS`.
``grid`` (required)
    an option name to a non-empty list of values; the runs are the cross product of the axes.
``zip`` (optional)
    a list of mappings, each of option names to lists of one common length: the axes of one
    mapping vary together (one value of each per run) and are crossed with the grid.
``exclude`` (optional)
    a list of mappings of option names to a value (or a list of values); a grid point whose
    settings match every key of an exclusion is dropped. An exclusion matching no point is an
    error (a typo would otherwise drop nothing silently).
``name``, ``description`` (optional)
    text recorded in ``DIR/sweep.json``.

Every error (an unknown key, an empty axis, a value of the wrong type or out of range, a
combination ``vaetheory train`` refuses) is a ``ValueError`` naming the key and the accepted
values, raised before anything runs. YAML 1.1 (PyYAML) reads ``1e-3`` without a dot as text, so
text in exponent notation (``1e-3``, ``5E+2``) is accepted for a number-valued option; other text is
refused.

Nothing in the file executes: values are only compared, converted with ``float``/``int`` and passed
to :class:`~vaetheory.empirical.training.TrainConfig`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the largest SPEC file read (bytes)
MAX_SPEC_BYTES = 1 << 20
#: the most runs one sweep may expand to
MAX_RUNS = 10_000
#: the top-level keys of a SPEC
TOP_LEVEL_KEYS = ("name", "description", "base", "grid", "zip", "exclude")
#: the longest run-directory name built from settings (longer names end in a hash)
MAX_NAME = 120
SEED_MAX = 2**63 - 1

_EXPONENT_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


@dataclasses.dataclass(frozen=True)
class Option:
    """One option of ``vaetheory train`` a SPEC may set: its kind, range and default."""

    kind: str  # "float", "int", "choice", "text", "widths"
    default: Any
    low: float | None = None  # inclusive lower bound (exclusive for positive floats)
    high: float | None = None
    nullable: bool = False
    accepted: str = ""

    def describe(self) -> str:
        return self.accepted


def _choices(name: str) -> tuple[str, ...]:
    from vaetheory.empirical.policies import FLOOR_METHODS, VARIANCE_POLICIES

    return tuple(VARIANCE_POLICIES) if name == "variance" else tuple(FLOOR_METHODS)


#: the options a SPEC's ``base``, ``grid``, ``zip`` and ``exclude`` may name (train's long names)
OPTIONS: dict[str, Option] = {
    "variance": Option("choice", "learned", accepted="a registered policy (learned, floor, fixed, ...)"),
    "floor": Option("float", None, low=0.0, nullable=True, accepted="a variance floor xi > 0, or null"),
    "floor_std": Option(
        "float", None, low=0.0, nullable=True, accepted="a std floor > 0 (xi = S^2), or null"
    ),
    "floor_method": Option(
        "choice", None, nullable=True, accepted="a floor method (clamp, softclip, ...), or null"
    ),
    "sigma": Option("float", None, low=0.0, nullable=True, accepted="a fixed decoder std > 0, or null"),
    "beta": Option("float", 1.0, low=0.0, accepted="a KL weight > 0"),
    "likelihood": Option("choice", "gaussian", accepted="gaussian or bernoulli"),
    "data": Option("text", "digits", accepted="digits or the path of a .npy/.csv file"),
    "points": Option("int", None, low=2, nullable=True, accepted="an integer >= 2, or null (all points)"),
    "latent": Option("int", 2, low=1, accepted="an integer >= 1"),
    "hidden": Option("widths", (128,), accepted="a width >= 1 or a list of widths, e.g. 128 or [64, 64]"),
    "steps": Option("int", 1000, low=1, accepted="an integer >= 1"),
    "batch_size": Option("int", 128, low=1, accepted="an integer >= 1"),
    "lr": Option("float", 1e-3, low=0.0, accepted="a learning rate > 0"),
    "log_every": Option("int", 10, low=1, accepted="an integer >= 1"),
    "checkpoint_every": Option("int", 100, low=1, accepted="an integer >= 1"),
    "seed": Option("int", 0, low=0, high=SEED_MAX, accepted="an integer in [0, 2**63 - 1]"),
}
_ALIASES = {"batch-size": "batch_size", "floor-method": "floor_method", "floor-std": "floor_std"}
_ALIASES.update({"log-every": "log_every", "checkpoint-every": "checkpoint_every"})
_CHOICE_OPTIONS = {"variance", "floor_method"}
#: settings that may differ between the runs of one stacked group (the rest is the architecture)
PER_RUN_SETTINGS = ("seed", "beta", "floor", "floor_std", "sigma")


def _accepted_keys() -> str:
    return ", ".join(OPTIONS)


def _option_name(where: str, key: Any) -> str:
    if not isinstance(key, str):
        raise ValueError(f"{where}: option names are text; got {key!r}; accepted: {_accepted_keys()}")
    name = _ALIASES.get(key, key)
    if name not in OPTIONS:
        raise ValueError(f"{where}: unknown option {key!r}; accepted: {_accepted_keys()}")
    return name


def check_value(where: str, name: str, value: Any) -> Any:
    """``value`` of option ``name`` checked and normalised (``where`` names it in errors)."""
    opt = OPTIONS[name]
    bad = f"{where}: {name} must be {opt.accepted}; got {value!r}"
    if value is None:
        if opt.nullable:
            return None
        raise ValueError(bad + " (null)")
    if opt.kind == "float":
        if isinstance(value, str) and _EXPONENT_TEXT.match(value.strip()):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{bad} ({type(value).__name__})")
        value = float(value)
        if not math.isfinite(value) or (opt.low is not None and not value > opt.low):
            raise ValueError(bad)
        return value
    if opt.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{bad} ({type(value).__name__})")
        if (opt.low is not None and value < opt.low) or (opt.high is not None and value > opt.high):
            raise ValueError(bad)
        return int(value)
    if opt.kind == "widths":
        widths = [value] if isinstance(value, int) and not isinstance(value, bool) else value
        if (
            not isinstance(widths, list)
            or not widths
            or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths)
        ):
            raise ValueError(bad)
        return tuple(int(w) for w in widths)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{bad} ({type(value).__name__})")
    if opt.kind == "choice":
        accepted = _choices(name)
        if value not in accepted:
            raise ValueError(f"{where}: {name} must be one of {', '.join(accepted)}; got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One point of the grid: its directory name, its full settings and the axes' values."""

    name: str
    settings: dict[str, Any]
    point: dict[str, Any]

    def group_key(self) -> str:
        """Runs with the same key share an architecture and can be trained stacked."""
        shared = {k: v for k, v in self.settings.items() if k not in PER_RUN_SETTINGS}
        return json.dumps(_jsonable(shared), sort_keys=True)

    def train_config(self):
        """The :class:`~vaetheory.empirical.training.TrainConfig` of this run (validates it)."""

        return settings_to_config(self.settings)


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A parsed SPEC: its runs in grid order, and what it was made from."""

    name: str | None
    description: str | None
    base: dict[str, Any]
    axes: tuple[str, ...]
    runs: tuple[RunSpec, ...]
    source: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "axes": list(self.axes),
            "spec": self.source,
            "runs": [r.name for r in self.runs],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def settings_to_config(settings: Mapping[str, Any]):
    """The :class:`~vaetheory.empirical.training.TrainConfig` of a run's settings, with train's rules."""
    from vaetheory.densities import std_floor_to_variance
    from vaetheory.empirical.policies import policy_class
    from vaetheory.empirical.training import TrainConfig

    s = settings
    if s["floor"] is not None and s["floor_std"] is not None:
        raise ValueError("give floor (a variance) or floor_std (a std), not both")
    floor = s["floor"] if s["floor_std"] is None else std_floor_to_variance(s["floor_std"], name="floor_std")
    policy = policy_class(s["variance"])
    if floor is not None and "floor_variance" not in policy.uses:
        raise ValueError(
            "floor/floor_std need variance floor (or another policy with a floor xi); "
            f"got variance {s['variance']}"
        )
    if s["floor_method"] is not None and not policy.floored:
        raise ValueError(f"floor_method applies only to variance floor; got variance {s['variance']}")
    return TrainConfig(
        variance=s["variance"],
        floor_variance=floor,
        floor_method=s["floor_method"] or "clamp",
        sigma=s["sigma"],
        beta=s["beta"],
        likelihood=s["likelihood"],
        data=s["data"],
        latent=s["latent"],
        hidden=tuple(s["hidden"]),
        steps=s["steps"],
        batch_size=s["batch_size"],
        lr=s["lr"],
        seed=s["seed"],
        log_every=s["log_every"],
        checkpoint_every=s["checkpoint_every"],
        n_points=s["points"],
    )


def _format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return Path(value).name or value
    return str(value)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]", "-", text).strip(".-") or "x"


def _hash(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(_jsonable(settings), sort_keys=True).encode()).hexdigest()[:8]


def run_names(points: list[dict[str, Any]], settings: list[dict[str, Any]]) -> list[str]:
    """Directory names from the axes' values (``floor-0.1_seed-0``); a hash keeps them unique."""
    names = []
    for point, full in zip(points, settings):
        name = "_".join(f"{_safe(k)}-{_safe(_format_value(v))}" for k, v in point.items()) or "run"
        if len(name) > MAX_NAME:
            name = name[: MAX_NAME - 9] + "-" + _hash(full)
        names.append(name)
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return [
        f"{name[: MAX_NAME - 9]}-{_hash(full)}" if counts[name] > 1 else name
        for name, full in zip(names, settings)
    ]


def _mapping(where: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping of option names to values; got {type(value).__name__}")
    return value


def _axis(where: str, name: str, values: Any) -> list:
    if not isinstance(values, list):
        raise ValueError(f"{where}: axis {name} must be a list of values, e.g. [0.1, 0.01]; got {values!r}")
    if not values:
        raise ValueError(f"{where}: axis {name} is empty; give at least one value ({OPTIONS[name].accepted})")
    checked = [check_value(f"{where}[{i}]", name, v) for i, v in enumerate(values)]
    for i, v in enumerate(checked):
        if v in checked[:i]:
            raise ValueError(f"{where}[{i}]: axis {name} repeats the value {values[i]!r}")
    return checked


def parse_spec(raw: Any, *, source: str = "SPEC", check_data: bool = True) -> SweepSpec:
    """A :class:`SweepSpec` from the mapping a SPEC file holds (module docstring); errors name the key.

    ``check_data`` also loads each distinct data set once to check every run's model configuration
    (as ``vaetheory train`` would), so that no error waits until the run.
    """
    if not isinstance(raw, dict):
        raise ValueError(
            f"{source}: a sweep SPEC is a mapping with the keys {', '.join(TOP_LEVEL_KEYS)}; "
            f"got {type(raw).__name__}"
        )
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            raise ValueError(
                f"{source}: unknown top-level key {key!r}; accepted: {', '.join(TOP_LEVEL_KEYS)}"
            )
    for key in ("base", "grid"):
        if key not in raw:
            raise ValueError(f"{source}: the key {key!r} is missing (a SPEC needs base and grid)")
    for key in ("name", "description"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"{source}: {key} must be text; got {type(raw[key]).__name__}")

    base: dict[str, Any] = {}
    for key, value in _mapping(f"{source}: base", raw["base"]).items():
        name = _option_name(f"{source}: base", key)
        if isinstance(value, list) and OPTIONS[name].kind != "widths":
            raise ValueError(
                f"{source}: base.{name} is a list; an option with several values is an axis of grid"
            )
        base[name] = check_value(f"{source}: base.{name}", name, value)

    axes: list[tuple[str, ...]] = []  # each entry: axes that vary together
    columns: list[list[tuple]] = []  # per entry, the tuples of values
    seen: set[str] = set(base)

    def claim(where: str, name: str) -> None:
        if name in seen:
            raise ValueError(
                f"{where}: option {name} is set twice (in base, grid or zip); set it in one place"
            )
        seen.add(name)

    for key, values in _mapping(f"{source}: grid", raw["grid"]).items():
        name = _option_name(f"{source}: grid", key)
        claim(f"{source}: grid", name)
        axes.append((name,))
        columns.append([(v,) for v in _axis(f"{source}: grid.{name}", name, values)])
    zipped = raw.get("zip") or []
    if not isinstance(zipped, list):
        raise ValueError(f"{source}: zip must be a list of mappings (option -> list of one common length)")
    for z, group in enumerate(zipped):
        where = f"{source}: zip[{z}]"
        group = _mapping(where, group)
        if not group:
            raise ValueError(f"{where} is empty; give option -> list of values")
        names, lists = [], []
        for key, values in group.items():
            name = _option_name(where, key)
            claim(where, name)
            names.append(name)
            lists.append(_axis(f"{where}.{name}", name, values))
        lengths = {len(v) for v in lists}
        if len(lengths) > 1:
            shown = ", ".join(f"{n}: {len(v)}" for n, v in zip(names, lists))
            raise ValueError(f"{where}: zipped axes must have one length; got {shown}")
        axes.append(tuple(names))
        columns.append(list(zip(*lists)))
    flat_axes = tuple(n for group in axes for n in group)

    exclusions = raw.get("exclude") or []
    if not isinstance(exclusions, list):
        raise ValueError(f"{source}: exclude must be a list of mappings (option -> value or list of values)")
    rules = []
    for e, rule in enumerate(exclusions):
        where = f"{source}: exclude[{e}]"
        rule = _mapping(where, rule)
        if not rule:
            raise ValueError(f"{where} is empty (it would exclude every run)")
        checked = {}
        for key, value in rule.items():
            name = _option_name(where, key)
            if name not in flat_axes:
                raise ValueError(
                    f"{where}: {name} is not an axis of grid or zip; exclusions name axes: "
                    + (", ".join(flat_axes) or "(none)")
                )
            values = value if isinstance(value, list) and OPTIONS[name].kind != "widths" else [value]
            checked[name] = [check_value(f"{where}.{name}", name, v) for v in values]
        rules.append(checked)

    n_points = math.prod(len(c) for c in columns)
    if n_points > MAX_RUNS:
        raise ValueError(f"{source}: the grid has {n_points} points; at most {MAX_RUNS} runs per sweep")
    defaults = {name: opt.default for name, opt in OPTIONS.items()}
    points, used = [], [0] * len(rules)
    for combo in itertools.product(*columns):
        point = {}
        for names, values in zip(axes, combo):
            point.update(zip(names, values))
        hit = [i for i, rule in enumerate(rules) if all(point[k] in vs for k, vs in rule.items())]
        for i in hit:
            used[i] += 1
        if not hit:
            points.append(point)
    for i, count in enumerate(used):
        if count == 0:
            raise ValueError(f"{source}: exclude[{i}] matches no point of the grid (check its values)")
    if not points:
        raise ValueError(f"{source}: the exclusions remove every point of the grid")
    settings = [{**defaults, **base, **p} for p in points]
    names = run_names(points, settings)
    runs = tuple(RunSpec(n, s, p) for n, s, p in zip(names, settings, points))
    for run in runs:
        try:
            run.train_config()
        except ValueError as exc:
            raise ValueError(f"{source}: run {run.name} ({_describe(run.point)}): {exc}") from None
    if check_data:
        _check_models(source, runs)
    return SweepSpec(
        name=raw.get("name"),
        description=raw.get("description"),
        base=base,
        axes=flat_axes,
        runs=runs,
        source=_jsonable(raw),
    )


def _describe(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_format_value(v)}" for k, v in point.items()) or "base settings"


def _check_models(source: str, runs: tuple[RunSpec, ...]) -> None:
    from vaetheory.empirical.training import check_memory, load_training_data

    dims: dict[tuple, int] = {}
    for run in runs:
        config = run.train_config()
        key = (config.data, config.n_points, config.likelihood)
        try:
            if key not in dims:
                dims[key] = load_training_data(config).shape[1]
            check_memory(config.model_config(dims[key]), config.batch_size)
        except ValueError as exc:
            raise ValueError(f"{source}: run {run.name} ({_describe(run.point)}): {exc}") from None


def load_spec(path: str | Path, *, check_data: bool = True) -> SweepSpec:
    """Read and parse the SPEC file ``path`` (``yaml.safe_load``, at most :data:`MAX_SPEC_BYTES`)."""
    import yaml

    path = Path(path)
    where = f"SPEC {str(path)!r}"
    if not path.is_file():
        raise ValueError(f"{where} " + ("is a directory" if path.is_dir() else "does not exist"))
    size = path.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise ValueError(f"{where} is {size} bytes; a SPEC may have at most {MAX_SPEC_BYTES} bytes")
    try:
        with open(path, "rb") as fh:
            text = fh.read(MAX_SPEC_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ValueError(f"{where} is not valid YAML{at}: {problem}") from None
    return parse_spec(raw, source=where, check_data=check_data)


__all__ = [
    "MAX_RUNS",
    "MAX_SPEC_BYTES",
    "OPTIONS",
    "PER_RUN_SETTINGS",
    "TOP_LEVEL_KEYS",
    "RunSpec",
    "SweepSpec",
    "check_value",
    "load_spec",
    "parse_spec",
    "run_names",
    "settings_to_config",
]
