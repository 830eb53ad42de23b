"""Write a run's figures: JSON, a markdown table, and a PNG plot."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from bench.common import Figure

RESULTS = Path(__file__).parent / "results"


def verdict(figure: Figure) -> str:
    if figure.met is None:
        return "reported"
    return "met" if figure.met else "**MISSED**"


def markdown(figures: list[Figure], meta: dict[str, Any]) -> str:
    lines = [
        f"# chargewatch benchmark ({meta['mode']} mode, {meta['when']})",
        "",
        f"Machine: {meta['machine']}. Each figure is measured next to its baseline in the"
        " same run.",
        "",
        "| # | figure | ours | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in sorted(figures, key=lambda f: f.number):
        base = "" if f.baseline is None else f"{f.baseline:,.2f} {f.unit}"
        ratio = "" if f.ratio is None else f"{f.ratio:,.2f}x"
        lines.append(
            f"| {f.number} | {f.name} | {f.ours:,.2f} {f.unit} | {base} | {ratio} | "
            f"{f.target} | {verdict(f)} |"
        )
    notes = [f"- figure {f.number}: {f.notes}" for f in figures if f.notes]
    return "\n".join([*lines, "", *notes, ""])


def plot(figures: list[Figure], path: Path) -> None:
    """Latency distributions (where samples were kept) and throughput bars."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dists = [(f, f.extra["samples"]) for f in figures if "samples" in f.extra]
    rates = [f for f in figures if f.unit.endswith("/s")]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    left, right = axes
    everything = [v for _, samples in dists for values in samples.values() for v in values]
    if everything:
        bins = np.logspace(np.log10(max(min(everything), 1)), np.log10(max(everything)), 80)
    for figure, samples in dists:
        for label, values in samples.items():
            left.hist(values, bins=bins, alpha=0.5, label=f"#{figure.number} {label}")
    left.set_xscale("log")
    left.set_xlabel("latency (us, log scale)")
    left.set_title("latency distributions")
    if dists:
        left.legend(fontsize=7)
    labels, ours, base = [], [], []
    for f in rates:
        labels.append(f"#{f.number}")
        ours.append(f.ours)
        base.append(f.baseline or 0)
    xs = range(len(labels))
    right.bar([x - 0.2 for x in xs], ours, width=0.4, label="ours")
    right.bar([x + 0.2 for x in xs], base, width=0.4, label="baseline")
    right.set_xticks(list(xs), labels)
    right.set_yscale("log")
    right.set_title("throughput (items/s)")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(figures: list[Figure], mode: str, when: str) -> Path:
    """bench/results/latest.* for a full run, quick.* for a quick one."""
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "mode": mode,
        "when": when,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    # Raw latency samples go to the plot, not into the JSON.
    payload = {
        "meta": meta,
        "figures": [
            {**f.as_dict(), "extra": {k: v for k, v in f.extra.items() if k != "samples"}}
            for f in figures
        ],
    }
    stem = "latest" if mode == "full" else "quick"
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2, default=str))
    (RESULTS / f"{stem}.md").write_text(markdown(figures, meta))
    plot(figures, RESULTS / f"{stem}.png")
    return RESULTS / f"{stem}.md"
