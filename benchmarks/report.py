"""The Markdown table of a benchmark run, generated from its JSON (results.json).

``render_markdown(results)`` gives the table and the machine it ran on; ``update_readme`` puts it
in the README's ``## Performance`` section (replacing only that section). From the command line::

    python -m benchmarks.report                      # print the table of benchmarks/results.json
    python -m benchmarks.report --readme README.md   # regenerate the README's Performance section
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SECTION_TITLE = "## Performance"

_INTRO = (
    "What vaetheory costs, against the route a user would take without it. `python -m benchmarks` "
    "runs every benchmark and writes `benchmarks/results.json` and `benchmarks/results.md` "
    "(`--smoke`: a seconds-long check that each runs, written to a temporary directory; `--only NAME`; "
    "`--threads N`). Each row compares vaetheory's route with a baseline measured in the same "
    "process in the same run (interleaved repeats, medians); the ratio column says which way it "
    "reads. Training sweeps: `vaetheory.empirical.sweep.train_sweep` trains K runs of one "
    "architecture (differing in seed, beta, floor or fixed sigma) at once with stacked weights, "
    "and gives the numbers of K sequential runs (`tests/empirical/test_sweep.py`). This section is generated "
    "by `python -m benchmarks.report --readme README.md` from the committed results."
)


def format_value(value: float, unit: str) -> str:
    """A number with its unit, seconds shown in s, ms or us and bytes in MiB."""
    if unit == "s":
        if value >= 1.0:
            return f"{value:.3g} s"
        if value >= 1e-3:
            return f"{value * 1e3:.3g} ms"
        return f"{value * 1e6:.3g} us"
    if unit == "bytes":
        return f"{value / 2**20:.3g} MiB"
    return f"{value:.3g} {unit}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: dict[str, Any]) -> str:
    """The table of ``results`` (a loaded results.json) with the machine line under it."""
    lines = [
        "| benchmark | vaetheory | baseline | ratio | goal | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["rows"]:
        ours, base = row["ours"], row["baseline"]
        met = {True: "yes", False: "**no**", None: "-"}[row.get("goal_met")]
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    row["name"],
                    f"{ours['label']}: {format_value(ours['median'], ours['unit'])}",
                    f"{base['label']}: {format_value(base['median'], base['unit'])}",
                    f"{row['ratio']:.3g} ({row['ratio_meaning']})",
                    row.get("goal") or "-",
                    met,
                )
            )
            + " |"
        )
    for err in results.get("errors", []):
        lines.append(f"| {_cell(err['benchmark'])} | failed: {_cell(err['error'])} | - | - | - | **no** |")
    m = results["machine"]
    lines += [
        "",
        (
            f"Machine: {m['cpu_model']}, {m['usable_cores']} usable cores ({m['cpu_count']} logical), "
            f"{m.get('memory_gib')} GiB; Python {m['python']}, torch {m['torch']} "
            f"({m['torch_threads']} threads), numpy {m['numpy']}, scipy {m['scipy']}, "
            f"sympy {m['sympy']}; flush-denormal on; "
            f"OMP_WAIT_POLICY {m.get('omp_wait_policy_env') or 'unset (default)'}. "
            "Load average (1/5/15 min) at start "
            f"{m.get('load_average_start')}, at end {m.get('load_average_end')}. "
            f"Run: {results['mode']} mode, {m['date_utc']}, commit "
            f"{(results.get('provenance') or {}).get('git_commit') or 'unknown'}."
        ),
    ]
    notes = [(row["name"], note) for row in results["rows"] for note in row_notes(row)]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- *{name}*: {note}" for name, note in notes]
    return "\n".join(lines)


def row_notes(row: dict[str, Any]) -> list[str]:
    """Facts from a row's details worth a line under the table (computed from the JSON, never typed)."""
    d = row.get("details") or {}
    out = []
    if d.get("note"):
        out.append(d["note"])
    mixed = d.get("bare_loop_with_GaussianVAE_steps_per_s")
    if mixed and row["ours"]["unit"] == "steps/s":
        ours, bare = row["ours"]["median"], row["baseline"]["median"]
        out.append(
            f"the bare loop driving vaetheory's GaussianVAE (model.elbo) runs {mixed:.0f} steps/s: "
            f"the model accounts for {bare / mixed:.2f}x of the overhead ("
            + d.get(
                "model_overhead_cause",
                "separate mean and variance heads: 6 linear layers to the bare model's 4; "
                "Normal.log_prob's sqrt, square and log of the variance; kl_divergence",
            )
            + f"), train()'s loop for {mixed / ours:.2f}x (finiteness "
            "checks of loss, gradients and parameters every step; logging; checkpoints)"
        )
    if "flops_per_step" in d and row["ours"]["unit"] == "GFLOP/s":
        out.append(
            f"{d['flops_per_step'] / 1e6:.3g} MFLOP per step (forward + backward matmuls, FlopCounterMode), "
            f"batch {d.get('batch_size')}, hidden {d.get('hidden')}"
        )
    if "max_abs_difference_nats" in d:
        out.append(
            f"largest per-point difference between the two routes: {d['max_abs_difference_nats']:.2g} nats"
        )
    if "adam_steps" in d:
        out.append(
            f"Adam (lr {d['adam_learning_rate']:g}) took {d['adam_steps']} steps to come within "
            f"{d['adam_final_gap_nats']:.2g} nats per point of the closed-form optimum "
            f"{d['optimum_elbo_per_point']:.6g}"
        )
    if "max_abs_loss_difference_vs_sequential" in d:
        out.append(
            f"{d['runs']} runs x {d['steps']} steps; largest |loss difference| between train_sweep and "
            f"train_sequential (GaussianVAE): {d['max_abs_loss_difference_vs_sequential']:.2g} nats"
        )
    if "max_abs_difference_ours_vs_naive" in d:
        out.append(
            "same generator and draw order: largest per-point difference "
            f"{d['max_abs_difference_ours_vs_naive']:.2g} nats"
        )
    return out


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    """Replace the README's ``## Performance`` section (or append it) with the table of ``results``."""
    text = readme.read_text(encoding="utf-8")
    section = f"{SECTION_TITLE}\n\n{_INTRO}\n\n{render_markdown(results)}\n"
    start = text.find(f"\n{SECTION_TITLE}\n")
    if start < 0:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        start += 1
        nxt = text.find("\n## ", start + len(SECTION_TITLE))
        rest = "" if nxt < 0 else text[nxt:]
        new = text[:start] + section + rest
    readme.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path(__file__).resolve().parent / "results.json")
    parser.add_argument("--readme", type=Path, default=None, help="update this README's Performance section")
    parser.add_argument("--md", type=Path, default=None, help="(re)write the Markdown table to this file")
    args = parser.parse_args(argv)
    results = json.loads(args.json.read_text(encoding="utf-8"))
    if args.readme is not None:
        update_readme(args.readme, results)
    if args.md is not None:
        args.md.write_text(render_markdown(results) + "\n", encoding="utf-8")
    if args.readme is None and args.md is None:
        print(render_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
