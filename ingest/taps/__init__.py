"""Taps for operators who can put nothing between their chargers and their central system:
CitrineOS's webhook bodies and SteVe's log lines read into the record the relay's copies make
too (TappedFrame), with both directions. Sans-I/O: text in, records out."""

from __future__ import annotations

from .citrineos import WebhookError, parse_webhook
from .record import (
    CENTRAL_SYSTEM,
    CHARGER,
    ConnectionEvent,
    Direction,
    InvalidTap,
    Skipped,
    TappedFrame,
)
from .steve import LogLineError, SteveLog, parse_line

__all__ = [
    "CENTRAL_SYSTEM",
    "CHARGER",
    "ConnectionEvent",
    "Direction",
    "InvalidTap",
    "LogLineError",
    "Skipped",
    "SteveLog",
    "TappedFrame",
    "WebhookError",
    "parse_line",
    "parse_webhook",
]
