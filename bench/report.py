"""Write a run's figures: JSON, a markdown report and a PNG, one titled panel per group."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path
from typing import Any, NamedTuple

from bench.common import Figure

RESULTS = Path(__file__).parent / "results"

GROUPS: tuple[tuple[str, frozenset[int]], ...] = (
    ("Task path against a stock Celery worker", frozenset({2, 3, 15, 16, 17})),
    ("Cache hits against raw redis-py and peer caches", frozenset({1, 18, 19})),
    ("Fleet path", frozenset({4, 14})),
    ("Models", frozenset({11, 12, 13, 22})),
    ("Reliability and operations", frozenset({5, 6, 7, 9, 10, 20})),
    ("Client start", frozenset({21})),
    ("Freshness: hit rates with refresh-ahead", frozenset({8})),
    ("Model releases", frozenset({27, 28, 29})),
)


class Row(NamedTuple):
    """A row of an issue's table: what the issue measured before, and the figure that
    measures it now."""

    path: str
    before: str
    key: str


ISSUE_15: tuple[Row, ...] = (
    Row(
        "no-op task round trip p50 vs stock Celery no-op",
        "1.37x (6.61 vs 4.82 ms)",
        "echo-vs-stock",
    ),
    Row(
        "cache-hit prediction task round trip p50 vs stock no-op", "1.58x (7.63 ms)", "hit-vs-stock"
    ),
    Row(
        "SyncCacheService hit p50 vs raw GET + json.loads", "1.13-1.20x (dogpile 1.13x)", "hit-sync"
    ),
    Row(
        "async CacheService hit p50 vs raw redis.asyncio",
        "1.14x (cashews 1.24x, aiocache 1.17x)",
        "hit-async",
    ),
    Row("fleet cold vs raw pipelined SET EX", "0.21x (11,300 vs 53,600 /s)", "fleet-cold-vs-setex"),
    Row("fleet warm vs raw pipelined SET EX", "0.40x (21,500 /s)", "fleet-warm-vs-setex"),
    Row("failure model batch vs bare predict_proba", "~0.03x (23,500 rows/s)", "failure-batch"),
)

# Quick mode shrinks these on purpose; a miss there says nothing about the full run.
QUICK_BY_DESIGN: dict[str, str] = {
    "fleet-": "5,000 chargers, not 100,000: the fixed cost of starting chunks weighs 20x more",
    "hit-rate:": "10 s of scaled time, not 60 s: the cold first TTL is a larger share",
    "failure-batch": "1,000 rows, not 10,000: per-call costs are spread over fewer rows",
    "-batch-vs-single": "1,000 rows, not 10,000",
}


def by_design(figure: Figure, mode: str) -> str | None:
    if mode != "quick":
        return None
    return next((why for key, why in QUICK_BY_DESIGN.items() if key in figure.key), None)


def verdict(figure: Figure, mode: str) -> str:
    if figure.met is None:
        return "reported"
    if figure.met:
        return "met"
    return "missed (quick mode, by design)" if by_design(figure, mode) else "**MISSED**"


def _amount(value: float | None, unit: str) -> str:
    return "" if value is None else f"{value:,.2f} {unit}"


def _ratio(figure: Figure) -> str:
    return "" if figure.ratio is None else f"{figure.ratio:,.2f}x"


def tables(figures: list[Figure], mode: str, level: str = "##") -> list[str]:
    """The issue table and one table per group, as markdown lines."""
    lines = [
        f"{level} Issue 15: before and now",
        "",
        "| path | before (issue 15) | now | target | result |",
        "|---|---|---|---|---|",
    ]
    keyed = {f.key: f for f in figures}
    for row in ISSUE_15:
        f = keyed.get(row.key)
        now = "not run" if f is None else f"{_ratio(f)} ({_amount(f.ours, f.unit)})"
        target = "" if f is None else f.target
        lines.append(
            f"| {row.path} | {row.before} | {now} | {target} | "
            f"{'' if f is None else verdict(f, mode)} |"
        )
    for title, numbers in GROUPS:
        members = [f for f in figures if f.number in numbers]
        if not members:
            continue
        lines += [
            "",
            f"{level} {title}",
            "",
            "| # | figure | ours | baseline | ratio | target | result |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in sorted(members, key=lambda f: f.number):
            lines.append(
                f"| {f.number} | {f.name} | {_amount(f.ours, f.unit)} | "
                f"{_amount(f.baseline, f.unit)} | {_ratio(f)} | {f.target} | {verdict(f, mode)} |"
            )
    return lines


def markdown(figures: list[Figure], meta: dict[str, Any]) -> str:
    mode = meta["mode"]
    lines = [
        f"# chargewatch benchmark: {mode} run, {meta['when']}",
        "",
        f"Machine: {meta['machine']}. Every figure is measured next to its baseline in the"
        " same run."
        + (
            " **Quick mode: smaller sizes; see the notes on misses by design.**"
            if mode == "quick"
            else ""
        ),
        "",
        *tables(figures, mode),
    ]
    notes = [f"- #{f.number} {f.name}: {f.notes}" for f in figures if f.notes]
    designed = [
        f"- #{f.number} {f.name}: {by_design(f, mode)}"
        for f in figures
        if f.met is False and by_design(f, mode)
    ]
    if designed:
        lines += ["", "## Misses by design in quick mode", "", *designed]
    return "\n".join([*lines, "", "## Notes", "", *notes, ""])


# The README's figures are this block, rendered from the last full run's JSON: one source.
README = RESULTS.parent.parent / "README.md"
BEGIN, END = "<!-- figures: begin (python -m bench.report --readme) -->", "<!-- figures: end -->"


def load(path: Path = RESULTS / "latest.json") -> tuple[list[Figure], dict[str, Any]]:
    """The figures and meta of a written run."""
    payload = json.loads(path.read_text())
    return [Figure(**f) for f in payload["figures"]], payload["meta"]


def readme_block(figures: list[Figure], meta: dict[str, Any]) -> str:
    """What stands between the README's markers."""
    head = (
        f"The last full run ({meta['when'][:10]}, {meta['machine']}), as "
        "[`bench/results/latest.md`](bench/results/latest.md) reports it:"
    )
    return "\n".join([BEGIN, head, "", *tables(figures, meta["mode"], "####"), END])


def update_readme(readme: Path = README) -> bool:
    """Rewrite the README's figures block from latest.json; True when it changed."""
    text = readme.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + readme_block(*load()) + text[end:]
    readme.write_text(updated)
    return updated != text


def _target_ratio(target: str) -> float | None:
    match = re.match(r"\s*[<>]=?\s*([0-9.]+)x", target)
    return float(match.group(1)) if match else None


def plot(figures: list[Figure], path: Path, meta: dict[str, Any]) -> None:
    """One panel per group (ours / baseline per figure, target marked), then latency
    distributions of the figures that kept their samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(t, [f for f in figures if f.number in n]) for t, n in GROUPS]
    groups = [(t, members) for t, members in groups if members]
    dists = [f for f in figures if "samples" in f.extra]
    heights = [1.2 + 0.55 * len(members) for _, members in groups] + [3.2 * ((len(dists) + 2) // 3)]
    fig = plt.figure(figsize=(15, sum(heights)), layout="constrained")
    quick = meta["mode"] == "quick"
    fig.suptitle(
        f"chargewatch benchmark, {meta['mode']} run, {meta['when']}"
        + ("\nQUICK MODE: smaller sizes; misses marked by design in the report" if quick else ""),
        fontsize=14,
        color="darkred" if quick else "black",
    )
    panels = fig.subfigures(len(heights), 1, height_ratios=heights)
    for panel, (title, members) in zip(panels, groups, strict=False):
        _group_panel(panel, title, members, meta["mode"])
    if dists:
        _distributions(panels[-1], dists)
    fig.savefig(path, dpi=100)
    plt.close(fig)


COLOURS = {True: "tab:green", False: "tab:red", None: "tab:gray"}


def _group_panel(panel: Any, title: str, members: list[Figure], mode: str) -> None:
    ax = panel.subplots()
    panel.suptitle(title, fontsize=12, fontweight="bold", x=0.01, ha="left")
    labels, ratios, colours = [], [], []
    for f in members:
        against = "" if f.baseline is None else f"\n    vs {f.baseline_label}"
        labels.append(f"#{f.number} {f.ours_label}{against}")
        ratios.append(f.ratio if f.ratio is not None else 0.0)
        colour = COLOURS[f.met]
        if f.met is False and by_design(f, mode):
            colour = "tab:orange"
        colours.append(colour)
    ys = list(range(len(members)))[::-1]
    ax.barh(ys, ratios, color=colours, height=0.6)
    for y, f in zip(ys, members, strict=True):
        value = f"{f.ours:,.3g} {f.unit}" + (
            f" / {f.baseline:,.3g} {f.unit} = {f.ratio:,.2f}x" if f.ratio is not None else ""
        )
        ax.text(
            max(f.ratio or 0, 0) * 1.02 + 0.01, y, f"{value}  [{f.target}]", va="center", fontsize=7
        )
        target = _target_ratio(f.target)
        if target is not None and f.ratio is not None:
            ax.plot([target, target], [y - 0.4, y + 0.4], color="black", linewidth=2)
    ax.set_yticks(ys, labels, fontsize=7)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel(
        "ratio: ours / baseline (x; black tick = target; green met, red missed, "
        "orange missed by design in quick mode, grey reported)",
        fontsize=8,
    )


def _distributions(panel: Any, dists: list[Figure]) -> None:
    import numpy as np

    panel.suptitle("Latency distributions", fontsize=12, fontweight="bold", x=0.01, ha="left")
    columns = 3
    axes = panel.subplots((len(dists) + columns - 1) // columns, columns, squeeze=False).ravel()
    for ax, f in zip(axes, dists, strict=False):
        values = [v for series in f.extra["samples"].values() for v in series if v > 0]
        low, high = min(values), max(values)  # some calls take well under a microsecond
        bins = np.logspace(np.log10(low), np.log10(max(high, low * 1.01)), 60)
        for name, series in f.extra["samples"].items():
            ax.hist(series, bins=bins, alpha=0.5, label=name)
        ax.set_xscale("log")
        ax.set_xlabel(f"latency ({f.unit}, log scale)", fontsize=7)
        ax.set_ylabel("calls", fontsize=7)
        ax.set_title(f"#{f.number} {f.name}", fontsize=8)
        ax.legend(fontsize=6)
    for ax in axes[len(dists) :]:
        ax.set_visible(False)


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
    plot(figures, RESULTS / f"{stem}.png", meta)
    if mode == "full":
        update_readme()
    return RESULTS / f"{stem}.md"


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--readme"]:
        sys.exit("usage: python -m bench.report --readme  (the README's figures from latest.json)")
    print("README updated" if update_readme() else "README already up to date")
