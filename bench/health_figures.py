"""Figure 20: /api/v1/health/ready latency on an idle stack and while a fleet batch runs (the
probe an orchestrator calls every few seconds must answer fast when workers are busiest)."""

from __future__ import annotations

from fastapi.testclient import TestClient

import vocabulary
from api.app import create_api
from bench.common import Figure, percentile, sample
from models.simulation.simulator import fleet_telemetry
from tasks.local.localstack import LocalStack
from tasks.sending import send

READY = "/api/v1/health/ready"


def ready_latency(stack: LocalStack, chargers: int, n: int) -> list[Figure]:
    with TestClient(create_api(stack.settings, stack.app)) as api:

        def probe() -> None:
            response = api.get(READY)
            assert response.status_code == 200, response.text

        idle = sample(probe, n, warmup=20)
        job = send(stack.app, vocabulary.PREDICT_FLEET, "failure", fleet_telemetry(chargers))
        busy: list[float] = []
        while not job.ready():
            busy.extend(sample(probe, 10, warmup=0))
        job.get(timeout=900)
    quiet, loaded = percentile(idle, 99) / 1000, percentile(busy, 99) / 1000
    return [
        Figure(
            20,
            "health/ready p99, idle stack",
            quiet,
            None,
            "ms",
            None,
            "< 50 ms",
            quiet < 50,
            key="ready-idle",
            ours_label=f"GET {READY}, idle",
            extra={"samples": {"idle": idle, "during fleet batch": busy}},
        ),
        Figure(
            20,
            f"health/ready p99 during a {chargers:,}-charger fleet batch vs idle",
            loaded,
            quiet,
            "ms",
            loaded / quiet,
            "report",
            None,
            key="ready-busy",
            ours_label=f"GET {READY}, during a fleet batch",
            baseline_label=f"GET {READY}, idle",
            notes=f"{len(busy)} probes while the batch ran; every one answered 200",
        ),
    ]
