"""Prometheus series read from Redis at scrape time: the same on the API's `/metrics` and on
Flower's (registered in Flower's registry by `python -m tasks.flower`).

Counters and the latency histogram are fleet-wide (every worker process on every host flushes
into one hash), so a query needs no sum across exporters; scrape one of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from kombu import Connection, Queue
from kombu.exceptions import ChannelError
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.registry import Collector

import vocabulary
from cachepolicy import SyncCacheService
from cachepolicy.instructions import command, first_reply
from cachepolicy.keys import DRIFT_KEY, PROCESSES_KEY, STATS_KEY, stats_field
from cachepolicy.metrics import (
    BREAKER_TRIPS,
    HITS,
    LATENCY_BUCKETS,
    MISSES,
    OTHER,
    READ_ERRORS,
    REFRESHED,
    STALE,
    WRITE_ERRORS,
    latency_field,
    merge,
)
from releases.live.store import ReleaseStore
from releases.rules import tally

from ..settings import AppSettings
from ..state.chargers_seen import ChargersSeen
from ..state.dead_letters import DeadLetters
from ..state.heartbeats import Heartbeats

RESULTS = {
    HITS: "hit",
    MISSES: "miss",
    STALE: "stale",
    REFRESHED: "refreshed",
    READ_ERRORS: "error",
}
SOURCES = ("cache", "model")
# A process silent this long without leaving is counted as cut off (its breaker open); after
# SILENT_FOR_GOOD it is taken for dead and no longer counted.
SILENT_FLUSHES = 3
SILENT_FOR_GOOD = 60.0


class ChargewatchCollector(Collector):
    """One per exporting process; every scrape reads Redis (and the broker's queue lengths)."""

    def __init__(self, settings: AppSettings, cache: SyncCacheService | None = None) -> None:
        self.settings = settings
        self.cache = cache or SyncCacheService(settings)
        self.heartbeats = Heartbeats(self.cache.executor)
        self.dead_letters = DeadLetters(self.cache.executor)
        self._broker: Connection | None = None

    def collect(self) -> Iterator[Any]:
        health = self.cache.health_check()  # also the exporter's own probe of the cache
        up = GaugeMetricFamily("chargewatch_cache_up", "The exporter reaches the cache Redis")
        up.add_metric([], 1.0 if health["healthy"] else 0.0)
        yield up
        stats = self._stats()
        yield from self._requests(stats)
        yield self._latency(stats)
        trips = CounterMetricFamily(
            "chargewatch_breaker_trips", "Times a process's circuit breaker opened, fleet-wide"
        )
        trips.add_metric([], stats.get(stats_field(OTHER, BREAKER_TRIPS), 0))
        yield trips
        yield self._breakers()
        yield from self._workers()
        letters = GaugeMetricFamily("chargewatch_dead_letters", "Tasks kept as dead letters")
        letters.add_metric([], float(self.dead_letters.count()))
        yield letters
        yield self._queues()
        yield from self._ocpp(stats)
        yield from self._releases(stats)

    def _stats(self) -> dict[str, int]:
        found = first_reply(self.cache.executor.send("get", command("hgetall", STATS_KEY)))
        return merge(found or {})

    def _requests(self, stats: dict[str, int]) -> Iterator[CounterMetricFamily]:
        requests = CounterMetricFamily(
            "chargewatch_cache_requests",
            "Prediction reads by outcome (hit, miss, stale, refreshed, error), fleet-wide",
            labels=["type", "result"],
        )
        writes = CounterMetricFamily(
            "chargewatch_cache_write_errors", "Writes Redis refused or missed", labels=["type"]
        )
        for kind in vocabulary.TYPE_NAMES:
            for counter, result in RESULTS.items():
                requests.add_metric([kind, result], stats.get(stats_field(kind, counter), 0))
            writes.add_metric([kind], stats.get(stats_field(kind, WRITE_ERRORS), 0))
        yield requests
        yield writes

    def _latency(self, stats: dict[str, int]) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "chargewatch_prediction_seconds",
            "Time to serve a prediction, by type and source (cache or model), fleet-wide",
            labels=["type", "source"],
        )
        for kind in vocabulary.TYPE_NAMES:
            for source in SOURCES:
                counts = [
                    stats.get(latency_field(kind, source, i), 0)
                    for i in range(len(LATENCY_BUCKETS))
                ]
                counts.append(stats.get(latency_field(kind, source, "inf"), 0))
                cumulative, running = [], 0
                for bound, count in zip((*map(str, LATENCY_BUCKETS), "+Inf"), counts, strict=True):
                    running += count
                    cumulative.append((bound, float(running)))
                seconds = stats.get(latency_field(kind, source, "sum_us"), 0) / 1e6
                family.add_metric([kind, source], cumulative, seconds)
        return family

    def _ocpp(self, stats: dict[str, int]) -> Iterator[Any]:
        frames = CounterMetricFamily(
            "chargewatch_ocpp_frames",
            "OCPP frames ingested, by action and outcome (accepted, duplicate, refused)",
            labels=["action", "outcome"],
        )
        prefix = f"{vocabulary.OCPP_FRAMES}:"
        for name, count in sorted(stats.items()):
            if name.startswith(prefix):
                action, _, outcome = name[len(prefix) :].rpartition(":")
                frames.add_metric([action, outcome], count)
        yield frames
        counts = ChargersSeen(self.cache.executor).counts(
            time.time(), self.settings.ocpp_stale_after
        )
        chargers = GaugeMetricFamily(
            "chargewatch_ocpp_chargers",
            "Chargers that sent OCPP frames within the telemetry TTL (seen), and those silent "
            "for OCPP_STALE_INTERVALS heartbeat intervals (stale)",
            labels=["state"],
        )
        for state, count in (counts or {}).items():
            chargers.add_metric([state], float(count))
        yield chargers

    def _releases(self, stats: dict[str, int]) -> Iterator[Any]:
        """Predictions by release and arm, shadow agreement, and drift of the champions."""
        served = CounterMetricFamily(
            "chargewatch_predictions",
            "Predictions served, by type, the release that made them and its arm",
            labels=["type", "model_version", "arm"],
        )
        for (kind, version, arm), counts in sorted(tally.grouped(stats, tally.RELEASE, 3).items()):
            served.add_metric([kind, version, arm], counts.get("requests", 0))
        yield served
        agreement = GaugeMetricFamily(
            "chargewatch_shadow_agreement",
            "Share of shadow pairs whose calls agree with the champion's",
            labels=["type", "model_version"],
        )
        for (kind, version), counts in sorted(tally.grouped(stats, tally.SHADOW_PAIRS, 2).items()):
            if counts.get("pairs"):
                agreement.add_metric([kind, version], counts.get("agree", 0) / counts["pairs"])
        yield agreement
        drift = GaugeMetricFamily(
            "chargewatch_feature_drift",
            "Population stability index of the fleet's recent inputs against the champion's "
            "training data (over 0.2: a shift the model was not trained for)",
            labels=["type", "feature"],
        )
        states = ReleaseStore(self.cache.executor).states() or {}
        found = first_reply(self.cache.executor.send("get", command("hgetall", DRIFT_KEY)))
        for field, value in sorted((found or {}).items()):
            parts = field.decode().split("|")
            if len(parts) != 3:
                continue
            state = states.get(parts[0])  # none before the first move: the first release
            if state is None or parts[1] == state.champion:
                drift.add_metric([parts[0], parts[2]], float(value))
        yield drift

    def _breakers(self) -> GaugeMetricFamily:
        found = first_reply(self.cache.executor.send("get", command("hgetall", PROCESSES_KEY)))
        now, quiet = time.time(), SILENT_FLUSHES * self.settings.cache_stats_flush_interval
        silent = [
            float(at) for at in (found or {}).values() if quiet < now - float(at) < SILENT_FOR_GOOD
        ]
        gauge = GaugeMetricFamily(
            "chargewatch_breaker_open",
            "Processes with the breaker open: stopped reporting to the cache without leaving",
        )
        gauge.add_metric([], float(len(silent)))
        return gauge

    def _workers(self) -> Iterator[Any]:
        live = self.heartbeats.live()
        workers = GaugeMetricFamily("chargewatch_workers_up", "Workers with a fresh heartbeat")
        workers.add_metric([], float(len(live)))
        yield workers
        models = InfoMetricFamily(
            "chargewatch_model", "Model versions live workers serve", labels=["type"]
        )
        served = {(kind, version) for beat in live for kind, version in beat.models.items()}
        for kind, version in sorted(served):
            models.add_metric([kind], {"version": version})
        yield models

    def _queues(self) -> GaugeMetricFamily:
        gauge = GaugeMetricFamily(
            "chargewatch_queue_length", "Messages waiting in each queue", labels=["queue"]
        )
        for queue, length in self.queue_lengths().items():
            gauge.add_metric([queue], float(length))
        return gauge

    def queue_lengths(self) -> dict[str, int]:
        """Every queue's waiting messages (a passive declare: Redis or AMQP alike); empty when
        the broker does not answer."""
        try:
            if self._broker is None:
                self._broker = Connection(self.settings.celery_broker_url, connect_timeout=2)
            return {queue: self._length(self._broker, queue) for queue in vocabulary.QUEUES}
        except Exception:  # the broker is down or restarting: no series this scrape
            self._close_broker()
            return {}

    @staticmethod
    def _length(broker: Connection, queue: str) -> int:
        # A channel per queue: AMQP closes a channel whose passive declare finds no queue.
        with broker.channel() as channel:
            try:
                # (kombu's stubs type the declare-ok reply as a queue name)
                declared: Any = Queue(queue, channel=channel).queue_declare(passive=True)
                return int(declared.message_count)
            except ChannelError:  # never declared, or (Redis) empty: nothing waits
                return 0

    def _close_broker(self) -> None:
        if self._broker is not None:
            self._broker.release()
            self._broker = None

    def close(self) -> None:
        self._close_broker()
        self.cache.close()
