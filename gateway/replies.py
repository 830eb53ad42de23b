"""What a central system answers to each action a charge point initiates, as the `ocpp`
package's own call_result dataclasses (the package validates them against the response schema).

The endpoint serves mirrored traffic: the operator's central system makes the decisions that
matter (authorisation, transactions) and this one answers so that a charger, or a proxy
replaying one, carries on: boots are Accepted with our heartbeat interval, notifications are
acknowledged, what only a real CSMS can grant (certificates, vendor data) is declined.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any, Final

from ocpp.v16 import call_result as v16
from ocpp.v201 import call_result as v201

Reply = Callable[["Answers"], Any]


class Answers:
    """One endpoint's answers: its heartbeat interval, its clock, its transaction ids."""

    def __init__(self, heartbeat_interval: int, clock: Callable[[], dt.datetime] | None = None):
        self.interval = heartbeat_interval
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._transactions = itertools.count(1)

    def now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def transaction_id(self) -> int:
        return next(self._transactions)

    def reply(self, version: str, action: str) -> Any:
        """The call_result for `action` of OCPP `version` (KeyError: not one a CP initiates)."""
        return REPLIES[version][action](self)


ACCEPTED_TAG: Final = {"status": "Accepted"}
ACCEPTED_TOKEN: Final = {"status": "Accepted"}

REPLIES: Final[dict[str, dict[str, Reply]]] = {
    "1.6": {
        "Authorize": lambda a: v16.Authorize(id_tag_info=ACCEPTED_TAG),
        "BootNotification": lambda a: v16.BootNotification(
            current_time=a.now(), interval=a.interval, status="Accepted"
        ),
        "DataTransfer": lambda a: v16.DataTransfer(status="UnknownVendorId"),
        "DiagnosticsStatusNotification": lambda a: v16.DiagnosticsStatusNotification(),
        "FirmwareStatusNotification": lambda a: v16.FirmwareStatusNotification(),
        "Heartbeat": lambda a: v16.Heartbeat(current_time=a.now()),
        "MeterValues": lambda a: v16.MeterValues(),
        "StartTransaction": lambda a: v16.StartTransaction(
            transaction_id=a.transaction_id(), id_tag_info=ACCEPTED_TAG
        ),
        "StatusNotification": lambda a: v16.StatusNotification(),
        "StopTransaction": lambda a: v16.StopTransaction(),
    },
    "2.0.1": {
        "Authorize": lambda a: v201.Authorize(id_token_info=ACCEPTED_TOKEN),
        "BootNotification": lambda a: v201.BootNotification(
            current_time=a.now(), interval=a.interval, status="Accepted"
        ),
        "ClearedChargingLimit": lambda a: v201.ClearedChargingLimit(),
        "DataTransfer": lambda a: v201.DataTransfer(status="UnknownVendorId"),
        "FirmwareStatusNotification": lambda a: v201.FirmwareStatusNotification(),
        "Get15118EVCertificate": lambda a: v201.Get15118EVCertificate(
            status="Failed", exi_response=""
        ),
        "GetCertificateStatus": lambda a: v201.GetCertificateStatus(status="Failed"),
        "Heartbeat": lambda a: v201.Heartbeat(current_time=a.now()),
        "LogStatusNotification": lambda a: v201.LogStatusNotification(),
        "MeterValues": lambda a: v201.MeterValues(),
        "NotifyChargingLimit": lambda a: v201.NotifyChargingLimit(),
        "NotifyCustomerInformation": lambda a: v201.NotifyCustomerInformation(),
        "NotifyDisplayMessages": lambda a: v201.NotifyDisplayMessages(),
        "NotifyEVChargingNeeds": lambda a: v201.NotifyEVChargingNeeds(status="Accepted"),
        "NotifyEVChargingSchedule": lambda a: v201.NotifyEVChargingSchedule(status="Accepted"),
        "NotifyEvent": lambda a: v201.NotifyEvent(),
        "NotifyMonitoringReport": lambda a: v201.NotifyMonitoringReport(),
        "NotifyReport": lambda a: v201.NotifyReport(),
        "PublishFirmwareStatusNotification": lambda a: v201.PublishFirmwareStatusNotification(),
        "ReportChargingProfiles": lambda a: v201.ReportChargingProfiles(),
        "ReservationStatusUpdate": lambda a: v201.ReservationStatusUpdate(),
        "SecurityEventNotification": lambda a: v201.SecurityEventNotification(),
        "SignCertificate": lambda a: v201.SignCertificate(status="Rejected"),
        "StatusNotification": lambda a: v201.StatusNotification(),
        "TransactionEvent": lambda a: v201.TransactionEvent(),
    },
}
SUBPROTOCOLS: Final = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}
