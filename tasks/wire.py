"""What crosses the broker, typed by what we know of it: JSON as a caller sent it (unchecked
until validated), and JSON objects we made or validated (predictions, results, telemetry)."""

from __future__ import annotations

from typing import Any, TypeAlias

# An argument as a caller sent it, before validation: any JSON value (so `object`, never Any:
# the type checker makes us validate it before use).
Unchecked: TypeAlias = object
# A JSON object we made or validated: a prediction, a task's result, a telemetry document.
Document: TypeAlias = dict[str, Any]
