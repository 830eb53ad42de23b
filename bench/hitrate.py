"""Figure 8: hit rates under a seed-matched workload, plain TTLs vs refresh-ahead.

Chargers request predictions as Poisson arrivals at the rates that give the seed's hit rates
with plain TTLs (a miss opens a TTL window in which requests hit: h = lT / (1 + lT)). TTLs
are scaled down by a constant factor so the run takes seconds; computations are reported per
hour of unscaled time.
"""

from __future__ import annotations

import random
import threading
import time

from bench.common import Figure
from models import parse_metrics
from models.schema import utcnow
from models.simulator import fleet_telemetry
from tasks.beat import refresh_type
from tasks.runtime import Runtime
from tasks.settings import AppSettings

SEED_HIT_RATE = {"failure": 0.75, "maintenance": 0.55, "anomaly": 0.35}
TTL = {"failure": 3600, "maintenance": 1800, "anomaly": 300}


def arrivals(chargers: list[str], duration: float, ttls: dict[str, float], seed: int) -> list:
    rng = random.Random(seed)
    events = []
    for kind, h in SEED_HIT_RATE.items():
        per_second = (h / (1 - h)) / ttls[kind]  # lT = h / (1 - h)
        for cid in chargers:
            t = rng.expovariate(per_second)
            while t < duration:
                events.append((t, kind, cid))
                t += rng.expovariate(per_second)
    return sorted(events)


def run_workload(
    runtime: Runtime, events: list, telemetry: dict, refresh: bool, every: float
) -> dict:
    computed = {kind: 0 for kind in SEED_HIT_RATE}
    hits = {kind: 0 for kind in SEED_HIT_RATE}
    requests = {kind: 0 for kind in SEED_HIT_RATE}
    stop = threading.Event()

    def refresher() -> None:
        while not stop.wait(every):
            for kind in SEED_HIT_RATE:
                computed[kind] += refresh_type(runtime, kind)

    thread = threading.Thread(target=refresher, daemon=True)
    if refresh:
        thread.start()
    started = time.monotonic()
    for at, kind, cid in events:
        delay = at - (time.monotonic() - started)
        if delay > 0:
            time.sleep(delay)

        def compute(kind: str = kind, cid: str = cid) -> dict:
            computed[kind] += 1
            return runtime.predictor.predict(kind, [telemetry[cid]], utcnow())[0]

        result = runtime.cache.get_or_compute(kind, cid, compute)
        requests[kind] += 1
        hits[kind] += result.from_cache
    stop.set()
    if refresh:
        thread.join()
    return {"computed": computed, "hits": hits, "requests": requests}


def hit_rates(settings: AppSettings, chargers: int, duration: float, scale: float) -> list[Figure]:
    ttls = {kind: ttl / scale for kind, ttl in TTL.items()}
    every = min(ttls.values()) / 10
    scaled = settings.model_copy(
        update={
            "cache_ttl_failure_prediction": max(1, round(ttls["failure"])),
            "cache_ttl_maintenance": max(1, round(ttls["maintenance"])),
            "cache_ttl_anomaly": max(1, round(ttls["anomaly"])),
            "beat_refresh_interval": every,
            "refresh_margin": 0.3,
            "refresh_min_requests": 1.0,
            "cache_stats_flush_interval": every / 2,
        }
    )
    ttls = {kind: float(scaled.ttl_for(kind)) for kind in TTL}
    fleet = fleet_telemetry(chargers, seed=12)
    telemetry = {m["charger_id"]: parse_metrics(m) for m in fleet}
    results = {}
    for mode in ("plain", "refresh"):
        runtime = Runtime(scaled.model_copy(update={"cache_version": f"bench{mode}"}))
        for m in fleet:
            runtime.cache.set_telemetry(m["charger_id"], m)
        events = arrivals(list(telemetry), duration, ttls, seed=13)
        results[mode] = run_workload(runtime, events, telemetry, mode == "refresh", every)
        runtime.close()
    figures = []
    for kind in SEED_HIT_RATE:
        plain, ahead = (results[m] for m in ("plain", "refresh"))
        plain_rate = plain["hits"][kind] / max(1, plain["requests"][kind])
        ahead_rate = ahead["hits"][kind] / max(1, ahead["requests"][kind])
        per_hour = 3600 / (duration * scale)
        cost_ratio = ahead["computed"][kind] / max(1, plain["computed"][kind])
        target = ">= 95% hit rate, <= 2x computations" if kind != "anomaly" else "report"
        met = (ahead_rate >= 0.95 and cost_ratio <= 2) if kind != "anomaly" else None
        figures.append(
            Figure(
                8,
                f"hit rate, {kind}: refresh-ahead vs plain TTL (seed {SEED_HIT_RATE[kind]:.0%})",
                100 * ahead_rate,
                100 * plain_rate,
                "%",
                ahead_rate / max(plain_rate, 1e-9),
                target,
                met,
                notes=f"{kind}: model computations per hour "
                f"{plain['computed'][kind] * per_hour:,.0f} (plain) vs "
                f"{ahead['computed'][kind] * per_hour:,.0f} (refresh-ahead), "
                f"{cost_ratio:.2f}x; TTLs scaled 1/{scale:g}",
            )
        )
    return figures
