"""Releases in a real `mlflow server` (SQLite backend and artifact store of the test's own):
training registers each release as a model version with our version as a tag and the skops
file and card as its artifacts, the aliases follow the moves, and a worker whose MODEL_DIR is
empty serves the champion and a canary downloaded from MLflow (checked like any release)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cachepolicy import SyncCacheService
from models.simulation.simulator import fleet_telemetry
from models.train.__main__ import main as train_main
from releases.disk.mlflow_registry import CHALLENGER, CHAMPION, MlflowReleases, model_name
from releases.disk.registry import Registry
from releases.live.admin import ReleaseAdmin
from tests.stack import TEST_OVERRIDES, Stack, wait_until

MLFLOW = shutil.which("mlflow", path=str(Path(sys.executable).parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert MLFLOW is not None, "mlflow is a test dependency (pyproject's test extra)"
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    command = [MLFLOW, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"]
    command += ["--artifacts-destination", str(root / "artifacts")]
    with (root / "server.log").open("w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{uri}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return server.poll() is not None  # died: stop waiting, the assert below says so

    assert wait_until(up, timeout=90, every=0.5)
    assert server.poll() is None, (root / "server.log").read_text()[-2000:]
    yield uri
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="module")
def registered(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two trainings registered in MLflow through `python -m models.train --mlflow`."""
    folder = tmp_path_factory.mktemp("trained") / "models"
    for seed in ("11", "12"):
        args = ["--model-dir", str(folder), "--chargers", "300", "--days", "120", "--seed", seed]
        assert train_main([*args, "--mlflow", mlflow_server]) == 0
    return folder


def test_training_registers_each_release_with_its_skops_file_and_card(
    mlflow_server: str, registered: Path
) -> None:
    mlflow, registry = MlflowReleases(mlflow_server), Registry(registered)
    for kind in ("failure", "maintenance", "anomaly"):
        first, second = (r.version for r in registry.releases(kind))
        assert mlflow.alias(kind, CHAMPION) == first  # the type's first release
        found = mlflow.find(kind, second)
        assert found is not None and found.tags["chargewatch_version"] == second
        artifacts = mlflow.client.list_artifacts(found.run_id, kind)
        names = sorted(Path(a.path).name for a in artifacts)
        assert names == [f"{kind}.card.json", f"{kind}.skops"]  # never a pickle
    assert mlflow.client.get_registered_model(model_name("failure")).name == "chargewatch-failure"


def test_a_worker_with_an_empty_model_dir_serves_releases_from_mlflow(
    mlflow_server: str, registered: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    empty = tmp_path_factory.mktemp("empty") / "models"
    empty.mkdir()
    overrides = {**TEST_OVERRIDES, "release_refresh_seconds": 0.2}
    stack = Stack.start(
        empty, tmp_path_factory.mktemp("logs"), mlflow_tracking_uri=mlflow_server, **overrides
    )
    cache = SyncCacheService(stack.settings)
    try:
        mlflow = MlflowReleases(mlflow_server)
        admin = ReleaseAdmin(
            cache.executor, Registry(registered), stack.settings.cache_version, mlflow
        )
        champion, canary = (r.version for r in Registry(registered).releases("failure"))
        for kind in ("maintenance", "anomaly"):  # name every type's champion in Redis
            admin.apply(
                "canary",
                kind=kind,
                version=Registry(registered).releases(kind)[1].version,
                share=1,
                by="test",
            )
            admin.apply("stop", kind=kind, by="test")
        admin.apply("canary", version=canary, share=100, by="test", why="try it")
        assert mlflow.alias("failure", CHALLENGER) == canary
        stack.start_worker("w1")
        charger = fleet_telemetry(1, seed=5)[0]
        answer = stack.call("tasks.predict_failure", charger["charger_id"], charger)
        assert answer["model_version"] == canary
        assert Registry(empty).find("failure", canary) is not None  # downloaded, then checked
        admin.apply("promote", version=canary, by="test")
        assert mlflow.alias("failure", CHAMPION) == canary
        assert mlflow.alias("failure", CHALLENGER) is None
        admin.apply("rollback", kind="failure", by="test")
        assert mlflow.alias("failure", CHAMPION) == champion

        def served_by_champion() -> bool:
            stack.call("tasks.invalidate_charger", charger["charger_id"])
            found = stack.call("tasks.predict_failure", charger["charger_id"], charger)
            return bool(found["model_version"] == champion)

        assert wait_until(served_by_champion, timeout=10)
    finally:
        cache.close()
        stack.close()
