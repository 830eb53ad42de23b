"""Settings: seed names and defaults; a bad value is one line naming the variable."""

import pytest

from cachepolicy import CacheSettings, ConfigError, load_settings
from cachepolicy.settings import redact_url
from tasks.settings import AppSettings


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever this machine's environment sets, these tests see only what they set."""
    for name in AppSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_seed_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = CacheSettings(_env_file=None)
    assert settings.redis_url == "redis://localhost:6380"
    assert settings.redis_db == 0
    assert settings.redis_socket_timeout == 5
    assert settings.redis_max_connections == 50
    assert settings.redis_retry_on_timeout is True
    assert settings.cache_version == "v1"
    assert [settings.ttl_for(t) for t in ("failure", "maintenance", "anomaly")] == [3600, 1800, 300]
    assert settings.cache_enabled is True


def test_environment_names_are_the_seed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_TTL_ANOMALY", "42")
    monkeypatch.setenv("CACHE_VERSION", "v7")
    monkeypatch.setenv("CACHE_ENABLED", "false")
    monkeypatch.setenv("REDIS_PASSWORD", "s3cret")
    settings = load_settings(CacheSettings, _env_file=None)
    assert settings.ttl_for("anomaly") == 42
    assert settings.cache_version == "v7"
    assert settings.cache_enabled is False
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("REDIS_URL", "http://localhost:6380", "REDIS_URL"),
        ("CACHE_TTL_FAILURE_PREDICTION", "-5", "CACHE_TTL_FAILURE_PREDICTION"),
        ("REDIS_SOCKET_TIMEOUT", "soon", "REDIS_SOCKET_TIMEOUT"),
        ("CACHE_VERSION", "v1:*", "CACHE_VERSION"),
        ("REDIS_SENTINELS", "nohostport", "REDIS_SENTINELS"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(CacheSettings, _env_file=None)
    message = str(info.value)
    assert named in message
    assert "\n" not in message


def test_passwords_are_redacted_from_urls() -> None:
    assert redact_url("redis://app:hunter2@h:6380/0") == "redis://app:***@h:6380/0"
    assert redact_url("redis://h:6380") == "redis://h:6380"
