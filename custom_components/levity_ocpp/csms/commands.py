"""Commands the central system sends to a charge point, and what came of them.

Version-neutral: Home Assistant builds these and reads the results; each OCPP
version's handler (v16_commands.py, v201_commands.py) turns them into its own
messages, or refuses with CommandNotApplicable what its version cannot say. On a
2.0.1 charger a connector id is an EVSE id (the EVSE is the connector device).
A charger's answer is the truth: every answer becomes a distinct
`CommandResult.status`, and everything that is no answer at all (offline, a
timeout, a CALLERROR) a distinct `CommandFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The statuses chargers answer commands with (others are kept as sent)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_SUPPORTED = "NotSupported"
    REBOOT_REQUIRED = "RebootRequired"
    SCHEDULED = "Scheduled"
    UNLOCKED = "Unlocked"
    UNLOCK_FAILED = "UnlockFailed"
    NOT_IMPLEMENTED = "NotImplemented"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    OCCUPIED = "Occupied"
    FAULTED = "Faulted"
    UNAVAILABLE = "Unavailable"
    FAILED = "Failed"
    VERSION_MISMATCH = "VersionMismatch"
    UNKNOWN = "Unknown"


# Statuses that mean the charger will do (or did) what it was asked.
SUCCESS = frozenset({Status.ACCEPTED, Status.SCHEDULED, Status.UNLOCKED, Status.REBOOT_REQUIRED})


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A charger's answer: its status (if the message has one) and what else it said."""

    status: str | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """Whether the charger agreed (a message without a status always does)."""
        return self.status is None or self.status in SUCCESS


class CommandFailed(Exception):
    """A command got no answer a charger means as one."""

    reason = "failed"

    def __init__(self, charge_point_id: str, action: str, detail: str = "") -> None:
        """Say which charger, which command, and what went wrong."""
        suffix = f": {detail}" if detail else ""
        super().__init__(f"{charge_point_id}: {action} {self.reason}{suffix}")
        self.charge_point_id = charge_point_id
        self.action = action
        self.detail = detail


class ChargePointOffline(CommandFailed):
    """The charge point is not connected (or hung up before answering)."""

    reason = "not sent: the charge point is offline"


class CommandTimedOut(CommandFailed):
    """The charge point did not answer in time."""

    reason = "timed out"


class CommandCallError(CommandFailed):
    """The charge point answered with a CALLERROR."""

    reason = "answered with an error"

    def __init__(self, charge_point_id: str, action: str, code: str, description: str) -> None:
        """Keep the CALLERROR's code and description."""
        super().__init__(charge_point_id, action, f"{code} {description}".strip())
        self.code = code
        self.description = description


class CommandNotApplicable(CommandFailed):
    """The command makes no sense for the charger now (no transaction, unsupported unit...)."""

    reason = "cannot be sent"


class ResetKind(StrEnum):
    """Soft: restart the software; hard: restart everything."""

    SOFT = "soft"
    HARD = "hard"


# OCPP 1.6 numbers transactions; OCPP 2.0.1 names them with a string of its own.
type TransactionId = int | str


class ChargingPurpose(StrEnum):
    """What a charging profile limits (OCPP 1.6 §3.13.2, the same three in 2.0.1)."""

    CHARGER_MAX = "charger_max"  # the whole charger (connector 0)
    TX_DEFAULT = "tx_default"  # every transaction on the connector, also between them
    TX = "tx"  # one running transaction


class ScheduleKind(StrEnum):
    """How a schedule's periods are timed."""

    ABSOLUTE = "absolute"
    RECURRING = "recurring"
    RELATIVE = "relative"


class RateUnit(StrEnum):
    """The unit of a schedule's limits."""

    AMPERE = "A"
    WATT = "W"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """From `start_s` seconds into the schedule, at most `limit` (per phase for A)."""

    start_s: int
    limit: float
    number_phases: int | None = None
    # OCPP 2.0.1 only: the phase (1-3) a single-phase period charges on.
    phase_to_use: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A charging profile, as every OCPP version has one."""

    profile_id: int
    stack_level: int
    purpose: ChargingPurpose
    kind: ScheduleKind
    unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    transaction_id: TransactionId | None = None
    start_schedule: datetime | None = None
    duration_s: int | None = None
    min_rate: float | None = None
    recurrency: str | None = None  # "Daily" / "Weekly" for recurring schedules
    valid_from: datetime | None = None
    valid_to: datetime | None = None


# The commands. Connector 0 means the charge point as a whole where a command allows it.


@dataclass(frozen=True, slots=True)
class StartCharging:
    """Start a transaction remotely (RemoteStartTransaction)."""

    id_tag: str
    connector_id: int | None = None
    profile: ChargingProfile | None = None


@dataclass(frozen=True, slots=True)
class StopCharging:
    """Stop a running transaction remotely (RemoteStopTransaction)."""

    transaction_id: TransactionId


@dataclass(frozen=True, slots=True)
class Reset:
    """Restart the charger (OCPP 2.0.1 also one EVSE: `connector_id`; None or 0: all)."""

    kind: ResetKind
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    """Release the cable lock of a connector."""

    connector_id: int


@dataclass(frozen=True, slots=True)
class SetAvailability:
    """Make a connector (0: the charger) operative or inoperative."""

    connector_id: int
    operative: bool


@dataclass(frozen=True, slots=True)
class GetConfiguration:
    """Read configuration keys (all of them when none are named)."""

    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetConfiguration:
    """Change one configuration key."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class TriggerMessage:
    """Ask the charger to send a message now (e.g. StatusNotification, MeterValues)."""

    message: str
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class SetChargingProfile:
    """Install a charging profile on a connector (0: the charger)."""

    connector_id: int
    profile: ChargingProfile


@dataclass(frozen=True, slots=True)
class ClearChargingProfile:
    """Remove charging profiles matching every criterion given (none: all of them)."""

    profile_id: int | None = None
    connector_id: int | None = None
    purpose: ChargingPurpose | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class GetChargingProfiles:
    """Ask for the installed profiles matching every criterion given (OCPP 2.0.1 only).

    The charger answers at once whether any match; the profiles themselves follow in
    ReportChargingProfiles messages carrying `request_id`.
    """

    request_id: int
    connector_id: int | None = None
    purpose: ChargingPurpose | None = None
    stack_level: int | None = None
    profile_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class GetCompositeSchedule:
    """The limits a connector (0: the charger) will apply over the next `duration_s`."""

    connector_id: int
    duration_s: int
    unit: RateUnit | None = None


@dataclass(frozen=True, slots=True)
class DataTransfer:
    """A vendor-specific message."""

    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass(frozen=True, slots=True)
class GetDiagnostics:
    """Upload a diagnostics file to `location` (an FTP or HTTP URL)."""

    location: str
    start: datetime | None = None
    stop: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateFirmware:
    """Download firmware from `location` from `retrieve_at` on, and install it."""

    location: str
    retrieve_at: datetime
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, slots=True)
class ReserveNow:
    """Reserve a connector (0: any) for an id tag until `expiry`."""

    connector_id: int
    expiry: datetime
    id_tag: str
    reservation_id: int
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class CancelReservation:
    """Cancel a reservation."""

    reservation_id: int


@dataclass(frozen=True, slots=True)
class GetLocalListVersion:
    """The version of the charger's local authorization list.

    Its result's data has `list_version` (0: no list, -1: the charger keeps none),
    whatever the OCPP version (local_list.py reads it).
    """


@dataclass(frozen=True, slots=True)
class LocalAuthorization:
    """One entry of a local authorization list (no status: remove it, in a differential update)."""

    id_tag: str
    status: str | None = None
    expiry: datetime | None = None
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class SendLocalList:
    """Replace (full) or update (differential) the charger's local authorization list."""

    version: int
    full: bool
    entries: tuple[LocalAuthorization, ...] = ()


@dataclass(frozen=True, slots=True)
class ClearCache:
    """Empty the charger's authorization cache."""


type Command = (
    StartCharging
    | StopCharging
    | Reset
    | UnlockConnector
    | SetAvailability
    | GetConfiguration
    | SetConfiguration
    | TriggerMessage
    | SetChargingProfile
    | ClearChargingProfile
    | GetChargingProfiles
    | GetCompositeSchedule
    | DataTransfer
    | GetDiagnostics
    | UpdateFirmware
    | ReserveNow
    | CancelReservation
    | GetLocalListVersion
    | SendLocalList
    | ClearCache
)
