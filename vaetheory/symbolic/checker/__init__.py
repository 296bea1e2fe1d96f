"""The derivation checker: find the first wrong line of a derivation, say why, and what it should be.

``check_derivation(text)`` reads a derivation (LaTeX ``align`` blocks or plain sympy syntax, with a
short header declaring symbols, assumptions, variables of interest and named Gaussian densities;
see the README section "Checking a derivation") and returns a :class:`DerivationCheck`: a verdict
per step (``holds`` on symbolic proof or, labelled ``numeric``, at many random points with a
stated tolerance; ``fails`` with a counterexample and, where derivable, the corrected expression;
``undecided`` past the time bound, with the numeric evidence found) and ``first_failure``.
The shipped examples are listed by :func:`list_examples` and read by :func:`example_text`.
"""

from __future__ import annotations

import time
from importlib import resources

from vaetheory._validation import check_int, check_positive
from vaetheory.provenance import provenance
from vaetheory.symbolic.checker.document import read_derivation
from vaetheory.symbolic.checker.judge import Settings
from vaetheory.symbolic.checker.report import DerivationCheck, StepVerdict
from vaetheory.symbolic.checker.scope import DerivationSyntaxError
from vaetheory.symbolic.checker.steps import StepChecker

__all__ = [
    "DerivationCheck",
    "DerivationSyntaxError",
    "StepVerdict",
    "check_derivation",
    "example_text",
    "list_examples",
]

_SUFFIXES = (".tex", ".txt")
#: the accepted range of ``tolerance``: (0, MAX_TOLERANCE]
MAX_TOLERANCE = 1e-6
#: the default bound on a whole run, in seconds
DEFAULT_TOTAL_TIMEOUT = 600.0


def check_derivation(
    text: str,
    *,
    seed: int = 0,
    step_timeout: float = 10.0,
    n_points: int = 40,
    tolerance: float = 1e-12,
    name: str | None = None,
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
    strict: bool = False,
) -> DerivationCheck:
    """Check every step of the derivation ``text``.

    Parameters
    ----------
    text : the derivation (LaTeX or plain; format in the README, "Checking a derivation").
    seed : seeds the random points of the numeric evidence (same seed, same points).
    step_timeout : seconds each step may take (sympy work and numeric evidence together); past
        it the step is ``undecided``.
    n_points : random points per numeric comparison.
    tolerance : relative tolerance of a numeric comparison, ``|a - b| <= tol (1 + |a| + |b|)``
        at 30 significant digits; in (0, 1e-6] (a looser tolerance would let wrong lines hold).
    name : what to record as the source in the provenance (a file or example name).
    total_timeout : seconds the whole run may take, reading included (default 600); steps not
        reached within it are ``undecided``.
    strict : recorded in the result: its ``exit_code`` is then 0 only when every step holds by a
        symbolic proof.

    Raises
    ------
    DerivationSyntaxError (a ValueError) for unusable input, with line, column and what was expected.
    """
    seed = check_int("seed", seed, low=0)
    step_timeout = check_positive("step_timeout", step_timeout)
    n_points = check_int("n_points", n_points, low=5)
    tolerance = check_positive("tolerance", tolerance)
    if tolerance > MAX_TOLERANCE:
        raise ValueError(f"tolerance must lie in (0, {MAX_TOLERANCE:g}]; got {tolerance:g}")
    total_timeout = check_positive("total_timeout", total_timeout)
    total_deadline = time.monotonic() + total_timeout
    derivation = read_derivation(text, step_seconds=step_timeout, total_deadline=total_deadline)
    settings = Settings(seed, step_timeout, n_points, tolerance, total_deadline, total_timeout)
    checker = StepChecker(derivation.scope, settings)
    checker.steps = list(derivation.steps)
    verdicts = tuple(checker.check(step) for step in derivation.steps)
    first = next((v.line for v in verdicts if v.verdict == "fails"), None)
    params = {"source": name, "step_timeout": step_timeout, "n_points": n_points, "tolerance": tolerance,
              "total_timeout": total_timeout, "strict": bool(strict)}  # fmt: skip
    return DerivationCheck(
        title=derivation.title,
        format=derivation.format,
        steps=verdicts,
        first_failure=first,
        warnings=tuple(derivation.scope.warnings),
        definitions={k.name: str(v) for k, v in derivation.scope.definitions.items()},
        provenance=provenance(seed=seed, parameters=params),
        strict=bool(strict),
    )


def _examples_dir():
    return resources.files("vaetheory.symbolic").joinpath("examples")


def list_examples() -> dict[str, str]:
    """``{name: title}`` of the shipped example derivations (package data)."""
    out = {}
    for entry in sorted(_examples_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(_SUFFIXES):
            text = entry.read_text(encoding="utf-8")
            title = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if "title:" in ln), "")
            out[entry.name.rsplit(".", 1)[0]] = title
    return out


def example_text(name: str) -> str:
    """The text of the shipped example ``name`` (see :func:`list_examples`)."""
    names = list_examples()
    if name not in names:
        raise ValueError(f"example must be one of {', '.join(map(repr, names))}; got {name!r}")
    for suffix in _SUFFIXES:
        entry = _examples_dir().joinpath(name + suffix)
        if entry.is_file():
            return entry.read_text(encoding="utf-8")
    raise ValueError(f"example {name!r} has no file")  # pragma: no cover
