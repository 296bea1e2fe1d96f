"""The study's configurations: typed fields, lookups by field (never by label), the old module paths."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

from vaetheory.studies.thesis_ch5 import (
    BETA_LARGE,
    LEARNED,
    SIGMA_SMALL,
    VARIANTS,
    ThesisConfiguration,
    find_configuration,
    thesis_configurations,
)

#: the labels are a user-facing contract (directories configs/<name>, results.json "config")
LABELS = [
    "learned-sigma-z2",
    "fixed-sigma1-z2",
    "fixed-sigma0.0001-z2",
    "beta0.01-sigma1-z2",
    "beta4-sigma1-z2",
]


def test_labels_and_fields_are_those_of_the_chapter():
    configs = thesis_configurations()
    assert [c.name for c in configs] == LABELS + [n.replace("-z2", "-z20") for n in LABELS]
    by_name = {c.name: c for c in configs}
    assert by_name["fixed-sigma0.0001-z20"].sigma == 1e-4 and by_name["fixed-sigma0.0001-z20"].latent == 20
    assert by_name["beta4-sigma1-z2"].beta == 4.0 and by_name["beta4-sigma1-z2"].policy == "fixed"
    assert (
        by_name["learned-sigma-z2"].sigma is None and by_name["learned-sigma-z2"].effective_variance is None
    )
    # the old attribute names are aliases of the same values
    for c in configs:
        assert c.variance == c.policy and c.sigma_std == c.sigma


def test_lookup_is_by_fields_and_ignores_the_label():
    configs = [
        ThesisConfiguration(f"label-{i}", *rest)
        for i, (_, *rest) in enumerate(
            (c.name, c.policy, c.sigma, c.beta, c.latent, c.chapter) for c in thesis_configurations()
        )
    ]
    found = find_configuration(configs, SIGMA_SMALL, 20)
    assert (found.policy, found.sigma, found.beta, found.latent) == ("fixed", 1e-4, 1.0, 20)
    assert find_configuration(configs, BETA_LARGE, 3) is None
    assert {id(find_configuration(configs, v, q)) for v in VARIANTS for q in (2, 20)} == {
        id(c) for c in configs
    }


def test_two_configurations_with_the_same_fields_are_refused():
    twice = [*thesis_configurations(latents=(2,)), ThesisConfiguration("again", "learned", None, 1.0, 2, "")]
    with pytest.raises(ValueError, match="must be distinct"):
        find_configuration(twice, LEARNED, 2)


@pytest.mark.parametrize(
    ("old", "names"),
    [
        (
            "vaetheory.empirical.thesis",
            ["thesis_configurations", "load_thesis_data", "predicted_active_curve"],
        ),
        ("vaetheory.empirical.thesis_run", ["reproduce_thesis_chapter", "load_reproduction"]),
        ("vaetheory.empirical.thesis_claims", ["check_claims", "render_table"]),
    ],
)
def test_old_module_paths_warn_and_re_export_the_new_names(old, names):
    import vaetheory.studies.thesis_ch5 as new

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert any(
        issubclass(w.category, DeprecationWarning) and "studies.thesis_ch5" in str(w.message) for w in caught
    )
    for name in names:
        assert getattr(module, name) is getattr(new, name)
