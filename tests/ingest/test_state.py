"""A charger's live state from its frames (ingest.state): worst connector, a week of codes,
energy over 24 h with meter resets, old readings never moving it back, future timestamps
clamped, duplicates once, and news only when the material state changes. Pure logic."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ocpp.v16 import call as v16

from ingest import parse_call
from ingest.state import ChargerState, apply, as_sent, kept_print
from models import fingerprint, parse_metrics
from tests.ingest.test_frames import frame, meter_values, sample

NOW = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)


def at(minutes: float) -> str:
    return (NOW + dt.timedelta(minutes=minutes)).isoformat()


def readings(minutes: float, temperature: str = "30", register: str | None = None) -> list[Any]:
    samples = [sample(temperature, "Temperature", location="Body")]
    if register is not None:
        samples.append(sample(register, "Energy.Active.Import.Register", unit="kWh"))
    sent = meter_values(*samples)
    sent[3]["meterValue"][0]["timestamp"] = at(minutes)
    sent[1] = f"mv-{minutes}-{register}"
    return sent


def step(state: ChargerState, sent: list[Any], minutes: float = 0) -> Any:
    return apply(state, parse_call(sent), NOW + dt.timedelta(minutes=minutes))


def status(connector: int, value: str, code: str = "NoError", message: str = "s") -> list[Any]:
    return frame(
        v16.StatusNotification(connector_id=connector, error_code=code, status=value), message
    )


def test_no_telemetry_until_a_reading_then_news_only_on_material_change() -> None:
    state = ChargerState("CHG_1")
    first = step(state, status(1, "Available"))
    assert first.metrics is None and not first.news  # a status alone: nothing to predict from
    second = step(state, readings(1))
    assert second.news and second.metrics is not None
    drift = step(state, readings(2, temperature="31"))
    assert not drift.news  # a degree of temperature is drift
    faulted = step(state, status(1, "Faulted", "GroundFailure", "s2"), 3)
    assert faulted.news and faulted.metrics is not None
    assert faulted.metrics.connector_status == "Faulted"
    assert faulted.metrics.error_codes == ["GroundFailure"]


def test_the_charger_is_its_worst_connector() -> None:
    state = ChargerState("CHG_1")
    assert state.status == "Available"  # no connector heard of yet
    step(state, readings(0))
    step(state, status(1, "Charging", message="a"))
    step(state, status(2, "Faulted", message="b"))
    assert state.document()["connector_status"] == "Faulted"  # type: ignore[index]
    step(state, status(2, "Available", message="c"))
    assert state.document()["connector_status"] == "Charging"  # type: ignore[index]


def test_energy_over_24_hours_survives_a_meter_reset() -> None:
    state = ChargerState("CHG_1")
    step(state, readings(0, register="100"))
    step(state, readings(60, register="110"), 60)
    step(state, readings(120, register="4"), 120)  # the meter restarted from zero
    assert state.document()["energy_delivered"] == 14.0  # type: ignore[index]
    step(state, readings(26 * 60, register="5"), 26 * 60)  # a day later: only the last step
    assert state.document()["energy_delivered"] == 1.0  # type: ignore[index]


def test_old_readings_do_not_move_the_state_back_and_future_ones_are_clamped() -> None:
    state = ChargerState("CHG_1")
    step(state, readings(10, temperature="40"), 10)
    step(state, readings(5, temperature="20"), 11)  # older than the state
    assert state.measured["temperature"] == 40.0
    step(state, readings(60 * 24, temperature="41"), 12)  # a day in the future
    assert state.clamped == 1 and state.measured_at == (NOW + dt.timedelta(minutes=12)).timestamp()


def test_a_duplicate_message_is_ingested_once() -> None:
    state = ChargerState("CHG_1")
    step(state, readings(0, register="1"))
    again = step(state, readings(0, register="1"))
    assert again.duplicate and not again.news


def test_the_state_round_trips_through_its_document() -> None:
    state = ChargerState("CHG_1", static={"rated_power_kw": 22.0, "uptime_hours": 900.0})
    step(state, readings(0, register="10"))
    step(state, status(1, "SuspendedEV", "WeakSignal", "w"))
    doc = state.document()
    assert doc is not None and len(str(doc["metadata"])) < 4096
    again = ChargerState.of("CHG_1", doc)
    assert again.document() == doc


def test_every_field_of_the_state_is_kept_and_read_back() -> None:
    from ingest.state import KEPT, _kept

    state = ChargerState("CP_K", connectors={"1": "Faulted"}, sessions=3, printed="abc")
    assert set(_kept(state)) == set(KEPT)
    again = ChargerState.of("CP_K", {"metadata": {"ocpp": _kept(state)}})
    assert again == state and again.printed == "abc"


def test_the_kept_fingerprint_is_the_documents_own_and_an_applications_copy_drops_it() -> None:
    stored = step(ChargerState("CHG_1"), readings(1)).stored
    telemetry = {k: v for k, v in stored.items() if k != "metadata"}
    assert kept_print(stored) == fingerprint(parse_metrics(telemetry))
    # A state an application copied and edited: judged by what it says, not what it carried.
    edited = {**stored, "temperature": 90.0}
    sent = as_sent(edited)
    assert kept_print(sent) is None and sent["temperature"] == 90.0
    assert {"printed", "printed_by"}.isdisjoint(sent["metadata"]["ocpp"])
    assert sent["metadata"]["ocpp"]["measured"] == stored["metadata"]["ocpp"]["measured"]
    assert kept_print(edited) is not None  # as_sent copied: the stored state is untouched
    assert as_sent(telemetry) is telemetry  # nothing kept, nothing to drop
    # Made by another fingerprint version: never trusted.
    older = {**stored, "metadata": {"ocpp": {**stored["metadata"]["ocpp"], "printed_by": "0"}}}
    assert kept_print(older) is None
