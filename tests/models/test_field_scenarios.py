"""The models against a field engineer's scenarios (models/simulation/scenarios.py: written from
domain
knowledge, not from the simulator), with the production model set."""

from __future__ import annotations

import numpy as np
import pytest

from models import Predictor
from models.core.anomaly import THRESHOLD_SCORE
from models.core.features import anomaly_matrix, failure_matrix, frame_from_metrics
from models.core.policy import LEVELS
from models.simulation import scenarios as field
from models.telemetry.schema import ChargerMetrics

# How much one signal alone must lift a healthy charger, from what a field engineer does about
# it (models.core.policy's levels), not from the model: a serious code (the charger trips or must
# not charge) warrants a visit within 7 days; a trip, a cabinet far above its class's rating or
# a long-overdue service a visit within 30 days. (Age alone only has to raise the risk.)
WITHIN_7_DAYS = next(level.floor for level in LEVELS if level.action == "WITHIN_7_DAYS")
WITHIN_30_DAYS = next(level.floor for level in LEVELS if level.action == "WITHIN_30_DAYS")
AT_LEAST = {
    "Faulted status": WITHIN_30_DAYS,
    "GroundFailure": WITHIN_7_DAYS,
    "HighTemperature code": WITHIN_7_DAYS,
    "three serious codes": WITHIN_7_DAYS,
    "cabinet at 85 degC": WITHIN_30_DAYS,
    "three years without maintenance": WITHIN_30_DAYS,
}
NUISANCE = {
    "WeakSignal": lambda d: {**d, "error_codes": ["WeakSignal"]},
    "EVCommunicationError": lambda d: {**d, "error_codes": ["EVCommunicationError"]},
    "ReaderFailure": lambda d: {**d, "error_codes": ["ReaderFailure"]},
}


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
    if signal in AT_LEAST and "idle" in base:
        p = report.single_signal_probabilities[base][signal]
        assert p >= AT_LEAST[signal], f"{signal} alone on {base}: {p:.3f} < {AT_LEAST[signal]}"


@pytest.mark.parametrize("base", ["AC 22 kW idle", "DC 150 kW idle"])
def test_a_faulted_connector_with_a_serious_code_is_out_of_service(
    predictor: Predictor, base: str
) -> None:
    doc = {
        **field.SIGNAL_BASES[base],
        "connector_status": "Faulted",
        "error_codes": ["GroundFailure"],
    }
    assert predictor.failure_probability(field.metrics_of([doc]), field.NOW)[0] >= 0.5


@pytest.mark.parametrize("base", ["AC 22 kW idle", "DC 150 kW idle"])
def test_nuisance_codes_weigh_much_less_than_serious_ones_and_never_lower_the_risk(
    predictor: Predictor, base: str
) -> None:
    healthy = field.SIGNAL_BASES[base]
    docs = [healthy, {**healthy, "error_codes": ["GroundFailure"]}]
    docs += [signal(healthy) for signal in NUISANCE.values()]
    p = predictor.failure_probability(field.metrics_of(docs), field.NOW)
    serious_lift, nuisance_lifts = p[1] - p[0], p[2:] - p[0]
    assert np.all(nuisance_lifts >= 0)
    assert np.all(nuisance_lifts <= serious_lift / 4), (serious_lift, nuisance_lifts)


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
