"""Field scenarios: chargers a field engineer would call sick or healthy, and readings they
would call strange, written from domain knowledge (OCPP 1.6 statuses and error codes, the
ratings of AC wallboxes and DC fast chargers, what cabinets and connectors run at), not from the
simulator: nothing here imports it or copies its numbers.

They are the second yardstick of the models beside the simulator's held-out chargers: training
reports them in the model cards, and tests/models/test_field_scenarios.py holds the models to
them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from sklearn.metrics import roc_auc_score

from models.telemetry.schema import ChargerMetrics, parse_metrics

NOW: Final = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
Doc = dict[str, Any]


def _ago(days: float) -> str:
    return (NOW - dt.timedelta(days=days)).isoformat()


def ac(kw: float = 22.0, **fields: Any) -> Doc:
    """A healthy AC wallbox, idle on a mild day, serviced this year."""
    doc: Doc = {
        "charger_id": "AC_FIELD",
        "connector_status": "Available",
        "energy_delivered": min(kw * 3.0, 45.0),
        "power": 0.0,
        "temperature": 22.0,
        "error_codes": [],
        "uptime_hours": 9_000.0,
        "total_sessions": 2_500,
        "last_maintenance": _ago(120),
        "rated_power_kw": kw,
        "charger_type": "AC",
        "fan_rpm": 1_800.0,
        "grid_voltage": 231.0,
        "timestamp": NOW.isoformat(),
    }
    return {**doc, **fields}


def dc(kw: float = 150.0, **fields: Any) -> Doc:
    """A healthy DC fast charger, idle, serviced this year."""
    doc = ac(
        kw,
        charger_id="DC_FIELD",
        charger_type="DC",
        energy_delivered=280.0,
        temperature=30.0,
        uptime_hours=12_000.0,
        total_sessions=9_000,
        fan_rpm=3_200.0,
        grid_voltage=402.0,
    )
    return {**doc, **fields}


def charging(doc: Doc, share: float = 0.8, **fields: Any) -> Doc:
    """The same charger delivering `share` of its rating, warmer for it."""
    hot = 12.0 if doc["charger_type"] == "DC" else 6.0
    return {
        **doc,
        "connector_status": "Charging",
        "power": round(doc["rated_power_kw"] * share, 2),
        "temperature": doc["temperature"] + hot,
        **fields,
    }


HEALTHY: Final[list[Doc]] = [
    ac(),
    ac(7.4),
    ac(11.0),
    ac(3.7, temperature=4.0),
    ac(22.0, temperature=-8.0, grid_voltage=226.0),
    ac(11.0, temperature=33.0, uptime_hours=2_000.0, total_sessions=600),
    ac(7.4, connector_status="Preparing"),
    ac(22.0, connector_status="Finishing", energy_delivered=30.0),
    ac(22.0, connector_status="Reserved"),
    ac(11.0, connector_status="SuspendedEV", power=0.0),
    ac(22.0, error_codes=["WeakSignal"]),
    ac(7.4, error_codes=["EVCommunicationError"]),
    ac(22.0, error_codes=["NoError"], uptime_hours=20_000.0, total_sessions=7_000),
    ac(11.0, last_maintenance=_ago(300)),
    ac(22.0, last_maintenance=_ago(30), uptime_hours=26_000.0, total_sessions=11_000),
    ac(22.0, last_maintenance=None, uptime_hours=1_500.0, total_sessions=300),
    charging(ac()),
    charging(ac(7.4), 0.95),
    charging(ac(11.0), 0.6, temperature=30.0),
    charging(ac(3.7), 1.0),
    charging(ac(22.0, temperature=28.0), 0.45),
    charging(ac(22.0), 0.9, connector_temperature=38.0),
    # No rating and no type: taken as AC 22 kW (models.telemetry.rating), here at half power.
    ac(rated_power_kw=None, charger_type=None, connector_status="Charging", power=11.0),
    dc(),
    dc(50.0),
    dc(350.0, temperature=26.0),
    dc(75.0, temperature=2.0),
    dc(150.0, temperature=38.0, uptime_hours=4_000.0, total_sessions=2_800),
    dc(150.0, connector_status="Preparing"),
    dc(50.0, connector_status="Finishing"),
    dc(150.0, error_codes=["ReaderFailure"]),
    dc(350.0, last_maintenance=_ago(200), uptime_hours=20_000.0, total_sessions=15_000),
    dc(150.0, connector_status="SuspendedEVSE", power=0.0),
    charging(dc()),
    charging(dc(50.0), 0.95),
    charging(dc(350.0), 0.55),
    charging(dc(150.0), 0.7, connector_temperature=55.0),
    charging(dc(75.0, temperature=22.0), 0.9),
    charging(dc(150.0, grid_voltage=395.0), 0.85),
    charging(dc(350.0, fan_rpm=3_600.0), 0.8),
    # A DC charger without its rating: taken as 150 kW.
    dc(rated_power_kw=None, connector_status="Charging", power=120.0, temperature=42.0),
    charging(dc(50.0, error_codes=["LocalListConflict"]), 0.8),
]

SERIOUS_TRIO: Final = ["GroundFailure", "HighTemperature", "PowerSwitchFailure"]
OLD: Final = {"uptime_hours": 50_000.0, "total_sessions": 40_000}
NEGLECTED: Final = {"last_maintenance": _ago(3 * 365)}

SICK: Final[list[Doc]] = [
    # The charger of the issue: faulted, hot, three serious codes, old, unserviced for years.
    ac(
        22.0,
        connector_status="Faulted",
        temperature=90.0,
        error_codes=SERIOUS_TRIO,
        **OLD,
        **NEGLECTED,
    ),
    dc(
        150.0,
        connector_status="Faulted",
        temperature=95.0,
        error_codes=SERIOUS_TRIO,
        **OLD,
        **NEGLECTED,
    ),
    ac(11.0, connector_status="Faulted", error_codes=["GroundFailure"], temperature=30.0),
    ac(7.4, connector_status="Faulted", error_codes=["GroundFailure", "OverCurrentFailure"]),
    dc(50.0, connector_status="Faulted", error_codes=["PowerSwitchFailure", "InternalError"]),
    dc(350.0, connector_status="Faulted", error_codes=["HighTemperature"], temperature=88.0),
    ac(
        22.0,
        connector_status="Faulted",
        error_codes=["HighTemperature"],
        temperature=80.0,
        fan_rpm=300.0,
    ),
    charging(ac(22.0), 0.8, temperature=85.0, error_codes=["HighTemperature"], fan_rpm=400.0),
    charging(dc(150.0), 0.6, temperature=92.0, error_codes=["HighTemperature"], fan_rpm=900.0),
    ac(11.0, error_codes=["GroundFailure", "OverCurrentFailure", "PowerSwitchFailure"]),
    dc(150.0, error_codes=["GroundFailure", "OverVoltage", "PowerSwitchFailure"]),
    ac(22.0, connector_status="Faulted", error_codes=["InternalError", "ResetFailure"], **OLD),
    dc(75.0, connector_status="Faulted", error_codes=["InternalError", "PowerMeterFailure"], **OLD),
    ac(
        7.4,
        connector_status="Unavailable",
        error_codes=["PowerSwitchFailure", "GroundFailure"],
        **NEGLECTED,
    ),
    dc(
        350.0,
        connector_status="Unavailable",
        error_codes=["InternalError", "HighTemperature"],
        temperature=75.0,
    ),
    charging(
        ac(11.0),
        0.8,
        temperature=88.0,
        connector_temperature=140.0,
        error_codes=["HighTemperature"],
    ),
    charging(
        dc(150.0),
        0.8,
        temperature=85.0,
        connector_temperature=130.0,
        error_codes=["HighTemperature", "InternalError"],
    ),
    ac(
        22.0,
        connector_status="Faulted",
        error_codes=["OverVoltage", "UnderVoltage"],
        grid_voltage=190.0,
    ),
    dc(
        150.0,
        connector_status="Faulted",
        error_codes=["UnderVoltage", "OverCurrentFailure"],
        grid_voltage=330.0,
    ),
    ac(
        22.0,
        connector_status="Faulted",
        error_codes=["ConnectorLockFailure", "PowerMeterFailure"],
        **NEGLECTED,
    ),
    dc(
        50.0,
        connector_status="Faulted",
        error_codes=["ConnectorLockFailure", "GroundFailure"],
        **OLD,
    ),
    ac(
        11.0,
        connector_status="Faulted",
        temperature=70.0,
        error_codes=["HighTemperature", "GroundFailure"],
        **OLD,
        **NEGLECTED,
    ),
    dc(
        350.0,
        connector_status="Faulted",
        temperature=90.0,
        fan_rpm=500.0,
        error_codes=["HighTemperature", "PowerSwitchFailure"],
    ),
    ac(
        3.7,
        connector_status="Faulted",
        error_codes=["GroundFailure", "InternalError", "ResetFailure"],
        **NEGLECTED,
    ),
    charging(
        ac(22.0, **OLD, **NEGLECTED),
        0.7,
        temperature=78.0,
        error_codes=["HighTemperature", "OverCurrentFailure"],
    ),
    charging(
        dc(150.0, **OLD, **NEGLECTED),
        0.5,
        temperature=80.0,
        fan_rpm=600.0,
        error_codes=["HighTemperature"],
    ),
    ac(
        22.0,
        connector_status="Faulted",
        error_codes=["GroundFailure", "HighTemperature"],
        temperature=75.0,
    ),
    dc(
        150.0,
        connector_status="Faulted",
        error_codes=["OverCurrentFailure", "PowerSwitchFailure", "InternalError"],
    ),
    ac(
        7.4,
        connector_status="Faulted",
        temperature=95.0,
        fan_rpm=0.0,
        error_codes=["HighTemperature"],
        **OLD,
    ),
    dc(
        50.0,
        connector_status="Faulted",
        temperature=85.0,
        error_codes=["HighTemperature", "ResetFailure"],
        **NEGLECTED,
    ),
    ac(
        11.0,
        connector_status="Unavailable",
        error_codes=["GroundFailure", "OverCurrentFailure", "InternalError"],
        **OLD,
    ),
    dc(350.0, connector_status="Faulted", error_codes=SERIOUS_TRIO, temperature=70.0),
    ac(22.0, connector_status="Faulted", error_codes=SERIOUS_TRIO, temperature=60.0),
    charging(
        ac(7.4), 0.8, error_codes=["GroundFailure", "PowerSwitchFailure", "OverCurrentFailure"]
    ),
    charging(
        dc(75.0),
        0.8,
        error_codes=["OverVoltage", "GroundFailure", "InternalError"],
        grid_voltage=470.0,
    ),
    ac(
        22.0,
        connector_status="Faulted",
        error_codes=["PowerSwitchFailure", "ConnectorLockFailure"],
        **OLD,
        **NEGLECTED,
    ),
    dc(150.0, connector_status="Faulted", error_codes=["GroundFailure"], **OLD, **NEGLECTED),
    ac(
        11.0,
        connector_status="Faulted",
        error_codes=["OverCurrentFailure", "HighTemperature"],
        temperature=82.0,
        fan_rpm=200.0,
    ),
    dc(
        350.0,
        connector_status="Unavailable",
        error_codes=["PowerSwitchFailure", "OverCurrentFailure", "HighTemperature"],
        temperature=86.0,
    ),
    ac(
        3.7,
        connector_status="Faulted",
        error_codes=["PowerMeterFailure", "InternalError", "GroundFailure"],
        **OLD,
    ),
    dc(
        50.0,
        connector_status="Faulted",
        temperature=92.0,
        connector_temperature=150.0,
        error_codes=["HighTemperature", "ConnectorLockFailure"],
    ),
]

# One alarming signal at a time, over the same healthy charger.
SIGNALS: Final[dict[str, Callable[[Doc], Doc]]] = {
    "Faulted status": lambda d: {**d, "connector_status": "Faulted"},
    "Unavailable status": lambda d: {**d, "connector_status": "Unavailable"},
    "GroundFailure": lambda d: {**d, "error_codes": ["GroundFailure"]},
    "HighTemperature code": lambda d: {**d, "error_codes": ["HighTemperature"]},
    "three serious codes": lambda d: {**d, "error_codes": SERIOUS_TRIO},
    "cabinet at 85 degC": lambda d: {**d, "temperature": 85.0},
    "fan at a fifth of nominal": lambda d: {**d, "fan_rpm": d["fan_rpm"] / 5},
    "connector 45 degC above the cabinet": lambda d: {
        **d,
        "connector_temperature": d["temperature"] + 45.0,
    },
    "50,000 operating hours": lambda d: {**d, **OLD},
    "three years without maintenance": lambda d: {**d, **NEGLECTED},
}
SIGNAL_BASES: Final = {
    "AC 22 kW idle": ac(),
    "AC 7.4 kW charging": charging(ac(7.4)),
    "DC 150 kW idle": dc(),
}

# Readings no working charger produces, over normal ones of the same classes.
STRANGE: Final[list[Doc]] = [
    charging(ac(22.0), 0.8, power=0.0),  # Charging, but no power flows
    charging(dc(150.0), 0.8, power=0.0),
    charging(ac(11.0), 0.8, power=0.05),
    charging(dc(50.0), 0.8, power=0.2),
    ac(22.0, temperature=140.0),  # implausible cabinet temperatures
    dc(150.0, temperature=145.0),
    ac(7.4, temperature=-48.0),
    charging(ac(11.0), 0.8, power=50.0),  # far above the rating
    charging(ac(7.4), 0.8, power=22.0),
    charging(ac(3.7), 0.8, power=11.0),
    charging(dc(50.0), 0.8, power=150.0),
    charging(dc(150.0), 0.8, power=400.0),
    ac(7.4, energy_delivered=400.0),  # more energy in 24 h than the rating allows
    ac(22.0, energy_delivered=900.0),
    dc(50.0, energy_delivered=2_000.0),
    charging(ac(22.0), 0.8, energy_delivered=0.0),  # power flowing, nothing metered
    charging(dc(150.0), 0.8, energy_delivered=0.0),
    charging(ac(11.0), 0.8, connector_temperature=110.0),  # connector far hotter than cabinet
    charging(dc(350.0), 0.8, fan_rpm=0.0, temperature=60.0),  # fan stopped under full load
    ac(22.0, grid_voltage=120.0),  # supply far from nominal
    dc(150.0, grid_voltage=600.0),
]
NORMAL: Final = HEALTHY


@dataclass(frozen=True)
class ScenarioReport:
    """How the models did on the field scenarios."""

    failure_auc: float
    sick_mean: float
    healthy_mean: float
    single_signals: dict[str, dict[str, float]]  # base -> signal -> lift in probability
    single_signal_probabilities: dict[str, dict[str, float]]  # base -> signal -> probability
    anomaly_auc: float
    normal_below_threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "failure_roc_auc": round(self.failure_auc, 4),
            "failure_mean_sick": round(self.sick_mean, 4),
            "failure_mean_healthy": round(self.healthy_mean, 4),
            "smallest_single_signal_lift": round(
                min(min(lifts.values()) for lifts in self.single_signals.values()), 4
            ),
            "anomaly_roc_auc": round(self.anomaly_auc, 4),
            "normal_below_anomaly_threshold": round(self.normal_below_threshold, 4),
            "sick": len(SICK),
            "healthy": len(HEALTHY),
            "strange": len(STRANGE),
        }


def metrics_of(docs: list[Doc]) -> list[ChargerMetrics]:
    return [parse_metrics(doc) for doc in docs]


def evaluate(
    failure_probability: Callable[[list[ChargerMetrics]], Any],
    anomaly_score: Callable[[list[ChargerMetrics]], Any],
    threshold: float,
) -> ScenarioReport:
    """Score the scenarios with a model's failure probability and anomaly score functions."""
    sick = np.asarray(failure_probability(metrics_of(SICK)))
    healthy = np.asarray(failure_probability(metrics_of(HEALTHY)))
    labels = np.r_[np.ones(len(sick)), np.zeros(len(healthy))]
    lifts: dict[str, dict[str, float]] = {}
    alone: dict[str, dict[str, float]] = {}
    for base_name, base in SIGNAL_BASES.items():
        probe = [base, *(signal(base) for signal in SIGNALS.values())]
        p = np.asarray(failure_probability(metrics_of(probe)))
        lifts[base_name] = {name: float(p[i + 1] - p[0]) for i, name in enumerate(SIGNALS)}
        alone[base_name] = {name: float(p[i + 1]) for i, name in enumerate(SIGNALS)}
    strange = np.asarray(anomaly_score(metrics_of(STRANGE)))
    normal = np.asarray(anomaly_score(metrics_of(NORMAL)))
    return ScenarioReport(
        failure_auc=float(roc_auc_score(labels, np.r_[sick, healthy])),
        sick_mean=float(sick.mean()),
        healthy_mean=float(healthy.mean()),
        single_signals=lifts,
        single_signal_probabilities=alone,
        anomaly_auc=float(
            roc_auc_score(
                np.r_[np.ones(len(strange)), np.zeros(len(normal))], np.r_[strange, normal]
            )
        ),
        normal_below_threshold=float((normal < threshold).mean()),
    )
