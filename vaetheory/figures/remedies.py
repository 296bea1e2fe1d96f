"""Figure of the remedies study: ``remedies.{pdf,png,json}`` (drawn by :mod:`vaetheory.plots.remedies`).

Saved with :func:`vaetheory.plots.style.save_figure` (PDF + PNG + JSON sidecar with provenance and
the numbers drawn).
"""

from __future__ import annotations

from pathlib import Path


def remedies_figure(out_stem: Path, study: dict) -> list[Path]:
    """Draw and save the held-out log-likelihood vs RMSE and the variance vs steps of ``study``."""
    import vaetheory.empirical.remedies  # noqa: F401 (registers the remedies' colour keys)
    from vaetheory.empirical.policies import POLICY_REGISTRY
    from vaetheory.plots.remedies import draw_remedies
    from vaetheory.plots.style import save_figure
    from vaetheory.studies.remedies.study import ROWS

    colours = {}
    for name, fields in ROWS.items():
        if fields.get("likelihood") == "bernoulli":
            colours[name] = "bernoulli"
        else:
            colours[name] = POLICY_REGISTRY[fields["variance"]].colour_key
    colours.update(
        {"floor_softclip": "sky_blue", "floor_softplus": "bluish_green", "floor_gaussian_nll": "vermillion"}
    )
    s = study["settings"]
    fig = draw_remedies(
        study["table"],
        study["series"],
        colours,
        title=f"Remedies on dequantised digits (latent {s['latent']}, {s['steps']} steps, seed {s['seed']})",
    )
    data = {"table": study["table"], "series": study["series"], "colour_keys": colours}
    return save_figure(fig, out_stem, study["provenance"], data)


__all__ = ["remedies_figure"]
