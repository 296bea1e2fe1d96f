r"""Read the LaTeX subset derivations are written in into sympy expressions.

Math blocks: ``align``/``align*``/``equation``/``gather``/``multline`` environments, ``$$...$$``
and ``\[...\]``. Steps are separated by ``\\``; ``&`` is ignored; a step that begins with a relation
(``&= ...``) continues from the previous step's right-hand side. Understood: ``+ - * / \cdot
\times``, implicit products, ``^`` and ``_`` scripts, ``\frac``, ``\sqrt``, ``\log``/``\ln``/
``\exp``, ``( ) [ ] { } \left \right``, Greek letters, primes and ``^*`` on symbols, ``\pi``,
``\infty``, ``\frac{d}{dx}`` and ``\frac{\partial f}{\partial x}``, ``\lim_{x \to a^+}``,
``\mathbb{E}_{z \sim \mathcal{N}(m, v)}[\ldots]`` (or ``E_{z \sim q}``), ``\mathcal{N}(x; m, v)``,
``\mathcal{D}_{KL}(q \parallel p)``, and the densities named in the header.
Anything else is a :class:`DerivationSyntaxError` with the line, column and what was expected.
"""

from __future__ import annotations

import dataclasses
import re

import sympy as sp

from vaetheory.symbolic.checker.gaussian import Expectation, GaussianDensity, KLDivergence
from vaetheory.symbolic.checker.scope import GREEK, RENAMED, DerivationSyntaxError, Scope

_ENV = re.compile(
    r"\\begin\{(align\*?|equation\*?|gather\*?|multline\*?|eqnarray\*?)\}(.*?)\\end\{\1\}", re.S
)
_DISPLAY = re.compile(r"\$\$(.*?)\$\$|\\\[(.*?)\\\]", re.S)
_ANNOTATION = re.compile(r"step:\s*([A-Za-z-]+)(?:\s+(\S+))?")

RELATIONS = {"=": "=", "<": "<", ">": ">", r"\le": "<=", r"\leq": "<=", r"\leqslant": "<=", r"\ge": ">="}
RELATIONS.update({r"\geq": ">=", r"\geqslant": ">="})
_SKIP = {r"\,", r"\;", r"\!", r"\:", r"\ ", r"\quad", r"\qquad", r"\displaystyle", r"\nonumber", r"\notag"}
_SKIP |= {r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr"}
_SKIP |= {r"\textstyle", r"\limits"}
_TIMES = {"*", r"\cdot", r"\times"}
_PARALLEL = {r"\parallel", r"\|", r"\Vert", r"\mid\mid"}
_FUNCTIONS = {r"\log": sp.log, r"\ln": sp.log, r"\exp": sp.exp}
_FRACS = {r"\frac", r"\dfrac", r"\tfrac"}
_WORDS = {r"\mathrm", r"\text", r"\operatorname", r"\textrm", r"\mathit", r"\mathsf"}
_CLOSERS = {"(": ")", "[": "]", "{": "}", r"\{": r"\}", ".": None}


@dataclasses.dataclass(frozen=True)
class Token:
    kind: str  # "cmd", "letter", "number", "char", "break", "amp", "end"
    text: str
    line: int
    column: int


@dataclasses.dataclass
class RawStep:
    """One step as read: its tokens, the line of its relation, its annotation and its block."""

    tokens: list[Token]
    block: int
    annotation: tuple[str, str | None] | None = None


@dataclasses.dataclass(frozen=True)
class ParsedStep:
    line: int
    column: int
    lhs: sp.Expr | None
    relation: str
    rhs: sp.Expr
    text: str
    block: int
    annotation: tuple[str, str | None] | None


class _Positions:
    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        import bisect

        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def math_blocks(text: str) -> list[tuple[int, str]]:
    """``(offset, body)`` of each math block, in order of appearance."""
    blocks = [(m.start(2), m.group(2)) for m in _ENV.finditer(text)]
    covered = [(m.start(), m.end()) for m in _ENV.finditer(text)]
    for m in _DISPLAY.finditer(text):
        if any(a <= m.start() < b or m.start() <= a < m.end() for a, b in covered):
            continue
        group = 1 if m.group(1) is not None else 2
        blocks.append((m.start(group), m.group(group)))
    return sorted(blocks)


def tokenize(
    text: str, offset: int, body: str, pos: _Positions, annotations: dict[int, tuple]
) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        line, col = pos.at(offset + i)
        if ch.isspace():
            i += 1
        elif ch == "%":
            j = body.find("\n", i)
            j = n if j < 0 else j
            m = _ANNOTATION.search(body[i + 1 : j])
            if m:
                annotations[line] = (m.group(1).lower(), m.group(2))
            i = j
        elif ch == "\\":
            if i + 1 < n and body[i + 1] == "\\":
                tokens.append(Token("break", r"\\", line, col))
                i += 2
                if i < n and body[i] == "[":  # \\[2pt]
                    j = body.find("]", i)
                    i = j + 1 if j > 0 else i
            else:
                m = re.match(r"\\([A-Za-z]+|.)", body[i:], re.S)
                tokens.append(Token("cmd", m.group(0), line, col))
                i += len(m.group(0))
        elif ch.isdigit() or (ch == "." and i + 1 < n and body[i + 1].isdigit()):
            m = re.match(r"\d*\.?\d+|\d+", body[i:])
            tokens.append(Token("number", m.group(0), line, col))
            i += len(m.group(0))
        elif ch.isalpha():
            tokens.append(Token("letter", ch, line, col))
            i += 1
        elif ch == "&":
            tokens.append(Token("amp", ch, line, col))
            i += 1
        else:
            tokens.append(Token("char", ch, line, col))
            i += 1
    return tokens


def read_latex(text: str, scope: Scope) -> list[ParsedStep]:
    """Every step of every math block of ``text``, parsed with ``scope``."""
    pos = _Positions(text)
    blocks = math_blocks(text)
    if not blocks:
        raise DerivationSyntaxError(
            1, 1, r"a math block (\begin{align*} ... \end{align*}, $$ ... $$ or \[ ... \])"
        )
    steps: list[ParsedStep] = []
    for b, (offset, body) in enumerate(blocks):
        annotations: dict[int, tuple] = {}
        tokens = tokenize(text, offset, body, pos, annotations)
        current: list[Token] = []
        chunks: list[tuple[list[Token], int | None]] = []
        for tok in tokens:
            if tok.kind == "break":
                chunks.append((current, tok.line))
                current = []
            elif tok.kind != "amp" and tok.text not in _SKIP and tok.text not in (r"\label", r"\tag"):
                current.append(tok)
            elif tok.text in (r"\label", r"\tag"):
                current.append(tok)
        end_line, _ = pos.at(offset + len(body))
        chunks.append((current, end_line))
        for chunk, break_line in chunks:
            chunk = _drop_labels(chunk)
            while chunk and chunk[-1].kind == "char" and chunk[-1].text in ",.;":
                chunk = chunk[:-1]
            if not chunk:
                continue
            lines = {t.line for t in chunk} | ({break_line} if break_line else set())
            note = next((annotations[ln] for ln in sorted(lines) if ln in annotations), None)
            steps.append(_StepParser(chunk, scope, body_text=text).step(b, note))
    return steps


def _drop_labels(chunk: list[Token]) -> list[Token]:
    out, i = [], 0
    while i < len(chunk):
        if chunk[i].text in (r"\label", r"\tag") and i + 1 < len(chunk) and chunk[i + 1].text == "{":
            depth, j = 0, i + 1
            while j < len(chunk):
                depth += {"{": 1, "}": -1}.get(chunk[j].text, 0)
                j += 1
                if depth == 0:
                    break
            i = j
        else:
            out.append(chunk[i])
            i += 1
    return out


class _StepParser:
    def __init__(self, tokens: list[Token], scope: Scope, body_text: str):
        self.toks = tokens
        self.i = 0
        self.scope = scope
        last = tokens[-1]
        self.end = Token("end", "end of step", last.line, last.column + len(last.text))
        self.lines = body_text.splitlines()

    # -- token helpers -------------------------------------------------------------------------
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

    # -- steps ---------------------------------------------------------------------------------
    def step(self, block: int, note) -> ParsedStep:
        first = self.peek()
        lhs = None
        if first.text not in RELATIONS:
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

    # -- expressions ---------------------------------------------------------------------------
    def expr(self) -> sp.Expr:
        sign = -1 if self.accept("-") else (self.accept("+") and 1) or 1
        value = sign * self.term()
        while True:
            if self.accept("+"):
                value = value + self.term()
            elif self.accept("-"):
                value = value - self.term()
            else:
                return value

    def term(self) -> sp.Expr:
        value = self.power()
        while True:
            tok = self.peek()
            if tok.text in _TIMES and tok.kind != "end":
                self.next()
                value = value * self.power()
            elif tok.text == "/" and tok.kind == "char":
                self.next()
                value = value / self.power()
            elif self.starts_factor(tok):
                value = value * self.power()
            else:
                return value

    def implicit_product(self) -> sp.Expr:
        value = self.power()
        while self.starts_factor(self.peek()):
            value = value * self.power()
        return value

    def starts_factor(self, tok: Token) -> bool:
        if tok.kind in ("letter", "number"):
            return True
        if tok.kind == "char":
            return tok.text in "([{"
        if tok.kind == "cmd":
            return (
                tok.text[1:] in GREEK
                or tok.text in _FUNCTIONS
                or tok.text in _FRACS
                or tok.text in _WORDS
                or tok.text
                in {r"\sqrt", r"\left", r"\mathbb", r"\mathcal", r"\pi", r"\infty", r"\lim", r"\{"}
            )
        return False

    def power(self) -> sp.Expr:
        base = self.postfix()
        if self.accept("^"):
            base = base ** self.script()
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
            return -self.script()
        self.error("a superscript: {...}, a digit or a symbol")

    def group(self, opener: str) -> sp.Expr:
        open_tok = self.expect(opener)
        closer = _CLOSERS[opener]
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
        if opener.text not in _CLOSERS or opener.text == ".":
            self.error(r"a delimiter after \left: ( [ \{", opener)
        value = self.expr()
        if not self.accept(r"\right"):
            self.error(rf"\right to close the \left at line {left.line}, column {left.column}")
        closer = self.next()
        if closer.text not in (_CLOSERS[opener.text], "."):
            self.error(f"{_CLOSERS[opener.text]!r} after \\right", closer)
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

    def raw_word(self) -> str:
        """A subscript or ``\\mathrm`` argument as a plain word (letters, digits, Greek names)."""
        tok = self.next()
        if tok.text != "{":
            if tok.kind in ("letter", "number"):
                return tok.text
            if tok.kind == "cmd" and tok.text[1:] in GREEK:
                return RENAMED.get(tok.text[1:], tok.text[1:])
            self.error("a subscript: a letter, a digit or {...}", tok)
        word = ""
        while self.peek().text != "}":
            t = self.next()
            if t.kind == "end":
                self.error("'}'", t)
            if t.kind in ("letter", "number"):
                word += t.text
            elif t.kind == "cmd" and t.text[1:] in GREEK:
                word += RENAMED.get(t.text[1:], t.text[1:])
            elif t.text in _WORDS or t.text == "{":
                continue
            elif t.text == "}":
                continue
            elif t.text == ",":
                word += "_"
            else:
                self.error("a plain subscript (letters, digits, Greek letters)", t)
        self.next()
        return word.replace("}", "")

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
        return self.identifier(name, tok, latex)

    def _start_of(self, tok: Token) -> int:
        return next(j for j, t in enumerate(self.toks) if t is tok)

    def _kl_subscript(self) -> bool:
        texts = [t.text for t in self.toks[self.i + 1 : self.i + 8]]
        joined = "".join(x for x in texts if x not in ("{", "}", r"\mathrm", r"\text", r"\operatorname"))
        return joined.startswith("KL")

    def _density_subscript(self) -> bool:
        nxt = self.peek(1)
        if nxt.text == "{":
            nxt = self.peek(2)
        return nxt.kind == "letter" and nxt.text in self.scope.density_names()

    def identifier(self, name: str, tok: Token, latex: str | None = None) -> sp.Expr:
        if name in self.scope.density_names() and not any(name in f for f in self.scope.bound):
            self.error(f"{name}(...) applied to its arguments (it is a density)", tok)
        return self.scope.symbol(name, tok.line, tok.column, latex)

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

    def density_value(self, name: str, tok: Token) -> sp.Expr:
        args = self.arguments()
        spec = self.scope.density(name, len(args), tok.line, tok.column)
        return GaussianDensity(*spec.apply(args))

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
        return (mean, second**2) if self.scope.normal_second == "std" else (mean, second)

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

    def kl(self, start: int) -> sp.Expr:
        left = self.accept(r"\left")
        self.expect("(", "'(' after KL")
        m1, v1, _ = self.distribution()
        if not self.accept(*_PARALLEL):
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

    def primary(self) -> sp.Expr:
        tok = self.peek()
        if tok.kind == "number":
            self.next()
            return sp.Rational(tok.text)
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
        if cmd in _FRACS:
            return self.frac()
        if cmd == r"\sqrt":
            self.next()
            if self.peek().text == "[":
                index = self.group("[")
                return sp.root(self.group("{"), index)
            return sp.sqrt(self.group("{") if self.peek().text == "{" else self.power())
        if cmd in _FUNCTIONS:
            self.next()
            fn = _FUNCTIONS[cmd]
            if self.peek().text in ("(", r"\left", "[", "{"):
                return fn(self.bracketed())
            if not self.starts_factor(self.peek()):
                self.error(f"the argument of {cmd}")
            return fn(self.implicit_product())
        if cmd == r"\mathbb":
            self.next()
            word = self.raw_word()
            if word != "E":
                self.error(r"\mathbb{E}", tok)
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
            return self.identifier(f"cal_{letter}", tok, rf"\mathcal{{{letter}}}")
        if cmd in _WORDS:
            self.next()
            word = self.raw_word()
            if word == "KL":
                return self.kl(self._start_of(tok))
            if word in ("log", "ln", "exp"):
                fn = sp.exp if word == "exp" else sp.log
                return fn(
                    self.bracketed() if self.peek().text in ("(", r"\left") else self.implicit_product()
                )
            return self.identifier(word, tok, rf"\mathrm{{{word}}}")
        if cmd == r"\lim":
            return self.limit()
        self.error("a number, a symbol, '(' or a supported command", tok)

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
        del tok
        return num / den

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
            sub = _StepParser(var_toks, self.scope, "")
            var = sub.postfix()
            if sub.peek().kind != "end" or not isinstance(var, sp.Symbol):
                return None
            return num[1:], var
        return None

    def _sub_parse(self, toks: list[Token]) -> sp.Expr:
        if not toks:
            self.error(r"a non-empty {...}")
        sub = _StepParser(list(toks), self.scope, "")
        sub.lines = self.lines
        value = sub.expr()
        if sub.peek().kind != "end":
            sub.error("an operator or the end of the braces")
        return value
