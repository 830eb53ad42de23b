"""The taps (ingest.taps): CitrineOS webhook bodies and SteVe log lines, as those projects write
them (tests/ingest/fixtures; their sources cited in docs/ocpp/taps.md), read into TappedFrame
records; bad input a named error, never another exception. Pure logic, no Redis."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.frames import MAX_FRAME_BYTES, InvalidFrame
from ingest.taps import (
    ConnectionEvent,
    InvalidTap,
    LogLineError,
    Skipped,
    SteveLog,
    TappedFrame,
    WebhookError,
    parse_line,
    parse_webhook,
)
from ingest.taps.citrineos import MAX_BODY_BYTES, NOT_DELIVERED

FIXTURES = Path(__file__).parent / "fixtures"
RECEIVED = dt.datetime(2026, 2, 19, 12, 0, 0, tzinfo=dt.UTC)  # when our endpoint got a body
LOGGER = "de.rwth.idsg.steve.ocpp.ws.WebSocketLogger"
SESSION = "9b7c0f5e-3a1d-4c8e-a0b2-6f3d2e1c9a77"


def body(name: str) -> bytes:
    return (FIXTURES / "citrineos" / name).read_bytes()


def log_lines(name: str) -> Iterator[str]:
    with (FIXTURES / "steve" / name).open(encoding="utf-8", newline="") as lines:
        yield from lines


def steve_line(what: str, charge_box: str = "CP_0042", level: str = "INFO ") -> str:
    """A WebSocketLogger line as SteVe's layout writes it: `[%-5level] %d %c \\(%thread\\) -
    %msg%n` (logback-spring-*.xml)."""
    return (
        f"[{level}] 2026-08-21 09:12:03,418 {LOGGER} (qtp1205406622-47) - "
        f"[chargeBoxId={charge_box}, sessionId={SESSION}] {what}\n"
    )


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- CitrineOS ----------------------------------------------------------------------------
def test_a_received_frame_of_today_s_citrineos_keeps_its_text_time_and_version() -> None:
    found = parse_webhook(body("v1.8.3-received-call.json"), received_at=RECEIVED)
    assert isinstance(found, TappedFrame)
    sent = json.loads(body("v1.8.3-received-call.json"))["message"]
    assert found == TappedFrame("CP_0042", "cs", at("2026-02-19T10:00:01.250+00:00"), "1.6", sent)


def test_a_sent_answer_is_the_central_system_s() -> None:
    found = parse_webhook(body("v1.8.3-sent-result.json"), received_at=RECEIVED)
    assert isinstance(found, TappedFrame)
    assert found.direction == "csms" and found.frame.startswith('[3,"19223201"')
    assert found.at == at("2026-02-19T10:00:01.263+00:00")


def test_the_frame_text_is_carried_byte_for_byte_and_the_protocol_read() -> None:
    raw = json.loads(body("v1.6.0-received-call-2.0.1.json"))["message"]
    found = parse_webhook(body("v1.6.0-received-call-2.0.1.json"), received_at=RECEIVED)
    assert isinstance(found, TappedFrame)
    assert found.frame == raw and ", " in found.frame  # the station's own spacing
    assert (found.charge_point_id, found.ocpp_version) == ("EVSE-7", "2.0.1")


def test_old_bodies_without_info_take_the_receive_time_and_the_version_of_the_action() -> None:
    found = parse_webhook(body("v1.5.1-received.json"), received_at=RECEIVED)
    assert isinstance(found, TappedFrame)
    assert found.at == RECEIVED and found.ocpp_version == "2.0.1"  # TransactionEvent: 2.0.1 only
    sent = parse_webhook(body("v1.5.1-sent.json"), received_at=RECEIVED, ocpp_version="2.0.1")
    assert isinstance(sent, TappedFrame)
    assert sent.direction == "csms" and sent.ocpp_version == "2.0.1"  # Reset: both; the setting


def test_an_empty_info_is_read_as_none() -> None:
    found = parse_webhook(body("650138361e-received.json"), received_at=RECEIVED)
    assert isinstance(found, TappedFrame) and found.at == RECEIVED


def test_a_frame_citrineos_failed_to_send_is_skipped_not_an_error() -> None:
    found = parse_webhook(body("v1.5.1-sent-failed.json"), received_at=RECEIVED)
    assert found == Skipped(NOT_DELIVERED, "CP_0042")


def test_connections_opening_and_closing_are_events() -> None:
    opened = parse_webhook(body("v1.8.3-connected.json"), received_at=RECEIVED)
    closed = parse_webhook(body("v1.8.3-closed.json"), received_at=RECEIVED)
    assert opened == ConnectionEvent("CP_0042", "connected", RECEIVED)
    assert closed == ConnectionEvent("CP_0042", "closed", RECEIVED)


def test_a_frame_citrineos_could_not_parse_is_passed_on_as_it_came() -> None:
    found = parse_webhook(body("v1.8.3-unparsed.json"), received_at=RECEIVED)
    assert isinstance(found, TappedFrame) and found.frame == '[2,"19223207","Heartbeat",{}'


def webhook(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "stationId": "CP_1",
        "event": "message",
        "origin": "cs",
        "message": '[2,"1","Heartbeat",{}]',
    }
    return json.dumps({k: v for k, v in {**base, **fields}.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("raw", "field", "says"),
    [
        (b"{not json", "body", "not JSON"),
        (b'["stationId"]', "body", "expected a JSON object"),
        (webhook(stationId=...), "stationId", "does not match"),
        (webhook(stationId="CP 1"), "stationId", "does not match"),
        (webhook(stationId="acme:CP_1"), "stationId", "does not match"),
        (webhook(event="disconnected"), "event", "is not one of message, connected, closed"),
        (webhook(origin="charger"), "origin", "is not one of cs, csms"),
        (webhook(origin=...), "origin", "is not one of cs, csms"),
        (webhook(info=["x"]), "info", "expected an object"),
        (webhook(info={"origin": "csms"}), "info.origin", "contradicts origin 'cs'"),
        (webhook(info={"timestamp": "yesterday"}), "info.timestamp", "not an ISO 8601 time"),
        (webhook(info={"timestamp": "2026-02-19T10:00:00"}), "info.timestamp", "no UTC offset"),
        (webhook(info={"protocol": "ocpp1.5"}), "info.protocol", "is not one of ocpp1.6"),
        (webhook(message=[2, "1", "Heartbeat", {}]), "message", "as a string"),
        (webhook(message=""), "message", "empty"),
        (webhook(message="x" * (MAX_FRAME_BYTES + 1)), "message", "at most 65,536"),
        (b" " * (MAX_BODY_BYTES + 1), "body", "bytes; at most"),
    ],
)
def test_a_bad_body_is_a_named_error(raw: bytes, field: str, says: str) -> None:
    with pytest.raises(WebhookError) as caught:
        parse_webhook(raw, received_at=RECEIVED)
    assert caught.value.field == field and says in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_the_receive_time_must_say_its_zone() -> None:
    with pytest.raises(WebhookError, match=r"received_at: .* no UTC offset"):
        parse_webhook(webhook(), received_at=dt.datetime(2026, 2, 19, 12))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
BODY_KEYS = st.sampled_from(["stationId", "event", "origin", "message", "info", "error", "x"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_garbage_bytes_are_a_named_error_or_a_record(raw: bytes) -> None:
    try:
        found = parse_webhook(raw, received_at=RECEIVED)
    except WebhookError as exc:
        assert exc.field
    else:
        assert isinstance(found, TappedFrame | ConnectionEvent | Skipped)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(BODY_KEYS, JSON_VALUES, max_size=6))
def test_garbage_bodies_are_a_named_error_or_a_record(doc: dict[str, Any]) -> None:
    try:
        found = parse_webhook(json.dumps(doc), received_at=RECEIVED)
    except WebhookError as exc:
        assert exc.field
    else:
        assert isinstance(found, TappedFrame | ConnectionEvent | Skipped)


# -- the record and the relay's item shape --------------------------------------------------
def test_a_record_goes_to_ingestion_as_the_relay_s_item_and_comes_back() -> None:
    found = parse_webhook(body("v1.8.3-received-call.json"), received_at=RECEIVED)
    assert isinstance(found, TappedFrame)
    item = found.to_item()
    assert item == {
        "charge_point_id": "CP_0042",
        "frame": found.frame,
        "ocpp_version": "1.6",
        "direction": "cs",
        "at": "2026-02-19T10:00:01.250000Z",  # as the relay writes it
    }
    assert TappedFrame.from_item(item) == found
    assert TappedFrame.from_item(json.loads(json.dumps(item))) == found  # through the broker


def test_items_of_ocpp_serve_are_the_charger_s_calls_at_the_receive_time() -> None:
    item = {"charge_point_id": "CP_1", "frame": [2, "1", "Heartbeat", {}], "tenant_id": "acme"}
    found = TappedFrame.from_item(item, received_at=RECEIVED)
    assert found == TappedFrame("CP_1", "cs", RECEIVED, "1.6", '[2,"1","Heartbeat",{}]', "acme")
    assert found.to_item()["tenant_id"] == "acme"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ("CP_1", "item"),
        ({"charge_point_id": "CP_1", "frame": [2, 2**70], "at": "2026-01-01T00:00:00Z"}, "frame"),
        ({"charge_point_id": "CP_1", "frame": "[]"}, "at"),
        ({"charge_point_id": "CP_1", "frame": "[]", "at": "noon"}, "at"),
        (
            {"charge_point_id": "CP*", "frame": "[]", "at": "2026-01-01T00:00:00Z"},
            "charge_point_id",
        ),
        ({"charge_point_id": "CP_1", "frame": 7, "at": "2026-01-01T00:00:00Z"}, "frame"),
        (
            {
                "charge_point_id": "CP_1",
                "frame": "[]",
                "at": "2026-01-01T00:00:00Z",
                "direction": "up",
            },
            "direction",
        ),
        (
            {
                "charge_point_id": "CP_1",
                "frame": "[]",
                "at": "2026-01-01T00:00:00Z",
                "ocpp_version": "2.1",
            },
            "ocpp_version",
        ),
        (
            {
                "charge_point_id": "CP_1",
                "frame": "[]",
                "at": "2026-01-01T00:00:00Z",
                "tenant_id": "a b",
            },
            "tenant_id",
        ),
    ],
)
def test_a_bad_item_names_its_field_and_is_a_frame_error_ingestion_refuses(
    item: object, field: str
) -> None:
    with pytest.raises(InvalidTap) as caught:
        TappedFrame.from_item(item)
    assert caught.value.field == field
    assert isinstance(caught.value, InvalidFrame)  # tasks.errors.INPUT_ERRORS: never retried


ITEM_KEYS = st.sampled_from(
    ["charge_point_id", "frame", "ocpp_version", "direction", "at", "tenant_id", "x"]
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(ITEM_KEYS, JSON_VALUES, max_size=7) | JSON_VALUES)
def test_garbage_items_are_a_named_error_or_a_record(item: Any) -> None:
    try:
        found = TappedFrame.from_item(item, received_at=RECEIVED)
    except InvalidTap as exc:
        assert exc.field
    else:
        assert found.to_item()["charge_point_id"] == found.charge_point_id


# -- SteVe ----------------------------------------------------------------------------------
def read(name: str, **options: Any) -> tuple[list[Any], SteveLog]:
    log = SteveLog(source=name, **options)
    return list(log.read(log_lines(name))), log


def test_a_steve_log_gives_both_directions_in_order_with_connections() -> None:
    found, log = read("steve-head-dev.log")
    frames = [f for f in found if isinstance(f, TappedFrame)]
    assert [(f.direction, json.loads(f.frame)[1]) for f in frames][:4] == [
        ("cs", "1734"),
        ("csms", "1734"),
        ("cs", "1735"),
        ("csms", "1735"),
    ]
    assert frames[0].at == at("2026-08-21T09:12:03.418+00:00")
    assert frames[0].frame == (
        '[2,"1734","BootNotification",{"chargePointVendor":"ACME",'
        '"chargePointModel":"Wallbox XL","firmwareVersion":"4.2.1"}]'
    )
    assert {f.charge_point_id for f in frames} == {"CP_0042"} and len(frames) == 12
    events = [(e.event, e.detail) for e in found if isinstance(e, ConnectionEvent)]
    assert events == [
        ("connected", None),
        ("closed", "CloseStatus[code=1006, reason=Disconnected]"),
        ("connected", None),
    ]
    assert not [e for e in found if isinstance(e, LogLineError)]
    assert log.versions == {"CP_0042": "1.6"}  # the DEBUG handshake line
    assert log.skipped == {
        "other": 4,  # other loggers' lines, the handshake's other DEBUG lines
        "handshake": 2,
        "zone": 1,
        "ping": 2,
        "transport": 1,
        "continuation": 3,  # the stack trace
        "not_sent": 1,
        "empty": 1,
    }


def test_a_frame_with_line_breaks_is_read_whole() -> None:
    found, _ = read("steve-head-dev.log")
    meter = next(f for f in found if isinstance(f, TappedFrame) and "MeterValues" in f.frame)
    assert meter.frame.count("\n") == 3 and json.loads(meter.frame)[3]["connectorId"] == 1


def test_log4j2_era_lines_in_a_zone_of_its_own() -> None:
    found, log = read("steve-3.7-prod.log")
    assert log.zone == zoneinfo.ZoneInfo("Europe/Berlin")
    frames = [f for f in found if isinstance(f, TappedFrame)]
    assert frames[0].at == at("2024-11-04T06:03:12.377+00:00")  # 07:03 in Berlin, in November
    assert frames[0].ocpp_version == "1.6"  # at INFO no handshake line: the default
    assert len(frames) == 8 and log.skipped["other"] == 2


def test_a_line_cut_short_is_an_error_with_its_line_number_and_the_rest_is_read() -> None:
    found, _ = read("steve-cut.log")
    errors = [e for e in found if isinstance(e, LogLineError)]
    assert [(e.source, e.line, e.field) for e in errors] == [
        ("steve-cut.log", 1, "frame"),
        ("steve-cut.log", 4, "frame"),  # the last line, cut at the end of the file
    ]
    assert "steve-cut.log line 1: frame: truncated or garbled" in str(errors[0])
    assert len([f for f in found if isinstance(f, TappedFrame)]) == 2


def test_lines_as_docker_compose_logs_prints_them() -> None:
    """The docker profile logs to the console; `docker compose logs --no-color` prefixes each
    line with the service's name."""
    log = SteveLog()
    prefixed = [f"steve-1  | {line}" for line in log_lines("steve-head-dev.log")]
    found = [f for f in log.read(prefixed) if isinstance(f, TappedFrame)]
    plain, _ = read("steve-head-dev.log")
    assert found == [f for f in plain if isinstance(f, TappedFrame)]
    assert any("\n" in f.frame for f in found)  # the prefix taken off the frame's own lines too


def test_a_charge_box_id_outside_the_pattern_is_an_error_with_its_line() -> None:
    log = SteveLog(source="steve.log")
    log.feed(steve_line('Received: [2,"1","Heartbeat",{}]'))
    found = log.feed(steve_line('Received: [2,"2","Heartbeat",{}]', charge_box="CP:1"))
    assert len(found) == 1 and isinstance(found[0], LogLineError)
    assert (found[0].line, found[0].field) == (2, "chargeBoxId")


def test_connections_in_1_5_are_skipped_and_counted() -> None:
    log = SteveLog()
    log.feed(
        "[DEBUG] 2026-08-21 09:12:01,009 de.rwth.idsg.steve.ocpp.ws.OcppWebSocketHandshakeHandler"
        " (qtp1-1) - ChargeBoxId 'CP_0042' will be using Ocpp15WebSocketEndpoint\n"
    )
    assert log.feed(steve_line('Received: [2,"1","Heartbeat",{}]')) == []
    assert log.skipped["ocpp_version"] == 1


def test_the_caller_s_versions_per_charge_box() -> None:
    log = SteveLog(versions={"CP_0042": "2.0.1"})
    found = log.feed(steve_line('Received: [2,"1","Heartbeat",{}]'))
    assert isinstance(found[0], TappedFrame) and found[0].ocpp_version == "2.0.1"


def test_a_rotated_file_restarts_the_line_numbers_and_keeps_what_was_learnt() -> None:
    log = SteveLog(source="steve-2026-08-20.log")
    log.feed(
        "[INFO ] 2026-08-21 09:00:00,118 de.rwth.idsg.steve.SteveApplicationStartupListener (main)"
        " - Date/time zone of the application is set to Asia/Tokyo. Current date/time: x\n"
    )
    cut = log.feed(steve_line('Received: [2,"1","Heart'))
    assert cut == []
    ended = log.start("steve.log")
    assert isinstance(ended[0], LogLineError) and ended[0].line == 2
    found = log.feed(steve_line('Received: [2,"1","Heartbeat",{}]'))
    assert isinstance(found[0], TappedFrame)
    assert found[0].at == at("2026-08-21T00:12:03.418+00:00")  # Tokyo's 09:12
    assert log.line == 1 and log.source == "steve.log"


def test_one_line_on_its_own() -> None:
    found = parse_line(steve_line('Sending: [2,"u-1","Reset",{"type":"Hard"}]'))
    assert isinstance(found, TappedFrame) and found.direction == "csms"
    assert parse_line(steve_line("Sending ping message", level="DEBUG")) == Skipped("ping")
    assert parse_line("java.lang.IllegalStateException: boom\n") == Skipped("continuation")
    with pytest.raises(LogLineError, match="line 7: frame: truncated"):
        parse_line(steve_line('Received: [2,"1","Hea'), number=7)


def test_a_frame_line_over_the_size_limit_is_an_error() -> None:
    with pytest.raises(LogLineError, match=r"frame: .* at most 65,536"):
        parse_line(steve_line('Received: [2,"1","DataTransfer",{"data":"' + "x" * 70_000 + '"}]'))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=8))
def test_garbage_lines_are_skipped_or_named_errors(lines: list[str]) -> None:
    log = SteveLog()
    for line in [*lines, *(steve_line("Received: " + text) for text in lines)]:
        for found in log.feed(line):
            assert isinstance(found, TappedFrame | ConnectionEvent | LogLineError)
    for found in log.finish():
        assert isinstance(found, LogLineError) and found.line > 0
