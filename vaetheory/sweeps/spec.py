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
TOP_LEVEL_KEYS = ("name", "description", "experiment", "base", "grid", "zip", "exclude")
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
    """One point of the grid: its directory name, its full settings and the axes' values.

    ``experiment`` names the experiment of an experiment SPEC (the point is one run of it; its
    settings are the experiment's options), None for a training run.
    """

    name: str
    settings: dict[str, Any]
    point: dict[str, Any]
    experiment: str | None = None

    def group_key(self) -> str:
        """Runs with the same key share an architecture and can be trained stacked.

        Every point of an experiment SPEC is its own group (an experiment stacks its runs itself).
        """
        if self.experiment is not None:
            return json.dumps({"experiment": self.experiment, "point": self.name})
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
    #: the experiment of an experiment SPEC (``experiment: NAME``), None for training runs
    experiment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "experiment": self.experiment,
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


class _TrainVocabulary:
    """The options a training SPEC names (:data:`OPTIONS`): names, checks, accepted values, defaults."""

    def name(self, where: str, key: Any) -> str:
        return _option_name(where, key)

    def check(self, where: str, name: str, value: Any) -> Any:
        return check_value(where, name, value)

    def list_valued(self, name: str) -> bool:
        return OPTIONS[name].kind == "widths"

    def accepted(self, name: str) -> str:
        return OPTIONS[name].accepted

    def defaults(self) -> dict[str, Any]:
        return {name: opt.default for name, opt in OPTIONS.items()}


def _axis(where: str, name: str, values: Any, vocab=None) -> list:
    vocab = vocab if vocab is not None else _TrainVocabulary()
    if not isinstance(values, list):
        raise ValueError(f"{where}: axis {name} must be a list of values, e.g. [0.1, 0.01]; got {values!r}")
    if not values:
        raise ValueError(f"{where}: axis {name} is empty; give at least one value ({vocab.accepted(name)})")
    checked = [vocab.check(f"{where}[{i}]", name, v) for i, v in enumerate(values)]
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
    if raw.get("experiment") is not None:
        return _parse_experiment_spec(raw, source)
    if "experiment" in raw:
        raise ValueError(f"{source}: experiment must name an experiment; got null")
    base, flat_axes, points = _expand(raw, source, _TrainVocabulary())
    settings = [{**_TrainVocabulary().defaults(), **base, **p} for p in points]
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


def _expand(raw: dict, source: str, vocab) -> tuple[dict[str, Any], tuple[str, ...], list[dict[str, Any]]]:
    """``(base, axes, points)``: the checked base values, the axes' names and the grid's points in order."""
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
        name = vocab.name(f"{source}: base", key)
        if isinstance(value, list) and not vocab.list_valued(name):
            raise ValueError(
                f"{source}: base.{name} is a list; an option with several values is an axis of grid"
            )
        base[name] = vocab.check(f"{source}: base.{name}", name, value)

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
        name = vocab.name(f"{source}: grid", key)
        claim(f"{source}: grid", name)
        axes.append((name,))
        columns.append([(v,) for v in _axis(f"{source}: grid.{name}", name, values, vocab)])
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
            name = vocab.name(where, key)
            claim(where, name)
            names.append(name)
            lists.append(_axis(f"{where}.{name}", name, values, vocab))
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
            name = vocab.name(where, key)
            if name not in flat_axes:
                raise ValueError(
                    f"{where}: {name} is not an axis of grid or zip; exclusions name axes: "
                    + (", ".join(flat_axes) or "(none)")
                )
            values = value if isinstance(value, list) and not vocab.list_valued(name) else [value]
            checked[name] = [vocab.check(f"{where}.{name}", name, v) for v in values]
        rules.append(checked)

    n_points = math.prod(len(c) for c in columns)
    if n_points > MAX_RUNS:
        raise ValueError(f"{source}: the grid has {n_points} points; at most {MAX_RUNS} runs per sweep")
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
    return base, flat_axes, points


#: the options of every experiment SPEC besides its Settings fields
EXPERIMENT_OPTIONS = ("quick", "seed", "data")


@dataclasses.dataclass(frozen=True)
class _Field:
    """One option of an experiment SPEC: its kind (``element`` for a tuple) and accepted values."""

    kind: str  # "bool", "int", "float", "text", "tuple"
    element: str | None = None
    low: str | None = None  # "positive", "nonnegative" or None (numbers)
    choices: tuple | None = None  # text values accepted (None: any non-empty text)
    high: int | None = None

    def accepted(self) -> str:
        if self.kind == "tuple":
            inner = dataclasses.replace(self, kind=self.element, element=None).accepted()
            return f"a non-empty list of distinct values, each {inner} (a single value is a list of one)"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return f"one of {', '.join(map(str, self.choices))}" if self.choices else "non-empty text"
        if self.high == SEED_MAX:
            return "an integer in [0, 2**63 - 1]"
        what = "an integer" if self.kind == "int" else "a finite number"
        bound = {"positive": " > 0", "nonnegative": " >= 0", None: ""}[self.low]
        return what + bound + (f" <= {self.high}" if self.high is not None else "")


def _scalar_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "text"
    return None


def _check_scalar(where: str, name: str, field: _Field, kind: str, value: Any) -> Any:
    bad = f"{where}: {name} must be {field.accepted()}; got {value!r}"
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(bad)
        return value
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise ValueError(bad)
        if field.choices and value not in field.choices:
            raise ValueError(bad)
        return value
    if kind == "float" and isinstance(value, str) and _EXPONENT_TEXT.match(value.strip()):
        value = float(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (kind == "int" and isinstance(value, float))
    ):
        raise ValueError(f"{bad} ({type(value).__name__})")
    value = int(value) if kind == "int" else float(value)
    if not math.isfinite(value):
        raise ValueError(bad)
    if (field.low == "positive" and not value > 0) or (field.low == "nonnegative" and value < 0):
        raise ValueError(bad)
    if field.high is not None and value > field.high:
        raise ValueError(bad)
    return value


class _ExperimentVocabulary:
    """The options of an experiment SPEC: ``quick``, ``seed``, ``data`` and the fields of its Settings.

    A field's kind is the kind of its value in the experiment's presets (``DEFAULT``, ``QUICK``,
    ``TINY``): a number stays a number (an integer field takes integers), a tuple takes a list. A
    number that is positive in every preset (a count, a size, a rate, a floor) must be positive,
    one that is >= 0 in every preset must be >= 0. A text field (or a tuple of text) whose module
    has a constant of the field's name in capitals (``floors.METHODS`` for ``methods``) takes only
    those values. The module may define ``check_settings(settings)`` raising ``ValueError`` for
    combinations it refuses; it is called for every point before anything runs.
    """

    def __init__(self, experiment: str, module):
        self.experiment = experiment
        self.module = module
        presets = [getattr(module, p) for p in ("DEFAULT", "QUICK", "TINY") if hasattr(module, p)]
        self.fields: dict[str, _Field] = {
            "quick": _Field("bool"),
            "seed": _Field("int", low="nonnegative", high=SEED_MAX),
            "data": _Field("text"),
        }
        for f in dataclasses.fields(module.Settings):
            if f.name in self.fields:
                continue
            values = [getattr(p, f.name) for p in presets]
            self.fields[f.name] = self._field_of(f.name, values)

    def _field_of(self, name: str, values: list) -> _Field:
        choices = getattr(self.module, name.upper(), None)
        if isinstance(values[0], tuple):
            elements = [v for t in values for v in t]
            kinds = {_scalar_kind(v) for v in elements}
            kind = "float" if kinds == {"int", "float"} else (kinds.pop() if len(kinds) == 1 else "text")
            return _Field("tuple", kind, self._low(kind, elements), self._choices(kind, choices))
        kind = _scalar_kind(values[0]) or "text"
        return _Field(kind, None, self._low(kind, values), self._choices(kind, choices))

    @staticmethod
    def _low(kind: str, values: list) -> str | None:
        if kind not in ("int", "float") or not values:
            return None
        if all(v > 0 for v in values):
            return "positive"
        return "nonnegative" if all(v >= 0 for v in values) else None

    @staticmethod
    def _choices(kind: str, choices: Any) -> tuple | None:
        if kind == "text" and isinstance(choices, tuple) and all(isinstance(c, str) for c in choices):
            return choices
        return None

    def name(self, where: str, key: Any) -> str:
        if not isinstance(key, str) or key not in self.fields:
            raise ValueError(
                f"{where}: unknown option {key!r} of experiment {self.experiment}; accepted: "
                + ", ".join(self.fields)
            )
        return key

    def check(self, where: str, name: str, value: Any) -> Any:
        field = self.fields[name]
        if field.kind != "tuple":
            return _check_scalar(where, name, field, field.kind, value)
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ValueError(f"{where}: {name} must be {field.accepted()}; got []")
        checked = tuple(_check_scalar(where, name, field, field.element, v) for v in items)
        if len(set(checked)) != len(checked):
            raise ValueError(f"{where}: {name} repeats a value; got {value!r}")
        return checked

    def list_valued(self, name: str) -> bool:
        return self.fields[name].kind == "tuple"

    def accepted(self, name: str) -> str:
        return self.fields[name].accepted()

    def defaults(self, quick: bool) -> dict[str, Any]:
        preset = self.module.QUICK if quick else self.module.DEFAULT
        out = {"quick": quick, "seed": 0, "data": "digits"}
        for f in dataclasses.fields(self.module.Settings):
            if f.name not in out:
                out[f.name] = getattr(preset, f.name)
        return out

    def settings_of(self, values: Mapping[str, Any]):
        """The experiment's ``Settings`` of a point's full options (the preset replaced field by field)."""
        preset = self.module.QUICK if values["quick"] else self.module.DEFAULT
        fields = {f.name for f in dataclasses.fields(self.module.Settings)}
        return dataclasses.replace(preset, **{k: v for k, v in values.items() if k in fields})


def experiment_vocabulary(name: str) -> _ExperimentVocabulary:
    """The options an experiment SPEC of experiment ``name`` accepts (:class:`_ExperimentVocabulary`)."""
    from vaetheory.studies.experiments import EXPERIMENTS, get_experiment

    if not isinstance(name, str) or name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; experiments are: {', '.join(EXPERIMENTS)}")
    return _ExperimentVocabulary(name, get_experiment(name))


def experiment_settings(run: RunSpec):
    """``(Settings, quick, seed, data)`` of the point ``run`` of an experiment SPEC."""
    vocab = experiment_vocabulary(run.experiment)
    return vocab.settings_of(run.settings), run.settings["quick"], run.settings["seed"], run.settings["data"]


def _parse_experiment_spec(raw: dict, source: str) -> SweepSpec:
    try:
        vocab = experiment_vocabulary(raw["experiment"])
    except ValueError as exc:
        raise ValueError(f"{source}: experiment: {exc}") from None
    base, flat_axes, points = _expand(raw, source, vocab)
    settings = []
    for p in points:
        full = {**base, **p}
        full = {**vocab.defaults(full.get("quick", False)), **full}
        settings.append(full)
    names = run_names(points, settings)
    runs = tuple(RunSpec(n, s, p, experiment=vocab.experiment) for n, s, p in zip(names, settings, points))
    check = getattr(vocab.module, "check_settings", None)
    for run in runs:
        try:
            s = vocab.settings_of(run.settings)
            if check is not None:
                check(s)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{source}: run {run.name} ({_describe(run.point)}): {exc}") from None
    return SweepSpec(
        name=raw.get("name"),
        description=raw.get("description"),
        base=base,
        axes=flat_axes,
        runs=runs,
        source=_jsonable(raw),
        experiment=vocab.experiment,
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
    "EXPERIMENT_OPTIONS",
    "MAX_RUNS",
    "MAX_SPEC_BYTES",
    "OPTIONS",
    "PER_RUN_SETTINGS",
    "TOP_LEVEL_KEYS",
    "RunSpec",
    "SweepSpec",
    "check_value",
    "experiment_settings",
    "experiment_vocabulary",
    "load_spec",
    "parse_spec",
    "run_names",
    "settings_to_config",
]
