"""One visual language for every figure (issue 16): each figure the linear, symbolic and empirical
areas save is walked artist by artist under every template (text sizes at the printed size, the
template's width, legend area and legend over data, contrast of every line and marker), the same
policy and the same floor xi get the same colour in every figure, PDF and PNG have the same size,
and every sidecar holds ``caption`` and ``template``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from vaetheory.plots import style

TEMPLATES = tuple(style.TEMPLATES)


@pytest.fixture(scope="module")
def training_series():
    """Three tiny training runs (learned, floor 1e-2, Bernoulli), trained once for every template."""
    from vaetheory.empirical.training import TrainConfig, train
    from vaetheory.figures import empirical

    configs = [
        TrainConfig(variance="learned", steps=6, log_every=2, seed=0),
        TrainConfig(variance="floor", floor_variance=1e-2, steps=6, log_every=2, seed=0),
        TrainConfig(likelihood="bernoulli", steps=6, log_every=2, seed=0),
    ]
    return [empirical.run_series(train(c, progress=False), empirical.run_label(c)) for c in configs]


def _draw_everything(out: Path, series) -> list[tuple[Path, object]]:
    """Every figure of the linear, symbolic and empirical areas (training kept tiny), with its stem."""
    from vaetheory.empirical.construction import DEFAULT_FLOORS, blowup_sequence
    from vaetheory.figures import empirical, linear, symbolic
    from vaetheory.provenance import provenance

    captured: list[object] = []
    written: list[Path] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(style.plt, "close", lambda fig=None: captured.append(fig))
        written += linear.make_figures(out / "linear", quick=True, seed=0)
        written += symbolic.make_figures(out / "symbolic", quick=True, seed=0)
        written += empirical.blowup_figure(
            out / "empirical" / "empirical_blowup",
            blowup_sequence(ks=(0, 4, 8, 12, 16), floors=DEFAULT_FLOORS),
        )
        written += empirical.training_figure(
            out / "empirical" / "empirical_training", series, provenance(seed=0, parameters={"steps": 6})
        )
    stems = [p.with_suffix("") for p in written if p.suffix == ".json"]
    assert len(stems) == len(captured) == 7
    return list(zip(stems, captured))


@pytest.fixture(scope="module", params=TEMPLATES)
def drawn(request, tmp_path_factory, training_series):
    out = tmp_path_factory.mktemp(f"style-{request.param}")
    with style.use_template(request.param):
        figures = _draw_everything(out, training_series)
    return request.param, figures


def test_every_figure_passes_the_audit_under_every_template(drawn):
    template, figures = drawn
    for stem, fig in figures:
        assert style.audit_figure(fig, template) == [], stem.name


def test_figures_are_the_template_width_and_pdf_and_png_have_the_same_size(drawn):
    from PIL import Image

    template, figures = drawn
    t = style.TEMPLATES[template]
    dpi = style.RC_PARAMS["savefig.dpi"]
    for stem, fig in figures:
        w, h = fig.get_size_inches()
        assert min(abs(w - t.column_width), abs(w - t.page_width)) < 1e-9, stem.name
        with Image.open(stem.with_suffix(".png")) as image:
            px_w, px_h = image.size
        # the PNG is the figure's size in whole pixels: at most one pixel of rounding per side
        assert abs(px_w - w * dpi) <= 1.0 and abs(px_h - h * dpi) <= 1.0, (stem.name, image.size, w, h)
        box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)", stem.with_suffix(".pdf").read_bytes())
        pdf_w, pdf_h = float(box.group(1)), float(box.group(2))
        # PDF points (1/72 in), written to 3 decimals by matplotlib: the same size as the PNG
        assert pdf_w == pytest.approx(w * 72, abs=0.01) and pdf_h == pytest.approx(h * 72, abs=0.01), (
            stem.name
        )


def test_every_sidecar_holds_a_caption_with_numbers_and_the_template(drawn):
    template, figures = drawn
    for stem, _ in figures:
        record = json.loads(stem.with_suffix(".json").read_text())
        assert {"figure", "provenance", "data"} <= set(record)  # the older keys stay
        assert record["template"] == template
        assert isinstance(record["caption"], str) and len(record["caption"]) > 100, stem.name
        assert re.search(r"\d\.\d", record["caption"]), f"{stem.name}: the caption states no measured number"


def test_no_text_under_7_pt_at_the_printed_size(drawn):
    """Independent of audit_figure: every visible text of every figure, read directly."""
    from matplotlib.text import Text

    _, figures = drawn
    for stem, fig in figures:
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        assert sizes and min(sizes) >= 7.0, (stem.name, min(sizes))


def test_the_same_policy_and_the_same_xi_get_the_same_colour_in_every_figure(drawn):
    """Lines are marked by meaning (gid ``policy:KEY`` / ``xi:VALUE``); each meaning has one colour."""
    from matplotlib.colors import to_hex

    _, figures = drawn
    colours: dict[str, set[str]] = {}
    figures_with: dict[str, set[str]] = {}
    for stem, fig in figures:
        for ax in fig.axes:
            for line in ax.get_lines():
                gid = line.get_gid()
                if gid and gid.split(":")[0] in ("policy", "xi"):
                    colours.setdefault(gid, set()).add(to_hex(line.get_color()))
                    figures_with.setdefault(gid, set()).add(stem.name)
    assert colours, "no figure marks its policy or floor lines"
    for gid, seen in colours.items():
        kind, key = gid.split(":", 1)
        expected = style.policy_color(key) if kind == "policy" else style.xi_color(float(key))
        assert seen == {expected.lower()}, gid
    # xi = 1e-2 is drawn in the blow-up, the 1-D and the training figure: one colour in all three
    assert {"empirical_blowup", "symbolic_unboundedness", "empirical_training"} <= figures_with[
        style.xi_gid(1e-2)
    ]
    assert {"empirical_blowup", "empirical_training"} <= figures_with[style.policy_gid("learned")]


def test_floor_colours_darken_monotonically_with_smaller_xi_and_keep_contrast():
    xis = np.logspace(-10, 2, 49)  # beyond both ends of XI_RANGE too
    lum = [style.relative_luminance(style.xi_color(x)) for x in xis]
    inside = (xis >= style.XI_RANGE[0]) & (xis <= style.XI_RANGE[1])
    assert np.all(np.diff(np.asarray(lum)[inside]) > 0)  # strictly lighter as xi grows, in range
    assert style.xi_color(1e-12) == style.xi_color(1e-8) and style.xi_color(10.0) == style.xi_color(1.0)
    assert min(style.contrast_ratio(style.xi_color(x)) for x in xis) >= style.MIN_CONTRAST
    with pytest.raises(ValueError, match="xi must be a positive"):
        style.xi_color(0.0)


def test_every_policy_and_remedy_colour_has_3_to_1_contrast_and_is_its_own():
    import vaetheory.empirical.remedies  # noqa: F401  (registers the remedies)
    from vaetheory.empirical.policies import POLICY_REGISTRY

    for key, colour in {**style.POLICY_COLORS, **style.OKABE_ITO_PRINT}.items():
        assert style.contrast_ratio(colour) >= style.MIN_CONTRAST, key
    by_policy = {name: style.policy_color(cls.colour_key) for name, cls in POLICY_REGISTRY.items()}
    assert len(set(by_policy.values())) == len(by_policy), by_policy  # no two policies share a colour
    assert style.policy_color("bernoulli") not in by_policy.values()


def test_contrast_ratio_matches_wcag():
    # WCAG 2 end points are exact; the measured Okabe-Ito orange and sky blue to 2 decimals
    assert style.contrast_ratio("#000000") == pytest.approx(21.0, rel=1e-12)
    assert style.contrast_ratio("#FFFFFF") == pytest.approx(1.0, rel=1e-12)
    assert style.contrast_ratio(style.OKABE_ITO["orange"]) == pytest.approx(2.25, abs=0.01)
    assert style.contrast_ratio(style.OKABE_ITO["sky_blue"]) == pytest.approx(2.31, abs=0.01)
    # alpha blends onto white: black at alpha 0.5 is mid grey #808080 (within one 8-bit step)
    assert style.contrast_ratio("#000000", alpha=0.5) == pytest.approx(
        style.contrast_ratio("#7F7F7F"), rel=0.02
    )


def test_audit_finds_each_kind_of_breach():
    with style.style():
        fig, ax = style.new_figure("column", layout="constrained")
        x = np.linspace(0, 1, 50)
        ax.plot(x, x, color="#F0E442", label="khaki")  # 1.3:1 on white
        ax.text(0.5, 0.1, "tiny", fontsize=6)
        ax.set_title("A title inside the figure")
        ax.legend(loc="center", fontsize=7)  # over the line's middle
        empty = fig.add_axes((0.7, 0.7, 0.1, 0.1))
        empty.set_visible(True)
    problems = "\n".join(style.audit_figure(fig))
    for expected in (
        "contrast 1.",
        "'tiny' at 6 pt",
        "axes title 'A title",
        "legend covers",
        "an empty panel",
    ):
        assert expected in problems, (expected, problems)
    with style.style():
        fig, ax = style.new_figure("column", layout="constrained")
        for i in range(12):
            ax.plot([0, 1], [i, i + 1], color="black", label=f"series {i}")
        fig.legend(loc="outside lower center", ncol=1)
    assert any("legend takes" in p for p in style.audit_figure(fig))
    with style.use_template("neurips"), style.style():
        fig, _ = style.new_figure(3.3)
    assert any("neither the neurips column" in p for p in style.audit_figure(fig))


def test_template_option_is_checked():
    from vaetheory.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["figures", "--out", "unused", "--template", "a4"])
    assert exit_info.value.code == 2
    with pytest.raises(ValueError, match="--template must be one of generic, icml, neurips"):
        style.check_template("a4")
