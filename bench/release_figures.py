"""Figures 27-29, model releases: a cache hit with a canary running against one without, a miss
with a shadow at 100 % against one without (the answer's cost), and how long promote and
rollback take to reach every worker process (p99 over 20 moves, four processes).

`python -m bench.release_figures` runs them on a stack of their own (two workers of two
processes each); `make bench` runs them in its plan.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import vocabulary
from bench.common import Figure, p50, percentile, sample
from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from models.train.run import train_simulated
from releases.disk.registry import Registry
from releases.live.admin import ReleaseAdmin
from tasks.client import PredictionClient
from tasks.local.localstack import LocalStack
from tasks.sending import send

TASK = vocabulary.PREDICTION_TYPES["failure"].task
ROUNDS = 10


def second_release(stack: LocalStack) -> tuple[str, str]:
    """(champion, another release) of failure, training one more when there is only one."""
    model_dir = Path(stack.settings.model_dir)
    if len(Registry(model_dir).releases("failure")) < 2:
        train_simulated(model_dir, seed=7, chargers=300, days=120)
    first, other = (r.version for r in Registry(model_dir).releases("failure")[:2])
    return first, other


def _admin(stack: LocalStack) -> tuple[ReleaseAdmin, SyncCacheService]:
    cache = SyncCacheService(stack.settings)
    registry = Registry(stack.settings.model_dir)
    return ReleaseAdmin(cache.executor, registry, stack.settings.cache_version), cache


def _reset(stack: LocalStack) -> None:
    """No alias state: the first releases serve (as before any move)."""
    raw = stack.raw_cache()
    raw.delete(*(k for k in raw.scan_iter("cw:{releases}:*")))
    time.sleep(2 * stack.settings.release_refresh_seconds)


def _alternating(
    stack: LocalStack,
    mode: str,
    share: float,
    call: Callable[[], object],
    n: int,
    settle: Callable[[], None] = lambda: None,
) -> dict[str, list[float]]:
    """Samples of `call` in rounds alternating between no experiment ("off") and an
    experiment of `mode` on failure's second release ("on"), so machine noise hits both alike;
    `settle` runs once the workers follow each switch."""
    _, other = second_release(stack)
    admin, cache = _admin(stack)
    samples: dict[str, list[float]] = {"off": [], "on": []}
    try:
        for _ in range(ROUNDS):
            for on in (False, True):
                if on:
                    admin.apply(mode, version=other, share=share, by="bench")
                elif admin.state("failure").experiment is not None:
                    admin.apply("stop", kind="failure", by="bench")
                time.sleep(2 * stack.settings.release_refresh_seconds)  # the workers follow
                settle()
                samples["on" if on else "off"].extend(sample(call, n // ROUNDS, warmup=20))
    finally:
        cache.close()
        _reset(stack)
    return samples


def canary_hit(stack: LocalStack, n: int) -> Figure:
    """Figure 27: PredictionClient hits of chargers in both arms, with a canary at 50 % vs none."""
    hot = fleet_telemetry(40, seed=27)
    with PredictionClient(stack.settings, app=stack.app) as client:

        def settle() -> None:
            client.releases.reload()
            for t in hot:  # warm both arms' entries in this state
                stack.call(TASK, t["charger_id"], t)

        turn = iter(range(10**9))

        def hit() -> None:
            t = hot[next(turn) % len(hot)]
            assert client.predict("failure", t["charger_id"])["served_from_cache"]

        samples = _alternating(stack, "canary", 50, hit, n, settle)
    ours, base = p50(samples["on"]), p50(samples["off"])
    return Figure(
        27,
        "cache hit p50 through PredictionClient with a canary at 50 % vs without",
        ours,
        base,
        "us",
        ours / base,
        "<= 1.05x",
        ours / base <= 1.05,
        key="canary-hit",
        ours_label="hit, canary running (both arms)",
        baseline_label="hit, champion only",
        extra={"samples": samples},
    )


def shadow_miss(stack: LocalStack, n: int) -> Figure:
    """Figure 28: a computed prediction's task round trip with a shadow at 100 % vs without."""
    fresh = iter(fleet_telemetry(2 * n + 400, seed=28))  # a charger never seen: a miss

    def miss() -> None:
        t = next(fresh)
        assert not stack.call(TASK, t["charger_id"], t)["served_from_cache"]

    samples = _alternating(stack, "shadow", 100, miss, n)
    ours, base = p50(samples["on"]), p50(samples["off"])
    return Figure(
        28,
        "miss (computed prediction) p50, task round trip, with a shadow at 100 % vs without",
        ours,
        base,
        "us",
        ours / base,
        "<= 1.1x",
        ours / base <= 1.1,
        key="shadow-miss",
        ours_label="miss, shadow at 100 %",
        baseline_label="miss, champion only",
        extra={"samples": samples},
    )


def move_reach(stack: LocalStack, moves: int = 20, probes: int = 16) -> Figure:
    """Figure 29: seconds from a promote or rollback until every answer comes from the new
    champion: batches of `probes` concurrent fresh predictions across the worker processes,
    reached at the first of three batches answered by it alone."""
    first, other = second_release(stack)
    admin, cache = _admin(stack)
    charger = iter(fleet_telemetry(moves * 400, seed=29))
    reached: list[float] = []

    def batch(pool: ThreadPoolExecutor) -> set[str]:
        probing = [next(charger) for _ in range(probes)]
        sent = [send(stack.app, TASK, t["charger_id"], t) for t in probing]
        return set(pool.map(lambda r: r.get(timeout=30)["model_version"], sent))

    try:
        with ThreadPoolExecutor(probes) as pool:
            for i in range(moves):
                target = other if i % 2 == 0 else first
                started = time.monotonic()
                if i % 2 == 0:
                    admin.apply("promote", version=other, by="bench")
                else:
                    admin.apply("rollback", kind="failure", by="bench")
                streak, since = 0, None
                while streak < 3 and time.monotonic() - started < 30:
                    at = time.monotonic()
                    if batch(pool) == {target}:
                        since = at if streak == 0 else since
                        streak += 1
                    else:
                        streak = 0
                reached.append((since or at) - started)
    finally:
        cache.close()
        _reset(stack)
    worst = percentile(reached, 99)
    return Figure(
        29,
        f"promote/rollback reaching every worker process, p99 over {moves} moves",
        worst,
        None,
        "s",
        None,
        "< 10 s",
        worst < 10,
        key="move-reach",
        ours_label="move -> every answer from the new champion",
        notes=f"median {p50(reached):.2f} s; RELEASE_REFRESH_SECONDS "
        f"{stack.settings.release_refresh_seconds:g}; {probes} concurrent probes a batch",
        extra={"samples": {"seconds": reached}},
    )


def figures(model_dir: Path, logs: Path, quick: bool = False) -> list[Figure]:
    """The three figures on a stack of their own, laid out as the README deploys: two
    interactive workers of two processes each, and a niced fleet/bulk worker (where shadow
    comparisons run)."""
    stack = LocalStack.start(model_dir, logs)
    try:
        for name in ("a", "b"):
            stack.start_worker(name, queues=("interactive", "celery"), loglevel="WARNING")
        stack.start_worker("bulk", queues=("fleet", "bulk"), nice=10, loglevel="WARNING")
        n = 500 if quick else 2_000
        return [
            canary_hit(stack, n),
            shadow_miss(stack, n // 5),
            move_reach(stack, 6 if quick else 20),
        ]
    finally:
        stack.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="chargewatch-bench-") as tmp:
        folder = Path(tmp)
        train_simulated(folder / "models", seed=42, chargers=1000, days=200)
        found = figures(folder / "models", folder / "logs")
    for f in found:
        ratio = "" if f.ratio is None else f" ({f.ratio:.3f}x, target {f.target})"
        base = "" if f.baseline is None else f" vs {f.baseline:,.1f}"
        print(f"#{f.number} {f.name}: {f.ours:,.2f}{base} {f.unit}{ratio} met={f.met} {f.notes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
