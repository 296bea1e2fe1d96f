"""What a derivation's header declares, and the errors and warnings of reading a derivation.

The header (documented in the README, section "Checking a derivation") declares symbols with
their assumptions, the variables of interest, the additive constants, definitions and named
Gaussian densities. :class:`Scope` resolves the names met in the body against it; an undeclared
name becomes a real symbol with a warning that says so.
"""

from __future__ import annotations

import dataclasses
import re
import time

import sympy as sp

#: LaTeX commands read as symbol names; ``\lambda`` is spelled ``lam`` (``lambda`` is a Python keyword)
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi",
    "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi",
    "Psi", "Omega", "ell",
}  # fmt: skip
RENAMED = {"lambda": "lam", "Lambda": "Lam"}
#: names that are additive constants unless the header's ``constants:`` says otherwise
DEFAULT_CONSTANTS = ("c", "C", "c_prime", "C_prime", "c_prime_prime", "const")
#: the assumptions a header line may declare, as sympy assumption keywords
ASSUMPTION_KEYS = {
    "real": {"real": True},
    "positive": {"positive": True},
    "nonnegative": {"nonnegative": True},
    "negative": {"negative": True},
    "integer": {"integer": True},
    "positive integer": {"positive": True, "integer": True},
}


class DerivationSyntaxError(ValueError):
    """Unusable input: where (1-based line and column), what was expected, and what was found."""

    def __init__(self, line: int, column: int, expected: str, found: str | None = None):
        self.line = int(line)
        self.column = int(column)
        self.expected = expected
        self.found = found
        tail = f", found {found}" if found else ""
        super().__init__(f"line {self.line}, column {self.column}: expected {expected}{tail}")

    def to_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "expected": self.expected, "found": self.found}


def canonical_name(text: str) -> str:
    r"""A header or LaTeX spelling as a symbol name.

    ``\lambda'`` -> ``lam_prime``, ``\sigma^*`` -> ``sigma_star``, ``s_{1}`` -> ``s_1``.
    """
    name = text.strip()
    name = re.sub(r"\\mathcal\s*\{\s*([A-Za-z])\s*\}", r"cal_\1", name)  # as the LaTeX body reads it
    name = re.sub(r"\\(?:mathrm|text|operatorname)\s*\{\s*([A-Za-z0-9]+)\s*\}", r"\1", name)
    name = re.sub(r"\\(?:hat|widehat)\s*\{\s*\\?([A-Za-z]+)\s*\}", lambda m: _renamed(m) + "_hat", name)
    name = re.sub(r"\\(?:bar|overline)\s*\{\s*\\?([A-Za-z]+)\s*\}", lambda m: _renamed(m) + "_bar", name)
    name = re.sub(r"\\(?:tilde|widetilde)\s*\{\s*\\?([A-Za-z]+)\s*\}", lambda m: _renamed(m) + "_tilde", name)
    name = re.sub(r"\^\{?\*\}?", "_star", name)
    name = name.replace("'", "_prime")
    name = re.sub(r"\\([A-Za-z]+)", lambda m: RENAMED.get(m.group(1), m.group(1)), name)
    name = re.sub(r"[{}\\]", "", name)
    return RENAMED.get(name, name)


def _renamed(match) -> str:
    return RENAMED.get(match.group(1), match.group(1))


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def checked_name(text: str, line: int, column: int) -> str:
    """:func:`canonical_name` of ``text``, refused unless it is an ASCII name."""
    name = canonical_name(text)
    if not _NAME.fullmatch(name):
        raise DerivationSyntaxError(
            line, column, "a symbol name: an ASCII letter, then letters, digits or '_' (or a LaTeX spelling)",
            repr(text.strip()),
        )  # fmt: skip
    return name


@dataclasses.dataclass(frozen=True)
class DensitySpec:
    r"""A named Gaussian density ``name(params) = Normal(mean, variance)``.

    ``params`` are its point, then what it is given (``p(x | z)``: ``(x, z)``).
    """

    name: str
    params: tuple[sp.Symbol, ...]
    mean: sp.Expr
    variance: sp.Expr

    def apply(self, args) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
        """``(point, mean, variance)`` with the arguments put for the parameters."""
        table = dict(zip(self.params, args))
        return (args[0], self.mean.xreplace(table), self.variance.xreplace(table))


@dataclasses.dataclass
class Scope:
    """Declared names and what reading the body found (warnings, source text of special terms)."""

    symbols: dict[str, sp.Symbol] = dataclasses.field(default_factory=dict)
    variables: list[sp.Symbol] = dataclasses.field(default_factory=list)
    constants: set[str] = dataclasses.field(default_factory=lambda: set(DEFAULT_CONSTANTS))
    definitions: dict[sp.Symbol, sp.Expr] = dataclasses.field(default_factory=dict)
    densities: dict[tuple[str, int], DensitySpec] = dataclasses.field(default_factory=dict)
    normal_second: str = "variance"
    warnings: list[str] = dataclasses.field(default_factory=list)
    labels: dict[sp.Expr, str] = dataclasses.field(default_factory=dict)
    latex_names: dict[sp.Symbol, str] = dataclasses.field(default_factory=dict)
    bound: list[dict[str, sp.Symbol]] = dataclasses.field(default_factory=list)
    #: relational assumptions of the header (``assume: v >= xi``): ``(symbol, relation, bound)``
    conditions: list[tuple] = dataclasses.field(default_factory=list)
    #: the indices of the sums and products being read, innermost last
    indices: list[str] = dataclasses.field(default_factory=list)
    #: indexed symbols met in sums (base name -> a symbol carrying their assumptions)
    indexed: dict[str, sp.Symbol] = dataclasses.field(default_factory=dict)
    #: names met in the body that the header does not declare (assumed real, with a warning)
    undeclared: set[str] = dataclasses.field(default_factory=set)
    #: time.monotonic() by which reading the current step must end (None: no bound)
    deadline: float | None = None
    #: seconds each step may take to read (the per-step bound), and the end of the whole run
    step_seconds: float | None = None
    total_deadline: float | None = None

    def start_step(self) -> None:
        """Start the time bound of reading one step (or header line)."""
        ends = [t for t in (self.total_deadline,) if t is not None]
        if self.step_seconds is not None:
            ends.append(time.monotonic() + self.step_seconds)
        self.deadline = min(ends) if ends else None

    def density_names(self) -> set[str]:
        return {name for name, _ in self.densities}

    def density(self, name: str, nargs: int, line: int, column: int) -> DensitySpec:
        spec = self.densities.get((name, nargs))
        if spec is None:
            arities = sorted(n for nm, n in self.densities if nm == name)
            raise DerivationSyntaxError(
                line, column, f"{name}(...) with {' or '.join(map(str, arities))} argument(s)", f"{nargs}"
            )
        return spec

    def symbol(self, name: str, line: int, column: int, latex: str | None = None) -> sp.Expr:
        """The symbol a name stands for; an undeclared name becomes real, with a warning."""
        for frame in reversed(self.bound):
            if name in frame:
                return frame[name]
        if name in self.symbols:
            sym = self.symbols[name]
        elif name in self.constants:
            sym = self.symbols.setdefault(name, sp.Symbol(name, real=True))
        elif name == "e":
            return sp.E
        elif self._indexed_base(name) is not None:
            # x_1, x_2, ... inherit the assumptions declared for x (as the terms of a sum over x_j do)
            base = self._indexed_base(name)
            kw = {k: True for k in ("positive", "nonnegative", "negative", "integer", "real")
                  if getattr(base, f"is_{k}") is True}  # fmt: skip
            sym = self.symbols.setdefault(name, sp.Symbol(name, **(kw or {"real": True})))
        else:
            sym = sp.Symbol(name, real=True)
            self.symbols[name] = sym
            self.undeclared.add(name)
            self.warnings.append(
                f"line {line}, column {column}: symbol '{name}' was not declared; assumed real "
                f"(declare it in the header, e.g. 'positive: {name}')"
            )
        if latex and sym not in self.latex_names:
            self.latex_names[sym] = latex
        return sym

    def _indexed_base(self, name: str) -> sp.Symbol | None:
        """The declared symbol ``x`` of a name ``x_1`` (digits after the last underscore), or None."""
        m = re.fullmatch(r"(.+)_(\d+)", name)
        if m is None or m.group(1) in self.undeclared:
            return None
        return self.symbols.get(m.group(1))

    def constant_symbols(self) -> set[sp.Symbol]:
        return {s for n, s in self.symbols.items() if n in self.constants}
