"""What the central system's commands and the charger's answers are evidence of: one table
(RULES), read by ingest.exchanges when it pairs them and by docs/ocpp/evidence.md (generated
from it by `table_markdown`), saying for each piece of evidence what reaches the live state
(an error code, kept a week like any other), what becomes a fleet-history event (the events
table's kinds) and what is an outcome (the same kinds, scored as any field outcome).

No evidence here writes a `failure`: in the fleet history a failure puts a charger out of
service until the next repair, and no command or answer shows the repair that would end it
(a connector turning Faulted does, and ingest.state writes that pair). A lock that failed to
unlock is therefore the live state's ConnectorLockFailure, which the models already weigh as
a hardware fault, not an event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from ocpp.v16.enums import ChargePointErrorCode

# Error codes of our own, vendor-style (a namespace no charger uses): the models count a code
# they do not know as a minor one (models.telemetry.ocpp.group_of).
NAMESPACE: Final = "chargewatch."
RESET_ESCALATED: Final = NAMESPACE + "ResetEscalated"
FIRMWARE_DOWNLOAD_FAILED: Final = NAMESPACE + "FirmwareDownloadFailed"
FIRMWARE_INSTALLATION_FAILED: Final = NAMESPACE + "FirmwareInstallationFailed"
COMMANDS_REFUSED: Final = NAMESPACE + "CommandsRefused"
LOCK_FAILURE: Final = str(ChargePointErrorCode.connector_lock_failure.value)
# The events table's kinds used here (vocabulary.EVENT_KINDS; a test holds them).
MAINTENANCE: Final = "maintenance"
INSPECTION: Final = "inspection"

# Evidence names.
TAKEN_OUT_OF_SERVICE: Final = "taken_out_of_service"
BACK_IN_SERVICE: Final = "back_in_service"
RESET_ESCALATION: Final = "reset_escalated"
UNLOCK_FAILED: Final = "unlock_failed"
FIRMWARE_INSTALLED: Final = "firmware_installed"
FIRMWARE_DOWNLOAD_FAILURE: Final = "firmware_download_failed"
FIRMWARE_INSTALLATION_FAILURE: Final = "firmware_installation_failed"
REPEATED_REFUSALS: Final = "commands_refused"


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the evidence table."""

    name: str
    frames: str  # which frames make it
    live: str  # what the live state keeps
    error_code: str | None  # the code added to the live state's error codes
    event: str | None  # the fleet-history event kind written
    outcome: str | None  # the outcome kind recorded
    why: str
    note: str = ""  # its history event's note (after "from OCPP: ")


RULES: Final = (
    Rule(
        TAKEN_OUT_OF_SERVICE,
        "ChangeAvailability `Inoperative` (2.0.1 `operationalStatus`) answered `Accepted` or "
        "`Scheduled`",
        "an open out-of-service span: scope (charger, connector, EVSE) -> since",
        None,
        None,
        None,
        "the operator took it out of service; the span is written when it ends",
    ),
    Rule(
        BACK_IN_SERVICE,
        "ChangeAvailability `Operative` answered `Accepted` or `Scheduled`, closing an open span "
        "(the whole charger's closes every span)",
        "the span closed",
        None,
        INSPECTION,
        INSPECTION,
        "an operator's out-of-service span: an `inspection` at its start, `downtime_hours` its "
        "length, `component` its scope; not `maintenance`, which would reset the models' "
        "maintenance age on a guess",
        "out of service by the operator (ChangeAvailability Inoperative, then Operative)",
    ),
    Rule(
        RESET_ESCALATION,
        "Reset `Hard` (2.0.1 `Immediate`) answered `Accepted`/`Scheduled` within 1 h of a "
        "`Soft` (`OnIdle`) Reset of the same charger, whatever became of that one",
        f"error code `{RESET_ESCALATED}`",
        RESET_ESCALATED,
        None,
        None,
        "a soft reset did not help (or was refused, or not answered) and the operator forced "
        "one; a hard one after a hard one is not counted (a second click)",
    ),
    Rule(
        UNLOCK_FAILED,
        "UnlockConnector answered `UnlockFailed`",
        f"error code `{LOCK_FAILURE}`",
        LOCK_FAILURE,
        None,
        None,
        "the connector's lock did not release: OCPP's own lock fault, weighed as hardware",
    ),
    Rule(
        FIRMWARE_INSTALLED,
        "FirmwareStatusNotification `Installed` after an UpdateFirmware the charger took (or "
        "after its own Downloading/Installing statuses) within 7 days",
        "nothing more (the update is over)",
        None,
        MAINTENANCE,
        MAINTENANCE,
        "the firmware changed: a `maintenance` event, `component` `firmware`",
        "new firmware installed (FirmwareStatusNotification Installed)",
    ),
    Rule(
        FIRMWARE_DOWNLOAD_FAILURE,
        "FirmwareStatusNotification `DownloadFailed`",
        f"error code `{FIRMWARE_DOWNLOAD_FAILED}`",
        FIRMWARE_DOWNLOAD_FAILED,
        None,
        None,
        "the charger could not fetch its firmware (often the network or the server's)",
    ),
    Rule(
        FIRMWARE_INSTALLATION_FAILURE,
        "FirmwareStatusNotification `InstallationFailed`",
        f"error code `{FIRMWARE_INSTALLATION_FAILED}`",
        FIRMWARE_INSTALLATION_FAILED,
        None,
        None,
        "the charger could not install its firmware: trouble in the charger itself",
    ),
    Rule(
        REPEATED_REFUSALS,
        "a third refusal within 24 h: a command answered `Rejected`, or a CALLERROR other than "
        "`NotImplemented`/`NotSupported`",
        f"error code `{COMMANDS_REFUSED}`",
        COMMANDS_REFUSED,
        None,
        None,
        "a charger that keeps refusing its operator; missing features "
        "(`NotSupported`, `NotImplemented`) are counted, never evidence",
    ),
)
TABLE: Final = {rule.name: rule for rule in RULES}
# Counted by (action, outcome), never evidence: documented beside the table.
COUNTED_ONLY: Final = (
    ("every answer", "by action and status (`Accepted`, ...) or `CALLERROR.<code>` (`.other`)"),
    ("TriggerMessage", "by the message asked for (`TriggerMessage.<requestedMessage>`) and answer"),
    ("a CALL not answered within 5 min", "`unanswered`; open at a connection's close: `closed`"),
    ("a CALL sent again with the same id before its answer", "`duplicate_call`"),
    ("an answer with no CALL (within 1 min)", "(`answer`, `orphan`)"),
    ("a frame not OCPP-J, or a CALL breaking its schema", "(`invalid`, `malformed`)"),
    ("an answer breaking its schema", "`invalid_answer`"),
    ("FirmwareStatusNotification", "by status; `Installed.unrequested` with no update under way"),
    ("an UpdateFirmware with no outcome within 7 days", "(`UpdateFirmware`, `no_outcome`)"),
    ("ChangeAvailability `Operative` with no span open", "`Operative.no_span`"),
    ("beyond the bounds (8 CALLs waiting, 16 spans)", "`evicted`, `span_evicted`"),
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence from a command and its answer (or a charger's notification)."""

    name: str  # a key of TABLE
    charge_point_id: str
    at: dt.datetime  # when the answer (or notification) came
    action: str
    scope: str | None = None  # "charger", "connector 2", "evse 1", "evse 1 connector 2"
    since: dt.datetime | None = None  # an out-of-service span's start
    detail: str = ""

    @property
    def rule(self) -> Rule:
        """Its row of the table."""
        return TABLE[self.name]

    @property
    def error_code(self) -> str | None:
        """The code the live state adds (kept a week, as the frames' own codes are)."""
        return self.rule.error_code

    @property
    def downtime_hours(self) -> float | None:
        """An out-of-service span's length in hours (None: it is no span)."""
        if self.since is None:
            return None
        return round((self.at - self.since).total_seconds() / 3600.0, 4)

    @property
    def when(self) -> dt.datetime:
        """The time of its event and outcome: a span's start, else when it was seen."""
        return self.since or self.at

    def history_event(self) -> dict[str, Any] | None:
        """Its row of the fleet history's events table (None: it writes none)."""
        kind = self.rule.event
        if kind is None:
            return None
        row: dict[str, Any] = {
            "charger_id": self.charge_point_id,
            "timestamp": self.when.isoformat(),
            "kind": kind,
            "note": f"from OCPP: {self.rule.note or self.name}"
            + (f"; {self.detail}" if self.detail else ""),
        }
        if self.downtime_hours is not None:
            row["downtime_hours"] = self.downtime_hours
        component = "firmware" if self.name == FIRMWARE_INSTALLED else self.scope
        if component:
            row["component"] = component
        return row

    def outcome(self) -> tuple[str, float] | None:
        """(kind, epoch seconds) of the outcome it is (None: it is none)."""
        kind = self.rule.outcome
        return None if kind is None else (kind, self.when.timestamp())


def table_markdown() -> str:
    """The evidence table as docs/ocpp/evidence.md shows it."""
    lines = [
        "| evidence | from the frames | live state | history event | outcome | why |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        cells = (
            f"`{rule.name}`",
            rule.frames,
            rule.live,
            f"`{rule.event}`" if rule.event else "none",
            f"`{rule.outcome}`" if rule.outcome else "none",
            rule.why,
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def counted_markdown() -> str:
    """What is counted and never evidence, as docs/ocpp/evidence.md shows it."""
    lines = ["| frames | counted as (action, outcome) |", "|---|---|"]
    lines += [f"| {what} | {how} |" for what, how in COUNTED_ONLY]
    return "\n".join(lines) + "\n"
