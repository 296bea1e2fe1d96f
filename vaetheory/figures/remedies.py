"""Figure of the remedies study: ``remedies.{pdf,png,json}`` (drawn by :mod:`vaetheory.plots.remedies`).

Saved with :func:`vaetheory.plots.style.save_figure` (PDF + PNG + JSON sidecar with provenance, the
numbers drawn and the caption). Each row is drawn in the colour of its meaning, defined once in
:mod:`vaetheory.plots.style`: a remedy or policy in ``policy_color`` of its registry colour key, a
floor in ``xi_color`` of its xi with the floor method's marker (``FLOOR_METHOD_MARKERS``).
"""

from __future__ import annotations

from pathlib import Path


def row_styles(rows: dict) -> tuple[dict, dict]:
    """``(colour keys, styles)`` of the study's rows (``ROWS``): keys for the sidecar, and each row's
    ``color``, ``gid``, ``marker`` and math ``label`` for the drawing."""
    import vaetheory.empirical.remedies  # noqa: F401 (registers the remedies' colour keys)
    from vaetheory.empirical.policies import POLICY_REGISTRY
    from vaetheory.plots.style import (
        FLOOR_METHOD_MARKERS,
        policy_color,
        policy_gid,
        power_of_ten,
        xi_color,
        xi_gid,
        xi_label,
    )

    keys, styles = {}, {}
    for name, fields in rows.items():
        if fields.get("likelihood") == "bernoulli":
            keys[name] = "bernoulli"
            styles[name] = {"color": policy_color("bernoulli"), "gid": policy_gid("bernoulli")}
            styles[name]["label"] = "Bernoulli (binarised)"
            continue
        cls = POLICY_REGISTRY[fields["variance"]]
        keys[name] = cls.colour_key
        xi = fields.get("floor_variance")
        if fields["variance"] == "floor" and xi is not None:
            method = fields.get("floor_method", "clamp")
            styles[name] = {
                "color": xi_color(xi),
                "gid": xi_gid(xi),
                "marker": FLOOR_METHOD_MARKERS.get(method, "o"),
                "label": f"{method.replace('_', ' ')}, {xi_label(xi)}",
            }
            continue
        label = _LABELS.get(name)
        if label is None and fields["variance"] == "fixed":
            label = rf"fixed $\sigma = {power_of_ten(fields.get('sigma', 1.0))[1:-1]}$"
        styles[name] = {
            "color": policy_color(cls.colour_key),
            "gid": policy_gid(cls.colour_key),
            "label": label or name.replace("_", " "),
        }
    return keys, styles


#: math labels of the rows that are not floors (a row not listed is labelled by its name)
_LABELS = {
    "learned": r"learned $\sigma^2$",
    "fixed": r"fixed $\sigma = 1$",
    "shared": r"shared $\sigma^2$",
    "calibrated": r"calibrated $\sigma^2$",
    "student_t": r"Student-t ($\nu = 3$)",
    "student_t_learned_dof": r"Student-t (learned $\nu$)",
    "beta_nll": r"$\beta$-NLL ($\beta = 0.5$)",
    "beta_nll_1": r"$\beta$-NLL ($\beta = 1$)",
    "faithful": "faithful",
    "discretised": "discretised Gaussian",
    "dequantised": "dequantised Gaussian",
    "quantile": "quantile regression",
}


def remedies_caption(study: dict, styles: dict) -> str:
    """What the remedies figure draws and the numbers on it (from the study's table)."""
    import re

    s = study["settings"]

    def plain(label: str) -> str:
        text = label.replace(r"\sigma", "sigma").replace(r"\nu", "nu").replace(r"\beta", "beta")
        text = text.replace(r"\xi", "xi")
        text = re.sub(r"\^\{([^}]*)\}", r"^\1", text)
        return re.sub(r"[${}\\]", "", text)

    drawn = [
        r
        for r in study["table"]
        if r.get("heldout_loglik") is not None and r.get("heldout_data") == "dequantised"
    ]
    points = "; ".join(
        f"{plain(styles[r['name']]['label'])} {r['heldout_loglik']:.1f} nats, RMSE {r['rmse']:.3f}"
        + ("" if r["bounded"] else " (unbounded)")
        for r in drawn
    )
    others = [r["name"] for r in study["table"] if r not in drawn]
    text = (
        f"Remedies on dequantised digits (latent {s['latent']}, {s['steps']} Adam steps, seed {s['seed']}). "
        "(a) Held-out log-likelihood L_K (importance-weighted, nats per point) against the held-out RMSE of "
        "the decoder mean, one marker per remedy: filled when the theory bounds its likelihood, open when "
        "not. (b) The smallest decoder variance in each logged batch against the step (log axis). Colours: "
        "one per remedy; the floors share the colour of their xi and differ by marker. Measured: "
        f"{points}."
    )
    if others:
        text += (
            " Not in (a): " + ", ".join(others) + " (their held-out number is not a density of the "
            "dequantised data)."
        )
    return text


def remedies_figure(out_stem: Path, study: dict) -> list[Path]:
    """Draw and save the held-out log-likelihood vs RMSE and the variance vs steps of ``study``."""
    from vaetheory.plots.remedies import draw_remedies
    from vaetheory.plots.style import save_figure
    from vaetheory.studies.remedies.study import ROWS

    keys, styles = row_styles(ROWS)
    fig = draw_remedies(study["table"], study["series"], keys, styles=styles)
    data = {
        "table": study["table"],
        "series": study["series"],
        "colour_keys": keys,
        "colours": {n: st["color"] for n, st in styles.items()},
    }
    caption = remedies_caption(study, styles)
    return save_figure(fig, out_stem, study["provenance"], data, caption=caption)


__all__ = ["remedies_caption", "remedies_figure", "row_styles"]
