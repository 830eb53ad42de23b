"""The cache through Sentinel: a master, a replica and three sentinels started by the test;
a failover keeps predictions served."""

from __future__ import annotations

import threading
import time

from cachepolicy import SyncCacheService
from tests.conftest import build_settings
from tests.scaleout.servers import SentinelSetup

VALUE = {"charger_id": "x", "failure_probability": 0.3}


def test_sentinel_failover_keeps_predictions_served() -> None:
    setup = SentinelSetup().start()
    try:
        settings = build_settings(
            "redis://127.0.0.1:1", redis_sentinels=setup.addresses, redis_sentinel_master=setup.name
        )
        with SyncCacheService(settings) as cache:
            assert cache.set_prediction("failure", "CHG_1", VALUE) is True
            assert cache.get_prediction("failure", "CHG_1") == VALUE
            served, failures = [], []
            stop = threading.Event()

            def load() -> None:
                while not stop.is_set():
                    try:
                        served.append(cache.get_or_compute("anomaly", "CHG_2", lambda: VALUE))
                    except Exception as exc:
                        failures.append(exc)
                    time.sleep(0.01)

            worker = threading.Thread(target=load)
            worker.start()
            time.sleep(2)  # let the replica sync
            setup.master.stop(kill=True)
            killed = time.monotonic()
            recovered = None
            while time.monotonic() - killed < 40:
                if cache.set_prediction("failure", "CHG_3", VALUE):
                    recovered = time.monotonic() - killed
                    break
                time.sleep(0.2)
            stop.set()
            worker.join()
        assert not failures and served
        assert recovered is not None, "the sentinels never promoted the replica"
    finally:
        setup.stop()
