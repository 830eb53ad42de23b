"""The training report a person reads: one HTML page per training, beside the model cards,
with its pictures inline (ROC, precision-recall and calibration curves, the lead-time
histogram, each signal's learnt direction and weight) and the data summary.

Self-contained (the pictures are PNG data URIs), so it opens from MODEL_DIR on any machine.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

if TYPE_CHECKING:
    from .judging import Judged


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _curves(y: np.ndarray, scores: Mapping[str, np.ndarray]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pictures = []
    fig, (roc, pr, cal) = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, p in scores.items():
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, p)
        roc.plot(fpr, tpr, label=name)
        precision, recall, _ = precision_recall_curve(y, p)
        pr.plot(recall, precision, label=name)
    roc.plot([0, 1], [0, 1], ":", color="grey")
    roc.set(title="ROC, judged set", xlabel="false positive rate", ylabel="true positive rate")
    pr.set(title="Precision-recall, judged set", xlabel="recall", ylabel="precision")
    model = scores.get("model")
    if model is not None:
        bins = np.linspace(0, 1, 11)
        index = np.clip(np.digitize(model, bins) - 1, 0, 9)
        seen = [b for b in range(10) if (index == b).any()]
        cal.plot([0, 1], [0, 1], ":", color="grey")
        cal.plot(
            [model[index == b].mean() for b in seen],
            [y[index == b].mean() for b in seen],
            "o-",
            label="model",
        )
    cal.set(title="Calibration", xlabel="predicted probability", ylabel="observed share")
    for panel in (roc, pr, cal):
        if panel.get_legend_handles_labels()[0]:  # a set of one class draws no curve
            panel.legend(loc="best")
    pictures.append(("Curves on the judged set", _png(fig)))
    plt.close(fig)
    return pictures


def _bars(title: str, labels: list[str], values: list[float], xlabel: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.32 * len(labels) + 1.2))
    colors = ["#c0392b" if v > 0 else "#2471a3" for v in values]
    ax.barh(labels, values, color=colors)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set(title=title, xlabel=xlabel)
    ax.invert_yaxis()
    picture = _png(fig)
    plt.close(fig)
    return picture


def _histogram(lead_days: np.ndarray, horizon_days: float, level: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.hist(lead_days, bins=list(np.arange(0, horizon_days + 2) - 0.5), color="#1e8449")
    ax.set(
        title=f"Lead time: days before a failure its {horizon_days:g}-day risk first reached "
        f"{level}",
        xlabel=f"days of warning, within the {horizon_days:g}-day horizon (0: none)",
        ylabel="failures",
    )
    picture = _png(fig)
    plt.close(fig)
    return picture


def _table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    columns = sorted({c for row in rows.values() for c in row} - {"note"})
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["", *columns])
    body = "".join(
        "<tr><th>"
        + html.escape(name)
        + "</th>"
        + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns)
        + "</tr>"
        for name, row in rows.items()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _pairs(values: Mapping[str, Any], meanings: Mapping[str, str] | None = None) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k.replace('_', ' '))}</th><td>{_cell(v)}</td>"
        f"<td>{html.escape((meanings or {}).get(k, ''))}</td></tr>"
        for k, v in values.items()
    )
    return f"<table>{rows}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4f}"
    return html.escape("" if value is None else str(value))


# What each count of the data summary is, so that two that differ say why.
MEANINGS: Final = {
    "rows_read": "readings in the files",
    "rejected_rows": "left out for breaking the format (within --max-bad-rows)",
    "rows": "readings accepted: read minus rejected",
    "sampled_rows": "accepted readings kept for training (all, unless the history is sampled)",
    "positive_share": "share of accepted readings out of service now or within the horizon",
}


def render_report(
    *,
    title: str,
    summary: Mapping[str, Any],
    judged: Judged,
    split: str,
    versions: Mapping[str, str],
    warnings: Sequence[str],
    horizon_days: float,
    forced: bool,
) -> str:
    """The page a person reads after a training."""
    lead = judged.lead_summary
    pictures = _curves(judged.y_judged, judged.scores_judged)
    pictures.append(("Lead time", _histogram(judged.leads, horizon_days, lead["warning_level"])))
    pictures.append(("Each signal's learnt weight", _weights(judged.signals)))
    sections = "".join(
        f"<h2>{html.escape(name)}</h2>{_table(rows)}{_notes(rows)}"
        for name, rows in judged.evaluations.items()
    )
    images = "".join(
        f'<h2>{html.escape(caption)}</h2><img alt="{html.escape(caption)}" src="{uri}">'
        for caption, uri in pictures
    )
    verdict = judged.verdict + ("; written with --force" if forced else "")
    cautions = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px}}
img{{max-width:100%}}.verdict{{font-size:1.2em;padding:.5em;background:#eef}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p class="verdict">{html.escape(verdict)}</p>
<p>Split: {html.escape(split)}.</p>
<h2>Releases registered</h2>{_pairs(versions)}
<h2>Data</h2>{_pairs(summary, MEANINGS)}
{sections}<h2>Lead time (within the {horizon_days:g}-day horizon)</h2>{_pairs(lead)}{images}
<h2>Warnings while training</h2><ul>{cautions or "<li>none</li>"}</ul></body></html>
"""


def _weights(signals: Mapping[str, tuple[int, float]]) -> str:
    direction = {1: "+", -1: "-", 0: "free"}
    return _bars(
        "Mean log-odds each signal adds on readings that failed (red raises risk)",
        [f"{name} ({direction[sign]})" for name, (sign, _) in signals.items()],
        [weight for _, weight in signals.values()],
        "log-odds",
    )


def _notes(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """Why a row reads n/a, under its table."""
    notes = sorted({str(row["note"]) for row in rows.values() if "note" in row})
    return "".join(f"<p><em>n/a: {html.escape(note)}</em></p>" for note in notes)
