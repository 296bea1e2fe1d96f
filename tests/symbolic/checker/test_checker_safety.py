"""Nothing in a derivation (or a string given to parse_expression) runs, and every input is bounded.

One regression test per injection route of issue 12 (full-width identifiers that NFKC turns into
Python built-ins, in plain bodies and in the ``define:`` / ``density:`` header lines of plain and
LaTeX files; ``parse_expression`` on an import), and one per resource bound (exponent towers,
literal size, nesting, input size, the time bounds, the tolerance range, ``--latex`` into a
directory). Each refusal is a DerivationSyntaxError (a ValueError: exit 2) naming the line.
"""

from __future__ import annotations

import builtins
import contextlib

import pytest
import sympy as sp

from vaetheory.cli import main
from vaetheory.symbolic import parse_expression
from vaetheory.symbolic.checker import DerivationSyntaxError, check_derivation, example_text
from vaetheory.symbolic.checker.document import read_derivation
from vaetheory.symbolic.checker.expression import (
    MAX_INPUT_CHARS,
    MAX_LITERAL_DIGITS,
    MAX_NESTING,
    MAX_NUMBER_DIGITS,
)

# eval(chr(95)*2 + "import" ...) in full-width letters: NFKC maps them to ASCII built-in names
FULLWIDTH_EVAL = "ｅｖａｌ(ｃｈｒ(95)+ｃｈｒ(95)+ｃｈｒ(105))"
FULLWIDTH_PRINT = "ｐｒｉｎｔ(12345)"


class Reached(Exception):
    """A built-in that an injection would use was called."""


@contextlib.contextmanager
def trapped_builtins():
    """While inside, ``eval``, ``exec``, ``compile``, ``print`` and ``chr`` raise :class:`Reached`."""
    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile", "print", "chr")}

    def trap(*args, **kwargs):
        raise Reached(args[:1])

    try:
        for name in saved:
            setattr(builtins, name, trap)
        yield
    finally:
        for name, fn in saved.items():
            setattr(builtins, name, fn)


def _outcome(fn, *args, **kwargs):
    """``fn(*args)`` with the built-ins trapped: ``(result, exception)``, checked after restoring them."""
    with trapped_builtins():
        try:
            return fn(*args, **kwargs), None
        except Exception as exc:  # returned to the test, which asserts its type
            return None, exc


def _refused(text: str, line: int) -> DerivationSyntaxError:
    _, exc = _outcome(check_derivation, text)
    assert isinstance(exc, DerivationSyntaxError), repr(exc)
    assert exc.line == line, str(exc)
    return exc


@pytest.mark.parametrize("payload", [FULLWIDTH_EVAL, FULLWIDTH_PRINT])
def test_fullwidth_builtin_in_a_plain_body_is_refused(payload):
    err = _refused(f"# positive: x\nx = {payload}\n", 2)
    assert "function of the table" in str(err)


def test_print_in_a_plain_body_prints_nothing(capsys):
    with pytest.raises(DerivationSyntaxError):
        check_derivation(f"x = {FULLWIDTH_PRINT}\n")
    assert "12345" not in capsys.readouterr().out


@pytest.mark.parametrize("comment", ["#", "%"])
def test_fullwidth_builtin_in_a_define_line_is_refused(comment):
    body = "x = a\n" if comment == "#" else "\\begin{align*}\nx &= a\n\\end{align*}\n"
    _refused(f"{comment} positive: x\n{comment} define: a = {FULLWIDTH_EVAL}\n{body}", 2)


@pytest.mark.parametrize("comment", ["#", "%"])
def test_fullwidth_builtin_in_a_density_line_is_refused(comment):
    body = "x = p(x, z)\n" if comment == "#" else "\\begin{align*}\nx &= p(x \\mid z)\n\\end{align*}\n"
    _refused(f"{comment} density: p(x | z) = Normal({FULLWIDTH_PRINT}, 1)\n{body}", 1)


def test_fullwidth_letters_in_a_latex_body_are_plain_symbols_and_other_non_ascii_is_refused():
    text = "\\begin{align*}\nｅｖａｌ &= e v a l\n\\end{align*}\n"
    read, exc = _outcome(read_derivation, text)  # reading runs nothing (checking lambdifies: exec)
    assert exc is None, repr(exc)
    assert read.steps[0].lhs == sp.E * sp.Symbol("v", real=True) * sp.Symbol("a", real=True) * sp.Symbol(
        "l", real=True
    )
    ok = check_derivation(text)
    assert ok.steps[0].verdict == "holds"  # NFKC: the letters e, v, a, l multiplied, nothing called
    err = _refused("\\begin{align*}\nα &= 1\n\\end{align*}\n", 2)
    assert "ASCII" in str(err) and err.column == 1


def test_a_name_that_is_not_ascii_after_nfkc_is_refused_naming_line_and_column():
    err = _refused("# positive: x\nx = x + é\n", 2)
    assert err.column == 9 and "NFKC" in str(err)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo pwned')",
        "ｅｖａｌ('1')",
        "x.__class__",
        "lambda: 1",
        "(lambda: 1)()",
        "[c for c in ()]",
        "x; import os",
    ],
)
def test_parse_expression_refuses_code(text):
    _, exc = _outcome(parse_expression, text)
    assert isinstance(exc, ValueError) and "column" in str(exc), repr(exc)


def test_parse_expression_keeps_the_symbols_assumptions():
    v = parse_expression("-log(2*pi*v)/2")
    assert v == -sp.log(2 * sp.pi * sp.Symbol("v", positive=True)) / 2
    assert parse_expression("Matrix([[1, x], [0, 2]])").shape == (2, 2)


# -- resource bounds ---------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_exponent_tower_in_a_plain_body_is_refused_at_once():
    err = _refused("# positive: x\nx = x**(10**10**10)\n", 2)
    assert f"at most {MAX_NUMBER_DIGITS} digits" in str(err)


@pytest.mark.timeout(30)
def test_exponent_tower_in_latex_is_refused_at_once():
    err = _refused("\\begin{align*}\na &= 10^{10^{10^{10}}}\n\\end{align*}\n", 2)
    assert f"at most {MAX_NUMBER_DIGITS} digits" in str(err)


def test_a_huge_numeric_exponent_of_a_symbol_is_refused():
    assert "exponent of magnitude" in str(_refused("# positive: x\nx = x**(10**8)\n", 2))


def test_number_literals_are_capped():
    _refused("x = " + "9" * (MAX_LITERAL_DIGITS + 1) + "\n", 1)
    _refused("x = 1e999999\n", 1)
    assert check_derivation("x = x + " + "1" * 50 + " - " + "1" * 50 + "\n").steps[0].verdict == "holds"


@pytest.mark.parametrize(
    "text",
    [
        "\\begin{align*}\na &= " + "{" * 10_000 + "a" + "}" * 10_000 + "\n\\end{align*}\n",
        "x = " + "(" * 10_000 + "x" + ")" * 10_000 + "\n",
        "x = " + "-" * 10_000 + "x\n",
        "x = " + "x**" * 10_000 + "x\n",
        "\\begin{align*}\na &= " + "\\frac{1}{" * 1_000 + "a" + "}" * 1_000 + "\n\\end{align*}\n",
    ],
    ids=["latex-braces", "plain-brackets", "plain-signs", "plain-powers", "latex-fractions"],
)
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(text):
    line = 2 if text.startswith("\\begin") else 1
    err = _refused(text, line)
    assert f"at most {MAX_NESTING} deep" in str(err) or "less deeply nested" in str(err)


def test_input_size_is_capped_naming_the_line():
    text = "x = x\n" * (MAX_INPUT_CHARS // 6 + 10)
    err = _refused(text, MAX_INPUT_CHARS // 6 + 1)
    assert "input size limit" in str(err)


def test_reading_a_step_is_bounded_by_the_step_timeout():
    # 100,000 terms read in a small fraction of a second each way, but not within 1 microsecond
    text = "# positive: x\nx = " + "+".join(["x"] * 100_000) + "\n"
    with pytest.raises(DerivationSyntaxError, match="time bounds"):
        check_derivation(text, step_timeout=1e-6)


@pytest.mark.timeout(120)
def test_total_timeout_bounds_the_whole_run():
    hang = "E(log(1 + z**4) * exp(a*z**3) * z**5, z, Normal(0, 1))"
    text = f"# positive: a\n{hang} = a\n{hang} = a + 1\nx = x\n"
    result = check_derivation(text, step_timeout=30, total_timeout=1.0)
    assert [s.verdict for s in result.steps] == ["undecided"] * 3
    assert "total time bound" in result.steps[2].reason and "--total-timeout" in result.steps[2].reason
    assert result.provenance["parameters"]["total_timeout"] == 1.0


@pytest.mark.parametrize("bad", ["1", "1e-5", "0", "-1e-12", "nan"])
def test_tolerance_outside_its_range_exits_2(capsys, bad):
    code = main(["check", "--example", "thread_second_answer", f"--tolerance={bad}"])
    assert code == 2
    assert "tolerance" in capsys.readouterr().err


def test_tolerance_at_its_bound_still_finds_the_wrong_answer():
    result = check_derivation(example_text("thread_second_answer"), tolerance=1e-6)
    assert result.first_failure == 16 and result.exit_code == 1


def test_latex_report_into_a_directory_exits_2(capsys, tmp_path):
    code = main(["check", "--example", "gaussian_kl", "--latex", str(tmp_path)])
    assert code == 2
    assert "--latex" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_latex_report_is_written_atomically(capsys, tmp_path):
    out = tmp_path / "r.tex"
    assert main(["check", "--example", "gaussian_kl", "--latex", str(out)]) == 0
    assert out.read_text().startswith("\\documentclass") and [p.name for p in tmp_path.iterdir()] == ["r.tex"]


def test_a_directory_as_the_file_exits_2(capsys, tmp_path):
    assert main(["check", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


def test_the_step_bound_never_fires_inside_a_gc_callback(monkeypatch):
    """The alarm holds its fire inside a gc callback (an exception there is only 'unraisable'):
    a slow gc callback during bounded work gives no unraisable report, and the work is still
    stopped at its bound (StepTimeout) once it is back in its own frames. Found under load, when
    the alarm hit hypothesis's gc callback and pytest reported the unraisable exception."""
    import gc
    import sys
    import time as _time

    from vaetheory.symbolic.checker.bounded import StepTimeout, run_bounded

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: unraisable.append(info))

    calls = []

    def slow_callback(phase, info):
        # the first collection's callback outlasts the bound (the alarm fires inside it, several
        # times at its 50 ms interval); later ones are instant, so the work's own frames run
        if phase == "start" and not calls:
            calls.append(phase)
            end = _time.monotonic() + 0.4
            while _time.monotonic() < end:
                pass

    def work():
        while True:
            gc.collect()
            end = _time.monotonic() + 0.01
            while _time.monotonic() < end:
                pass

    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(StepTimeout):
            run_bounded(work, 0.2)
    finally:
        gc.callbacks.remove(slow_callback)
    assert unraisable == []


def test_the_step_bound_leaves_no_unraisable_report_from_a_weakref_callback(monkeypatch):
    """An expiry inside a weakref callback (no frame marks it as one) cannot propagate: it is
    dropped from sys.unraisablehook while the work runs, and the work still stops at its bound.
    Found under pytest-xdist, when the alarm hit a WeakKeyDictionary's remove callback."""
    import sys
    import time as _time
    import weakref

    from vaetheory.symbolic.checker.bounded import StepTimeout, run_bounded

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: unraisable.append(info))

    class Thing:
        pass

    def slow_remove(ref):
        end = _time.monotonic() + 0.4  # the alarm fires inside, several times
        while _time.monotonic() < end:
            pass

    def work():
        thing = Thing()
        keep = weakref.ref(thing, slow_remove)
        del thing  # the callback runs here, outlasting the bound
        while True:
            assert keep() is None

    with pytest.raises(StepTimeout):
        run_bounded(work, 0.2)
    assert unraisable == []
    # reports that are not the alarm's still reach the hook in force
    sys.unraisablehook(type("Info", (), {"exc_type": ValueError})())
    assert len(unraisable) == 1
