"""OCPP frames in (ingest/): CALLs built with the `ocpp` package's own request classes and
serialiser, checked against its schemas, and mapped to telemetry. Pure logic, no Redis."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest
from ocpp.charge_point import remove_nones, snake_to_camel_case
from ocpp.v16 import call as v16
from ocpp.v201 import call as v201

from ingest import InvalidFrame, observe, parse_call
from ingest.frames import MAX_FRAME_BYTES


def frame(request: Any, message_id: str = "m-1") -> list[Any]:
    """What a charge point sends for `request`, serialised as the `ocpp` package does."""
    payload = snake_to_camel_case(remove_nones(asdict(request)))
    return [2, message_id, type(request).__name__, payload]


def sample(value: str, measurand: str, **extra: str) -> dict[str, str]:
    return {"value": value, "measurand": measurand, **extra}


def meter_values(*samples: dict[str, str]) -> list[Any]:
    values = [{"timestamp": "2026-12-02T10:00:00Z", "sampledValue": list(samples)}]
    return frame(v16.MeterValues(connector_id=1, meter_value=values))


def test_a_16_status_notification_says_status_and_codes() -> None:
    sent = frame(
        v16.StatusNotification(
            connector_id=2,
            error_code="GroundFailure",
            status="Faulted",
            vendor_error_code="E-17",
            timestamp="2026-12-02T10:00:00Z",
        )
    )
    seen = observe(parse_call(json.dumps(sent), "1.6"))
    assert seen.statuses == {2: "Faulted"} and seen.error_codes == ["GroundFailure", "E-17"]
    assert seen.at is not None and seen.at.isoformat() == "2026-12-02T10:00:00+00:00"
    quiet = frame(v16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    assert observe(parse_call(quiet)).error_codes == []  # NoError adds nothing


def test_meter_values_map_measurands_units_and_locations() -> None:
    sent = meter_values(
        sample("7400", "Power.Active.Import", unit="W", phase="L1"),
        sample("7400", "Power.Active.Import", unit="W", phase="L2"),
        sample("12345", "Energy.Active.Import.Register", unit="Wh"),
        sample("95", "Temperature", unit="Fahrenheit", location="Body"),
        sample("318.15", "Temperature", unit="K", location="Outlet"),
        sample("229", "Voltage", phase="L1-N"),
        sample("231", "Voltage", phase="L2-N"),
        sample("1750", "RPM"),
    )
    seen = observe(parse_call(sent))
    assert seen.measured == {
        "power": 14.8,
        "grid_voltage": 230.0,
        "temperature": 35.0,
        "connector_temperature": 45.0,
        "fan_rpm": 1750.0,
    }
    assert seen.energy_register_kwh == pytest.approx(12.345)


def test_201_status_and_events() -> None:
    status = frame(
        v201.StatusNotification(
            timestamp="2026-12-02T10:00:00Z", connector_status="Occupied", evse_id=1, connector_id=1
        )
    )
    assert observe(parse_call(status, "2.0.1")).statuses == {101: "Preparing"}
    event = [
        2,
        "e-1",
        "NotifyEvent",
        {
            "generatedAt": "2026-12-02T10:00:00Z",
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": "2026-12-02T10:00:00Z",
                    "trigger": "Alerting",
                    "actualValue": "true",
                    "techCode": "RCD-TRIP",
                    "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "EVSE"},
                    "variable": {"name": "Problem"},
                }
            ],
        },
    ]
    assert observe(parse_call(event, "2.0.1")).error_codes == ["RCD-TRIP"]


def test_actions_without_telemetry_are_accepted() -> None:
    seen = observe(parse_call(frame(v16.Heartbeat())))
    assert seen.action == "Heartbeat" and not seen.carries_telemetry
    boot = frame(v16.BootNotification(charge_point_model="X1", charge_point_vendor="ACME"))
    assert observe(parse_call(boot)).action == "BootNotification"


@pytest.mark.parametrize(
    ("sent", "version", "expected"),
    [
        ([3, "m-1", {}], "1.6", "not a CALL"),
        ({"action": "Heartbeat"}, "1.6", "not a CALL"),
        ([2, "m-1", "Heartbeat"], "1.6", "a CALL has 4 elements"),
        ([2, "m-1", "Heartbeat", {}], "1.5", "ocpp_version '1.5' is not one of"),
        ([2, "m-1", "NoSuchThing", {}], "1.6", "NoSuchThing is not an OCPP 1.6 action"),
        (
            [
                2,
                "m-1",
                "StatusNotification",
                {"connectorId": "one", "errorCode": "NoError", "status": "Available"},
            ],
            "1.6",
            "StatusNotification: $.connectorId: 'one' is not of type 'integer'",
        ),
        (
            [
                2,
                "m-1",
                "MeterValues",
                {
                    "connectorId": 1,
                    "meterValue": [
                        {"timestamp": "2026-12-02T10:00:00Z", "sampledValue": [{"value": 5}]}
                    ],
                },
            ],
            "1.6",
            "MeterValues: $.meterValue[0].sampledValue[0].value: 5 is not of type 'string'",
        ),
        ("[2, " + "x" * MAX_FRAME_BYTES, "1.6", "bytes; at most"),
        ("[2, oops", "1.6", "frame is not JSON"),
    ],
)
def test_a_bad_frame_is_refused_naming_what_and_where(
    sent: object, version: str, expected: str
) -> None:
    with pytest.raises(InvalidFrame) as refused:
        parse_call(sent, version)
    assert expected in str(refused.value)


def test_a_bad_unit_or_value_is_named() -> None:
    with pytest.raises(InvalidFrame, match=r"\$.meterValue\[0\].sampledValue\[0\].unit"):
        parse_call(meter_values(sample("1", "Power.Active.Import", unit="MW")))  # the schema's
    with pytest.raises(InvalidFrame, match=r"Power\.Active\.Import: unit 'V' is not one of"):
        observe(parse_call(meter_values(sample("1", "Power.Active.Import", unit="V"))))
    with pytest.raises(InvalidFrame, match="value 'hot' is not a number"):
        observe(parse_call(meter_values(sample("hot", "Temperature"))))


AGREEMENT_CASES = [
    ("1.6", "MeterValues", {"connectorId": 1, "meterValue": []}),
    ("1.6", "MeterValues", {"connectorId": -1, "meterValue": []}),
    ("1.6", "MeterValues", {"connectorId": 1, "meterValue": [{"sampledValue": []}]}),
    ("1.6", "MeterValues", {"connectorId": 1.5, "meterValue": []}),
    ("1.6", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Busy"}),
    ("1.6", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"}),
    ("1.6", "StatusNotification", {"connectorId": 1, "errorCode": "x", "status": "Faulted"}),
    ("1.6", "BootNotification", {"chargePointVendor": "A" * 21, "chargePointModel": "M"}),
    ("1.6", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "M", "x": 1}),
    ("1.6", "Heartbeat", {}),
    ("1.6", "Heartbeat", {"unexpected": True}),
    ("2.0.1", "NotifyEvent", {}),
    ("2.0.1", "Heartbeat", {}),
    (
        "2.0.1",
        "StatusNotification",
        {"timestamp": "t", "connectorStatus": "Faulted", "evseId": 1, "connectorId": 1},
    ),
    (
        "2.0.1",
        "StatusNotification",
        {"timestamp": "t", "connectorStatus": "Broken", "evseId": 1, "connectorId": 1},
    ),
]


@pytest.mark.parametrize(("version", "action", "payload"), AGREEMENT_CASES)
def test_the_compiled_schema_agrees_with_the_ocpp_packages_validator(
    version: str, action: str, payload: dict[str, Any]
) -> None:
    from ocpp.messages import get_validator

    from ingest.frames import _compiled

    package = get_validator(2, action, version).is_valid(payload)
    assert _compiled(action, version).is_valid(payload) is package
    sent = json.dumps([2, "m-1", action, payload])
    if package:
        assert parse_call(sent, version).payload == payload
    else:
        with pytest.raises(InvalidFrame, match=r"\$"):
            parse_call(sent, version)


def test_a_time_that_is_not_one_is_no_time_and_is_not_remembered() -> None:
    from ingest.mapping import _parsed_time

    long = "2026-12-02T10:00:00Z" + "0" * 5000  # within the frame limit, far from a time
    values = [{"timestamp": long, "sampledValue": [sample("30", "Temperature")]}]
    before = _parsed_time.cache_info().currsize
    seen = observe(parse_call(frame(v16.MeterValues(connector_id=1, meter_value=values))))
    assert seen.at is None and seen.measured == {"temperature": 30.0}
    assert _parsed_time.cache_info().currsize == before  # a long bad string costs no memory
    naive = [{"timestamp": "2026-12-02T10:00:00", "sampledValue": [sample("30", "Temperature")]}]
    seen = observe(parse_call(frame(v16.MeterValues(connector_id=1, meter_value=naive))))
    assert seen.at is not None and seen.at.isoformat() == "2026-12-02T10:00:00+00:00"
