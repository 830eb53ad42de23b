"""The operators' CLI: --help everywhere, errors as one sentence naming the input at fault with
the documented exit code (cli.errors), real commands against a real stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from models.simulation.simulator import fleet_telemetry
from tasks.local.launcher import settings_env
from tests.stack import Stack

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "metrics.json"
COMMANDS = ["predict", "fleet", "invalidate", "stats", "health", "train", "simulate", "demo", "run"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def env_of(stack: Stack) -> dict[str, str]:
    return settings_env(stack.settings)


def one_sentence(output: str) -> str:
    """The single line an error leaves: no traceback, no exception class name."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output and "Error:" not in output.replace("error:", "")
    for name in ("InvalidChargerId", "ValueError", "JSONDecodeError", "InvalidTelemetry"):
        assert name not in output
    return lines[0]


def test_a_bad_charger_id_is_one_sentence_and_exit_2(stack: Stack) -> None:
    result = runner.invoke(app, ["predict", "failure", "CHG*ALL"], env=env_of(stack))
    assert result.exit_code == 2
    assert "charger_id 'CHG*ALL' is invalid" in one_sentence(result.output)


def test_bad_configuration_is_one_sentence_and_exit_2(stack: Stack) -> None:
    result = runner.invoke(app, ["stats"], env={**env_of(stack), "REDIS_URL": "http://x:1"})
    assert result.exit_code == 2
    assert "REDIS_URL" in one_sentence(result.output)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "--metrics {path}: no such file"),
        ('{"charger_id": "CHG_1",', "--metrics {path}: not valid JSON"),
        ('{"charger_id": "CHG_1", "connector_status": "Charging"}', "energy_delivered"),
        ("another charger's", "does not match charger_id 'CHG_1'"),
    ],
)
def test_a_bad_metrics_file_is_named_with_what_is_wrong(
    stack: Stack, tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "metrics.json"
    if content == "another charger's":
        content = json.dumps({**json.loads(EXAMPLE.read_text()), "charger_id": "CHG_2"})
    if content is not None:
        path.write_text(content)
    args = ["predict", "failure", "CHG_1", "--metrics", str(path)]
    result = runner.invoke(app, args, env=env_of(stack))
    assert result.exit_code == 2
    line = one_sentence(result.output)
    assert expected.format(path=path) in line and str(path) in line


def test_the_example_metrics_file_predicts(stack: Stack, clean_cache: Callable) -> None:
    doc = json.loads(EXAMPLE.read_text())
    args = ["predict", "failure", doc["charger_id"], "--metrics", str(EXAMPLE)]
    result = runner.invoke(app, args, env=env_of(stack))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["charger_id"] == doc["charger_id"]


def test_no_stored_telemetry_is_refused_at_once(stack: Stack, clean_cache: Callable) -> None:
    result = runner.invoke(app, ["predict", "failure", "CHG_NEVER_SEEN"], env=env_of(stack))
    assert result.exit_code == 2
    assert "no telemetry stored for charger 'CHG_NEVER_SEEN'" in one_sentence(result.output)


def test_predict_fleet_stats_invalidate(stack: Stack, clean_cache: Callable, tmp_path) -> None:
    env = env_of(stack)
    charger = fleet_telemetry(1, seed=99)[0]
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps(charger))
    predicted = runner.invoke(
        app, ["predict", "anomaly", charger["charger_id"], "--metrics", str(metrics)], env=env
    )
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.output)["charger_id"] == charger["charger_id"]
    fleet = runner.invoke(app, ["fleet", "failure", "--chargers", "300"], env=env)
    assert fleet.exit_code == 0, fleet.output
    assert '"computed": 300' in fleet.output
    stats = runner.invoke(app, ["stats"], env=env)
    assert stats.exit_code == 0 and "anomaly" in stats.output
    assert "other: custom keys" in stats.output  # every row explained
    as_json = runner.invoke(app, ["stats", "--json"], env=env)
    rows = json.loads(as_json.output)["rows"]
    assert set(rows) == {"failure", "maintenance", "anomaly", "other", "total"}
    assert rows["failure"]["misses"] >= 300 and rows["total"]["hits"] == sum(
        rows[kind]["hits"] for kind in ("failure", "maintenance", "anomaly", "other")
    )
    gone = runner.invoke(app, ["invalidate", charger["charger_id"]], env=env)
    # Its anomaly prediction, and the failure one the simulated fleet (same ids) computed.
    assert gone.exit_code == 0 and "2 keys deleted for 1 charger\n" in gone.output
    assert not stack.raw_cache().exists(f"prediction:anomaly:v1:{charger['charger_id']}")
