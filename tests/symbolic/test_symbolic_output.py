"""vaetheory derive / claims: JSON that round-trips through sympify, LaTeX that compiles, text, errors."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest
import sympy as sp

from vaetheory.cli import main
from vaetheory.symbolic import derive, parse_expression, to_json_dict, to_latex_document, with_assumptions

REQUIRED_KEYS = ("elbo", "log_marginal", "optimal_encoder", "sigma_star", "sigma_star_claimed", "provenance")


@pytest.fixture(scope="module")
def derivation():
    return derive()


@pytest.fixture(scope="module")
def derive_json(derivation):
    return json.loads(json.dumps(to_json_dict(derivation, provenance={"seed": None})))


def test_json_has_the_contracted_keys(derive_json):
    for key in REQUIRED_KEYS:
        assert key in derive_json
    assert set(derive_json["optimal_encoder"]) == {"m", "s"}


def test_json_expressions_round_trip_through_sympify(derivation, derive_json):
    for f in derivation.formulas():
        text = derive_json[f.key]
        plain = sp.sympify(text)  # plain sympify parses every expression string ...
        assert with_assumptions(plain) == f.expression, f.key  # ... into the identical expression
        assert parse_expression(text) == f.expression, f.key
    one = derivation.one_point
    assert parse_expression(derive_json["optimal_encoder"]["m"]) == one.optimal_m.expression
    assert parse_expression(derive_json["optimal_encoder"]["s"]) == one.optimal_s.expression


def test_json_uses_only_the_documented_symbol_names(derive_json, derivation):
    allowed = {"x", "m", "s", "w", "b", "v", "xi", "lam", "n", "S_n", "x_mean", "c"}
    for f in derivation.formulas():
        names = {sym.name for sym in sp.sympify(derive_json[f.key]).free_symbols}
        assert names <= allowed, (f.key, names)
    assert {sym.name for sym in sp.sympify(derive_json["sigma_star"]).free_symbols} == {"lam"}


def test_json_values_are_the_theory_md_formulas(derive_json):
    lam = sp.Symbol("lam", positive=True)
    assert sp.simplify(parse_expression(derive_json["sigma_star"]) - (2 * lam + 1) ** sp.Rational(-1, 2)) == 0
    assert (
        sp.simplify(parse_expression(derive_json["sigma_star_claimed"]) - (2 * lam - 1) ** sp.Rational(-1, 2))
        == 0
    )
    assert parse_expression(derive_json["elbo_at_sigma_star_limit"]) == -sp.log(2 * sp.pi) / 2


def test_every_formula_has_latex_and_a_float64_function(derivation):
    for f in derivation.formulas():
        assert f.latex()
        assert "lam" not in f.latex().replace(r"\lambda", "")  # typeset as \lambda
    elbo = derivation.one_point.elbo
    value = elbo.evaluate(x=0.3, m=0.1, s=0.5, w=1.2, b=-0.2, v=0.4)
    assert isinstance(value, float) and math.isfinite(value)


@pytest.mark.parametrize(
    ("name", "bad", "pattern"),
    [
        ("v", 0.0, "v must be .*v > 0"),
        ("v", -1.0, "v must be .*v > 0"),
        ("s", 0.0, "s must be .*s > 0"),
        ("s", -0.5, "s must be .*s > 0"),
        ("x", float("nan"), "x must be a finite real"),
        ("x", float("inf"), "x must be a finite real"),
        ("v", float("nan"), "v must be .*v > 0"),
    ],
)
def test_bad_parameters_are_rejected_by_name_and_range(derivation, name, bad, pattern):
    values = dict(x=0.3, m=0.1, s=0.5, w=1.2, b=-0.2, v=0.4)
    values[name] = bad
    with pytest.raises(ValueError, match=pattern):
        derivation.one_point.elbo.evaluate(**values)


@pytest.mark.parametrize("bad", [0.0, -1e-3, float("nan"), float("inf")])
def test_non_positive_floor_is_rejected_by_name(derivation, bad):
    with pytest.raises(ValueError, match=r"xi must be .*xi > 0"):
        derivation.supremum.floor_supremum.evaluate(xi=bad)


@pytest.mark.parametrize("bad", [0.0, -2.0, float("inf")])
def test_non_positive_precision_is_rejected_by_name(derivation, bad):
    with pytest.raises(ValueError, match=r"lam must be .*lam > 0"):
        derivation.sigma_star.sigma_star.evaluate(lam=bad)


def test_missing_or_unknown_parameters_are_named(derivation):
    with pytest.raises(ValueError, match="missing \\['v'\\]"):
        derivation.one_point.log_marginal.evaluate(x=1.0, w=1.0, b=0.0)
    with pytest.raises(ValueError, match="unknown \\['sigma'\\]"):
        derivation.sigma_star.sigma_star.evaluate(lam=1.0, sigma=2.0)


def test_latex_document_has_one_align_per_result(derivation):
    doc = to_latex_document(derivation)
    assert doc.startswith(r"\documentclass")
    assert doc.count(r"\begin{align*}") >= len(derivation.formulas())
    assert doc.count(r"\begin{align*}") == doc.count(r"\end{align*}")


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_document_compiles_with_pdflatex(tmp_path):
    tex = tmp_path / "derivation.tex"
    assert main(["derive", "--latex", "--out", str(tex)]) == 0
    out = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert (tmp_path / "derivation.pdf").stat().st_size > 10_000


def test_cli_derive_json(capsys):
    assert main(["derive", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in REQUIRED_KEYS:
        assert key in data
    assert data["provenance"]["vaetheory_version"]
    assert all(c["holds"] for c in data["checks"].values())


def test_cli_derive_text_walks_through_the_steps(capsys):
    assert main(["derive"]) == 0
    out = capsys.readouterr().out
    for phrase in ("ELBO for one point", "sympy solve", "sigma_star = 1/sqrt(2*lam + 1)", "[holds]"):
        assert phrase in out
    assert "FAILS" not in out


def test_cli_derive_latex_to_stdout(capsys):
    assert main(["derive", "--latex"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(r"\end{document}")


def test_cli_derive_out_to_a_directory_is_an_error(tmp_path, capsys):
    assert main(["derive", "--json", "--out", str(tmp_path)]) == 2
    assert "vaetheory derive: error: --out" in capsys.readouterr().err


def test_cli_claims_table_and_json(capsys):
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    for claim_id in ("Q1", "A1.2", "A2.3", "C3", "A3.1"):
        assert claim_id in out
    assert "NOT ALL HOLD" not in out
    assert main(["claims", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {c["verdict"] for c in data["claims"]} == {"correct", "wrong", "correct under a condition"}
    assert all(c["holds"] for c in data["claims"])
