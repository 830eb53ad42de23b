"""The models against a field engineer's scenarios (models/scenarios.py: written from domain
knowledge, not from the simulator), with the production model set."""

from __future__ import annotations

import numpy as np
import pytest

from models import Predictor
from models import scenarios as field
from models.anomaly import THRESHOLD_SCORE
from models.features import anomaly_matrix, failure_matrix, frame_from_metrics
from models.schema import ChargerMetrics

# The signals the issue names: each must move the probability by at least two points.
STRONG = (
    "Faulted status",
    "three serious codes",
    "cabinet at 85 degC",
    "50,000 operating hours",
    "three years without maintenance",
)


@pytest.fixture(scope="module")
def report(predictor: Predictor) -> field.ScenarioReport:
    def failure(metrics: list[ChargerMetrics]) -> np.ndarray:
        frame = frame_from_metrics(metrics, field.NOW)
        return predictor.failure_model.predict_proba(failure_matrix(frame))[:, 1]

    def anomaly(metrics: list[ChargerMetrics]) -> np.ndarray:
        return predictor.anomaly_model.score(anomaly_matrix(frame_from_metrics(metrics, field.NOW)))

    return field.evaluate(failure, anomaly, THRESHOLD_SCORE)


def test_there_are_enough_varied_scenarios() -> None:
    assert len(field.SICK) >= 40 and len(field.HEALTHY) >= 40
    for docs in (field.SICK, field.HEALTHY):
        kinds = {doc.get("charger_type") for doc in docs}
        assert {"AC", "DC"} <= kinds
        assert len({doc.get("rated_power_kw") for doc in docs}) >= 5


def test_sick_and_healthy_chargers_are_told_apart(report: field.ScenarioReport) -> None:
    assert report.failure_auc >= 0.97
    assert report.sick_mean >= 0.6
    assert report.healthy_mean <= 0.1


@pytest.mark.parametrize("base", list(field.SIGNAL_BASES))
@pytest.mark.parametrize("signal", list(field.SIGNALS))
def test_each_alarming_signal_alone_raises_the_probability(
    report: field.ScenarioReport, base: str, signal: str
) -> None:
    lift = report.single_signals[base][signal]
    assert lift > 0, f"{signal} on {base}: {lift:+.4f}"
    if signal in STRONG:
        assert lift >= 0.02, f"{signal} on {base} moves the probability by only {lift:+.4f}"


def test_strange_readings_stand_out_and_normal_ones_stay_below_the_threshold(
    report: field.ScenarioReport,
) -> None:
    assert report.anomaly_auc >= 0.95
    assert report.normal_below_threshold >= 0.9


def test_values_beyond_the_training_range_never_lower_the_risk(predictor: Predictor) -> None:
    base = field.ac()
    steps = {
        "temperature": [60.0, 90.0, 120.0, 149.0],
        "uptime_hours": [50_000.0, 100_000.0, 500_000.0, 999_999.0],
        "total_sessions": [40_000, 100_000, 1_000_000, 50_000_000],
        "error_codes": [
            ["GroundFailure"],
            ["GroundFailure", "OverCurrentFailure", "OverVoltage"],
            [
                "GroundFailure",
                "OverCurrentFailure",
                "OverVoltage",
                "UnderVoltage",
                "PowerSwitchFailure",
            ],
        ],
    }
    for name, values in steps.items():
        metrics = field.metrics_of([{**base, name: value} for value in values])
        p = predictor.failure_probability(metrics, field.NOW)
        assert np.all(np.diff(p) >= 0), (name, p)
