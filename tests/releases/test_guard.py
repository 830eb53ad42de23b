"""Guardrails, pure: too few answers tell nothing; errors, alarms and p99 beyond the limits
stop a canary, each named."""

from __future__ import annotations

from releases.rules.guard import Limits, verdict


def arm(requests: int, errors: int = 0, alarms: int = 0, slow_bucket: int = 3) -> dict[str, int]:
    """Counters of one arm: every answer in latency bucket `slow_bucket` (0.005 s for 3)."""
    return {
        "requests": requests,
        "errors": errors,
        "alarms": alarms,
        f"latency:{slow_bucket}": requests,
        "latency:count": requests,
    }


LIMITS = Limits(min_requests=200, error_points=2.0, alarm_points=5.0, p99_ratio=1.5)


def test_a_canary_within_the_limits_runs_on() -> None:
    assert verdict(arm(1000, errors=10, alarms=50), arm(300, errors=4, alarms=20), LIMITS) is None


def test_too_few_answers_tell_nothing() -> None:
    assert verdict(arm(1000), arm(50, errors=100), LIMITS) is None


def test_each_limit_stops_the_canary_and_says_which() -> None:
    errors = verdict(arm(1000, errors=5), arm(400, errors=40), LIMITS)
    assert errors is not None and "error rate 9.1% vs the champion's 0.5%" in errors
    alarms = verdict(arm(1000, alarms=20), arm(400, alarms=60), LIMITS)
    assert alarms is not None and "alarms in 15.0% of answers vs the champion's 2.0%" in alarms
    slow = verdict(arm(1000, slow_bucket=3), arm(400, slow_bucket=5), LIMITS)
    assert slow is not None and "p99 latency 25 ms vs the champion's 5 ms" in slow
