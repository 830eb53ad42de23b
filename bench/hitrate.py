"""Figure 8: hit rates under the seed service's workload, plain TTLs vs refresh-ahead.

Chargers request predictions as Poisson arrivals at the rates that give the seed service's
expected hit rates with plain TTLs (a miss opens a TTL window in which requests hit:
h = lT / (1 + lT)). TTLs are scaled down by a constant factor so the run takes seconds;
computations are reported per hour of unscaled time.
"""

from __future__ import annotations

import random
import threading
import time

from bench.common import Figure
from models import parse_metrics
from models.simulation.simulator import fleet_telemetry
from models.telemetry.times import utcnow
from tasks.jobs.beat import refresh_type
from tasks.settings import AppSettings
from tasks.worker.runtime import Runtime

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


class Workload:
    """Replays arrivals in real time against one runtime; counts only after the warm-up."""

    def __init__(self, runtime: Runtime, telemetry: dict, warmup: float) -> None:
        self.runtime = runtime
        self.telemetry = telemetry
        self.warmup = warmup
        self.computed = dict.fromkeys(SEED_HIT_RATE, 0)
        self.hits = dict.fromkeys(SEED_HIT_RATE, 0)
        self.requests = dict.fromkeys(SEED_HIT_RATE, 0)
        self.started = time.monotonic()

    def steady(self) -> bool:
        return time.monotonic() - self.started >= self.warmup

    def refresher(self, stop: threading.Event, every: float) -> None:
        while not stop.wait(every):
            for kind in SEED_HIT_RATE:
                refreshed = refresh_type(self.runtime, kind)
                self.computed[kind] += refreshed if self.steady() else 0

    def request(self, kind: str, cid: str, at: float) -> None:
        def compute() -> dict:
            self.computed[kind] += self.steady()
            return self.runtime.predictor.predict(kind, [self.telemetry[cid]], utcnow())[0]

        result = self.runtime.cache.get_or_compute(kind, cid, compute)
        if at >= self.warmup:
            self.requests[kind] += 1
            self.hits[kind] += result.from_cache

    def run(self, events: list, refresh: bool, every: float) -> Workload:
        stop = threading.Event()
        thread = threading.Thread(target=self.refresher, args=(stop, every), daemon=True)
        self.started = time.monotonic()
        if refresh:
            thread.start()
        for at, kind, cid in events:
            delay = at - (time.monotonic() - self.started)
            if delay > 0:
                time.sleep(delay)
            self.request(kind, cid, at)
        stop.set()
        if refresh:
            thread.join()
        return self


def hit_rates(settings: AppSettings, chargers: int, duration: float, scale: float) -> list[Figure]:
    ttls = {kind: ttl / scale for kind, ttl in TTL.items()}
    every = min(ttls.values()) / 10
    scaled = settings.model_copy(
        update={
            "cache_ttl_failure_prediction": max(1, round(ttls["failure"])),
            "cache_ttl_maintenance": max(1, round(ttls["maintenance"])),
            "cache_ttl_anomaly": max(1, round(ttls["anomaly"])),
            "beat_refresh_interval": every,
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
            runtime.cache.telemetry.set(m["charger_id"], m)
        events = arrivals(list(telemetry), duration, ttls, seed=13)
        results[mode] = Workload(runtime, telemetry, warmup=max(ttls.values())).run(
            events, mode == "refresh", every
        )
        runtime.close()
    figures = []
    for kind in SEED_HIT_RATE:
        plain, ahead = (results[m] for m in ("plain", "refresh"))
        plain_rate = plain.hits[kind] / max(1, plain.requests[kind])
        ahead_rate = ahead.hits[kind] / max(1, ahead.requests[kind])
        per_hour = 3600 / ((duration - max(ttls.values())) * scale)
        cost_ratio = ahead.computed[kind] / max(1, plain.computed[kind])
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
                key=f"hit-rate:{kind}",
                ours_label=f"{kind}: refresh-ahead",
                baseline_label=f"{kind}: plain TTL",
                notes=f"{kind}: model computations per hour "
                f"{plain.computed[kind] * per_hour:,.0f} (plain) vs "
                f"{ahead.computed[kind] * per_hour:,.0f} (refresh-ahead), "
                f"{cost_ratio:.2f}x; TTLs scaled 1/{scale:g}, the first TTL is warm-up",
            )
        )
    return figures
