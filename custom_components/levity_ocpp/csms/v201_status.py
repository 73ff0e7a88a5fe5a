"""OCPP 2.0.1 connector statuses and charging states in the model's (OCPP 1.6) words.

2.0.1 reports a connector as Available, Occupied, Reserved, Unavailable or Faulted
and, separately, a transaction's chargingState (EVConnected, Charging,
SuspendedEV, SuspendedEVSE, Idle). 1.6 folds both into one status, and that is
what the model, the entities and automations know: Occupied becomes Preparing,
Charging, SuspendedEV, SuspendedEVSE or Finishing by what the transaction says.

The model has one connector per EVSE. An EVSE with several connectors (a cable
and a socket) is as busy as its busiest connector.
"""

from __future__ import annotations

from collections.abc import Iterable

from ocpp.v16.enums import ChargePointStatus
from ocpp.v201.enums import ChargingStateEnumType, ConnectorStatusEnumType

from .transactions import Transaction

# An EVSE's status from its connectors': the first of these any connector has.
_PRECEDENCE: tuple[str, ...] = (
    ConnectorStatusEnumType.occupied.value,
    ConnectorStatusEnumType.reserved.value,
    ConnectorStatusEnumType.available.value,
    ConnectorStatusEnumType.faulted.value,
    ConnectorStatusEnumType.unavailable.value,
)
OCCUPIED: str = ConnectorStatusEnumType.occupied.value
AVAILABLE: str = ConnectorStatusEnumType.available.value
PREPARING: str = ChargePointStatus.preparing.value
FINISHING: str = ChargePointStatus.finishing.value
_SAME_WORD: dict[str, str] = {
    ConnectorStatusEnumType.available.value: ChargePointStatus.available.value,
    ConnectorStatusEnumType.reserved.value: ChargePointStatus.reserved.value,
    ConnectorStatusEnumType.unavailable.value: ChargePointStatus.unavailable.value,
    ConnectorStatusEnumType.faulted.value: ChargePointStatus.faulted.value,
}
_BY_CHARGING_STATE: dict[str, str] = {
    ChargingStateEnumType.charging.value: ChargePointStatus.charging.value,
    ChargingStateEnumType.suspended_ev.value: ChargePointStatus.suspended_ev.value,
    ChargingStateEnumType.suspended_evse.value: ChargePointStatus.suspended_evse.value,
    # Connected (or authorized) but no energy offered yet.
    ChargingStateEnumType.ev_connected.value: ChargePointStatus.preparing.value,
    ChargingStateEnumType.idle.value: ChargePointStatus.preparing.value,
}
# Statuses that mean a session was on when the car stays after its end.
_IN_SESSION = frozenset(
    {
        ChargePointStatus.charging.value,
        ChargePointStatus.suspended_ev.value,
        ChargePointStatus.suspended_evse.value,
        ChargePointStatus.finishing.value,
    }
)


def evse_status(connector_statuses: Iterable[str]) -> str | None:
    """The 2.0.1 status of an EVSE from its connectors' (None if none is known)."""
    reported = list(connector_statuses)
    known = set(reported)
    # A status 2.0.1 does not have (schema checks off) is kept as sent.
    return next((status for status in _PRECEDENCE if status in known), next(iter(reported), None))


def model_status(
    status: str | None, transaction: Transaction | None, previous: str | None
) -> str | None:
    """The status the model shows for an EVSE (None: nothing to change).

    `status` is the EVSE's 2.0.1 status (None if not reported on this
    connection), `transaction` the one running on it, `previous` the status shown.
    """
    if status is None:
        if transaction is None or transaction.charging_state is None:
            return None
        status = OCCUPIED
    if transaction is not None and status == AVAILABLE:
        return PREPARING  # authorized before the cable is in (TxStartPoint Authorized)
    if status != OCCUPIED:
        return _SAME_WORD.get(status, status)  # a status not of 2.0.1 is kept as sent
    if transaction is not None:
        return _BY_CHARGING_STATE.get(transaction.charging_state or "", PREPARING)
    return FINISHING if previous in _IN_SESSION else PREPARING


# 2.0.1 firmware and log-upload statuses 1.6 does not have, as the nearest 1.6 one.
_FIRMWARE_STATUS = {
    "DownloadScheduled": "Downloading",
    "DownloadPaused": "Downloading",
    "SignatureVerified": "Downloaded",
    "InstallScheduled": "Installing",
    "InstallRebooting": "Installing",
    "InstallVerificationFailed": "InstallationFailed",
    "InvalidSignature": "InstallationFailed",
}
_LOG_STATUS = {
    "UploadFailure": "UploadFailed",
    "BadMessage": "UploadFailed",
    "NotSupportedOperation": "UploadFailed",
    "PermissionDenied": "UploadFailed",
    "AcceptedCanceled": "Idle",
}


def firmware_status(status: str) -> str:
    """A FirmwareStatusNotification's status as 1.6 names it."""
    return _FIRMWARE_STATUS.get(status, status)


def log_status(status: str) -> str:
    """A LogStatusNotification's status as 1.6's DiagnosticsStatusNotification names it."""
    return _LOG_STATUS.get(status, status)
