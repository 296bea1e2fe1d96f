r"""The special forms of the LaTeX subset, as a mixin of the step parser.

Expectations ``\mathbb{E}_{z \sim \mathcal{N}(m, v)}[...]`` (or ``E_{z \sim q}``, ``E_{q(z)}``),
KL divergences ``\mathcal{D}_{KL}(q \parallel p)``, distributions and density values, limits
``\lim_{x \to a^+}``, fractions and derivatives ``\frac{d}{dx}``, ``\frac{\partial f}{\partial x}``.
"""

from __future__ import annotations

import sympy as sp

from vaetheory.symbolic.checker import expression as safe
from vaetheory.symbolic.checker.gaussian import Expectation, GaussianDensity, KLDivergence
from vaetheory.symbolic.checker.scope import GREEK, DerivationSyntaxError, Scope
from vaetheory.symbolic.checker.tokens import CLOSERS, PARALLEL, WORDS, Token

WORD_COMMANDS = WORDS
#: the highest derivative order the LaTeX reader accepts
MAX_DERIVATIVE_ORDER = 10


def _density_factor(body: sp.Expr, z: sp.Symbol):
    """``(density, rest)`` when ``body`` is ``N(z; m, v) * rest`` (the density's point is ``z``)."""
    factors = sp.Mul.make_args(body)
    for k, f in enumerate(factors):
        if (
            isinstance(f, GaussianDensity)
            and f.args[0] == z
            and z not in (f.args[1].free_symbols | f.args[2].free_symbols)
        ):
            return f, sp.Mul(*factors[:k], *factors[k + 1 :])
    return None, body


class LatexForms:
    """Methods of :class:`~vaetheory.symbolic.checker.latex_parser.StepParser` for the special forms."""

    toks: list[Token]
    i: int
    scope: Scope

    def expectation(self, tok: Token) -> sp.Expr:
        start = self._start_of(tok)
        self.expect("_")
        braced = self.accept("{")
        var_tok = self.peek()
        if self.peek(1).text == r"\sim":
            self.next()
            var_name, _ = self.decorated_name(self.letter_name(var_tok))
            self.expect(r"\sim")
            mean, var, _point = self.distribution()
        else:
            mean, var, point = self.distribution()
            if not isinstance(point, sp.Symbol):
                self.error(r"E_{z \sim q} or E_{q(z)} with a symbol as the density's argument", var_tok)
            var_name = point.name
        if braced:
            self.expect("}", "'}' to close the subscript of E")
        z = self.scope.symbols.get(var_name) or sp.Symbol(var_name, real=True)
        self.scope.bound.append({var_name: z})
        try:
            body = self.bracketed()
        finally:
            self.scope.bound.pop()
        node = Expectation(body, z, mean, var)
        self.scope.labels.setdefault(node, self.source(start, self.i))
        return node

    def _sub_has_sim(self) -> bool:
        depth, j = 0, self.i + 1
        while j < len(self.toks):
            t = self.toks[j].text
            depth += {"{": 1, "}": -1}.get(t, 0)
            if t == r"\sim":
                return True
            if depth == 0:
                return False
            j += 1
        return False

    def _kl_subscript(self) -> bool:
        texts = [t.text for t in self.toks[self.i + 1 : self.i + 8]]
        joined = "".join(x for x in texts if x not in ("{", "}", r"\mathrm", r"\text", r"\operatorname"))
        return joined.startswith("KL")

    def _density_subscript(self) -> bool:
        nxt = self.peek(1)
        if nxt.text == "{":
            nxt = self.peek(2)
        return nxt.kind == "letter" and nxt.text in self.scope.density_names()

    def _start_of(self, tok: Token) -> int:
        return next(j for j, t in enumerate(self.toks) if t is tok)

    def kl(self, start: int) -> sp.Expr:
        left = self.accept(r"\left")
        opener = self.peek()
        if opener.text not in ("(", "["):
            self.error("'(' or '[' after KL")
        self.next()
        m1, v1, _ = self.distribution()
        if not self.accept(*PARALLEL):
            if self.accept("|") and self.accept("|"):
                pass
            elif not (self.accept(r"\middle") and self.accept("|", r"\|")):
                self.error(r"\parallel (or \|) between the two distributions of KL")
        m2, v2, _ = self.distribution()
        if left:
            self.expect(r"\right", rf"\right{CLOSERS[opener.text]}")
        self.expect(CLOSERS[opener.text], f"{CLOSERS[opener.text]!r} to close KL{opener.text}...")
        node = KLDivergence(m1, v1, m2, v2)
        self.scope.labels.setdefault(node, self.source(start, self.i))
        return node

    def distribution(self) -> tuple[sp.Expr, sp.Expr, sp.Expr | None]:
        r"""``(mean, variance, point)`` of ``\\mathcal{N}(m, v)``, ``q`` or ``q(z)``."""
        tok = self.peek()
        if tok.text == r"\mathcal":
            self.next()
            letter = self.raw_word()
            if letter != "N":
                self.error(r"\mathcal{N}(mean, variance) or a density named in the header", tok)
            args = self.arguments()
            if len(args) == 3:
                return (*self._normal_params(args[1], args[2]), args[0])
            if len(args) != 2:
                self.error(r"\mathcal{N}(mean, variance)", tok)
            return (*self._normal_params(args[0], args[1]), None)
        if tok.kind == "letter":
            self.next()
            name, _ = self.decorated_name(tok.text)
            if name in self.scope.density_names():
                if self.peek().text in ("(", r"\left"):
                    args = self.arguments()
                    spec = self.scope.density(name, len(args), tok.line, tok.column)
                    point, mean, var = spec.apply(args)
                    return mean, var, point
                specs = [s for (nm, _), s in self.scope.densities.items() if nm == name]
                return specs[0].mean, specs[0].variance, specs[0].params[0]
        self.error(r"a distribution: \mathcal{N}(mean, variance) or a density named in the header", tok)

    def _normal_params(self, mean, second) -> tuple[sp.Expr, sp.Expr]:
        return (mean, sp.Pow(second, 2)) if self.scope.normal_second == "std" else (mean, second)

    def density_value(self, name: str, tok: Token) -> sp.Expr:
        args = self.arguments()
        spec = self.scope.density(name, len(args), tok.line, tok.column)
        return GaussianDensity(*spec.apply(args))

    def arguments(self) -> list[sp.Expr]:
        left = self.accept(r"\left")
        open_tok = self.expect("(")
        args = [self.expr()]
        while self.accept(",", ";", "|", r"\mid", r"\vert"):
            args.append(self.expr())
        if left and not self.accept(r"\right"):
            self.error(rf"\right) to close the \left( at line {open_tok.line}, column {open_tok.column}")
        if not self.accept(")"):
            self.error("',', '|' or ')' in the argument list")
        return args

    def limit(self) -> sp.Expr:
        self.next()
        self.expect("_", r"_{x \to a} after \lim")
        self.expect("{", r"{x \to a} after \lim_")
        var_tok = self.next()
        if not (var_tok.kind == "letter" or var_tok.text[1:] in GREEK):
            self.error(r"the limit variable, as in \lim_{x \to 0}", var_tok)
        name, _ = self.decorated_name(self.letter_name(var_tok))
        var = self.scope.symbol(name, var_tok.line, var_tok.column)
        if not self.accept(r"\to", r"\rightarrow", "->"):
            self.error(r"\to in \lim_{x \to a}")
        point = self.expr_until_direction()
        direction = "+-"
        if self.accept("^"):
            sign = self.next()
            if sign.text == "{":
                sign = self.next()
                self.expect("}")
            if sign.text not in "+-":
                self.error("^+ or ^- for a one-sided limit", sign)
            direction = sign.text
        self.expect("}", r"'}' to close \lim_{...}")
        sign = self.accept("-", "+")
        body = self.implicit_product()
        if sign is not None and sign.text == "-":
            body = safe.neg(body, sign.line, sign.column)
        return sp.Limit(body, var, point, dir=direction)

    def expr_until_direction(self) -> sp.Expr:
        tok = self.peek()
        if tok.text == r"\infty":
            self.next()
            return sp.oo
        if tok.text == "-" and self.peek(1).text == r"\infty":
            self.next()
            self.next()
            return -sp.oo
        if tok.text in ("-", "+"):
            self.next()
            return (-1 if tok.text == "-" else 1) * self.postfix()
        return self.postfix()

    def frac(self) -> sp.Expr:
        tok = self.next()
        num_toks = self._braced_tokens()
        den_toks = self._braced_tokens()
        deriv = self._derivative_parts(num_toks, den_toks)
        if deriv is not None:
            rest, var, order = deriv
            if rest:
                return sp.Derivative(self._sub_parse(rest), (var, order))
            operand = (
                self.bracketed() if self.peek().text in ("(", r"\left", "[") else self.implicit_product()
            )
            return sp.Derivative(operand, (var, order))
        num = self._sub_parse(num_toks)
        den = self._sub_parse(den_toks)
        return safe.div(num, den, tok.line, tok.column)

    def _braced_tokens(self) -> list[Token]:
        tok = self.peek()
        if tok.text != "{":
            if tok.kind == "number":
                self.next()
                if len(tok.text) > 1:
                    self.toks.insert(self.i, Token("number", tok.text[1:], tok.line, tok.column + 1))
                return [Token("number", tok.text[0], tok.line, tok.column)]
            if tok.kind in ("letter",) or tok.text[1:] in GREEK:
                self.next()
                return [tok]
            self.error(r"{...} (an argument of \frac)")
        self.next()
        depth, out = 1, []
        while True:
            t = self.next()
            if t.kind == "end":
                self.error(f"'}}' to close the '{{' at line {tok.line}, column {tok.column}", t)
            depth += {"{": 1, "}": -1}.get(t.text, 0)
            if depth == 0:
                return out
            out.append(t)

    def _differential(self, toks: list[Token]) -> tuple[str | None, list[Token]]:
        r"""``("d" | "partial", rest)`` when ``toks`` starts with d, ``\mathrm{d}`` or ``\partial``."""
        if not toks:
            return None, toks
        first = toks[0]
        if first.text == r"\partial":
            return "partial", toks[1:]
        if first.text in WORD_COMMANDS and [t.text for t in toks[1:4]] == ["{", "d", "}"]:
            return "d", toks[4:]
        if first.text == "d" and first.kind == "letter" and "d" not in self.scope.symbols:
            return "d", toks[1:]
        return None, toks

    def _order(self, toks: list[Token]) -> tuple[int | None, list[Token]]:
        """The order of ``^2`` or ``^{2}`` at the start of ``toks`` (1 when there is none)."""
        if not toks or toks[0].text != "^":
            return 1, toks
        if len(toks) >= 2 and toks[1].kind == "number":
            return int(toks[1].text), toks[2:]
        if len(toks) >= 4 and toks[1].text == "{" and toks[2].kind == "number" and toks[3].text == "}":
            return int(toks[2].text), toks[4:]
        return None, toks

    def _derivative_parts(self, num: list[Token], den: list[Token]):
        r"""``(operand tokens, variable, order)`` of ``\frac{d^n f}{d x^n}``, or None for a fraction."""
        kind_n, num_rest = self._differential(num)
        kind_d, den_rest = self._differential(den)
        if kind_n is None or kind_n != kind_d or not den_rest:
            return None
        order, num_rest = self._order(num_rest)
        if order is None or not 1 <= order <= MAX_DERIVATIVE_ORDER:
            return None
        var_toks, order_den = den_rest, 1
        if len(den_rest) >= 2 and den_rest[-2].text == "^" and den_rest[-1].kind == "number":
            var_toks, order_den = den_rest[:-2], int(den_rest[-1].text)
        elif (
            len(den_rest) >= 4
            and [t.text for t in den_rest[-4:-1:2]] == ["^", "}"]
            and den_rest[-3].text == "{"
        ):
            var_toks, order_den = (
                den_rest[:-4],
                int(den_rest[-2].text) if den_rest[-2].kind == "number" else 0,
            )
        if order_den != order:
            first = den[0]
            raise DerivationSyntaxError(
                first.line,
                first.column,
                f"the same order above and below a derivative (d^{order} over dx^{order})",
                f"order {order} over order {order_den}",
            )
        sub = type(self)(list(var_toks), self.scope, "")
        sub.depth = self.depth
        var = sub.postfix()
        if sub.peek().kind != "end" or not isinstance(var, sp.Symbol):
            return None
        return num_rest, var, order

    def partial_subscript(self) -> sp.Expr:
        r"""``\partial_s f`` (``\partial_{s}``, ``\partial_s^2 f``): the derivative of what follows."""
        tok = self.next()
        self.expect("_", r"_s after \partial (as in \partial_s f)")
        var_tok = self.peek()
        name = self.raw_word()
        var = self.scope.symbol(name, var_tok.line, var_tok.column)
        order = 1
        if self.accept("^"):
            value = self.script()
            if not (isinstance(value, sp.Integer) and 1 <= int(value) <= MAX_DERIVATIVE_ORDER):
                self.error(f"a derivative order 1..{MAX_DERIVATIVE_ORDER}", tok)
            order = int(value)
        operand = self.bracketed() if self.peek().text in ("(", r"\left", "[") else self.implicit_product()
        return sp.Derivative(operand, (var, order))

    def _limits(self, what: str) -> tuple[sp.Symbol, str, sp.Expr, sp.Expr]:
        """``_{j=1}^{n}`` of a sum or product: the index (a new integer symbol), its name, the limits."""
        tok = self.peek()
        if not self.accept("_"):
            self.error(rf"_{{j=1}}^{{n}} after {what} (the index and its range)")
        sub = self._braced_tokens()
        eq = next((k for k, t in enumerate(sub) if t.text == "="), None)
        if eq != 1 or not (sub[0].kind == "letter" or sub[0].text[1:] in GREEK):
            self.error(rf"{what}_{{j=1}}^{{n}}: an index, '=' and the lower limit", tok)
        name = self.letter_name(sub[0])
        lower = self._sub_parse(sub[2:])
        if not self.accept("^"):
            self.error(rf"^{{n}} after {what}_{{...}} (the upper limit)")
        upper = self.script()
        index = sp.Symbol(name, integer=True)
        if not (lower.is_integer and (upper.is_integer or isinstance(upper, sp.Symbol))):
            self.error(f"integer limits of {what}", tok)
        return index, name, lower, upper

    def big_operator(self) -> sp.Expr:
        r"""``\sum_{j=1}^{n} f_j`` or ``\prod_{j=1}^{n} f_j`` (symbols subscripted by j are indexed)."""
        tok = self.next()
        index, name, lower, upper = self._limits(tok.text)
        self.scope.bound.append({name: index})
        self.scope.indices.append(name)
        try:
            body = self.bracketed() if self.peek().text in ("(", r"\left", "[") else self.implicit_product()
        finally:
            self.scope.bound.pop()
            self.scope.indices.pop()
        cls = sp.Sum if tok.text == r"\sum" else sp.Product
        return cls(body, (index, lower, upper))

    def integral(self) -> sp.Expr:
        r"""``\int_{a}^{b} f(z) \, dz``; without limits, an integral against a Gaussian density over R."""
        tok = self.next()
        lower = upper = None
        if self.accept("_"):
            lower = self.script()
            if not self.accept("^"):
                self.error(r"^{b} after \int_{a}")
            upper = self.script()
        depth, j, found = 0, self.i, None
        while j < len(self.toks):
            t = self.toks[j]
            if t.text in ("(", "[", "{", r"\{", r"\left"):
                depth += 1
            elif t.text in (")", "]", "}", r"\}", r"\right"):
                depth -= 1
            if depth == 0:
                kind, rest = self._differential(self.toks[j:])
                if kind == "d" and rest and (rest[0].kind == "letter" or rest[0].text[1:] in GREEK):
                    found = (j, len(self.toks) - len(rest))
                    break
            j += 1
        if found is None:
            self.error(r"the integration variable after the integrand: \int f(z) \, dz", tok)
        start, var_at = found
        var_tok = self.toks[var_at]
        name = self.letter_name(var_tok)
        z = self.scope.symbols.get(name) or sp.Symbol(name, real=True)
        self.scope.bound.append({name: z})
        try:
            body = self._sub_parse(self.toks[self.i : start])
        finally:
            self.scope.bound.pop()
        self.i = var_at + 1
        whole_line = lower is None or (lower == -sp.oo and upper == sp.oo)
        if whole_line:
            density, rest = _density_factor(body, z)
            if density is not None:
                node = Expectation(rest, z, density.args[1], density.args[2])
                self.scope.labels.setdefault(node, self.source(self._start_of(tok), self.i))
                return node
        if lower is None:
            self.error(
                r"\int_{a}^{b} with limits (an integral without limits is read only as one against "
                r"a Gaussian density \mathcal{N}(z; m, v) or a density named in the header)",
                tok,
            )
        return sp.Integral(body, (z, lower, upper))

    def _sub_parse(self, toks: list[Token]) -> sp.Expr:
        if not toks:
            self.error(r"a non-empty {...}")
        sub = type(self)(list(toks), self.scope, "")
        sub.lines = self.lines
        sub.depth = self.depth
        value = sub.expr()
        if sub.peek().kind != "end":
            sub.error("an operator or the end of the braces")
        return value
