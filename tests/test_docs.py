"""Every setting is documented where a user looks for it: `.env.example` and the README's
configuration table (pure text, no services)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import report
from models.telemetry.schema import ChargerMetrics, parse_metrics
from tasks.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent


def configuration_table() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `"))


@pytest.mark.parametrize("name", sorted(AppSettings.model_fields))
def test_every_setting_is_in_env_example_and_the_readme(name: str) -> None:
    variable = name.upper()
    example = (ROOT / ".env.example").read_text()
    assert re.search(rf"^{variable}=", example, re.MULTILINE), f"{variable} not in .env.example"
    assert f"`{variable}`" in configuration_table(), f"{variable} not in the README's table"


def telemetry_table() -> dict[str, str]:
    """README's telemetry table: field -> its `required` cell."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Telemetry fields", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `")]
    return {row[1].strip().strip("`"): row[-2].strip() for row in rows}


def test_the_readme_lists_every_telemetry_field_and_whether_it_is_required() -> None:
    fields = ChargerMetrics.model_fields
    table = telemetry_table()
    assert set(table) == set(fields)
    for name, info in fields.items():
        assert table[name].startswith("yes" if info.is_required() else "no"), name


def test_the_example_metrics_file_is_valid_telemetry() -> None:
    doc = json.loads((ROOT / "examples" / "metrics.json").read_text())
    assert parse_metrics(doc).charger_id == doc["charger_id"]


def test_the_readme_figures_are_the_bench_reports() -> None:
    """One source: the README's benchmark block is rendered from bench/results/latest.json."""
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(report.BEGIN), readme.index(report.END) + len(report.END)
    assert readme[start:end] == report.readme_block(*report.load()), (
        "run `python -m bench.report --readme`"
    )
