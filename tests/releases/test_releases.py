"""Model releases on real workers: two worker processes (each with its own queue, so every
check runs on both) and the client route a charger to the same arm; each release's entries
live under its own keys; promote and rollback reach every worker in seconds and a rolled-back
champion's entries are hits; a shadow is compared off the answer; guardrails, outcomes, drift,
refusals and bad moves (through the CLI) as an operator meets them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cachepolicy import SyncCacheService
from cachepolicy.keys import STATS_KEY, variant_segment
from models.simulation.simulator import fleet_telemetry
from models.train.run import train_simulated
from releases.disk.registry import Registry
from releases.errors import MoveConflict
from releases.live.admin import ReleaseAdmin
from releases.live.store import ReleaseStore
from releases.rules.aliases import move
from releases.rules.arms import in_share
from tasks.client import PredictionClient
from tasks.local.launcher import settings_env
from tests.stack import TEST_OVERRIDES, Stack, wait_until
from vocabulary import QUEUES

TELEMETRY = fleet_telemetry(400, seed=33)
BY_ID = {t["charger_id"]: t for t in TELEMETRY}
FAILURE = "tasks.predict_failure"


@pytest.fixture(scope="module")
def model_dir(trained: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's releases and a second training (another seed): two of each type."""
    folder = tmp_path_factory.mktemp("releases") / "models"
    shutil.copytree(trained[0], folder)
    train_simulated(folder, seed=7, chargers=300, days=120)
    return folder


@pytest.fixture(scope="module")
def fleet(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    overrides = {**TEST_OVERRIDES, "release_refresh_seconds": 0.2, "beat_release_interval": 1}
    built = Stack.start(model_dir, tmp_path_factory.mktemp("logs"), **overrides)
    built.start_worker("w1", queues=(*QUEUES, "only-w1"))
    built.start_worker("w2", queues=(*QUEUES, "only-w2"))
    yield built
    built.close()


@pytest.fixture
def admin(fleet: Stack, model_dir: Path) -> Iterator[ReleaseAdmin]:
    """A clean cache (heartbeats kept, no alias state: the first releases serve)."""
    raw = fleet.raw_cache()
    beats = raw.hgetall("cw:workers")
    raw.flushall()
    if beats:
        raw.hset("cw:workers", mapping=beats)
    # Every process keeps what it read for at most RELEASE_REFRESH_SECONDS (the contract):
    # no process can be asked what it holds, so the bound itself is waited out.
    time.sleep(2 * fleet.settings.release_refresh_seconds)
    cache = SyncCacheService(fleet.settings)
    yield ReleaseAdmin(cache.executor, Registry(model_dir), fleet.settings.cache_version)
    cache.close()


def versions(model_dir: Path, kind: str = "failure") -> tuple[str, str]:
    """(first, second) release of a type."""
    found = Registry(model_dir).releases(kind)
    return found[0].version, found[1].version


def on(fleet: Stack, worker: str, cid: str, metrics: Any = None, task: str = FAILURE) -> dict:
    """A prediction computed (or read) by one named worker."""
    sent = fleet.app.send_task(task, args=[cid, metrics], queue=f"only-{worker}")
    result: dict = sent.get(timeout=30)
    return result


def fresh(fleet: Stack, worker: str, cid: str, task: str = FAILURE) -> dict:
    """Computed now: the charger's entries dropped first (every release's)."""
    fleet.app.send_task("tasks.invalidate_charger", args=[cid], queue=f"only-{worker}").get(30)
    return on(fleet, worker, cid, BY_ID[cid], task)


def follows(fleet: Stack, version: str, chargers: list[str], timeout: float = 10.0) -> float:
    """Seconds until both workers answer these chargers with `version`."""
    started = time.monotonic()
    assert wait_until(
        lambda: all(
            fresh(fleet, w, c)["model_version"] == version for w in ("w1", "w2") for c in chargers
        ),
        timeout=timeout,
        every=0.05,
    ), f"workers did not follow to {version}"
    return time.monotonic() - started


def test_with_one_release_the_keys_are_the_seeds(fleet: Stack, admin: ReleaseAdmin) -> None:
    first, _ = versions(admin.registry.model_dir)
    cid = TELEMETRY[0]["charger_id"]
    answer = on(fleet, "w1", cid, BY_ID[cid])
    assert answer["model_version"] == first
    stored = json.loads(fleet.raw_cache().get(f"prediction:failure:v1:{cid}"))
    assert stored["model_version"] == first


def test_a_canary_answers_for_its_share_alike_on_every_worker_and_in_the_client(
    fleet: Stack, admin: ReleaseAdmin
) -> None:
    champion, canary = versions(admin.registry.model_dir)
    admin.apply("canary", version=canary, share=30, by="test")
    exp = admin.state("failure").experiment
    assert exp is not None
    chargers = [t["charger_id"] for t in TELEMETRY[:60]]
    inside = [c for c in chargers if in_share(exp.id, c, 30)]
    assert 5 <= len(inside) <= 35
    follows(fleet, canary, inside[:2])
    raw, segment = fleet.raw_cache(), variant_segment("v1", canary)
    with PredictionClient(fleet.settings) as client:
        for cid in chargers:
            expected = canary if cid in inside else champion
            answers = [fresh(fleet, w, cid)["model_version"] for w in ("w1", "w2")]
            assert answers == [expected, expected], cid
            # Each release's entry under its own keys: the champion's are the seed's.
            key = f"prediction:failure:{segment if cid in inside else 'v1'}:{cid}"
            assert json.loads(raw.get(key))["model_version"] == expected
            other = f"prediction:failure:{'v1' if cid in inside else segment}:{cid}"
            assert raw.get(other) is None
            # The client reads the same key first: a hit, with no task.
            hit, pending = client.lookup_or_send("failure", cid)
            assert pending is None and hit is not None and hit["model_version"] == expected


def test_promote_and_rollback_reach_every_worker_and_rollback_serves_warm_entries(
    fleet: Stack, admin: ReleaseAdmin
) -> None:
    champion, newer = versions(admin.registry.model_dir)
    warm = [t["charger_id"] for t in TELEMETRY[100:110]]
    for cid in warm:
        assert on(fleet, "w1", cid, BY_ID[cid])["model_version"] == champion
    probe = [TELEMETRY[120]["charger_id"]]
    admin.apply("promote", version=newer, by="ops", why="better PR AUC")
    promoted_in = follows(fleet, newer, probe)
    for cid in warm:  # the new champion computes its own; the old one's entries stay
        assert on(fleet, "w2", cid)["model_version"] == newer
        assert fleet.raw_cache().exists(f"prediction:failure:v1:{cid}")
    admin.apply("rollback", kind="failure", by="ops", why="field engineers disagree")
    rolled_in = follows(fleet, champion, probe)
    for cid in warm:
        for worker in ("w1", "w2"):
            again = on(fleet, worker, cid)
            assert again["served_from_cache"] is True and again["model_version"] == champion
    assert promoted_in < 10 and rolled_in < 10
    trail = admin.history("failure")
    assert [m["action"] for m in trail[:2]] == ["rollback", "promote"]
    assert trail[1] == {**trail[1], "from_version": champion, "to_version": newer, "by": "ops"}
    assert trail[0]["why"] == "field engineers disagree"
    # Invalidation still finds every release's entries, in O(1) of the keyspace.
    cid = warm[0]
    fleet.app.send_task("tasks.invalidate_charger", args=[cid], queue="only-w1").get(30)
    assert not fleet.raw_cache().keys(f"prediction:*:{cid}")


def test_a_shadow_is_compared_off_the_answer(fleet: Stack, admin: ReleaseAdmin) -> None:
    champion, shadow = versions(admin.registry.model_dir)
    admin.apply("shadow", version=shadow, share=100, by="test")
    chargers = [t["charger_id"] for t in TELEMETRY[200:240]]
    raw = fleet.raw_cache()

    def pairs() -> int:
        return int(raw.hget(STATS_KEY, f"shadow:failure:{shadow}:pairs") or 0)

    def compared() -> bool:
        for cid in chargers:
            assert fresh(fleet, "w1", cid)["model_version"] == champion  # the champion answers
        return pairs() >= len(chargers)

    assert wait_until(compared, timeout=20, every=0.2)
    report = cli_json(fleet, "models", "compare", "failure")
    ours = next(r for r in report["releases"] if r["version"] == shadow)
    assert ours["role"] == "shadow" and ours["shadow"]["pairs"] >= len(chargers)
    assert 0 <= ours["shadow"]["agreement"] <= 1 and ours["shadow"]["p95_difference"] is not None
    served = next(r for r in report["releases"] if r["version"] == champion)
    assert served["arms"]["champion"]["requests"] >= len(chargers)


def test_the_guardrail_stops_a_canary_whose_alarms_depart(
    fleet: Stack, admin: ReleaseAdmin
) -> None:
    _, canary = versions(admin.registry.model_dir)
    admin.apply("canary", version=canary, share=50, by="test")
    exp = admin.state("failure").experiment
    assert exp is not None
    # Traffic as the arms' counters record it: the canary calls IMMEDIATE ten times as often.
    fleet.raw_cache().hset(
        STATS_KEY,
        mapping={
            f"experiment:{exp.id}:champion:requests": 1000,
            f"experiment:{exp.id}:champion:alarms": 20,
            f"experiment:{exp.id}:canary:requests": 1000,
            f"experiment:{exp.id}:canary:alarms": 200,
        },
    )
    result = fleet.call("tasks.watch_releases", slot=int(time.time() * 1000))
    assert result["stopped"]["failure"]["version"] == canary
    assert admin.state("failure").experiment is None
    last = admin.history("failure")[0]
    assert (last["action"], last["by"]) == ("stop", "guardrail")
    assert "alarms in 20.0% of answers vs the champion's 2.0%" in last["why"]


def test_outcomes_score_each_release_warnings(fleet: Stack, admin: ReleaseAdmin) -> None:
    champion, _ = versions(admin.registry.model_dir)
    sick = {
        **TELEMETRY[300],
        "connector_status": "Faulted",
        "error_codes": ["GroundFailure"],
    }
    cid = sick["charger_id"]
    assert on(fleet, "w1", cid, sick)["recommended_action"] in ("IMMEDIATE", "WITHIN_7_DAYS")
    done = cli(fleet, "outcomes", "add", cid, "failure")
    assert done.returncode == 0, done.stderr
    assert f"recorded failure of {cid}" in done.stdout

    def scored() -> dict:
        report = cli_json(fleet, "models", "compare", "failure")
        return next(r for r in report["releases"] if r["version"] == champion)["outcomes"]

    assert wait_until(lambda: scored()["failures"] == 1, timeout=10)
    outcome = scored()
    assert outcome["recall"] == 1.0 and outcome["precision"] == 1.0
    assert outcome["median_lead_days"] is not None and outcome["median_lead_days"] < 1


def test_drift_of_shifted_inputs_is_a_warning_in_health(fleet: Stack, admin: ReleaseAdmin) -> None:
    cache = SyncCacheService(fleet.settings)
    try:
        for t in TELEMETRY[:300]:
            hot = {**t, "temperature": t["temperature"] + 30}
            cache.telemetry.set(t["charger_id"], hot)
    finally:
        cache.close()
    result = fleet.call("tasks.measure_drift", slot=int(time.time() * 1000))
    champion, _ = versions(admin.registry.model_dir)
    assert result["chargers"] == 300
    assert result["drift"][f"failure|{champion}"]["temperature_over_rating_c"] > 0.2
    health = fleet.call("tasks.health")
    releases = health["checks"]["releases"]
    assert releases["status"].startswith("warning: drift over 0.2")
    assert health["status"] in ("healthy", "degraded")  # a warning, never an outage


def test_a_host_lacking_a_release_refuses_it_and_serves_the_champion(
    fleet: Stack, admin: ReleaseAdmin, tmp_path: Path
) -> None:
    champion, canary = versions(admin.registry.model_dir)
    lacking = tmp_path / "models"
    shutil.copytree(admin.registry.model_dir, lacking)
    shutil.rmtree(Registry(lacking).folder("failure", canary))
    w3 = fleet.start_worker(
        "w3",
        fleet.settings.model_copy(update={"model_dir": str(lacking)}),
        queues=("only-w3",),
    )
    try:
        admin.apply("canary", version=canary, share=100, by="test")
        cid = TELEMETRY[350]["charger_id"]
        assert wait_until(lambda: fresh(fleet, "w1", cid)["model_version"] == canary, timeout=10)
        assert fresh(fleet, "w3", cid)["model_version"] == champion

        def refused() -> dict:
            return fleet.call("tasks.health")["checks"]["releases"].get("refused", {})

        assert wait_until(lambda: any(f"failure/{canary}" in k for k in refused()), timeout=10)
        assert any(k.startswith("w3@") for k in refused())
    finally:
        fleet.stop_worker(w3)


def cli(fleet: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=settings_env(fleet.settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_json(fleet: Stack, *args: str) -> Any:
    done = cli(fleet, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("canary", "failure-9.nope", "--share", "10"), "failure-9.nope is not a registered"),
        (("canary", "{canary}", "--share", "150"), "share 150 is outside 0-100"),
        (("rollback", "anomaly"), "anomaly has no previous champion to roll back to"),
        (("stop", "maintenance"), "maintenance runs no experiment to stop"),
        (("promote", "{champion}"), "is already the champion of failure"),
    ],
)
def test_bad_moves_are_refused_by_the_cli_naming_what_is_wrong(
    fleet: Stack, admin: ReleaseAdmin, args: tuple[str, ...], message: str
) -> None:
    champion, canary = versions(admin.registry.model_dir)
    filled = [a.format(champion=champion, canary=canary) for a in args]
    done = cli(fleet, "models", *filled)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert admin.history() == []  # nothing moved


def test_promote_and_rollback_from_the_cli_say_what_moved(
    fleet: Stack, admin: ReleaseAdmin
) -> None:
    """Without --json a move prints its sentence and exits 0 (the sentence of a move that has
    no share is never made from one)."""
    champion, other = versions(admin.registry.model_dir)
    done = cli(fleet, "models", "promote", other)
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert f"{other} is now the champion of failure (was {champion})" in said
    back = cli(fleet, "models", "rollback", "failure")
    assert back.returncode == 0, back.stdout + back.stderr
    assert f"{champion} is the champion of failure again" in " ".join(back.stdout.split())


def test_two_experiments_and_a_lost_race_move_nothing(fleet: Stack, admin: ReleaseAdmin) -> None:
    champion, other = versions(admin.registry.model_dir)
    listing = cli_json(fleet, "models", "list")
    assert listing[0]["type"] == "failure" and listing[0]["champion"] == champion
    assert cli(fleet, "models", "canary", other, "--share", "10").returncode == 0
    anomaly_other = versions(admin.registry.model_dir, "anomaly")[1]
    done = cli(fleet, "models", "shadow", other, "--share", "10")
    assert done.returncode == 2 and "one experiment per type" in done.stderr
    assert cli(fleet, "models", "shadow", anomaly_other, "--share", "10").returncode == 0
    # Two promotes computed from the same state: the second loses the compare-and-set.
    store, state = ReleaseStore(admin.executor), admin.state("failure")
    first, record = move(state, "promote", other, by="a")
    second, record2 = move(state, "promote", other, by="b")
    store.write(state.revision, first, record)
    with pytest.raises(MoveConflict, match="changed during this promote"):
        store.write(state.revision, second, record2)
    assert admin.state("failure") == first
    assert [m["by"] for m in admin.history("failure")[:1]] == ["a"]
