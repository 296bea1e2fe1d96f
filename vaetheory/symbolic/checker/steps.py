"""Step kinds and their verdicts.

A derivation is read as chains. A chain starts at a step with its own left-hand side (its
"start"); a step that begins with a relation continues from the previous right-hand side. Kinds:

* identity, expectation, KL, differentiation, limit -- ``A = B`` after evaluating expectations,
  KL divergences, derivatives and limits;
* equal up to a constant -- a constant (``c``, ``c'``...) on either side: ``A - B`` must be free of
  the variables of interest;
* inequality -- ``A <= B`` (``<``, ``>=``, ``>``);
* stationarity -- ``... = 0`` after an expression chain: the condition d(previous)/d(variable) = 0
  (or previous = 0 when the chain's start is a derivative), compared as a condition (same roots);
* rearrangement -- an equation after an equation: the same roots in the variable;
* solve -- ``variable = value`` after an equation: ``value`` is a root.

Each step is checked against the previous step as written (``follows_from_previous``) and, once an
earlier step has failed, against the chain's start (``true_of_start``): a step that follows from a
wrong line still fails, and its corrected expression comes from the start.
"""

from __future__ import annotations

import dataclasses
import time

import sympy as sp

from vaetheory.symbolic.checker.bounded import StepTimeout, run_bounded
from vaetheory.symbolic.checker.gaussian import Expectation, KLDivergence, special_terms
from vaetheory.symbolic.checker.judge import (
    Deadline,
    Judge,
    Judgement,
    Settings,
    drop_constants,
    prepare,
    tidy,
    tidy_value,
)
from vaetheory.symbolic.checker.report import StepVerdict
from vaetheory.symbolic.checker.scope import DerivationSyntaxError, Scope
from vaetheory.symbolic.checker.tokens import ParsedStep


@dataclasses.dataclass
class Chain:
    kind: str  # "expr" or "eq" or "sol"
    start_line: int
    written: sp.Expr  # expr: last right-hand side; eq: the condition (= 0)
    truth: sp.Expr | None  # expr: the start's value; eq: the true condition
    relation: str | None  # expr: the relation of the start to the last right-hand side
    const: bool
    derivative_start: bool
    var: sp.Symbol | None
    ok: bool
    last_line: int
    #: expr chains: the last step's LHS - RHS when it is an equation (the condition it states)
    equation: sp.Expr | None = None


def _has_constant(expr: sp.Expr | None, scope: Scope) -> bool:
    return expr is not None and bool(expr.free_symbols & scope.constant_symbols())


def _kind_tags(exprs, relation: str, const: bool) -> str:
    exprs = [e for e in exprs if e is not None]
    tags = [tag for tag, cls in (("expectation", Expectation), ("kl", KLDivergence), ("differentiation",
            sp.Derivative), ("limit", sp.Limit)) if any(e.has(cls) for e in exprs)]  # fmt: skip
    if relation != "=":
        tags.append("inequality")
    elif const:
        tags.append("constant")
    return "+".join(tags) or "identity"


class StepChecker(Judge):
    """Checks the steps of one derivation in order, keeping the chain state between them."""

    def __init__(self, scope, settings: Settings):
        super().__init__(scope, settings)
        self.chain: Chain | None = None
        self.last_rhs: sp.Expr | None = None
        self.steps_seen = 0
        #: every step of the derivation (to see which variable the next step solves for)
        self.steps: list[ParsedStep] = []
        #: the expression chain the last stationarity condition came from, and the values solved since
        self.objective: Chain | None = None
        self.solved: dict[sp.Symbol, sp.Expr] = {}
        self.from_objective = False
        #: the relational assumptions in force for the current step, as a substitution
        self.under: dict[sp.Symbol, sp.Expr] = {}
        self.under_text = ""

    def _set_conditions(self, step: ParsedStep) -> None:
        table, said = {}, []
        for sym, rel, bound in [*self.scope.conditions, *step.conditions]:
            kw = {"nonnegative": True} if rel == ">=" else {"positive": True}
            gap = sp.Symbol(f"{sym.name}_minus_bound", **kw)
            table[sym] = bound + gap
            said.append(f"{sym} {rel} {bound}")
        self.under = table
        self.under_text = (
            f" (under {', '.join(said)}: {', '.join(f'{k} = {v}' for k, v in table.items())})" if said else ""
        )

    def judge_relation(self, lhs, rhs, relation, const, line, deadline, salt=0):
        if not self.under:
            return super().judge_relation(lhs, rhs, relation, const, line, deadline, salt)
        res = super().judge_relation(
            lhs.xreplace(self.under), rhs.xreplace(self.under), relation, const, line, deadline, salt
        )
        res.reason += self.under_text
        return res

    def judge_domain(self, var, value, line, deadline):
        """The value's assumptions, under the relational ones (``assume: S > v`` makes sqrt(S - v) real).

        When ``var`` itself carries a bound (``assume: v >= xi``), the value must respect it too: its
        excess over the bound is judged against the gap symbol's assumption.
        """
        if not self.under:
            return super().judge_domain(var, value, line, deadline)
        others = {k: e for k, e in self.under.items() if k != var}
        res = super().judge_domain(var, value.xreplace(others), line, deadline)
        if res is None and var in self.under:
            gap = [s for s in self.under[var].free_symbols if s.name == f"{var.name}_minus_bound"]
            if gap:
                excess = (value - (self.under[var] - gap[0])).xreplace(others)
                res = super().judge_domain(gap[0], excess, line, deadline)
                if res is not None:
                    res.reason = f"{var} = {value} may break the bound declared for {var}: {res.reason}"
        if res is not None:
            res.reason += self.under_text
        return res

    def check(self, step: ParsedStep) -> StepVerdict:
        seconds = self.settings.step_timeout
        if self.settings.total_deadline is not None:
            left = self.settings.total_deadline - time.monotonic()
            if left <= 0:
                self.chain = None
                self.last_rhs = None
                self.steps_seen += 1
                reason = (
                    f"not checked: the run's total time bound ({self.settings.total_timeout:g} s, "
                    "--total-timeout) was reached"
                )
                return self._verdict(step, "undecided", None, reason, kind="identity")
            seconds = min(seconds, left)
        deadline = Deadline(seconds)
        self.steps_seen += 1
        self._set_conditions(step)
        try:
            return self._check(step, deadline)
        except StepTimeout as exc:
            self.chain = None
            return self._verdict(step, "undecided", None, f"could not decide: {exc}", kind="identity")
        except DerivationSyntaxError:
            raise
        except Exception as exc:  # sympy gives up on some inputs (NotImplementedError, ...): undecided
            self.chain = None
            self.last_rhs = None
            reason = f"could not decide: sympy raised {type(exc).__name__}: {exc}"
            return self._verdict(step, "undecided", None, reason, kind="identity")

    def _verdict(self, step, verdict, evidence, reason, *, kind, local=None, glob=None, cex=None,
                 corrected=None, evaluated=(), numeric=None) -> StepVerdict:  # fmt: skip
        latex_names = {k: v for k, v in self.scope.latex_names.items()}
        corrected_str = corrected_tex = None
        if corrected is not None:
            lhs, rhs = corrected
            corrected_str = f"{lhs} = {rhs}" if lhs is not None else str(rhs)
            tex_rhs = (
                rhs.latex(latex_names)
                if isinstance(rhs, _PlusConstant)
                else sp.latex(rhs, symbol_names=latex_names)
            )
            corrected_tex = (
                f"{sp.latex(lhs, symbol_names=latex_names)} = {tex_rhs}" if lhs is not None else tex_rhs
            )
        if cex is not None:
            cex = self._latex_counterexample(cex, latex_names)
        return StepVerdict(
            line=step.line, column=step.column, text=step.text, kind=kind, verdict=verdict, reason=reason,
            evidence=evidence, counterexample=cex, corrected=corrected_str, corrected_latex=corrected_tex,
            evaluated=tuple(evaluated), numeric=None if numeric is None else numeric.to_dict(),
            follows_from_previous=local, true_of_start=glob,
        )  # fmt: skip

    @staticmethod
    def _latex_counterexample(cex: dict, latex_names: dict) -> dict:
        """``cex`` with ``values_latex`` (and ``other_values_latex``): the point in the input's notation.

        The plain ``values`` stay as they are; each name is keyed by how the derivation wrote it
        (``sigma_star`` -> ``\\sigma^*``), or by sympy's LaTeX for a name the input did not write.
        """
        by_name = {sym.name: tex for sym, tex in latex_names.items()}
        out = dict(cex)
        for key in ("values", "other_values"):
            if key in cex:
                out[f"{key}_latex"] = {
                    by_name.get(k) or sp.latex(sp.Symbol(k)): v for k, v in cex[key].items()
                }
        cond = cex.get("condition")
        if isinstance(cond, str):  # "sigma_star = 0.8 is a root ...": its leading name as written
            for name in cex.get("values", {}):
                if cond.startswith(f"{name} = "):
                    cond = (by_name.get(name) or sp.latex(sp.Symbol(name))) + cond[len(name) :]
                    break
            out["condition_latex"] = cond
        return out

    def _evaluated(self, step: ParsedStep, deadline: Deadline) -> list[dict[str, str]]:
        out = []
        for expr in (step.lhs, step.rhs):
            if expr is None:
                continue
            for term in special_terms(expr):
                value = run_bounded(lambda t=term: tidy(prepare(t, self.scope)), deadline.left())
                out.append({
                    "term": self.scope.labels.get(term, str(term)),
                    "value": str(value),
                    "latex": sp.latex(value, symbol_names=dict(self.scope.latex_names)),
                })  # fmt: skip
        return out

    def _mode(self, step: ParsedStep, lhs, rhs) -> tuple[str, sp.Symbol | None]:
        note = step.annotation
        chain = self.chain
        if note is not None:
            kind, var_name = note
            var = self.scope.symbols.get(var_name) if var_name else None
            if kind in ("stationarity", "rearrange", "solve"):
                if var is None:
                    var = lhs if kind == "solve" and isinstance(lhs, sp.Symbol) else self._pick_var(lhs - rhs)
                return kind, var
            return "chain", None
        if step.lhs is None:
            return "continue", None
        if chain is None or step.relation != "=":
            return "chain", None
        self.from_objective = False
        variables = self.scope.variables
        if isinstance(lhs, sp.Symbol) and lhs in variables and chain.kind == "eq":
            return "solve", lhs
        power = self._power_of_variable(lhs, rhs)
        if power is not None and chain.kind == "eq":
            return "solve", power
        cands = [v for v in variables if v in (lhs - rhs).free_symbols]
        is_condition = rhs == 0 or lhs == 0
        if cands and chain.kind == "expr" and is_condition and chain.relation == "=":
            return "stationarity", self._condition_variable(step, cands)
        if cands and chain.kind == "eq" and chain.var in cands:
            named = self._condition_variable(step, cands)
            if named in (None, chain.var) or self.objective is None:
                return "rearrange", chain.var
        if cands and is_condition and chain.kind in ("eq", "sol") and self.objective is not None:
            self.from_objective = True
            return "stationarity", self._condition_variable(step, cands)
        return "chain", None

    def _power_of_variable(self, lhs, rhs) -> sp.Symbol | None:
        """``v`` when the step reads ``v^k = value`` (or ``c v^k = value``) with ``value`` free of ``v``."""
        if isinstance(lhs, sp.Symbol):
            return None
        found = lhs.free_symbols & set(self.scope.variables)
        if len(found) != 1:
            return None
        (v,) = found
        _coeff, rest = lhs.as_coeff_Mul()
        if v in rhs.free_symbols or not (isinstance(rest, sp.Pow) and rest.base == v and rest.exp.is_number):
            return None
        return v

    def _condition_variable(self, step, cands) -> sp.Symbol | None:
        """The variable a condition is taken in: the only candidate, or the one the next step solves for."""
        if len(cands) == 1:
            return cands[0]
        nxt = self.upcoming(step)
        if nxt is not None and isinstance(nxt.lhs, sp.Symbol) and nxt.lhs in cands:
            return nxt.lhs
        return None  # tried in turn

    def upcoming(self, step):
        steps = self.steps
        for k, other in enumerate(steps):
            if other is step:
                return steps[k + 1] if k + 1 < len(steps) else None
        return None

    def _pick_var(self, expr) -> sp.Symbol | None:
        for v in self.scope.variables:
            if v in expr.free_symbols:
                return v
        return None

    def _check(self, step: ParsedStep, deadline: Deadline) -> StepVerdict:
        scope = self.scope
        prep = lambda e: None if e is None else run_bounded(lambda: prepare(e, scope), deadline.left())  # noqa: E731
        try:
            lhs, rhs = prep(step.lhs), prep(step.rhs)
            evaluated = self._evaluated(step, deadline)
        except StepTimeout as exc:
            self.chain = None
            self.last_rhs = None
            return self._verdict(
                step, "undecided", None, f"could not evaluate the step: {exc}", kind="identity"
            )
        mode, var = self._mode(step, lhs, rhs)
        if mode == "continue" and self.last_rhs is None:
            if self.steps_seen == 1:
                raise DerivationSyntaxError(
                    step.line, step.column, "a left-hand side (no step before this one to continue)"
                )
            reason = (
                "could not decide: the step before it could not be evaluated, so there is nothing to continue"
            )
            return self._verdict(step, "undecided", None, reason, kind="identity")
        if mode in ("chain", "continue"):
            return self._chain_step(step, mode, lhs, rhs, evaluated, deadline)
        return self._condition_step(step, mode, var, lhs, rhs, evaluated, deadline)

    def _is_definition(self, step, lhs, rhs) -> bool:
        """A chain that starts ``NAME = expression`` with an undeclared NAME defines it (for its chain)."""
        scope = self.scope
        return (
            step.relation == "="
            and isinstance(step.lhs, sp.Symbol)
            and step.lhs.name in scope.undeclared
            and step.lhs not in scope.variables
            and step.lhs.name not in scope.constants
            and step.lhs not in scope.definitions
            and step.lhs not in rhs.free_symbols
        )

    def _definition_step(self, step, rhs, evaluated) -> StepVerdict:
        sym = step.lhs
        self.scope.definitions[sym] = rhs
        self.scope.undeclared.discard(sym.name)
        marker = f"symbol '{sym.name}' was not declared"
        self.scope.warnings[:] = [w for w in self.scope.warnings if marker not in w]
        const = _has_constant(rhs, self.scope)
        self.chain = Chain("expr", step.line, rhs, rhs, "=", const, step.rhs.has(sp.Derivative), None, True,
                           step.line)  # fmt: skip
        self.last_rhs = rhs
        reason = f"defines {sym} as {rhs} for the steps that follow (a named left-hand side starts its chain)"
        return self._verdict(step, "holds", "symbolic", reason, kind="definition", local=True,
                             evaluated=evaluated)  # fmt: skip

    def _chain_step(self, step, mode, lhs, rhs, evaluated, deadline) -> StepVerdict:
        scope, chain = self.scope, self.chain
        if mode == "chain" and step.annotation is None and self._is_definition(step, lhs, rhs):
            return self._definition_step(step, rhs, evaluated)
        new = mode == "chain" or chain is None or chain.kind != "expr"
        left = lhs if mode == "chain" else self.last_rhs
        const = _has_constant(left, scope) or _has_constant(rhs, scope)
        kind = _kind_tags([step.lhs, step.rhs], step.relation, const)
        local = self.judge_relation(left, rhs, step.relation, const, step.line, deadline)
        glob = None
        if not new and not chain.ok and chain.truth is not None and chain.relation is not None:
            rel = _compose(chain.relation, step.relation)
            if rel is not None:
                glob = self.judge_relation(
                    chain.truth, rhs, rel, const or chain.const, step.line, deadline, salt=1
                )
        truth = left if new else chain.truth
        prev_ok = True if new else chain.ok
        verdict, evidence, reason = _combine(local, glob, prev_ok, self._prev_label(new))
        corrected = None
        if verdict == "fails" and (new or chain.relation == "=") and step.relation == "=":
            try:
                corrected = (None, run_bounded(lambda: self._corrected_rhs(truth, const), deadline.left()))
            except StepTimeout:
                corrected = None
        cex = (glob.counterexample if glob and glob.holds is False else None) or local.counterexample
        numeric = local.numeric
        equation = left - rhs if step.relation == "=" else None
        if new:
            self.chain = Chain("expr", step.line, rhs, lhs, step.relation, const, step.lhs.has(sp.Derivative),
                               None, verdict == "holds", step.line, equation)  # fmt: skip
        else:
            chain.equation = equation
            chain.written = rhs
            chain.relation = _compose(chain.relation, step.relation) if chain.relation else None
            chain.const = chain.const or const
            chain.ok = chain.ok and verdict == "holds"
            chain.last_line = step.line
        self.last_rhs = rhs
        return self._verdict(step, verdict, evidence, reason, kind=kind, local=local.holds,
                             glob=None if glob is None else glob.holds, cex=cex, corrected=corrected,
                             evaluated=evaluated, numeric=numeric)  # fmt: skip

    def _corrected_rhs(self, truth, const) -> sp.Expr:
        variables = self.scope.variables
        if not const:
            return tidy_value(truth, variables)
        vars_ = set(variables)
        terms = sp.Add.make_args(sp.expand(drop_constants(tidy(truth), self.scope)))
        kept = [t for t in terms if t.free_symbols & vars_]
        return _PlusConstant(tidy_value(sp.Add(*kept), variables))

    def _prev_label(self, new: bool) -> str:
        if new or self.chain is None:
            return ""
        return f"line {self.chain.last_line}"

    def _condition_step(self, step, mode, var, lhs, rhs, evaluated, deadline) -> StepVerdict:
        chain = self.chain
        if mode == "stationarity" and self.from_objective:
            chain = self.objective
        if chain is None or (var is None and mode != "stationarity"):
            return self._chain_step(step, "chain", lhs, rhs, evaluated, deadline)
        if mode == "stationarity":
            return self._stationarity_step(step, chain, var, lhs, rhs, evaluated, deadline)
        if chain.kind == "expr" and mode in ("solve", "rearrange"):
            # the condition an expression chain states is its last equation, LHS - RHS = 0
            if chain.equation is None:
                reason = (
                    f"could not decide: line {chain.last_line} is not an equation, so there is no condition"
                )
                return self._verdict(step, "undecided", None, reason, kind=mode)
            true = chain.truth - chain.written if chain.truth is not None and chain.relation == "=" else None
            chain = dataclasses.replace(chain, written=chain.equation, truth=true)
        if mode == "solve":
            if lhs == var:
                value = rhs
            elif var.is_positive and self._power_of_variable(lhs, rhs) == var:
                coeff, power = lhs.as_coeff_Mul()  # c v^k = value: the positive root (value / c)^(1/k)
                value = (rhs / coeff) ** (1 / power.exp)
            else:
                roots = run_bounded(lambda: self._domain_roots(lhs - rhs, var), deadline.left())
                if len(roots) != 1:
                    return self._verdict(step, "undecided", None,
                                         f"could not decide: the step does not fix {var} (roots {roots})",
                                         kind="solve")  # fmt: skip
                value = roots[0]
            local = self.judge_root(chain.written, var, value, step.line, deadline, domain=False)
            glob = None
            if not chain.ok and chain.truth is not None:
                glob = self.judge_root(chain.truth, var, value, step.line, deadline, domain=False)
            verdict, evidence, reason = _combine(local, glob, chain.ok, f"line {chain.last_line}")
            domain = self.judge_domain(var, value, step.line, deadline)
            if domain is not None and verdict != "fails":
                verdict = "fails" if domain.holds is False else "undecided"
                evidence, reason = domain.evidence, f"{domain.reason}; as a root: {reason}"
            elif domain is not None:
                reason = f"{reason}; and {domain.reason}"
            corrected = None
            if verdict == "fails" and chain.truth is not None:
                try:
                    roots = run_bounded(lambda: self._domain_roots(chain.truth, var), deadline.left())
                    if roots:
                        shown = [tidy_value(lhs.xreplace({var: r})) for r in roots]
                        corrected = (lhs, shown[0] if len(shown) == 1 else sp.FiniteSet(*shown))
                except StepTimeout:
                    corrected = None
            if verdict == "holds":
                self.solved[var] = value
            cex = (glob.counterexample if glob and glob.holds is False else None) or local.counterexample
            cex = cex or (domain.counterexample if domain is not None else None)
            ok = chain.ok and verdict == "holds"
            self.chain = Chain("sol", step.line, value, None, None, False, False, var, ok, step.line)
            self.last_rhs = rhs
            return self._verdict(step, verdict, evidence, reason, kind="solve", local=local.holds,
                                 glob=None if glob is None else glob.holds, cex=cex, corrected=corrected,
                                 evaluated=evaluated)  # fmt: skip
        written = lhs - rhs
        ref_local, ref_true = chain.written, chain.truth
        local = self.judge_condition(written, ref_local, var, step.line, deadline)
        glob = None
        if not chain.ok and ref_true is not None:
            glob = self.judge_condition(written, ref_true, var, step.line, deadline)
        return self._condition_verdict(step, mode, chain, var, written, rhs, local, glob, ref_true, evaluated,
                                       deadline, f"the condition of line {chain.last_line}")  # fmt: skip

    def _domain_roots(self, expr, var) -> list:
        """The roots of ``expr`` in ``var`` that can respect its assumptions (sympy's solve filters them)."""
        roots = sp.solve(expr, var)
        kept = []
        for r in roots:
            checks = [getattr(r, f"is_{n}") for n in ("real", "positive", "nonnegative", "negative")
                      if getattr(var, f"is_{n}") is True]  # fmt: skip
            if not any(c is False for c in checks):
                kept.append(r)
        return kept

    def _stationarity_step(self, step, chain, var, lhs, rhs, evaluated, deadline) -> StepVerdict:
        """``... = 0`` as d(chain)/d(var) = 0; with several variables, the one named or the one that fits."""
        self.objective = chain
        if not self.from_objective:
            self.solved = {}
        written = lhs - rhs
        cands = [var] if var is not None else [v for v in self.scope.variables if v in written.free_symbols]
        tried = None
        for v in cands:
            base = drop_constants(chain.written, self.scope)
            refs = [base if chain.derivative_start else sp.diff(base, v)]
            ref_true = None
            if chain.truth is not None and chain.relation == "=":
                t = drop_constants(chain.truth, self.scope)
                ref_true = t if chain.derivative_start else sp.diff(t, v)
            if self.solved:
                refs.append(refs[0].xreplace(self.solved))
            for k, ref in enumerate(refs):
                local = self.judge_condition(written, ref, v, step.line, deadline)
                truth = ref_true if k == 0 or ref_true is None else ref_true.xreplace(self.solved)
                if tried is None or local.holds is True:
                    tried = (v, local, truth, k)
                if local.holds is True:
                    break
            if tried[1].holds is True:
                break
        v, local, ref_true, k = tried
        glob = None
        if not chain.ok and ref_true is not None:
            glob = self.judge_condition(written, ref_true, v, step.line, deadline)
        what = (
            f"d/d{v.name} of line {chain.last_line}" if not chain.derivative_start
            else f"the condition of line {chain.last_line}"
        )  # fmt: skip
        if k == 1:
            what += " with " + ", ".join(f"{a} = {b}" for a, b in self.solved.items())
        return self._condition_verdict(step, "stationarity", chain, v, written, rhs, local, glob, ref_true,
                                       evaluated, deadline, what)  # fmt: skip

    def _condition_verdict(self, step, mode, chain, var, written, rhs, local, glob, ref_true, evaluated,
                           deadline, what) -> StepVerdict:  # fmt: skip
        verdict, evidence, reason = _combine(local, glob, chain.ok, f"line {chain.last_line}")
        reason = f"compared with {what} = 0: {reason}"
        corrected = None
        if verdict == "fails" and ref_true is not None:
            try:
                corrected = (run_bounded(lambda: tidy_value(ref_true), deadline.left()), sp.Integer(0))
            except StepTimeout:
                corrected = None
        cex = (glob.counterexample if glob and glob.holds is False else None) or local.counterexample
        self.chain = Chain("eq", step.line, written, ref_true, "=", False, False, var,
                           chain.ok and verdict == "holds", step.line)  # fmt: skip
        self.last_rhs = rhs
        return self._verdict(step, verdict, evidence, reason, kind=mode, local=local.holds,
                             glob=None if glob is None else glob.holds, cex=cex, corrected=corrected,
                             evaluated=evaluated)  # fmt: skip


class _PlusConstant:
    """A corrected right-hand side "up to an additive constant", printed as ``... + c``."""

    def __init__(self, expr: sp.Expr):
        self.expr = expr

    def __str__(self) -> str:
        return f"{self.expr} + c"

    def latex(self, names) -> str:
        return f"{sp.latex(self.expr, symbol_names=names)} + c"


def _compose(first: str | None, second: str) -> str | None:
    """The relation of a chain's start to its newest right-hand side (None when it is lost)."""
    if first is None:
        return None
    if first == "=" or second == "=":
        return second if first == "=" else first
    if first[0] != second[0]:
        return None
    return first[0] if "=" not in first or "=" not in second else first


def _combine(
    local: Judgement, glob: Judgement | None, prev_ok: bool, prev: str
) -> tuple[str, str | None, str]:
    if local.holds is False:
        return "fails", local.evidence, local.reason
    if glob is not None and glob.holds is False:
        how = "follows from" if local.holds else "is not shown to follow from"
        return (
            "fails",
            glob.evidence,
            (f"{how} {prev} as written, but {prev} was wrong; against the start of the chain: {glob.reason}"),
        )
    if local.holds is None:
        return "undecided", None, local.reason
    if glob is not None and glob.holds is None and not prev_ok:
        return "undecided", None, f"follows from {prev} as written; against the start: {glob.reason}"
    evidence = "numeric" if "numeric" in (local.evidence, glob.evidence if glob else None) else local.evidence
    return "holds", evidence, local.reason
