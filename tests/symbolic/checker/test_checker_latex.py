"""Issue 14 items 4-6, LaTeX coverage and corrections: what researchers write parses and is judged.

Each form is checked with a correct line (it must hold) and a wrong one (it must fail), so a
form that parses into the wrong expression cannot pass; forms out of scope are refused (exit 2)
with a message that says so.
"""

from __future__ import annotations

import pytest
import sympy as sp

from vaetheory.cli import main
from vaetheory.symbolic.checker import DerivationSyntaxError, check_derivation

HEADER = "% positive: s, v, lam, sigma, xi, J\n% real: m, x, mu, w, b\n% variables: s\n"


def _tex(body: str, header: str = HEADER) -> str:
    return header + "\\begin{align*}\n" + body + "\n\\end{align*}\n"


def _verdicts(text: str) -> list[str]:
    return [s.verdict for s in check_derivation(text, n_points=20).steps]


KL_RHS = r"\frac{1}{2}(m^2 + s - 1 - \log s)"
KL_WRONG = r"\frac{1}{2}(m^2 + s + 1 - \log s)"
FORMS = [
    (r"\frac{\mathrm{d}}{\mathrm{d}s} (s^3)", "3 s^2", "3 s"),
    (r"\frac{d}{ds} s^3", "3 s^2", "s^2"),
    (r"\frac{\partial}{\partial s} s^3", "3 s^2", "3 s^3"),
    (r"\frac{\partial^2}{\partial s^2} s^3", "6 s", "3 s^2"),
    (r"\frac{\partial^2 s^3}{\partial s^2}", "6 s", "6"),
    (r"\frac{\mathrm{d}^2}{\mathrm{d}s^2} \log s", r"-\frac{1}{s^2}", r"\frac{1}{s^2}"),
    (r"\partial_s (s^2)", "2 s", "s"),
    (r"\partial_{s} \log s", r"\frac{1}{s}", r"\frac{2}{s}"),
    (r"\mathcal{D}_{\mathrm{KL}}(\mathcal{N}(m, s) \parallel \mathcal{N}(0, 1))", KL_RHS, KL_WRONG),
    (r"D_{\mathrm{KL}}(\mathcal{N}(m, s) \parallel \mathcal{N}(0, 1))", KL_RHS, KL_WRONG),
    (r"\mathcal{D}_{\text{KL}}(\mathcal{N}(m, s) \parallel \mathcal{N}(0, 1))", KL_RHS, KL_WRONG),
    (r"\mathrm{KL}[\mathcal{N}(m, s) \,\|\, \mathcal{N}(0, 1)]", KL_RHS, KL_WRONG),
    (r"\mathbb{KL}(\mathcal{N}(m, s) \parallel \mathcal{N}(0, 1))", KL_RHS, KL_WRONG),
    (r"\int \mathcal{N}(z; m, s) \log \mathcal{N}(z; 0, 1) \, dz",
     r"-\frac{1}{2}\log(2\pi) - \frac{m^2 + s}{2}", r"-\frac{1}{2}\log(2\pi) - \frac{m^2 + s^2}{2}"),
    (r"\int_{-\infty}^{\infty} \mathcal{N}(z; m, s) z^2 \, \mathrm{d}z", "m^2 + s", "m^2 + s^2"),
    (r"\sum_{j=1}^{J} (\mu_j^2 + 1)", r"J + \sum_{j=1}^{J}\mu_j^2", r"1 + \sum_{j=1}^{J}\mu_j^2"),
    (r"\sum_{j=1}^{3} \mu_j", r"\mu_1 + \mu_2 + \mu_3", r"\mu_1 + \mu_2"),
    (r"\log \prod_{j=1}^{2} \sigma_j", r"\log\sigma_1 + \log\sigma_2", r"\log\sigma_1"),
    (r"\exp\{-s\} \exp\left\{ 2 s \right\}", r"\exp(s)", r"\exp(2 s)"),
    (r"\hat{x} + \bar{x} - \tilde{x}", r"x_{hat} + x_{bar} - x_{tilde}", r"x_{hat}"),
]  # fmt: skip


@pytest.mark.parametrize(("lhs", "right", "wrong"), FORMS, ids=[f[0][:30] for f in FORMS])
def test_a_form_is_read_as_what_it_means(lhs, right, wrong):
    header = HEADER.replace("% real: m", "% real: x_hat, x_bar, x_tilde, m")
    assert _verdicts(_tex(f"{lhs} &= {right}", header)) == ["holds"]
    assert _verdicts(_tex(f"{lhs} &= {wrong}", header)) == ["fails"]


def test_kingma_welling_appendix_b_with_sums_over_latent_dimensions():
    body = r"-\mathcal{D}_{KL} &= \frac{1}{2}\sum_{j=1}^{J}(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2)"
    step = check_derivation(
        _tex(r"\frac{1}{2}\sum_{j=1}^{J}(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2) &\ge 0")
    ).steps[0]
    assert step.verdict == "holds" and "every J" in step.reason
    wrong = check_derivation(
        _tex(r"\frac{1}{2}\sum_{j=1}^{J}(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2) &\le J")
    ).steps[0]
    assert wrong.verdict == "fails" and "J" in wrong.counterexample["values"]
    assert body  # the KL itself is a vector form: the corpus writes its two halves as sums


def test_a_sum_whose_summand_uses_the_index_is_undecided_not_held():
    step = check_derivation(_tex(r"\sum_{j=1}^{J} j &= \frac{J(J+1)}{2}")).steps[0]
    assert step.verdict == "undecided" and "out of scope" in step.reason


def test_implications_aligned_quad_and_side_conditions():
    text = (
        "% real: s, a\n% variables: s\n\\begin{equation}\n\\begin{aligned}\n"
        "L &= \\frac{s^2}{2} - a s \\\\\ns - a &= 0 \\quad \\Rightarrow \\quad s = a\n"
        "\\end{aligned}\n\\end{equation}\n"
    )
    assert _verdicts(text) == ["holds", "holds", "holds"]
    bound = r"-\frac{1}{2}\log(2\pi v) &\le -\frac{1}{2}\log(2\pi \xi) \quad \text{for } v \ge \xi"
    assert _verdicts(_tex(bound)) == ["holds"]
    assert _verdicts(_tex(bound.replace(r"v \ge \xi", r"v \ge \frac{\xi}{2}"))) == ["fails"]
    assert _verdicts(_tex(bound.replace(r"\quad \text{for } v \ge \xi", ""))) == ["fails"]


def test_header_assume_is_a_relational_assumption():
    step = r"-\frac{1}{2}\log(2\pi v) &\le -\frac{1}{2}\log(2\pi \xi)"
    assert _verdicts(_tex(step, HEADER + "% assume: v >= xi\n")) == ["holds"]
    assert _verdicts(_tex(step, HEADER + "% assume: v >= xi/2\n")) == ["fails"]
    with pytest.raises(DerivationSyntaxError, match="lower bound"):
        check_derivation(_tex(step, HEADER + "% assume: v <= xi + 1\n"))


@pytest.mark.parametrize(
    ("form", "says"),
    [(r"\operatorname{Var}(x)", "Var"), (r"\mathrm{Var}(x)", "Var"), (r"\mathbb{V}(x)", "Var"),
     (r"x^\top x", "transpose"), (r"\mathbf{x}", "bold"), (r"\max_s s", "max")],
)  # fmt: skip
def test_out_of_scope_forms_are_refused_saying_so(form, says):
    with pytest.raises(DerivationSyntaxError, match="out of scope") as err:
        check_derivation(_tex(f"{form} &= s"))
    assert says in str(err.value)


def test_out_of_scope_is_exit_2_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "d.tex"
    path.write_text(_tex(r"x^\top x &= s"))
    assert main(["check", str(path)]) == 2
    assert "out of scope" in capsys.readouterr().err


def test_d_next_to_a_variable_is_read_as_a_product_only_with_a_warning():
    result = check_derivation(_tex("d s &= s d"))
    assert any("read as the product" in w for w in result.warnings)


def test_header_and_body_spell_mathcal_the_same_and_a_named_start_defines_it():
    header = "% positive: s\n% variables: s\n% define: \\mathcal{L} = s^2 - log(s)\n"
    assert _verdicts(_tex(r"\mathcal{L} &= s^2 - \frac{1}{2}\log s^2 \\ 2 s - \frac{1}{s} &= 0", header)) == [
        "holds", "holds"]  # fmt: skip
    for start in (r"\mathcal{L}(s)", r"\mathrm{ELBO}", r"\mathcal{L}_\beta(s)"):
        chain = r" &= s^2 - \log s \\ &= s^2 - \frac{1}{2}\log s^2 \\ 2s - \frac{1}{s} &= 0"
        result = check_derivation(_tex(start + chain, "% positive: s\n% variables: s\n"))
        assert [s.verdict for s in result.steps] == ["holds"] * 3 and result.steps[0].kind == "definition"


ENCODER = r"""\mathcal{L}(m, s) &= -\frac{(x - w m - b)^2 + w^2 s^2}{2 v} - \frac{1}{2}\log(2\pi v)
  - \frac{m^2 + s^2}{2} + \log s \\
\frac{w(x - w m - b)}{v} - m &= 0 \\
m &= \frac{w (x - b)}{w^2 + v} \\
-\frac{w^2 s}{v} - s + \frac{1}{s} &= 0 \\
s &= \sqrt{\frac{v}{w^2 + v}}"""


def test_several_variables_each_condition_in_its_own_variable():
    header = "% positive: s, v\n% real: m, x, w, b\n% variables: m, s\n"
    result = check_derivation(_tex(ENCODER, header), n_points=20)
    assert [s.verdict for s in result.steps] == ["holds"] * 5
    assert "d/dm" in result.steps[1].reason and "d/ds" in result.steps[3].reason
    wrong = check_derivation(
        _tex(ENCODER.replace(r"- s + \frac{1}{s}", r"+ s + \frac{1}{s}"), header), n_points=20
    )
    assert wrong.steps[3].verdict == "fails" and wrong.first_failure == 9


def test_a_squared_value_after_a_condition_gets_the_positive_value_as_its_correction(capsys, tmp_path):
    body = r"""L &= -(\lambda + \frac{1}{2}) s^2 + \log s \\
-(2\lambda + 1)s + \frac{1}{s} &= 0 \\
s^2 &= VALUE"""
    header = "% positive: s, lam\n% variables: s\n"
    good = check_derivation(_tex(body.replace("VALUE", r"\frac{1}{2\lambda + 1}"), header))
    assert [s.verdict for s in good.steps] == ["holds"] * 3 and good.steps[2].kind == "solve"
    bad = check_derivation(_tex(body.replace("VALUE", r"\frac{1}{2\lambda - 1}"), header)).steps[2]
    assert bad.verdict == "fails" and bad.kind == "solve"
    lam = sp.Symbol("lam", positive=True)
    assert (
        sp.simplify(sp.sympify(bad.corrected.split("=", 1)[1], locals={"lam": lam}) - 1 / (2 * lam + 1)) == 0
    )
    path = tmp_path / "d.tex"
    path.write_text(_tex(body.replace("VALUE", r"\frac{1}{2\lambda - 1}"), header))
    main(["check", str(path)])
    assert r"corrected: s^{2} = \frac{1}{2 \lambda + 1}" in capsys.readouterr().out  # LaTeX for LaTeX input


def test_identity_corrections_are_simplified():
    step = check_derivation(_tex(r"\log(s^2) + \log(s^4) &= 7 \log s")).steps[0]
    assert step.verdict == "fails" and step.corrected in ("6*log(s)", "log(s**6)")


STAR = (
    "% positive: sigma_star, lam\n% variables: sigma_star\n\\begin{align*}\n"
    "L &= -(\\lambda + \\frac{1}{2}) (\\sigma^*)^2 + \\log \\sigma^* \\\\\n"
    "-(2\\lambda + 1)\\sigma^* + \\frac{1}{\\sigma^*} &= 0 \\\\\n"
    "\\sigma^* &= \\frac{1}{\\sqrt{2\\lambda}}\n\\end{align*}\n"
)


def test_counterexample_points_are_given_in_the_inputs_notation(capsys, tmp_path):
    import json

    step = check_derivation(STAR).steps[2]
    assert step.verdict == "fails"
    cex = step.counterexample
    # JSON keeps the plain names and adds the LaTeX ones, with the same numbers
    assert set(cex["values"]) == {"lam", "sigma_star"}
    assert cex["values_latex"] == {"\\lambda": cex["values"]["lam"], "\\sigma^*": cex["values"]["sigma_star"]}
    path = tmp_path / "d.tex"
    path.write_text(STAR, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    shown = [ln for ln in capsys.readouterr().out.splitlines() if "counterexample:" in ln]
    assert shown and "\\sigma^* = " in shown[0] and "\\lambda = " in shown[0]
    assert "sigma_star =" not in shown[0] and "lam =" not in shown[0]
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)["steps"][2]["counterexample"]
    assert "sigma_star" in data["values"] and "\\sigma^*" in data["values_latex"]
    report = [ln for ln in check_derivation(STAR).to_latex().splitlines() if "counterexample:" in ln]
    assert "$\\sigma^* = " in report[0] and "sigma\\_star" not in report[0]  # math mode, as written
    # a plain derivation's counterexample stays in its plain names
    plain = "# positive: s, lam\n# variables: s\nL = -(lam + 1/2)*s**2 + log(s)\n"
    plain += "-(2*lam + 1)*s + 1/s = 0\ns = 1/sqrt(2*lam)\n"
    out = check_derivation(plain).to_text()
    assert "counterexample: at lam = " in out
