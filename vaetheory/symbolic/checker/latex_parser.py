r"""The recursive-descent parser of one LaTeX step: ``[LHS] RELATION RHS`` into sympy expressions.

Grammar: ``expr := [+-] term {(+|-) term}``; ``term := power {(* | \cdot | \times | / | implicit) power}``;
``power := postfix [^ script]``; ``postfix`` is a (decorated) symbol, a density applied to its
arguments, or a primary: a number, a bracketed group, ``\frac``, ``\sqrt``, ``\log``/``\ln``/``\exp``
(without brackets they take the product that follows), ``\pi``, ``\infty``, and the special forms of
:mod:`~vaetheory.symbolic.checker.latex_forms`. Errors name the line, column and what was expected.
"""

from __future__ import annotations

import re

import sympy as sp

from vaetheory.symbolic.checker import expression as safe
from vaetheory.symbolic.checker.expression import MAX_NESTING, check_deadline
from vaetheory.symbolic.checker.gaussian import GaussianDensity
from vaetheory.symbolic.checker.latex_forms import LatexForms
from vaetheory.symbolic.checker.scope import GREEK, RENAMED, DerivationSyntaxError, Scope
from vaetheory.symbolic.checker.tokens import (
    BIG_OPERATORS,
    CLOSERS,
    DECORATIONS,
    FRACS,
    FUNCTIONS,
    OUT_OF_SCOPE,
    OUT_OF_SCOPE_WORDS,
    RELATIONS,
    TIMES,
    WORDS,
    ParsedStep,
    Token,
)


class StepParser(LatexForms):
    """Parses the tokens of one step (see the module docstring for the grammar)."""

    def __init__(self, tokens: list[Token], scope: Scope, body_text: str):
        self.toks = tokens
        self.i = 0
        self.scope = scope
        last = tokens[-1]
        self.end = Token("end", "end of step", last.line, last.column + len(last.text))
        self.lines = body_text.splitlines()
        self.depth = 0

    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else self.end

    def next(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def error(self, expected: str, tok: Token | None = None):
        tok = tok or self.peek()
        found = "end of step" if tok.kind == "end" else repr(tok.text)
        raise DerivationSyntaxError(tok.line, tok.column, expected, found)

    def accept(self, *texts: str) -> Token | None:
        if self.peek().kind != "end" and self.peek().text in texts:
            return self.next()
        return None

    def expect(self, text: str, what: str | None = None) -> Token:
        tok = self.accept(text)
        if tok is None:
            self.error(what or repr(text))
        return tok

    def source(self, start: int, stop: int) -> str:
        toks = self.toks[start:stop]
        if not toks:
            return ""
        first, last = toks[0], toks[-1]
        if first.line == last.line and first.line - 1 < len(self.lines):
            return self.lines[first.line - 1][first.column - 1 : last.column - 1 + len(last.text)]
        return " ".join(t.text for t in toks)

    def step(self, block: int, note) -> ParsedStep:
        first = self.peek()
        lhs = None
        if first.text not in RELATIONS:
            lhs = self.named_head()
            if lhs is None:
                lhs = self.expr()
        rel_tok = self.peek()
        if rel_tok.text not in RELATIONS:
            self.error(r"a relation (=, <, >, \le, \ge) or an operator")
        self.next()
        rhs = self.expr()
        if self.peek().kind != "end":
            if self.peek().text in RELATIONS:
                self.error(r"one relation per step (end the step with \\ before the next relation)")
            self.error(r"an operator, or \\ to end the step")
        text = self._span_text()
        return ParsedStep(rel_tok.line, rel_tok.column, lhs, RELATIONS[rel_tok.text], rhs, text, block, note)

    def named_head(self) -> sp.Expr | None:
        r"""``\mathcal{L}(s)``, ``\mathrm{ELBO}(m, s)`` or ``F(s)`` before the relation: the name alone.

        Only for a name the header does not declare, applied to declared symbols: such a left-hand
        side names the chain's start (it becomes a definition), it is no product ``L \cdot s``.
        """
        save, scope = self.i, self.scope
        n_warn, undeclared = len(scope.warnings), set(scope.undeclared)
        known = set(scope.symbols)
        try:
            head = self.postfix()
            if not isinstance(head, sp.Symbol) or head.name in known or self.peek().text != "(":
                raise ValueError
            self.next()
            while True:
                arg = self.postfix()
                if not isinstance(arg, sp.Symbol) or arg.name not in known:
                    raise ValueError
                if not self.accept(","):
                    break
            if not self.accept(")") or self.peek().text not in RELATIONS:
                raise ValueError
            return head
        except (ValueError, IndexError):
            self.i = save
            del scope.warnings[n_warn:]
            for name in set(scope.undeclared) - undeclared:
                scope.undeclared.discard(name)
                scope.symbols.pop(name, None)
            return None

    def _span_text(self) -> str:
        """The step's source, from its first token to its last, comments removed."""
        first, last = self.toks[0], self.toks[-1]
        lines = self.lines
        end = last.column - 1 + len(last.text)
        if first.line == last.line:
            parts = [lines[first.line - 1][first.column - 1 : end]]
        else:
            parts = [lines[first.line - 1][first.column - 1 :], *lines[first.line : last.line - 1]]
            parts.append(lines[last.line - 1][:end])
        parts = [re.sub(r"(?<!\\)%.*$", "", p).strip() for p in parts]
        text = " ".join(p for p in parts if p)
        if lines[first.line - 1][: first.column - 1].rstrip().endswith("&"):
            text = "&" + text
        return text

    def expr(self) -> sp.Expr:
        start = self.peek()
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise DerivationSyntaxError(
                start.line, start.column, f"braces, brackets and scripts nested at most {MAX_NESTING} deep",
                f"deeper nesting at {start.text!r}",
            )  # fmt: skip
        check_deadline(self.scope.deadline, start.line, start.column)
        negative = self.accept("-") is not None or (self.accept("+") and False)
        first = self.term()
        terms = [safe.neg(first, start.line, start.column) if negative else first]
        while True:
            tok = self.peek()
            if self.accept("+"):
                terms.append(self.term())
            elif self.accept("-"):
                terms.append(safe.neg(self.term(), tok.line, tok.column))
            else:
                self.depth -= 1
                return terms[0] if len(terms) == 1 else safe.add_all(terms, start.line, start.column)
            check_deadline(self.scope.deadline, tok.line, tok.column)

    def term(self) -> sp.Expr:
        start = self.peek()
        factors = [self.power()]
        while True:
            tok = self.peek()
            if tok.text in TIMES and tok.kind != "end":
                self.next()
                factors.append(self.power())
            elif tok.text == "/" and tok.kind == "char":
                self.next()
                factors.append(safe.div(sp.S.One, self.power(), tok.line, tok.column))
            elif self.starts_factor(tok):
                factors.append(self.power())
            else:
                return factors[0] if len(factors) == 1 else safe.mul_all(factors, start.line, start.column)
            check_deadline(self.scope.deadline, tok.line, tok.column)

    def implicit_product(self) -> sp.Expr:
        start = self.peek()
        factors = [self.power()]
        while self.starts_factor(self.peek()):
            factors.append(self.power())
        return factors[0] if len(factors) == 1 else safe.mul_all(factors, start.line, start.column)

    def starts_factor(self, tok: Token) -> bool:
        if tok.kind in ("letter", "number"):
            return True
        if tok.kind == "char":
            return tok.text in "([{"
        if tok.kind == "cmd":
            return (
                tok.text[1:] in GREEK
                or tok.text in FUNCTIONS
                or tok.text in FRACS
                or tok.text in WORDS
                or tok.text
                in {r"\sqrt", r"\left", r"\mathbb", r"\mathcal", r"\pi", r"\infty", r"\lim", r"\{"}
                or tok.text in BIG_OPERATORS
                or tok.text in DECORATIONS
                or tok.text == r"\partial"
            )
        return False

    def power(self) -> sp.Expr:
        base = self.postfix()
        tok = self.peek()
        if self.accept("^"):
            base = safe.power(base, self.script(), tok.line, tok.column)
        return base

    def script(self) -> sp.Expr:
        tok = self.peek()
        if tok.text == "{":
            return self.group("{")
        if tok.kind == "number":
            self.next()
            if len(tok.text) > 1:  # x^23 is x^2 3 in LaTeX
                rest = Token("number", tok.text[1:], tok.line, tok.column + 1)
                self.toks.insert(self.i, rest)
            return sp.Integer(tok.text[0])
        if tok.kind == "letter" or (tok.kind == "cmd" and tok.text[1:] in GREEK):
            self.next()
            return self.identifier(self.letter_name(tok), tok)
        if tok.text == "-":
            self.next()
            return safe.neg(self.script(), tok.line, tok.column)
        if tok.text in OUT_OF_SCOPE:
            self.error(OUT_OF_SCOPE[tok.text])
        self.error("a superscript: {...}, a digit or a symbol")

    def group(self, opener: str) -> sp.Expr:
        open_tok = self.expect(opener)
        closer = CLOSERS[opener]
        value = self.expr()
        if self.peek().text != closer:
            self.error(
                f"{closer!r} to close the {opener!r} opened at line {open_tok.line}, column {open_tok.column}"
            )
        self.next()
        return value

    def left_group(self) -> sp.Expr:
        left = self.expect(r"\left")
        opener = self.next()
        if opener.text not in CLOSERS or opener.text == ".":
            self.error(r"a delimiter after \left: ( [ \{", opener)
        value = self.expr()
        if not self.accept(r"\right"):
            self.error(rf"\right to close the \left at line {left.line}, column {left.column}")
        closer = self.next()
        if closer.text not in (CLOSERS[opener.text], "."):
            self.error(f"{CLOSERS[opener.text]!r} after \\right", closer)
        return value

    def bracketed(self) -> sp.Expr:
        tok = self.peek()
        if tok.text == r"\left":
            return self.left_group()
        if tok.text in ("(", "[", "{", r"\{"):
            return self.group(tok.text)
        self.error(r"a bracketed argument: ( ... ), [ ... ] or \left( ... \right)")

    def postfix(self) -> sp.Expr:
        tok = self.peek()
        if tok.kind == "letter" or (tok.kind == "cmd" and tok.text[1:] in GREEK):
            return self.named()
        return self.primary()

    def letter_name(self, tok: Token) -> str:
        return tok.text if tok.kind == "letter" else RENAMED.get(tok.text[1:], tok.text[1:])

    def decorated_name(self, base: str) -> tuple[str, str]:
        """The name with primes, ``^*`` and subscripts appended, and its LaTeX spelling."""
        name = base
        parts: list[str] = []
        while True:
            tok = self.peek()
            if tok.text == "'":
                self.next()
                name += "_prime"
                parts.append("'")
            elif tok.text == "^" and (
                self.peek(1).text == "*"
                or [t.text for t in self.toks[self.i + 1 : self.i + 4]] == ["{", "*", "}"]
            ):
                self.next()
                if self.accept("{"):
                    self.next()
                    self.next()
                else:
                    self.next()
                name += "_star"
                parts.append("^*")
            elif tok.text == "_" and not self._sub_has_sim():
                self.next()
                word = self.raw_word()
                name += "_" + word
                parts.append("_{" + word + "}")
            else:
                return name, "".join(parts)

    def raw_word(self) -> str:
        r"""A subscript or ``\\mathrm`` argument as a plain word (letters, digits, Greek names)."""
        tok = self.next()
        if tok.text != "{":
            if tok.kind in ("letter", "number"):
                return tok.text
            if tok.kind == "cmd" and tok.text[1:] in GREEK:
                return RENAMED.get(tok.text[1:], tok.text[1:])
            self.error("a subscript: a letter, a digit or {...}", tok)
        word, depth = "", 1
        while True:
            t = self.next()
            if t.kind == "end":
                self.error("'}'", t)
            if t.text == "{":
                depth += 1
            elif t.text == "}":
                depth -= 1
                if depth == 0:
                    return word
            elif t.kind in ("letter", "number"):
                word += t.text
            elif t.kind == "cmd" and t.text[1:] in GREEK:
                word += RENAMED.get(t.text[1:], t.text[1:])
            elif t.text in WORDS:
                continue
            elif t.text == ",":
                word += "_"
            else:
                self.error("a plain subscript (letters, digits, Greek letters)", t)

    def named(self) -> sp.Expr:
        tok = self.next()
        base = self.letter_name(tok)
        if base == "E" and self.peek().text == "_" and self._sub_has_sim():
            return self.expectation(tok)
        if base == "E" and self.peek().text == "_" and self._density_subscript():
            return self.expectation(tok)
        if base == "D" and self.peek().text == "_" and self._kl_subscript():
            self.next()
            self.raw_word()
            return self.kl(self._start_of(tok))
        name, deco = self.decorated_name(base)
        if name in self.scope.density_names() and self.peek().text in ("(", r"\left"):
            return self.density_value(name, tok)
        latex = tok.text + deco
        indexed = self.indexed(name, tok)
        if indexed is not None:
            return indexed
        return self.identifier(name, tok, latex)

    def indexed(self, name: str, tok: Token) -> sp.Expr | None:
        """``x_j`` inside a sum or product over ``j``: the indexed symbol ``x[j]`` (None otherwise)."""
        for index in reversed(self.scope.indices):
            suffix = "_" + index
            if name.endswith(suffix) and len(name) > len(suffix):
                base = name[: -len(suffix)]
                j = next(frame[index] for frame in reversed(self.scope.bound) if index in frame)
                template = self.scope.symbols.get(name) or self.scope.symbols.get(base)
                if template is None:
                    template = self.scope.symbol(name, tok.line, tok.column)
                self.scope.indexed[base] = template
                return sp.IndexedBase(base)[j]
        return None

    def identifier(self, name: str, tok: Token, latex: str | None = None) -> sp.Expr:
        if name in self.scope.density_names() and not any(name in f for f in self.scope.bound):
            self.error(f"{name}(...) applied to its arguments (it is a density)", tok)
        nxt = self.peek()
        if name == "d" and "d" not in self.scope.symbols and self.starts_factor(nxt) and nxt.kind != "number":
            self.scope.warnings.append(
                f"line {tok.line}, column {tok.column}: 'd' followed by {nxt.text!r} was read as the product "
                f"d * {nxt.text}, not as a differential (write \\frac{{d}}{{d{nxt.text}}} for a derivative, "
                "\\int ... \\, dz for an integral, or declare d)"
            )
        return self.scope.symbol(name, tok.line, tok.column, latex)

    def primary(self) -> sp.Expr:
        tok = self.peek()
        if tok.kind == "number":
            self.next()
            return safe.number(tok.text, tok.line, tok.column)
        if tok.kind == "char" and tok.text in ("(", "[", "{"):
            return self.group(tok.text)
        if tok.kind != "cmd":
            self.error("a number, a symbol, '(' or a command such as \\frac")
        cmd = tok.text
        if cmd == r"\left":
            return self.left_group()
        if cmd == r"\{":
            return self.group(r"\{")
        if cmd == r"\pi":
            self.next()
            return sp.pi
        if cmd == r"\infty":
            self.next()
            return sp.oo
        if cmd in FRACS:
            return self.frac()
        if cmd in BIG_OPERATORS:
            return self.big_operator()
        if cmd == r"\int":
            return self.integral()
        if cmd == r"\partial":
            return self.partial_subscript()
        if cmd in DECORATIONS:
            self.next()
            word = self.raw_word()
            name, deco = self.decorated_name(f"{word}_{DECORATIONS[cmd]}")
            return self.identifier(name, tok, rf"{cmd}{{{word}}}{deco}")
        if cmd in OUT_OF_SCOPE and cmd not in (r"\mathbb", r"\operatorname"):
            self.error(OUT_OF_SCOPE[cmd], tok)
        if cmd == r"\sqrt":
            self.next()
            if self.peek().text == "[":
                index = self.group("[")
                return sp.root(self.group("{"), index)
            return sp.sqrt(self.group("{") if self.peek().text == "{" else self.power())
        if cmd in FUNCTIONS:
            self.next()
            fn = FUNCTIONS[cmd]
            if self.peek().text in ("(", r"\left", "[", "{", r"\{"):
                return fn(self.bracketed())
            if not self.starts_factor(self.peek()):
                self.error(f"the argument of {cmd}")
            return fn(self.implicit_product())
        if cmd == r"\mathbb":
            self.next()
            word = self.raw_word()
            if word == "KL":
                return self.kl(self._start_of(tok))
            if word == "V":
                self.error(OUT_OF_SCOPE[r"\operatorname"], tok)
            if word != "E":
                self.error(r"\mathbb{E} or \mathbb{KL}", tok)
            if self.peek().text != "_":
                self.error(r"_{z \sim \mathcal{N}(mean, variance)} after \mathbb{E}")
            return self.expectation(tok)
        if cmd == r"\mathcal":
            self.next()
            save = self.i
            letter = self.raw_word()
            if letter == "N":
                self.i = save - 1
                mean, var, point = self.distribution()
                if point is None:
                    self.error(r"\mathcal{N}(x; mean, variance) (a density needs the point x)", tok)
                return GaussianDensity(point, mean, var)
            if letter == "D" and self.peek().text == "_" and self._kl_subscript():
                self.next()
                self.raw_word()
                return self.kl(self._start_of(tok))
            name, deco = self.decorated_name(f"cal_{letter}")
            return self.identifier(name, tok, rf"\mathcal{{{letter}}}{deco}")
        if cmd in WORDS:
            self.next()
            word = self.raw_word()
            if word == "KL":
                return self.kl(self._start_of(tok))
            if word == "D" and self.peek().text == "_" and self._kl_subscript():
                self.next()
                self.raw_word()
                return self.kl(self._start_of(tok))
            if word in OUT_OF_SCOPE_WORDS:
                self.error(OUT_OF_SCOPE[r"\operatorname"], tok)
            if word in ("log", "ln", "exp"):
                fn = sp.exp if word == "exp" else sp.log
                return fn(
                    self.bracketed() if self.peek().text in ("(", r"\left") else self.implicit_product()
                )
            return self.identifier(word, tok, rf"\mathrm{{{word}}}")
        if cmd == r"\lim":
            return self.limit()
        self.error("a number, a symbol, '(' or a supported command", tok)
