"""Results are values: small frozen dataclasses that know how to become JSON.

Subclass :class:`Result` with ``@dataclass(frozen=True)``; ``to_dict`` turns numpy arrays and
scalars, tuples and nested results into plain JSON types, and non-finite floats into the strings
``"inf"``, ``"-inf"`` and ``"nan"`` (JSON has no such numbers, and a silent ``null`` would hide
them).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` recursively into JSON-ready Python types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # torch tensors, without importing torch
        return to_jsonable(value.tolist())
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`to_jsonable` (``indent=2`` and sorted-free by default)."""
    kwargs.setdefault("indent", 2)
    return json.dumps(to_jsonable(value), **kwargs)


@dataclasses.dataclass(frozen=True)
class Result:
    """Base class of result values."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self, **kwargs: Any) -> str:
        return dumps(self.to_dict(), **kwargs)
