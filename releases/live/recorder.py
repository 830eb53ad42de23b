"""Work kept off the request path, in one daemon thread per process: shadow work (the
telemetry and the champion's answers, sent in batches as `tasks.shadow_compare` to the bulk
queue, where another process computes the shadow release and counts the pairs) and each
release's first prediction and first warning per charger (what `compare` scores against
outcomes).

Not computed here: a shadow computed in the process that answers would hold its interpreter
while the next request waits (measured: a miss cost 2x). The queue is bounded: when the thread
falls behind, new work is dropped and counted (`shadow:{type}:dropped`), never waited for. The
thread starts on first use, so each prefork child runs its own.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cachepolicy.executor import SyncExecutor
from cachepolicy.instructions import command
from cachepolicy.keys import (
    WARNINGS_TTL_SECONDS,
    release_seen_key,
    release_warnings_key,
    scoped_id,
)
from cachepolicy.metrics import Metrics
from models import ChargerMetrics
from releases.rules import tally

logger = logging.getLogger("chargewatch.releases")
MAX_PENDING = 2_000
BATCH = 500  # chargers per shadow_compare task
BATCH_WAIT = 0.1  # seconds a batch may wait to fill
Prediction = dict[str, Any]
# (type, shadow version, telemetry documents, the champion's answers, tenant) -> sent
Publish = Callable[[str, str, list[Prediction], list[Prediction], str | None], None]


@dataclass(frozen=True, slots=True)
class ShadowWork:
    kind: str
    version: str
    metrics: Sequence[ChargerMetrics]
    champion: Sequence[Prediction]
    tenant_id: str | None


@dataclass(frozen=True, slots=True)
class Notes:
    kind: str
    predictions: Sequence[Prediction]
    tenant_id: str | None
    at: float


class ReleaseRecorder:
    """`recorder.shadow(...)` and `recorder.note(...)` return at once; `drain()` waits."""

    def __init__(
        self,
        executor: SyncExecutor,
        metrics: Metrics,
        publish: Publish,
    ) -> None:
        self._executor = executor
        self._metrics = metrics
        self._publish = publish
        self._queue: queue.Queue[ShadowWork | Notes] = queue.Queue(MAX_PENDING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def shadow(
        self,
        kind: str,
        version: str,
        metrics: Sequence[ChargerMetrics],
        champion: Sequence[Prediction],
        tenant_id: str | None,
    ) -> None:
        self._put(ShadowWork(kind, version, metrics, champion, tenant_id), len(metrics))

    def note(self, kind: str, predictions: Sequence[Prediction], tenant_id: str | None) -> None:
        """Remember which release predicted (and warned) each charger first."""
        self._put(Notes(kind, predictions, tenant_id, time.time()), 0)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until the queued work is done (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._queue.unfinished_tasks

    def _put(self, work: ShadowWork | Notes, n: int) -> None:
        self._start()
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            if n:
                self._metrics.add({f"{tally.SHADOW_PAIRS}:{work.kind}:dropped": n})

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="release-recorder", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            work = [self._queue.get()]
            deadline = time.monotonic() + BATCH_WAIT
            while sum(len(w.metrics) for w in work if isinstance(w, ShadowWork)) < BATCH:
                try:
                    work.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                self._send_shadows([w for w in work if isinstance(w, ShadowWork)])
                for notes in work:
                    if isinstance(notes, Notes):
                        self._remember(notes)
            except Exception:  # the recorder must outlive any one bad batch
                logger.exception("release recorder")
            finally:
                for _ in work:
                    self._queue.task_done()

    def _send_shadows(self, work: list[ShadowWork]) -> None:
        groups: dict[tuple[str, str, str | None], list[ShadowWork]] = {}
        for w in work:
            groups.setdefault((w.kind, w.version, w.tenant_id), []).append(w)
        for (kind, version, tenant), items in groups.items():
            docs = [m.model_dump(mode="json") for w in items for m in w.metrics]
            answers = [dict(p) for w in items for p in w.champion]
            self._publish(kind, version, docs, answers, tenant)

    def _remember(self, notes: Notes) -> None:
        commands = []
        keys = set()
        for p in notes.predictions:
            scoped = scoped_id(p["charger_id"], notes.tenant_id)
            version = str(p["model_version"])
            seen = release_seen_key(notes.kind, version)
            commands.append(command("hsetnx", seen, scoped, notes.at))
            keys.add(seen)
            if tally.warning(notes.kind, p):
                warned = release_warnings_key(notes.kind, version)
                commands.append(command("hsetnx", warned, scoped, notes.at))
                keys.add(warned)
        commands += [command("expire", key, WARNINGS_TTL_SECONDS) for key in sorted(keys)]
        if commands:
            self._executor.send("set", *commands)
