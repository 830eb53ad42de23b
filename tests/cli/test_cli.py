"""The operators' CLI: --help everywhere, one-line errors with a non-zero exit, real commands
against a real stack."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from cli.main import app
from models.simulator import fleet_telemetry
from tasks.launcher import settings_env
from tests.stack import Stack

runner = CliRunner()
COMMANDS = ["predict", "fleet", "invalidate", "stats", "health", "train", "demo", "run"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def env_of(stack: Stack) -> dict[str, str]:
    return settings_env(stack.settings)


def test_bad_charger_id_is_one_line_and_exit_1(stack: Stack) -> None:
    result = runner.invoke(app, ["predict", "failure", "CHG*ALL"], env=env_of(stack))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "InvalidChargerId" in lines[0]
    assert "Traceback" not in result.output


def test_bad_configuration_is_one_line(stack: Stack) -> None:
    result = runner.invoke(app, ["stats"], env={**env_of(stack), "REDIS_URL": "http://x:1"})
    assert result.exit_code == 1
    assert "REDIS_URL" in result.output and "Traceback" not in result.output


def test_predict_fleet_stats_invalidate(stack: Stack, clean_cache: Callable, tmp_path) -> None:
    import json

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
    gone = runner.invoke(app, ["invalidate", charger["charger_id"]], env=env)
    # Its anomaly prediction, and the failure one the simulated fleet (same ids) computed.
    assert gone.exit_code == 0 and "2 keys deleted" in gone.output
    assert not stack.raw_cache().exists(f"prediction:anomaly:v1:{charger['charger_id']}")
