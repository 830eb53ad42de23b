"""One vocabulary: every layer names prediction types, tasks and queues from `vocabulary`, and
each type has everything it needs (TTL setting, model, schema, task). Pure logic."""

from __future__ import annotations

import re
from pathlib import Path

import vocabulary
from cachepolicy.settings import CacheSettings
from models.telemetry.schema import PREDICTION_SCHEMAS
from tasks.config import build, queues
from tasks.settings import AppSettings
from vocabulary import TYPE_NAMES

ROOT = Path(__file__).resolve().parents[1]


def test_every_prediction_type_has_a_ttl_setting_schema_model_and_task() -> None:
    settings = CacheSettings(_env_file=None)
    for name, kind in vocabulary.PREDICTION_TYPES.items():
        assert settings.ttl_for(name) > 0
        assert kind.ttl_setting in CacheSettings.model_fields
        assert PREDICTION_SCHEMAS[name].__name__ == kind.schema
        assert name in TYPE_NAMES
        assert kind.task.startswith("tasks.")
        assert kind.derived_from in (None, *vocabulary.TYPE_NAMES)


def test_invalidating_a_source_drops_what_derives_from_it() -> None:
    assert vocabulary.dependents("failure") == ("failure", "maintenance")
    assert vocabulary.dependents("anomaly") == ("anomaly",)


def test_the_default_queue_is_declared_and_routes_name_known_queues() -> None:
    names = {q.name for q in queues()}
    assert names == set(vocabulary.QUEUES) and vocabulary.DEFAULT_QUEUE == "celery"
    assert set(vocabulary.ROUTES.values()) <= set(vocabulary.OUR_QUEUES)
    assert build(AppSettings(_env_file=None))["task_default_queue"] == vocabulary.INTERACTIVE


def test_no_module_spells_out_a_task_name_or_the_type_list_itself() -> None:
    """Names come from the vocabulary; only tests, the vocabulary and docs spell them."""
    spelled = re.compile(r"\"tasks\.[a-z_]+\"|\(\"failure\", \"maintenance\", \"anomaly\"\)")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("cachepolicy", "models", "tasks", "api", "cli", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if spelled.search(path.read_text())
    ]
    offenders += (
        ["celeryconfig.py"] if spelled.search((ROOT / "celeryconfig.py").read_text()) else []
    )
    assert offenders == []


def test_one_id_pattern() -> None:
    assert vocabulary.ID_REGEX.fullmatch("CHG_001")
    assert not vocabulary.ID_REGEX.fullmatch("CHG:001")
    packages = ("cachepolicy", "models", "tasks", "api", "cli", "bench")
    sources = [p.read_text() for folder in packages for p in (ROOT / folder).glob("*.py")]
    assert sum("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}" in text for text in sources) == 0
