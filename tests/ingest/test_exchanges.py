"""Both directions are evidence (ingest.exchanges, ingest.evidence): the central system's
commands and the charger's answers, built with the `ocpp` package's own request and response
classes and serialiser, paired per charge point and judged by the one table. Pure logic."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.charge_point import remove_nones, snake_to_camel_case
from ocpp.messages import Call, CallError, CallResult
from ocpp.v16 import call as c16
from ocpp.v16 import call_result as r16
from ocpp.v201 import call as c201
from ocpp.v201 import call_result as r201

from ingest import evidence as ev
from ingest.exchanges import (
    CALL_TIMEOUT_S,
    MAX_PENDING,
    MAX_SPANS,
    Exchanges,
    ExchangeState,
    connection_closed,
    pair,
)
from ingest.taps import ConnectionEvent, SteveLog, TappedFrame, parse_webhook
from models.train.datasets.format import EVENTS
from vocabulary import EVENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def payload(message: Any) -> dict[str, Any]:
    """A request or response as the `ocpp` package puts it on the wire."""
    return snake_to_camel_case(remove_nones(asdict(message)))


def call(request: Any, message_id: str) -> str:
    action = type(request).__name__
    return Call(unique_id=message_id, action=action, payload=payload(request)).to_json()


def result(response: Any, message_id: str) -> str:
    return CallResult(unique_id=message_id, payload=payload(response)).to_json()


def error(code: str, message_id: str) -> str:
    made = CallError(unique_id=message_id, error_code=code, error_description="", error_details={})
    return made.to_json()


class Link:
    """One charge point's connection as a tap sees it, the minutes counted from T0."""

    def __init__(self, version: str = "1.6", charge_point_id: str = "CP_1") -> None:
        self.version, self.charge_point_id = version, charge_point_id
        self.exchanges = Exchanges()

    def frame(self, direction: str, text: str, minute: float) -> TappedFrame:
        at = T0 + dt.timedelta(minutes=minute)
        return TappedFrame(self.charge_point_id, direction, at, self.version, text)

    def csms(self, request: Any, message_id: str, minute: float = 0) -> list[ev.Evidence]:
        return self.exchanges.feed(self.frame("csms", call(request, message_id), minute))

    def cs(self, request: Any, message_id: str, minute: float = 0) -> list[ev.Evidence]:
        return self.exchanges.feed(self.frame("cs", call(request, message_id), minute))

    def answer(
        self, response: Any, message_id: str, minute: float = 0, by: str = "cs"
    ) -> list[ev.Evidence]:
        return self.exchanges.feed(self.frame(by, result(response, message_id), minute))

    def command(
        self, request: Any, response: Any, minute: float = 0, message_id: str | None = None
    ) -> list[ev.Evidence]:
        """The central system's CALL and the charger's answer a moment later."""
        mid = message_id or f"m-{minute}-{type(request).__name__}"
        return self.csms(request, mid, minute) + self.answer(response, mid, minute + 0.01)

    @property
    def counted(self) -> dict[tuple[str, str], int]:
        return dict(self.exchanges.counted)

    @property
    def state(self) -> ExchangeState:
        return self.exchanges.state(None, self.charge_point_id)


def names(found: list[ev.Evidence]) -> list[str]:
    return [e.name for e in found]


# -- ChangeAvailability: out-of-service spans ----------------------------------------------
def test_an_operator_s_out_of_service_span_becomes_an_inspection_with_its_downtime() -> None:
    link = Link()
    taken = link.command(
        c16.ChangeAvailability(connector_id=0, type="Inoperative"),
        r16.ChangeAvailability(status="Accepted"),
    )
    assert names(taken) == [ev.TAKEN_OUT_OF_SERVICE] and taken[0].scope == "charger"
    assert taken[0].history_event() is None and taken[0].error_code is None
    back = link.command(
        c16.ChangeAvailability(connector_id=0, type="Operative"),
        r16.ChangeAvailability(status="Scheduled"),
        minute=180,
    )
    assert names(back) == [ev.BACK_IN_SERVICE]
    row = back[0].history_event()
    assert row == {
        "charger_id": "CP_1",
        "timestamp": (T0 + dt.timedelta(minutes=0.01)).isoformat(),
        "kind": "inspection",
        "downtime_hours": 3.0,
        "component": "charger",
        "note": "from OCPP: out of service by the operator (ChangeAvailability Inoperative, then "
        "Operative)",
    }
    assert back[0].outcome() == ("inspection", (T0 + dt.timedelta(minutes=0.01)).timestamp())
    assert link.state.out_of_service == {}


def test_2_0_1_spans_by_evse_and_the_whole_station_closing_them_all() -> None:
    link = Link("2.0.1")
    for minute, evse in ((0, {"id": 1}), (1, {"id": 2, "connector_id": 1})):
        found = link.command(
            c201.ChangeAvailability(operational_status="Inoperative", evse=evse),
            r201.ChangeAvailability(status="Accepted"),
            minute=minute,
        )
        assert names(found) == [ev.TAKEN_OUT_OF_SERVICE]
    assert set(link.state.out_of_service) == {"evse 1", "evse 2 connector 1"}
    back = link.command(
        c201.ChangeAvailability(operational_status="Operative"),
        r201.ChangeAvailability(status="Accepted"),
        minute=60,
    )
    assert sorted((e.scope, e.downtime_hours) for e in back) == [
        ("evse 1", 1.0),
        ("evse 2 connector 1", round((60 - 1) / 60, 4)),
    ]


def test_operative_without_a_span_and_a_refused_change_are_counted_only() -> None:
    link = Link()
    refused = link.command(
        c16.ChangeAvailability(connector_id=1, type="Inoperative"),
        r16.ChangeAvailability(status="Rejected"),
    )
    operative = link.command(
        c16.ChangeAvailability(connector_id=1, type="Operative"),
        r16.ChangeAvailability(status="Accepted"),
        minute=5,
    )
    assert refused == [] and operative == []
    assert link.counted[("ChangeAvailability", "Rejected")] == 1
    assert link.counted[("ChangeAvailability", "Operative.no_span")] == 1


# -- Reset: hard after soft ----------------------------------------------------------------
def test_a_hard_reset_after_a_soft_one_within_the_hour_is_evidence() -> None:
    link = Link()
    assert link.command(c16.Reset(type="Soft"), r16.Reset(status="Accepted")) == []
    found = link.command(c16.Reset(type="Hard"), r16.Reset(status="Accepted"), minute=20)
    assert names(found) == [ev.RESET_ESCALATION]
    assert found[0].error_code == "chargewatch.ResetEscalated" and found[0].history_event() is None
    assert "20.0 min" in found[0].detail


def test_2_0_1_immediate_after_on_idle_and_a_soft_that_got_no_answer() -> None:
    link = Link("2.0.1")
    link.csms(c201.Reset(type="OnIdle"), "r-1", minute=0)  # the charger never answers it
    found = link.command(c201.Reset(type="Immediate"), r201.Reset(status="Scheduled"), minute=10)
    assert names(found) == [ev.RESET_ESCALATION]


def test_resets_hours_apart_or_a_refused_hard_one_are_no_escalation() -> None:
    link = Link()
    link.command(c16.Reset(type="Soft"), r16.Reset(status="Accepted"))
    assert link.command(c16.Reset(type="Hard"), r16.Reset(status="Accepted"), minute=120) == []
    link.command(c16.Reset(type="Soft"), r16.Reset(status="Accepted"), minute=200)
    assert link.command(c16.Reset(type="Hard"), r16.Reset(status="Rejected"), minute=210) == []
    assert link.counted[("Reset", "Rejected")] == 1


def test_a_hard_reset_after_a_hard_one_is_a_second_click_not_trouble() -> None:
    link = Link()
    link.command(c16.Reset(type="Hard"), r16.Reset(status="Accepted"))
    assert link.command(c16.Reset(type="Hard"), r16.Reset(status="Accepted"), minute=1) == []


def test_a_command_seen_twice_is_judged_once() -> None:
    """A tap may post a frame twice: the first CALL stands, the copy is counted."""
    link = Link()
    link.command(c16.Reset(type="Soft"), r16.Reset(status="Accepted"))
    link.csms(c16.Reset(type="Hard"), "h-1", minute=5)
    link.csms(c16.Reset(type="Hard"), "h-1", minute=5)
    found = link.answer(r16.Reset(status="Accepted"), "h-1", minute=5.1)
    assert names(found) == [ev.RESET_ESCALATION]
    assert link.counted[("Reset", "duplicate_call")] == 1


# -- UnlockConnector -------------------------------------------------------------------------
def test_a_failed_unlock_is_the_live_state_s_lock_failure_and_nothing_else() -> None:
    link = Link()
    found = link.command(
        c16.UnlockConnector(connector_id=2), r16.UnlockConnector(status="UnlockFailed")
    )
    assert names(found) == [ev.UNLOCK_FAILED] and found[0].scope == "connector 2"
    assert found[0].error_code == "ConnectorLockFailure"
    assert found[0].history_event() is None and found[0].outcome() is None


@pytest.mark.parametrize("status", ["Unlocked", "OngoingAuthorizedTransaction", "UnknownConnector"])
def test_other_2_0_1_unlock_answers_are_counted(status: str) -> None:
    link = Link("2.0.1")
    found = link.command(
        c201.UnlockConnector(evse_id=1, connector_id=1), r201.UnlockConnector(status=status)
    )
    assert found == [] and link.counted[("UnlockConnector", status)] == 1


# -- UpdateFirmware and FirmwareStatusNotification -----------------------------------------
def firmware_16(link: Link, *statuses: str, minute: float = 30) -> list[ev.Evidence]:
    found = []
    for n, status in enumerate(statuses):
        found += link.cs(c16.FirmwareStatusNotification(status=status), f"f-{n}", minute + n)
    return found


def test_new_firmware_installed_after_an_update_is_a_maintenance_event() -> None:
    link = Link()
    update = c16.UpdateFirmware(
        location="ftp://fw:secret@vendor.example/4.3.bin", retrieve_date=T0.isoformat()
    )
    assert link.command(update, r16.UpdateFirmware()) == []
    found = firmware_16(link, "Downloading", "Downloaded", "Installing", "Installed")
    assert names(found) == [ev.FIRMWARE_INSTALLED]
    row = found[0].history_event()
    assert row is not None and (row["kind"], row["component"]) == ("maintenance", "firmware")
    assert found[0].outcome() == ("maintenance", (T0 + dt.timedelta(minutes=33)).timestamp())
    assert "secret" not in json.dumps(link.state.to_doc())  # the location is never kept


@pytest.mark.parametrize(
    ("status", "name", "code"),
    [
        ("DownloadFailed", ev.FIRMWARE_DOWNLOAD_FAILURE, "chargewatch.FirmwareDownloadFailed"),
        (
            "InstallationFailed",
            ev.FIRMWARE_INSTALLATION_FAILURE,
            "chargewatch.FirmwareInstallationFailed",
        ),
    ],
)
def test_a_failed_update_is_an_error_code(status: str, name: str, code: str) -> None:
    link = Link()
    link.command(
        c16.UpdateFirmware(location="https://x/fw", retrieve_date=T0.isoformat()),
        r16.UpdateFirmware(),
    )
    found = firmware_16(link, "Downloading", status)
    assert names(found) == [name] and found[0].error_code == code
    assert firmware_16(link, "Installed", minute=90) == []  # that update is over


def test_installed_out_of_the_blue_is_counted_not_an_event() -> None:
    link = Link()
    assert firmware_16(link, "Installed") == []
    assert link.counted[("FirmwareStatusNotification", "Installed.unrequested")] == 1


def test_2_0_1_update_accepted_then_installed() -> None:
    link = Link("2.0.1")
    update = c201.UpdateFirmware(
        request_id=7, firmware={"location": "https://x/fw", "retrieveDateTime": T0.isoformat()}
    )
    link.command(update, r201.UpdateFirmware(status="Accepted"))
    found = link.cs(c201.FirmwareStatusNotification(status="Installed", request_id=7), "f-1", 40)
    assert names(found) == [ev.FIRMWARE_INSTALLED] and "requested" in found[0].detail


# -- TriggerMessage and refusals -------------------------------------------------------------
def test_trigger_message_is_counted_by_what_it_asked_for_and_never_a_refusal() -> None:
    link = Link()
    for minute in range(4):
        link.command(
            c16.TriggerMessage(requested_message="DiagnosticsStatusNotification"),
            r16.TriggerMessage(status="NotImplemented"),
            minute=minute,
        )
    link.command(
        c16.TriggerMessage(requested_message="StatusNotification", connector_id=1),
        r16.TriggerMessage(status="Accepted"),
        minute=5,
    )
    assert link.counted == {
        ("TriggerMessage.DiagnosticsStatusNotification", "NotImplemented"): 4,
        ("TriggerMessage.StatusNotification", "Accepted"): 1,
    }
    assert link.state.refusals == []


def test_a_third_refusal_within_a_day_is_evidence() -> None:
    link = Link()
    link.command(c16.Reset(type="Soft"), r16.Reset(status="Rejected"), minute=0)
    link.csms(c16.ClearCache(), "cc-1", minute=60)
    assert link.exchanges.feed(link.frame("cs", error("InternalError", "cc-1"), 60.1)) == []
    link.csms(c16.GetConfiguration(), "gc-1", minute=90)
    link.exchanges.feed(
        link.frame("cs", error("NotImplemented", "gc-1"), 90.1)
    )  # a missing feature
    found = link.command(
        c16.RemoteStartTransaction(id_tag="TAG1"),
        r16.RemoteStartTransaction(status="Rejected"),
        minute=120,
    )
    assert names(found) == [ev.REPEATED_REFUSALS]
    assert found[0].detail == "refused: ClearCache, RemoteStartTransaction, Reset"
    assert link.counted[("ClearCache", "CALLERROR.InternalError")] == 1
    assert link.counted[("GetConfiguration", "CALLERROR.NotImplemented")] == 1


def test_refusals_a_day_apart_are_not_repeated() -> None:
    link = Link()
    for n in range(3):
        found = link.command(
            c16.Reset(type="Soft"), r16.Reset(status="Rejected"), minute=n * 13 * 60
        )
        assert found == []


# -- pairing ---------------------------------------------------------------------------------
def test_an_answer_posted_before_its_call_is_paired_when_the_call_comes() -> None:
    link = Link()
    mid = "u-9"
    assert link.answer(r16.UnlockConnector(status="UnlockFailed"), mid, minute=0.02) == []
    found = link.csms(c16.UnlockConnector(connector_id=1), mid, minute=0)
    assert names(found) == [ev.UNLOCK_FAILED] and found[0].at == T0 + dt.timedelta(minutes=0.02)


def test_the_same_id_from_both_sides_never_crosses() -> None:
    link = Link()
    link.cs(c16.Heartbeat(), "1", minute=0)
    link.csms(c16.UnlockConnector(connector_id=1), "1", minute=0)
    found = link.answer(r16.UnlockConnector(status="UnlockFailed"), "1", minute=0.1)
    assert names(found) == [ev.UNLOCK_FAILED]
    link.answer(r16.Heartbeat(current_time=T0.isoformat()), "1", minute=0.1, by="csms")
    assert link.counted[("Heartbeat", "answered")] == 1 and link.state.pending == []


def test_an_unanswered_call_expires_and_a_closed_connection_ends_the_open_ones() -> None:
    link = Link()
    link.csms(c16.Reset(type="Soft"), "r-1", minute=0)
    link.cs(c16.Heartbeat(), "h-1", minute=CALL_TIMEOUT_S / 60 + 1)
    assert link.counted[("Reset", "unanswered")] == 1
    link.exchanges.connection(ConnectionEvent("CP_1", "closed", T0))
    assert link.counted[("Heartbeat", "closed")] == 1 and link.state.pending == []


def test_an_answer_never_called_for_is_an_orphan_after_a_minute() -> None:
    link = Link()
    link.answer(r16.Reset(status="Accepted"), "nobody", minute=0)
    link.cs(c16.Heartbeat(), "h-1", minute=2)
    assert link.counted[("answer", "orphan")] == 1 and link.state.early == []


def test_memory_is_bounded_per_charger_and_over_chargers() -> None:
    link = Link()
    for n in range(MAX_PENDING + 10):
        link.csms(c16.Reset(type="Soft"), f"r-{n}", minute=n * 0.01)
    assert len(link.state.pending) == MAX_PENDING
    assert link.counted[("Reset", "evicted")] == 10
    few = Exchanges(max_chargers=3)
    for n in range(5):
        few.feed(TappedFrame(f"CP_{n}", "cs", T0, "1.6", call(c16.Heartbeat(), "1")))
    assert few.counted[("charger", "evicted")] == 2


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ('[3,"x"', ("invalid", "malformed")),
        ('{"a":1}', ("invalid", "malformed")),
        ('[5,"x",{}]', ("invalid", "malformed")),
        ('[2,"x","NoSuchAction",{}]', ("invalid", "malformed")),
        ('[2,"x","Reset",{"type":"Gentle"}]', ("invalid", "malformed")),
    ],
)
def test_malformed_frames_are_counted(text: str, outcome: tuple[str, str]) -> None:
    link = Link()
    assert link.exchanges.feed(link.frame("csms", text, 0)) == []
    assert link.counted == {outcome: 1}


def test_an_answer_that_breaks_its_schema_or_an_unknown_error_code_is_counted() -> None:
    link = Link()
    link.csms(c16.Reset(type="Hard"), "r-1")
    link.exchanges.feed(link.frame("cs", '[3,"r-1",{"status":"Maybe"}]', 0.1))
    link.csms(c16.Reset(type="Hard"), "r-2", minute=1)
    link.exchanges.feed(link.frame("cs", error("VendorBoom", "r-2"), 1.1))
    assert link.counted[("Reset", "invalid_answer")] == 1
    assert link.counted[("Reset", "CALLERROR.other")] == 1


def test_the_state_rides_in_json_between_frames() -> None:
    """As it would in the charger's live state: each frame with the state read back."""
    state, found = ExchangeState(), []
    texts = [
        ("csms", call(c16.Reset(type="Soft"), "a"), 0),
        ("cs", result(r16.Reset(status="Accepted"), "a"), 1),
        ("csms", call(c16.ChangeAvailability(connector_id=0, type="Inoperative"), "b"), 2),
        ("cs", result(r16.ChangeAvailability(status="Accepted"), "b"), 3),
        ("csms", call(c16.Reset(type="Hard"), "c"), 4),
        ("cs", result(r16.Reset(status="Accepted"), "c"), 5),
    ]
    for direction, text, minute in texts:
        frame = TappedFrame("CP_1", direction, T0 + dt.timedelta(minutes=minute), "1.6", text)
        found += pair(state, frame).evidence
        state = ExchangeState.of(orjson.loads(orjson.dumps(state.to_doc())))
    assert names(found) == [ev.TAKEN_OUT_OF_SERVICE, ev.RESET_ESCALATION]
    assert len(orjson.dumps(state.to_doc())) < 400  # rides in the live state: small


@pytest.mark.parametrize(
    "doc",
    [
        {"pending": "garbage"},
        {"pending": [{"message_id": "a", "caller": "csms", "action": "Reset", "version": "1.6"}]},
        {
            "pending": [
                {
                    "message_id": "a",
                    "caller": "csms",
                    "action": "Reset",
                    "version": "1.6",
                    "at": "soon",
                }
            ]
        },
        {"early": [{"message_id": "a", "answerer": "cs", "at": 1.0, "kind": 3, "payload": "x"}]},
        {"out_of_service": {"charger": "yesterday"}},
        {"refusals": [[1.0]]},
    ],
)
def test_a_state_that_cannot_be_read_back_is_a_fresh_one(doc: dict[str, Any]) -> None:
    assert ExchangeState.of(doc) == ExchangeState()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["cs", "csms"]),
            st.text(max_size=60)
            | st.sampled_from(
                [
                    call(c16.Reset(type="Soft"), "1"),
                    result(r16.Reset(status="Accepted"), "1"),
                    error("InternalError", "1"),
                    '[3,"1",{"status":7}]',
                    '[4,"1",5,"",{}]',
                    '[2,"1","Reset",[]]',
                ]
            ),
        ),
        max_size=12,
    )
)
def test_garbage_frames_never_raise(frames: list[tuple[str, str]]) -> None:
    state = ExchangeState()
    for minute, (direction, text) in enumerate(frames):
        if not text:
            continue
        frame = TappedFrame("CP_1", direction, T0 + dt.timedelta(minutes=minute), "1.6", text)
        done = pair(state, frame)
        assert all(isinstance(e, ev.Evidence) for e in done.evidence)
    connection_closed(state)
    assert len(state.pending) <= MAX_PENDING


# -- the taps' frames through the exchanges ------------------------------------------------
def test_steve_s_log_is_evidence_of_an_escalated_reset_and_a_lock_fault() -> None:
    log, exchanges = SteveLog(source="steve-head-dev.log"), Exchanges()
    found: list[ev.Evidence] = []
    with (FIXTURES / "steve" / "steve-head-dev.log").open(encoding="utf-8") as lines:
        for record in log.read(lines):
            if isinstance(record, TappedFrame):
                found += exchanges.feed(record)
            elif isinstance(record, ConnectionEvent):
                exchanges.connection(record)
    assert [(e.name, e.at.isoformat()) for e in found] == [
        (ev.RESET_ESCALATION, "2026-08-21T09:41:17.512000+00:00"),
        (ev.UNLOCK_FAILED, "2026-08-21T09:43:00.915000+00:00"),
    ]
    assert exchanges.counted[("BootNotification", "Accepted")] == 1


def test_steve_3_7_s_log_shows_an_out_of_service_span() -> None:
    log, exchanges = SteveLog(), Exchanges()
    found: list[ev.Evidence] = []
    with (FIXTURES / "steve" / "steve-3.7-prod.log").open(encoding="utf-8") as lines:
        for record in log.read(lines):
            if isinstance(record, TappedFrame):
                found += exchanges.feed(record)
    assert names(found) == [ev.TAKEN_OUT_OF_SERVICE, ev.BACK_IN_SERVICE]
    row = found[1].history_event()
    assert row is not None and row["timestamp"] == "2024-11-04T06:05:40.412000+00:00"
    assert row["downtime_hours"] == 3.5


def test_citrineos_bodies_pair_across_its_two_webhooks() -> None:
    exchanges = Exchanges()
    received = dt.datetime(2026, 2, 19, 10, 0, 2, tzinfo=dt.UTC)
    for name in ("v1.8.3-received-call.json", "v1.8.3-sent-result.json"):
        record = parse_webhook((FIXTURES / "citrineos" / name).read_bytes(), received_at=received)
        assert isinstance(record, TappedFrame)
        exchanges.feed(record)
    assert dict(exchanges.counted) == {("BootNotification", "Accepted"): 1}


# -- the table -------------------------------------------------------------------------------
def test_the_table_speaks_the_events_table_s_kinds() -> None:
    for rule in ev.RULES:
        assert rule.event in (None, *EVENT_KINDS) and rule.outcome in (None, *EVENT_KINDS)
        assert rule.event != "failure"  # a failure needs a repair no command shows
    assert {ev.MAINTENANCE, ev.INSPECTION} <= set(EVENT_KINDS)
    columns = {column.name for column in EVENTS}
    for name in ev.TABLE:
        since = T0 if name == ev.BACK_IN_SERVICE else None
        found = ev.Evidence(
            name, "CP_1", T0 + dt.timedelta(hours=2), "X", scope="charger", since=since
        )
        row = found.history_event()
        assert row is None or set(row) <= columns


def test_the_counted_table_says_the_bounds_the_code_keeps() -> None:
    assert f"{MAX_PENDING} CALLs waiting, {MAX_SPANS} spans" in ev.counted_markdown()


def test_the_docs_show_the_table_as_the_code_has_it() -> None:
    docs = (ROOT / "docs" / "ocpp" / "evidence.md").read_text()
    assert ev.table_markdown() in docs
    assert ev.counted_markdown() in docs
