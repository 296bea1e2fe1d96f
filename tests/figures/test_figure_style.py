"""One visual language for every figure (issue 16).

Every figure the package makes is drawn under every template and walked artist by artist (text sizes
at the printed size, the template's width, legend area and legend over data, contrast of every line
and marker; :func:`vaetheory.plots.style.audit_figure`), PDF and PNG have the same size, and every
sidecar holds ``caption`` (with measured numbers) and ``template``. The figures, by group:

* ``catalogue``: the linear, symbolic and empirical areas of ``vaetheory figures`` (training kept tiny);
* ``thesis``: the thesis study's figures, from one tiny reproduction (q = 2);
* ``remedies``: ``vaetheory remedies``' figure, from one tiny study;
* ``doctor``: the doctor's figure of two synthetic runs (one without a floor, one with);
* ``experiment:NAME``: each experiment registered in :data:`vaetheory.figures.experiments.FIGURES`
  (discovered, so a new experiment is covered when it lands), run once at its ``TINY`` settings and
  drawn under the generic template (its own tests audit it under every template).

Colours by meaning: every line marked ``policy:KEY`` or ``xi:VALUE`` (``style.policy_gid`` /
``style.xi_gid``) has that policy's or that floor's colour, in every figure; a line drawn in a
policy's colour or a floor colour without saying which is refused (that is a colour by list position).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from vaetheory.figures.experiments import FIGURES as EXPERIMENT_FIGURES
from vaetheory.plots import style

TEMPLATES = tuple(style.TEMPLATES)
GROUPS = ("catalogue", "thesis", "remedies", "doctor", *(f"experiment:{n}" for n in EXPERIMENT_FIGURES))


@contextlib.contextmanager
def _captured():
    """The figures ``save_figure`` closes, kept open (in order) for the audit."""
    captured: list[object] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(style.plt, "close", lambda fig=None: captured.append(fig))
        yield captured


def _pairs(written: list[Path], captured: list[object]) -> list[tuple[Path, object]]:
    stems = [p.with_suffix("") for p in written if p.suffix == ".json"]
    assert len(stems) == len(captured), (stems, len(captured))
    return list(zip(stems, captured))


# -- what each group is drawn from (computed once per session) ------------------------------------


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


@pytest.fixture(scope="module")
def thesis_reproduction(tmp_path_factory):
    """One tiny reproduction of the thesis study: the five q = 2 configurations, seconds each."""
    import dataclasses

    import torch

    import vaetheory.studies.thesis_ch5.run as run

    tiny = dataclasses.replace(
        run.QUICK_SETTINGS,
        steps=40,
        hidden=(16,),
        iwae_k=4,
        elbo_samples=1,
        n_generated=25,
        max_train=300,
        max_test=40,
    )
    threads = torch.get_num_threads()
    try:
        return run.reproduce_thesis_chapter(
            tmp_path_factory.mktemp("thesis-run"),
            quick=True,
            seed=0,
            settings=tiny,
            configurations=run.thesis_configurations(latents=(2,)),
            progress=False,
        )
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def remedies_study():
    """One tiny remedies study (every row, 30 steps; no regression: the figure does not draw it)."""
    from vaetheory.studies.remedies import study as S

    tiny = S.StudySettings(steps=12, latent=2, hidden=(16,), n_test=30, iw_samples=2, log_every=4)
    return S.run_study(tiny, regression=False)


@pytest.fixture(scope="module")
def doctor_reports():
    """Two doctor reports: a falling variance with no floor (KL per unit logged), and a floored run."""
    from vaetheory.doctor.doctor import Doctor

    free = Doctor(data_dim=64)
    floored = Doctor(data_dim=64, floor_variance=1e-2)
    for s in range(10, 410, 10):
        free.observe(s, loss=5.0 - 0.01 * s, min_log_variance=-0.005 * s, kl_per_dim=[1.0, 1e-3, 0.4])
        floored.observe(s, loss=-50.0 - 1.0 / s, min_variance=1e-2 + 1.0 / s)
    return {"doctor_free": free.report(), "doctor_floored": floored.report()}


_RUN_TINY = """
import pickle, sys
from vaetheory.studies.experiments import get_experiment, run_experiment
name, out = sys.argv[1], sys.argv[2]
result = run_experiment(name, out, settings=get_experiment(name).TINY, seed=0, progress=False)
with open(out + ".pkl", "wb") as f:
    pickle.dump(result, f)
"""


@pytest.fixture(scope="module")
def experiment_results(tmp_path_factory) -> dict[str, object]:
    """Every experiment of FIGURES run once at its TINY settings, two at a time (one process per
    core, one thread each); an experiment that fails to run maps to its error text."""
    import os
    import pickle
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("experiment-runs")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    pending, running, results = list(EXPERIMENT_FIGURES), [], {}
    while pending or running:
        while pending and len(running) < 2:
            name = pending.pop(0)
            cmd = [sys.executable, "-c", _RUN_TINY, name, str(root / name)]
            running.append((name, subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)))
        name, proc = running.pop(0)
        _, err = proc.communicate(timeout=600)
        if proc.returncode == 0:
            with open(root / f"{name}.pkl", "rb") as f:
                results[name] = pickle.load(f)
        else:
            results[name] = f"experiment {name} failed to run at TINY: {err[-2000:]}"
    return results


# -- drawing each group ---------------------------------------------------------------------------


def _draw(group: str, out: Path, request) -> list[tuple[Path, object]]:
    if group == "catalogue":
        from vaetheory.empirical.construction import DEFAULT_FLOORS, blowup_sequence
        from vaetheory.figures import empirical, linear, symbolic
        from vaetheory.provenance import provenance

        series = request.getfixturevalue("training_series")
        with _captured() as captured:
            written = linear.make_figures(out / "linear", quick=True, seed=0)
            written += symbolic.make_figures(out / "symbolic", quick=True, seed=0)
            written += empirical.blowup_figure(
                out / "empirical" / "empirical_blowup",
                blowup_sequence(ks=(0, 4, 8, 12, 16), floors=DEFAULT_FLOORS),
            )
            written += empirical.training_figure(
                out / "empirical" / "empirical_training", series, provenance(seed=0, parameters={"steps": 6})
            )
        pairs = _pairs(written, captured)
        assert len(pairs) == 7
        return pairs
    if group == "thesis":
        from vaetheory.figures.thesis import draw_reproduction_figures

        reproduction = request.getfixturevalue("thesis_reproduction")
        with _captured() as captured:
            written = draw_reproduction_figures(reproduction, out)
        pairs = _pairs(written, captured)
        assert {s.name for s, _ in pairs} == {
            "reconstructions_z2",
            "samples_z2",
            "latent_grid_z2",
            "collapse",
        }
        return pairs
    if group == "remedies":
        from vaetheory.figures.remedies import remedies_figure

        with _captured() as captured:
            written = remedies_figure(out / "remedies", request.getfixturevalue("remedies_study"))
        return _pairs(written, captured)
    if group == "doctor":
        from vaetheory.figures.doctor import doctor_figure

        with _captured() as captured:
            written = []
            for stem, report in request.getfixturevalue("doctor_reports").items():
                written += doctor_figure(out / stem, report, title=f"vaetheory doctor: {stem}")
        return _pairs(written, captured)
    name = group.split(":", 1)[1]
    from vaetheory.figures.experiments import draw_experiment

    result = request.getfixturevalue("experiment_results")[name]
    assert not isinstance(result, str), result
    with _captured() as captured:
        written = draw_experiment(name, result, out)
    return _pairs(written, captured)


_DRAWN: dict[tuple[str, str], list[tuple[Path, object]]] = {}


def drawn(group: str, template: str, request, tmp_path_factory) -> list[tuple[Path, object]]:
    """Every figure of ``group`` drawn and saved under ``template`` (once per session)."""
    key = (group, template)
    if key not in _DRAWN:
        out = tmp_path_factory.mktemp(f"style-{group.replace(':', '-')}-{template}")
        with style.use_template(template):
            _DRAWN[key] = _draw(group, out, request)
    return _DRAWN[key]


#: (group, template) drawn: this module's groups under every template; each experiment under the
#: generic one only (its own tests in tests/studies/experiments/ audit it under every template; here it
#: joins the colour check, which does not depend on the template, and its run is the expensive part)
CASES = [(g, t) for g in GROUPS if not g.startswith("experiment:") for t in TEMPLATES] + [
    (g, "generic") for g in GROUPS if g.startswith("experiment:")
]


@pytest.fixture(params=CASES, ids=[f"{g}-{t}" for g, t in CASES])
def case(request):
    return request.param


@pytest.fixture
def template(case):
    return case[1]


@pytest.fixture
def figures(case, request, tmp_path_factory):
    return drawn(*case, request, tmp_path_factory)


# -- every figure, under every template -----------------------------------------------------------


def test_every_figure_passes_the_audit(figures, template):
    problems = {stem.name: style.audit_figure(fig, template) for stem, fig in figures}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


def test_figures_are_the_template_width_and_pdf_and_png_have_the_same_size(figures, template):
    from PIL import Image

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


def test_every_sidecar_holds_a_caption_with_numbers_and_the_template(figures, template):
    for stem, _ in figures:
        record = json.loads(stem.with_suffix(".json").read_text())
        assert {"figure", "provenance", "data"} <= set(record)  # the older keys stay
        assert record["template"] == template
        assert isinstance(record["caption"], str) and len(record["caption"]) > 100, stem.name
        assert re.search(r"\d\.\d", record["caption"]), f"{stem.name}: the caption states no measured number"


def test_no_text_under_7_pt_at_the_printed_size(figures):
    """Independent of audit_figure: every visible text of every figure, read directly."""
    from matplotlib.text import Text

    for stem, fig in figures:
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        assert sizes and min(sizes) >= 7.0, (stem.name, min(sizes))


def test_no_figure_has_a_title_or_an_empty_panel(figures):
    """Independent of audit_figure: no suptitle, no axes title but a panel letter, no visible empty axes."""
    for stem, fig in figures:
        assert not fig.get_suptitle(), stem.name
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            for loc in ("left", "center", "right"):
                assert re.fullmatch(r"(\([a-z0-9]\))?", ax.get_title(loc).strip()), (
                    stem.name,
                    ax.get_title(loc),
                )
            assert ax.get_lines() or ax.collections or ax.images or ax.patches, f"{stem.name}: an empty panel"


# -- colours by meaning ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _reserved_colours() -> tuple[dict[str, str], frozenset[str]]:
    """Policy colour -> its key, and every colour :func:`style.xi_color` can give (the floors' blues)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    policies = {style.policy_color(k).lower(): k for k in style.POLICY_COLORS}
    lo, hi = style._XI_MAP_ENDS
    floors = frozenset(to_hex(colormaps["Blues"](x)) for x in np.linspace(lo, hi, 2001))
    return policies, floors


def colour_breaches(fig) -> list[str]:
    """Lines whose colour does not follow their meaning: a ``policy:``/``xi:`` gid in another colour,
    or a line in a policy's colour or a floor colour that does not say which (no such gid)."""
    from matplotlib.colors import to_hex

    policies, floors = _reserved_colours()
    out = []
    for ax in fig.axes:
        for line in ax.get_lines():
            if len(line.get_xdata()) == 0 or not line.get_visible():
                continue  # legend handles draw nothing
            colour = to_hex(line.get_color()).lower()
            gid = line.get_gid() or ""
            kind, _, key = gid.partition(":")
            if kind == "policy":
                if colour != style.policy_color(key).lower():
                    out.append(f"{gid} drawn in {colour}, not {style.policy_color(key)}")
            elif kind == "xi":
                if colour != style.xi_color(float(key)).lower():
                    out.append(f"{gid} drawn in {colour}, not {style.xi_color(float(key))}")
            elif colour in policies:
                out.append(
                    f"line {line.get_label()!r} in policy {policies[colour]!r}'s colour {colour} without "
                    f"gid {style.policy_gid(policies[colour])!r}"
                )
            elif colour in floors:
                out.append(
                    f"line {line.get_label()!r} in a floor colour {colour} without an xi gid "
                    "(style.xi_gid(xi): say which floor it is)"
                )
    return out


def test_colours_follow_meaning_in_every_figure(figures):
    """Each policy and each floor xi has one colour (style.policy_color / style.xi_color), everywhere."""
    breaches = {stem.name: colour_breaches(fig) for stem, fig in figures}
    assert not any(breaches.values()), {k: v for k, v in breaches.items() if v}


def test_the_same_policy_and_the_same_xi_get_the_same_colour_across_areas(request, tmp_path_factory):
    """Across the catalogue, the thesis, the remedies and the doctor (the groups this module owns),
    each gid has one colour, and the shared meanings really are shared: xi = 1e-2 in the blow-up, the
    1-D, the training and the doctor figure; the learned policy in the blow-up, training, thesis
    collapse, remedies and doctor figures."""
    from matplotlib.colors import to_hex

    colours: dict[str, set[str]] = {}
    figures_with: dict[str, set[str]] = {}
    for group in ("catalogue", "thesis", "remedies", "doctor"):
        for stem, fig in drawn(group, "generic", request, tmp_path_factory):
            for ax in fig.axes:
                for line in ax.get_lines():
                    gid = line.get_gid()
                    if gid and gid.split(":")[0] in ("policy", "xi") and len(line.get_xdata()):
                        colours.setdefault(gid, set()).add(to_hex(line.get_color()))
                        figures_with.setdefault(gid, set()).add(stem.name)
    for gid, seen in colours.items():
        kind, key = gid.split(":", 1)
        expected = style.policy_color(key) if kind == "policy" else style.xi_color(float(key))
        assert seen == {expected.lower()}, gid
    assert {
        "empirical_blowup",
        "symbolic_unboundedness",
        "empirical_training",
        "doctor_floored",
    } <= figures_with[style.xi_gid(1e-2)]
    assert {"empirical_blowup", "empirical_training", "collapse", "remedies", "doctor_free"} <= figures_with[
        style.policy_gid("learned")
    ]
    assert {"collapse", "remedies"} <= figures_with[style.policy_gid("fixed")]


def test_colour_check_refuses_colours_by_list_position():
    """The check above is not vacuous: a floor drawn in the i-th of five shades, and a method drawn in
    the learned policy's vermillion, are both caught."""
    with style.style():
        fig, ax = style.new_figure("column", layout="constrained")
        ax.plot([0, 1], [0, 1], color=style.floor_color(1), label="floor by index")
        ax.plot([0, 1], [1, 0], color=style.policy_color("learned"), label="gaussian_nll")
        ax.plot([0, 1], [0.5, 0.5], color=style.xi_color(1e-4), gid=style.xi_gid(1e-2))
        ax.plot([0, 1], [0.2, 0.2], color=style.xi_color(1e-4), gid=style.xi_gid(1e-4))
    breaches = "\n".join(colour_breaches(fig))
    assert "'floor by index' in a floor colour" in breaches
    assert "'gaussian_nll' in policy 'learned'" in breaches
    assert "xi:0.01 drawn in" in breaches
    assert "xi:0.0001" not in breaches
    style.plt.close(fig)


# -- the style module itself ----------------------------------------------------------------------


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


def test_fit_legend_height_grows_the_figure_not_the_legend():
    with style.style():
        fig, ax = style.new_figure("column", aspect=0.5, layout="constrained")
        for i in range(12):
            ax.plot([0, 1], [i, i + 1], color="black", label=f"series {i}")
        legend = style.legend_below(fig, ncol=1)
        w_before = fig.get_size_inches()[0]
        style.fit_legend_height(fig, legend)
    assert fig.get_size_inches()[0] == w_before  # the template's width is kept
    assert not [p for p in style.audit_figure(fig) if "legend takes" in p]
    style.plt.close(fig)


def test_save_figure_writes_atomically_and_leaves_no_temporary_file(tmp_path):
    """The files are complete after the save, no temporary file is left, and a save that fails half-way
    (here: the PNG renderer raising) leaves the previous files whole."""
    from vaetheory.provenance import provenance

    def draw(y):
        with style.style():
            fig, ax = style.new_figure("column")
            ax.plot([0, 1], [0, y], **style.MEASURED_LINE)
        return fig

    stem = tmp_path / "fig"
    style.save_figure(draw(1.0), stem, provenance(seed=0, parameters={}), caption="first")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["fig.json", "fig.pdf", "fig.png"]
    fig = draw(2.0)
    original = fig.savefig

    def failing(fname, *args, format=None, **kwargs):
        if format == "png":
            raise OSError("disk gone")
        return original(fname, *args, format=format, **kwargs)

    fig.savefig = failing
    with pytest.raises(OSError, match="disk gone"):
        style.save_figure(fig, stem, provenance(seed=0, parameters={}), caption="second")
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(after) == sorted(before)  # no temporary file left behind
    assert after["fig.png"] == before["fig.png"] and after["fig.json"] == before["fig.json"]


def test_template_option_is_checked():
    from vaetheory.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["figures", "--out", "unused", "--template", "a4"])
    assert exit_info.value.code == 2
    with pytest.raises(ValueError, match="--template must be one of generic, icml, neurips"):
        style.check_template("a4")
