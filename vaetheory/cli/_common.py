"""Small helpers shared by the subcommand modules (argument types, JSON output)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vaetheory.results import dumps


def int_list(text: str) -> list[int]:
    """argparse type: ``"2,5,10"`` -> ``[2, 5, 10]``."""
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def float_list(text: str) -> list[float]:
    """argparse type: ``"0.5,1,2"`` -> ``[0.5, 1.0, 2.0]``."""
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def print_json(value: Any) -> None:
    """Print ``value`` as JSON (numpy and non-finite floats handled) to stdout."""
    sys.stdout.write(dumps(value) + "\n")


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table with right-aligned columns (numbers formatted with ``:.6g``)."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.6g}"
        return "-" if v is None else str(v)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
    return "\n".join(lines)
