"""Fault tests record what they measured (recovery times, tasks lost) for the README."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

REPORT = Path(__file__).resolve().parents[2] / ".reports" / "faults.json"


@pytest.fixture(scope="session")
def fault_report() -> Iterator[dict]:
    report: dict = {}
    yield report
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True))
