"""The demo `make run` ends with: a fleet and its applications as they behave in real use, on a
compressed clock, through the light client; the table's hit rates are read from the fleet-wide
counters, whatever they come out, with the seed service's expected rates beside them.

Real use, in demo minutes (one real second is `speed` demo seconds; `chargewatch run` divides
the TTLs by the same factor, so entries expire as they would):
- every charger reports telemetry on its own clock, every 2 to 8 minutes, after a first
  reading when it connects; about a quarter of the readings change its material state (a
  session starts or ends), the rest drift (energy grows, a degree of temperature);
- a monitoring pipeline asks for an anomaly score on every reading, with that telemetry;
- an operations dashboard asks for every charger's failure risk every 15 minutes, without
  telemetry (the stored one is used);
- a field-service app opens a charger's maintenance schedule now and then, 5 to 25 minutes
  apart per charger, without telemetry.
"""

from __future__ import annotations

import heapq
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import vocabulary
from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from tasks.client import PredictionClient

from .errors import plural

# The seed service's expected hit rates (README, "The seed"), shown as a reference only.
SEED_HIT_RATE: Final = {"failure": 0.75, "maintenance": 0.55, "anomaly": 0.35}
SEED_MISS_MS: Final = "50-200"
DEFAULT_SPEED: Final = 60.0  # demo seconds per real second
IN_FLIGHT: Final = 200  # requests sent before their misses are awaited
# Why our rates are what they are, per type, given the traffic above (and where the seed's
# figures, which assume a fixed number of requests per TTL, come from).
WHY: Final = {
    "failure": "the dashboard asks every 15 minutes under a 1-hour TTL: in 30 demo minutes "
    "that is 2 asks per charger, the first a miss unless a maintenance schedule computed it "
    "already (the seed's 75 % is 4 asks per TTL)",
    "maintenance": "the field app asks about twice per 30-minute TTL at random times: the "
    "first asks of each charger and those after an expiry miss",
    "anomaly": "each reading asks once, 2-8 minutes apart, under a 5-minute TTL: only a "
    "reading within the TTL of the last one and without news hits",
}


@dataclass(frozen=True)
class Traffic:
    """How the demo's fleet and its applications behave (minutes of demo time)."""

    minutes: float = 30.0
    report_every: tuple[float, float] = (2.0, 8.0)
    material_share: float = 0.25
    # Per application: the prediction type it asks for, and the range of its intervals.
    applications: tuple[tuple[str, tuple[float, float]], ...] = (
        ("failure", (15.0, 15.0)),
        ("maintenance", (5.0, 25.0)),
    )


@dataclass(order=True)
class Event:
    at: float  # demo minutes since the start
    kind: str = field(compare=False)
    charger: int = field(compare=False)


@dataclass
class Latencies:
    hit_ms: list[float] = field(default_factory=list)
    miss_ms: list[float] = field(default_factory=list)


class Fleet:
    """The chargers' telemetry, evolving reading by reading."""

    def __init__(self, chargers: int, rng: random.Random) -> None:
        self.docs = fleet_telemetry(chargers, seed=7)
        self.rng = rng

    def reading(self, index: int, material_share: float) -> dict[str, Any]:
        doc = self.docs[index]
        doc["energy_delivered"] = round(doc["energy_delivered"] + self.rng.uniform(0, 2), 3)
        doc["temperature"] = round(doc["temperature"] + self.rng.uniform(-0.5, 0.5), 2)
        if self.rng.random() < material_share and doc["connector_status"] in (
            "Available",
            "Charging",
        ):
            charging = doc["connector_status"] == "Available"
            doc["connector_status"] = "Charging" if charging else "Available"
            doc["power"] = round(doc["rated_power_kw"] * 0.8, 3) if charging else 0.0
        return dict(doc)


def schedule(chargers: int, traffic: Traffic, rng: random.Random) -> list[Event]:
    """Every request of the demo, in time order."""
    events: list[Event] = []
    for i in range(chargers):
        at = 0.0  # each charger's first reading when it connects
        while at < traffic.minutes:
            events.append(Event(at, "anomaly", i))
            at += rng.uniform(*traffic.report_every)
        for kind, (low, high) in traffic.applications:
            at = rng.uniform(0.1, high)  # each application on its own phase
            while at < traffic.minutes:
                events.append(Event(at, kind, i))
                at += rng.uniform(low, high)
    heapq.heapify(events)
    return [heapq.heappop(events) for _ in range(len(events))]


def counters(cache: SyncCacheService) -> dict[str, dict[str, int]]:
    """The fleet-wide hits and misses per type (every process's, flushed into Redis)."""
    by_type = cache.health_check()["by_type"]
    return {kind: {k: by_type[kind][k] for k in ("hits", "misses")} for kind in SEED_HIT_RATE}


def run_demo(
    client: PredictionClient,
    chargers: int = 1000,
    console: Console | None = None,
    *,
    speed: float = DEFAULT_SPEED,
    traffic: Traffic | None = None,
) -> dict[str, dict[str, Any]]:
    """Send the demo traffic with a progress bar, print the table, return the figures."""
    console = console or Console(width=120)
    traffic = traffic or Traffic()
    rng = random.Random(7)
    fleet = Fleet(chargers, rng)
    events = schedule(chargers, traffic, rng)
    ids = [doc["charger_id"] for doc in fleet.docs]
    client.send(vocabulary.INVALIDATE_CHARGERS, ids).get(timeout=60)  # start cold
    client.cache.flush()
    before = counters(client.cache)
    latencies = {kind: Latencies() for kind in SEED_HIT_RATE}
    with Progress(console=console, transient=False) as progress:
        bar = progress.add_task(
            f"{traffic.minutes:g} demo minutes of {plural(chargers, 'charger')}",
            total=len(events),
        )
        # The chargers connect first: their first readings are in before the clock starts,
        # so the applications find telemetry stored for every charger.
        first = [e for e in events if e.at == 0.0]
        for i in range(0, len(first), IN_FLIGHT):
            _send(client, fleet, traffic, first[i : i + IN_FLIGHT], latencies)
            progress.advance(bar, len(first[i : i + IN_FLIGHT]))
        started = time.monotonic()
        for batch in _due(events[len(first) :], started, speed):
            _send(client, fleet, traffic, batch, latencies)
            progress.advance(bar, len(batch))
    elapsed = time.monotonic() - started
    client.cache.flush()
    time.sleep(2 * client.settings.cache_stats_flush_interval)  # the workers' last flush
    after = counters(client.cache)
    figures = {kind: _figures(before[kind], after[kind], latencies[kind]) for kind in SEED_HIT_RATE}
    _print_table(console, figures, traffic, speed, elapsed)
    return figures


def _due(events: list[Event], started: float, speed: float) -> Iterator[list[Event]]:
    """Batches of the events whose demo time has come (at most IN_FLIGHT at once)."""
    position = 0
    while position < len(events):
        now = (time.monotonic() - started) * speed / 60.0
        if events[position].at > now:
            time.sleep(min(0.05, (events[position].at - now) * 60.0 / speed))
            continue
        end = position
        while end < len(events) and end - position < IN_FLIGHT and events[end].at <= now:
            end += 1
        yield events[position:end]
        position = end


def _send(
    client: PredictionClient,
    fleet: Fleet,
    traffic: Traffic,
    batch: list[Event],
    latencies: dict[str, Latencies],
) -> None:
    """One batch in flight at once: hits answer at once, misses are awaited afterwards."""
    pending = []
    for event in batch:
        charger_id = fleet.docs[event.charger]["charger_id"]
        metrics = fleet.reading(event.charger, traffic.material_share)
        sent = time.perf_counter()
        _, result = client.lookup_or_send(
            event.kind, charger_id, metrics if event.kind == "anomaly" else None
        )
        if result is None:
            latencies[event.kind].hit_ms.append((time.perf_counter() - sent) * 1000)
        else:
            pending.append((event.kind, sent, result))
    for kind, sent, result in pending:
        result.get(timeout=120)
        latencies[kind].miss_ms.append((time.perf_counter() - sent) * 1000)


def _figures(before: dict[str, int], after: dict[str, int], latency: Latencies) -> dict[str, Any]:
    hits, misses = after["hits"] - before["hits"], after["misses"] - before["misses"]
    return {
        "requests": hits + misses,
        "hits": hits,
        "misses": misses,
        "hit_rate": hits / (hits + misses) if hits + misses else 0.0,
        "p50_hit_ms": statistics.median(latency.hit_ms) if latency.hit_ms else None,
        # Misses waited for in batches: the time to an answer, queueing included.
        "p50_miss_ms": statistics.median(latency.miss_ms) if latency.miss_ms else None,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _print_table(
    console: Console,
    figures: dict[str, dict[str, Any]],
    traffic: Traffic,
    speed: float,
    elapsed: float,
) -> None:
    table = Table(
        title="chargewatch demo: the fleet-wide counters, with the seed's expected rates",
        caption=f"{traffic.minutes:g} demo minutes in {elapsed:.0f} s ({speed:g}x: TTLs "
        f"divided by {speed:g}); requests counted by every process, read from Redis",
    )
    for column in (
        "type",
        "requests",
        "hits",
        "misses",
        "hit rate",
        "seed hit rate",
        "p50 hit (ms)",
        "p50 miss (ms)",
        "seed miss (ms)",
    ):
        table.add_column(column, justify="right" if column != "type" else "left")
    for kind, f in figures.items():
        table.add_row(
            kind,
            f"{f['requests']:,}",
            f"{f['hits']:,}",
            f"{f['misses']:,}",
            f"{f['hit_rate']:.1%}",
            f"{SEED_HIT_RATE[kind]:.0%}",
            _ms(f["p50_hit_ms"]),
            _ms(f["p50_miss_ms"]),
            SEED_MISS_MS,
        )
    console.print(table)
    for kind, why in WHY.items():
        console.print(f"  {kind}: {why}.")
