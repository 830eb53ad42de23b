"""Training from a fleet history as an operator runs it (`chargewatch simulate`, `chargewatch
train --data`, `python -m models.train --data`): exit codes, the quality gate, nothing
half-written, the card and the report (opened in a real browser)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from releases.disk.artifacts import artifact_path
from releases.disk.cards import card_path
from releases.disk.registry import Registry
from vocabulary import TYPE_NAMES

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "fleet-history"
CHROMIUM = shutil.which("chromium")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    chargewatch = Path(sys.executable).with_name("chargewatch")
    return subprocess.run(
        [str(chargewatch), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def reports(models: Path) -> list[Path]:
    """Every training's report, oldest first."""
    return sorted((models / "reports").glob("report-*.html"))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet") / "history"
    done = run("simulate", "--out", str(out), "--chargers", "400", "--days", "150", "--seed", "5")
    assert done.returncode == 0, done.stderr
    assert "wrote 400 chargers x 150 days" in done.stdout
    return out


def newest(models: Path, name: str) -> Path:
    """The folder of a type's newest release."""
    return Registry(models).releases(name)[-1].folder


def test_simulate_then_train_from_the_files(simulated: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    done = run("train", "--data", str(simulated), "--model-dir", str(models))
    assert done.returncode == 0, done.stderr
    assert "beats the rule" in done.stdout
    for name in TYPE_NAMES:
        assert artifact_path(newest(models, name), name).exists()
    card = json.loads(card_path(newest(models, "failure"), "failure").read_text())
    assert card["training"]["source"] == str(simulated)
    assert card["dataset"]["chargers"] == 400 and card["dataset"]["rows"] == 400 * 150
    assert card["quality_gate"]["passed"] and not card["quality_gate"]["forced"]
    evaluation = card["evaluation"]
    window = next(iter(evaluation.values()))
    assert {"model", "rule"} <= set(window)
    assert {"roc_auc", "pr_auc", "brier", "calibration_error", "precision_top_5pct"} <= set(
        window["model"]
    )
    assert card["lead_time"]["failures_judged"] > 0
    assert card["split"].startswith("time split")
    # A second training (another seed: another release) judges itself against the champion
    # too, and registers beside it without deploying (the first stays the champion).
    again = run("train", "--data", str(simulated), "--model-dir", str(models), "--seed", "7")
    assert again.returncode == 0, again.stderr
    releases = Registry(models).releases("failure")
    assert len(releases) == 2 and Registry(models).first("failure") == releases[0].version
    card = json.loads(card_path(releases[1].folder, "failure").read_text())
    assert "deployed release" in next(iter(card["evaluation"].values()))
    # Each training's report is kept: the second never writes over the first's.
    assert len(reports(models)) == 2 and len({r.read_text() for r in reports(models)}) == 2
    # scikit-learn's warnings go to the card and the report, never to the terminal.
    assert "Warning" not in done.stderr + again.stderr


def test_the_shipped_example_trains_with_a_split_that_fits_it(tmp_path: Path) -> None:
    """The README's own command: 60 days of 12 chargers are too short for a time split with a
    30-day horizon; training says so and judges on held-out chargers instead."""
    models = tmp_path / "models"
    done = run("train", "--data", str(EXAMPLE), "--model-dir", str(models), "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "too short for a time split" in done.stdout
    assert "judged on held-out chargers over the whole history" in done.stdout
    card = json.loads(card_path(newest(models, "failure"), "failure").read_text())
    assert card["split"].endswith("judged on held-out chargers over the whole history instead")
    assert len(reports(models)) == 1


def test_training_without_a_cache_says_so_in_one_line(tmp_path: Path) -> None:
    """No stack running: no connection errors, no breaker in the output; one line says what
    retention does without the alias states."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    done = run(
        "train",
        "--data",
        str(EXAMPLE),
        "--model-dir",
        str(tmp_path / "models"),
        "--force",
        env={"REDIS_URL": f"redis://127.0.0.1:{port}"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "the cache does not answer: retention keeps" in output
    assert "circuit breaker" not in output.lower() and "Cache get error" not in output


def test_a_broken_dataset_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    data = tmp_path / "broken"
    data.mkdir()
    (data / "telemetry.csv").write_text(
        "charger_id,timestamp,connector_status,energy_delivered,power,temperature,"
        "uptime_hours,total_sessions\n"
        "CHG_1,2026-01-01T00:00:00Z,Available,1,0,20,10,1\n"
        "CHG_1,not-a-time,Available,1,0,twenty,10,1\n"
    )
    (data / "events.csv").write_text("charger_id,timestamp,kind\nCHG_1,2026-01-02T00:00:00Z,fire\n")
    done = run("train", "--data", str(data), "--model-dir", str(tmp_path / "models"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert any("telemetry.csv, row 2, column timestamp: 'not-a-time'" in line for line in lines)
    assert any("telemetry.csv, row 2, column temperature: 'twenty'" in line for line in lines)
    assert any(
        "events.csv, row 1, column kind: unknown event kind 'fire'" in line for line in lines
    )
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def rule_perfect(folder: Path, chargers: int = 80, days: int = 150) -> Path:
    """A fleet whose chargers are Faulted for the 30 days before each failure and never else:
    the rule baseline is perfect, so no model can beat it."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    rows = [
        "charger_id,timestamp,connector_status,energy_delivered,power,temperature,"
        "uptime_hours,total_sessions"
    ]
    events = ["charger_id,timestamp,kind"]
    for c in range(chargers):
        fails = int(rng.integers(40, days - 5))
        for d in range(days):
            status = "Faulted" if fails - 30 <= d <= fails + 1 else "Available"
            when = (START + dt.timedelta(days=d, hours=12)).isoformat()
            rows.append(f"CHG_{c},{when},{status},10,0,{20 + rng.normal():.2f},{1000 + d},5")
        events.append(f"CHG_{c},{(START + dt.timedelta(days=fails, hours=13)).isoformat()},failure")
        events.append(f"CHG_{c},{(START + dt.timedelta(days=fails + 2)).isoformat()},repair")
    (folder / "telemetry.csv").write_text("\n".join(rows) + "\n")
    (folder / "events.csv").write_text("\n".join(events) + "\n")
    return folder


def test_a_model_that_does_not_beat_the_rule_is_not_written(tmp_path: Path) -> None:
    data = rule_perfect(tmp_path / "rule")
    models = tmp_path / "models"
    refused = run("train", "--data", str(data), "--model-dir", str(models))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "does NOT beat the rule" in refused.stderr
    assert not models.exists() or not any(models.iterdir())  # nothing half-written
    forced = run("train", "--data", str(data), "--model-dir", str(models), "--force")
    assert forced.returncode == 0, forced.stderr
    card = json.loads(card_path(newest(models, "failure"), "failure").read_text())
    assert card["quality_gate"] == {**card["quality_gate"], "passed": False, "forced": True}
    assert [p.name for p in models.rglob(".*")] == []  # no staging folder left


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs it)")
def test_the_report_opens_in_a_browser_with_its_pictures(trained: tuple[Path, dict]) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    report = reports(trained[0])[-1]
    text = report.read_text()
    assert "<td>n/a</td>" not in text or "no AUC: the set holds one class only" in text
    assert text.count("data:image/png;base64,") >= 3
    assert trained[1]["failure"]["dataset"]["sha256"] in text  # which data made it
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.goto(report.as_uri())
        images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        shot = page.screenshot(full_page=True)
        browser.close()
    assert len(images) >= 3 and all(width > 100 for width in images)
    from io import BytesIO

    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(shot)).convert("L"), dtype=float)
    assert pixels.std() > 10  # not blank
