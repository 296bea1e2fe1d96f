r"""The special forms of the LaTeX subset, as a mixin of the step parser.

Expectations ``\mathbb{E}_{z \sim \mathcal{N}(m, v)}[...]`` (or ``E_{z \sim q}``, ``E_{q(z)}``),
KL divergences ``\mathcal{D}_{KL}(q \parallel p)``, distributions and density values, limits
``\lim_{x \to a^+}``, fractions and derivatives ``\frac{d}{dx}``, ``\frac{\partial f}{\partial x}``.
"""

from __future__ import annotations

import sympy as sp

from vaetheory.symbolic.checker import expression as safe
from vaetheory.symbolic.checker.gaussian import Expectation, GaussianDensity, KLDivergence
from vaetheory.symbolic.checker.scope import GREEK, Scope
from vaetheory.symbolic.checker.tokens import PARALLEL, Token


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
        self.expect("(", "'(' after KL")
        m1, v1, _ = self.distribution()
        if not self.accept(*PARALLEL):
            if self.accept("|") and self.accept("|"):
                pass
            else:
                self.error(r"\parallel (or \|) between the two distributions of KL")
        m2, v2, _ = self.distribution()
        if left:
            self.expect(r"\right", r"\right)")
        self.expect(")", "')' to close KL(...)")
        node = KLDivergence(m1, v1, m2, v2)
        self.scope.labels.setdefault(node, self.source(start, self.i))
        return node

    def distribution(self) -> tuple[sp.Expr, sp.Expr, sp.Expr | None]:
        """``(mean, variance, point)`` of ``\\mathcal{N}(m, v)``, ``q`` or ``q(z)``."""
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
        body = self.implicit_product()
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
            rest, var = deriv
            if rest:
                return sp.Derivative(self._sub_parse(rest), var)
            operand = (
                self.bracketed() if self.peek().text in ("(", r"\left", "[") else self.implicit_product()
            )
            return sp.Derivative(operand, var)
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

    def _derivative_parts(self, num: list[Token], den: list[Token]):
        def is_d(t: Token) -> bool:
            return t.text == r"\partial" or (t.text == "d" and "d" not in self.scope.symbols)

        if len(den) >= 2 and is_d(den[0]) and num and is_d(num[0]) and den[0].text == num[0].text:
            var_toks = den[1:]
            sub = type(self)(var_toks, self.scope, "")
            sub.depth = self.depth
            var = sub.postfix()
            if sub.peek().kind != "end" or not isinstance(var, sp.Symbol):
                return None
            return num[1:], var
        return None

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
