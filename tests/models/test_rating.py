"""A charger's class is decided once (models.telemetry.rating): the telemetry documents, the
features and the training's usage profile agree. Pure logic: no Redis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.core.features import frame_from_metrics
from models.simulation.scenarios import ac
from models.telemetry.rating import rating, ratings_of
from models.telemetry.schema import parse_metrics
from models.telemetry.times import utcnow
from models.train.datasets import read_history
from tests.models.train.test_datasets import day, reading, write

GIVEN = [
    (None, None),
    ("AC", None),
    ("DC", None),
    (None, 11.0),
    (None, 22.0),
    (None, 43.0),  # above AC's ceiling, no type: DC
    ("AC", 43.0),  # a 43 kW AC charger: AC everywhere (it was DC to the usage profile)
    ("DC", 50.0),
    ("DC", 350.0),
]


def test_the_vector_rule_is_the_scalar_rule_row_by_row() -> None:
    types = np.array([t for t, _ in GIVEN], dtype=object)
    kw = np.array([np.nan if k is None else k for _, k in GIVEN])
    is_dc, rated = ratings_of(types, kw)
    for i, (kind, given) in enumerate(GIVEN):
        expected = rating(kind, given)
        assert (bool(is_dc[i]), rated[i]) == (expected.is_dc, expected.kw), (kind, given)


@pytest.mark.parametrize(("kind", "dc"), [("AC", False), (None, True)])
def test_a_43_kw_charger_is_one_class_to_features_and_to_the_usage_profile(
    kind: str | None, dc: bool, tmp_path: Path
) -> None:
    doc = {**ac(43.0), "charger_type": kind}
    frame = frame_from_metrics([parse_metrics(doc)], utcnow())
    assert bool(frame.is_dc[0]) is dc
    # Training learns the quiet hours of each class from Charging readings: one a day at
    # every hour of the clock, from the same charger.
    hours = [n + h / 24 for n in range(2) for h in range(24)]
    rows = "".join(reading("CHG_43", n, status="Charging", power=30.0) for n in hours)
    folder = write(tmp_path / "data", rows, f"CHG_43,{day(1.9)},failure,\n")
    (folder / "chargers.csv").write_text(
        f"charger_id,rated_power_kw,charger_type\nCHG_43,43,{kind or ''}\n"
    )
    profile = read_history(folder).hourly_sessions
    learnt, fallback = ("DC", "AC") if dc else ("AC", "DC")
    assert profile[learnt].sum() == len(hours)  # every Charging reading, in its class
    assert np.array_equal(profile[fallback], np.ones(24))  # the other class saw none
