"""The fleet-history format: read (and check) a directory of telemetry, events and chargers
tables, label its readings from the events, and write the simulator's fleet in it."""

from __future__ import annotations

from .history import DatasetRefused, History, read_history
from .reader import Problem

__all__ = ["DatasetRefused", "History", "Problem", "read_history"]
