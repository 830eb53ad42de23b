"""OCPP frames in by task against a real worker: frames built with the `ocpp` package's own
request classes, a live state that `predict_*(charger_id)` with `metrics=None` reads, news that
refreshes predictions at once, bad frames refused without retries, duplicates once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from ocpp.v16 import call as v16

import vocabulary
from cachepolicy import SyncCacheService
from cachepolicy.keys import prediction_key
from ingest.state import ChargerState, kept_print, message_digest
from tests.ingest.test_frames import frame, meter_values, sample
from tests.stack import Stack, wait_until

CP = "CP_OCPP_1"
FAILURE = vocabulary.PREDICTION_TYPES["failure"].task


def ingest(stack: Stack, sent: list[Any], cp: str = CP, **kwargs: Any) -> dict[str, Any]:
    return stack.call(vocabulary.INGEST_OCPP, cp, sent, **kwargs)


def reading(message: str, temperature: str = "30", power_w: str = "0") -> list[Any]:
    sent = meter_values(
        sample(temperature, "Temperature", location="Body"),
        sample(power_w, "Power.Active.Import", unit="W"),
        sample("1000", "Energy.Active.Import.Register", unit="kWh"),
    )
    sent[1] = message
    return sent


def test_frames_build_the_state_predictions_read(stack: Stack, clean_cache: Callable) -> None:
    boot = frame(v16.BootNotification(charge_point_model="X1", charge_point_vendor="ACME"))
    assert ingest(stack, boot) == {
        "accepted": True,
        "charger_id": CP,
        "action": "BootNotification",
        "news": False,
        "duplicate": False,
    }
    with pytest.raises(Exception, match="no reading with a temperature yet"):
        stack.call(FAILURE, CP)
    first = ingest(stack, reading("mv-1"))
    assert first["news"] is True
    served = stack.call(FAILURE, CP)
    assert served["charger_id"] == CP and served["served_from_cache"] is True  # refreshed at once
    healthy = served["failure_probability"]
    faulted = frame(
        v16.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted"),
        "sn-1",
    )
    assert ingest(stack, faulted)["news"] is True
    raw = stack.raw_cache()
    key = prediction_key("failure", stack.settings.cache_version, CP)

    def cached() -> dict[str, Any]:
        return json.loads(raw.get(key))

    # Within the debounce window of the first news: refreshed when the window ends.
    assert wait_until(lambda: cached()["failure_probability"] > healthy, timeout=10)
    after = stack.call(FAILURE, CP)
    assert after["served_from_cache"] is True
    assert after["failure_probability"] == cached()["failure_probability"] >= 0.2
    drift = ingest(stack, reading("mv-2", temperature="30.5"))
    assert drift["news"] is False
    again = ingest(stack, reading("mv-2", temperature="30.5"))
    assert again["duplicate"] is True


def test_a_bad_frame_fails_at_once_naming_the_field_and_is_no_dead_letter(
    stack: Stack, clean_cache: Callable
) -> None:
    bad = [
        2,
        "m-1",
        "StatusNotification",
        {"connectorId": "one", "errorCode": "NoError", "status": "Available"},
    ]
    with pytest.raises(Exception, match=r"\$\.connectorId"):
        ingest(stack, bad)
    with pytest.raises(Exception, match="not a CALL"):
        ingest(stack, [3, "m-1", {}])
    with pytest.raises(Exception, match="charger_id 'CP\\*' is invalid"):
        ingest(stack, frame(v16.Heartbeat()), cp="CP*")
    assert wait_until(lambda: stack.raw_cache().xlen("cw:dead-letters") == 0, timeout=1)


def test_a_batch_reports_each_bad_item_and_ingests_the_rest(
    stack: Stack, clean_cache: Callable
) -> None:
    items = [{"charge_point_id": f"CP_B{i}", "frame": reading(f"b-{i}")} for i in range(20)] + [
        {"charge_point_id": "CP_BAD", "frame": [2, "x", "MeterValues", {}]},
        "nonsense",
    ]
    summary = stack.call(vocabulary.INGEST_OCPP_BATCH, items, timeout=60)
    assert (summary["accepted"], summary["refused"], summary["news"]) == (20, 2, 20)
    assert [e["index"] for e in summary["errors"]] == [20, 21]
    assert "$" in summary["errors"][0]["message"]
    assert stack.call(FAILURE, "CP_B3")["charger_id"] == "CP_B3"


def test_a_fleet_by_ids_alone_predicts_from_the_states_the_frames_built(
    stack: Stack, clean_cache: Callable
) -> None:
    ids = [f"CP_F{i}" for i in range(30)]
    items = [{"charge_point_id": cp, "frame": reading(f"f-{cp}")} for cp in ids]
    assert stack.call(vocabulary.INGEST_OCPP_BATCH, items, timeout=60)["accepted"] == 30
    asked = [*ids, "CP_NEVER_SEEN", "not an id!"]
    first = stack.call(vocabulary.PREDICT_FLEET, "maintenance", asked, timeout=60)
    assert (first["total"], first["computed"], first["hits"]) == (32, 30, 0)
    assert [(e["index"], e["error"]) for e in first["errors"]] == [
        (30, "NoTelemetry"),
        (31, "InvalidArguments"),
    ]
    again = stack.call(vocabulary.PREDICT_FLEET, "maintenance", ids, timeout=60)
    assert (again["hits"], again["computed"], again["errors"]) == (30, 0, [])
    # The states are still the frames' (the fleet path wrote no telemetry over them).
    with SyncCacheService(stack.settings) as cache:
        for cp in ids:
            state = ChargerState.of(cp, cache.telemetry.get(cp))
            assert state.message_ids == [message_digest(f"f-{cp}")]


def test_an_applications_edited_copy_of_a_state_is_judged_by_what_it_says(
    stack: Stack, clean_cache: Callable
) -> None:
    """A refresh by ids judges a state's hits by the fingerprint ingestion kept with it; an
    application that copies a state, edits it and sends it back does not send that along."""
    cp = "CP_COPY"
    assert ingest(stack, reading("c-1"), cp=cp)["news"] is True  # failure, anomaly at 30 degC
    warm = stack.call(vocabulary.PREDICT_FLEET, "anomaly", [cp], timeout=60)
    assert (warm["hits"], warm["computed"]) == (1, 0)  # judged by the kept fingerprint
    with SyncCacheService(stack.settings) as cache:
        copied = cache.telemetry.get(cp)
        assert copied is not None and kept_print(copied) is not None
        stack.call(FAILURE, cp, {**copied, "temperature": 95.0})  # the 30 degC print along
        stored = cache.telemetry.get(cp)
    assert stored is not None and stored["temperature"] == 95.0
    assert kept_print(stored) is None
    after = stack.call(vocabulary.PREDICT_FLEET, "anomaly", [cp], timeout=60)
    assert (after["hits"], after["computed"]) == (0, 1)  # 95 degC is news to the anomaly entry


def test_frames_are_counted_by_action_and_outcome_and_silent_chargers_go_stale(
    stack: Stack, clean_cache: Callable
) -> None:
    from tasks.observe.health import health_report
    from tasks.observe.prometheus import ChargewatchCollector

    collector = ChargewatchCollector(stack.settings)

    def frames() -> Counter[tuple[str, str]]:
        found: Counter[tuple[str, str]] = Counter()
        for family in collector.collect():
            if family.name == "chargewatch_ocpp_frames":
                for sample in family.samples:
                    found[(sample.labels["action"], sample.labels["outcome"])] = int(sample.value)
        return found

    try:
        # DataTransfer: an action no other test sends, so earlier tests' counts (flushed by
        # their workers a moment later) cannot land in these.
        sent = frame(v16.DataTransfer(vendor_id="ACME"), "dt-1")
        ingest(stack, sent, cp="CP_COUNT")
        ingest(stack, sent, cp="CP_COUNT")  # a duplicate
        with pytest.raises(Exception, match=r"vendorId"):
            ingest(stack, [2, "dt-2", "DataTransfer", {}], cp="CP_COUNT")
        with pytest.raises(Exception, match="not a CALL"):
            ingest(stack, [3, "c-2", {}], cp="CP_COUNT")
        expected = {"accepted": 1, "duplicate": 1, "refused": 1}

        def counted() -> dict[str, int]:
            found = frames()
            return {outcome: found[("DataTransfer", outcome)] for outcome in expected}

        assert wait_until(lambda: counted() == expected, 10), counted()
        assert wait_until(lambda: frames()[("invalid", "refused")] >= 1, 10)
        seen = health_report(collector.cache, stale_after=3600)["checks"]["ocpp"]
        assert (seen["chargers_seen"], seen["stale_chargers"], seen["status"]) == (1, 0, "healthy")

        def stale() -> dict[str, Any]:
            return health_report(collector.cache, stale_after=0.05)

        # Silent for longer than 50 ms: stale, a warning and not an outage.
        assert wait_until(lambda: stale()["checks"]["ocpp"]["stale_chargers"] == 1, 5)
        assert stale()["checks"]["ocpp"]["status"].startswith("warning: 1 of 1")
        assert stale()["status"] != "unhealthy"
    finally:
        collector.cache.close()


def test_two_processes_ingesting_one_charger_lose_no_frame(
    stack: Stack, clean_cache: Callable
) -> None:
    """The worker's two pool processes take batches of the same charger at once: every
    StartTransaction counts (a lost update would count fewer sessions)."""
    from celery import group

    def start(n: int) -> list[Any]:
        sent = v16.StartTransaction(
            connector_id=1, id_tag="TAG", meter_start=n, timestamp="2026-12-02T10:00:00Z"
        )
        return frame(sent, f"race-{n}")

    batches = [
        [{"charge_point_id": "CP_RACE", "frame": start(b * 5 + i)} for i in range(5)]
        for b in range(60)
    ]
    ingest(stack, reading("race-first"), cp="CP_RACE")
    job = group(
        stack.app.signature(
            vocabulary.INGEST_OCPP_BATCH,
            args=(items,),
            queue=vocabulary.queue_of(vocabulary.INGEST_OCPP_BATCH),
        )
        for items in batches
    ).apply_async()
    summaries = job.get(timeout=120)
    assert sum(s["accepted"] for s in summaries) == 300
    with SyncCacheService(stack.settings) as cache:
        state = ChargerState.of("CP_RACE", cache.telemetry.get("CP_RACE"))
    assert state.sessions == 300
