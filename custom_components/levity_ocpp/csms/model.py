"""Charge point state and change listeners, shared by the protocol and HA layers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
import logging
from typing import TYPE_CHECKING, Any

from .framelog import Direction, FrameLog
from .readings import Readings

if TYPE_CHECKING:
    from .commands import LocalAuthorization
    from .transactions import Transaction

# Connector 0 is the charge point itself (OCPP 1.6 StatusNotification).
CHARGE_POINT_CONNECTOR = 0
CONNECTION_HISTORY_SIZE = 50
ANOMALY_LOG_SIZE = 100
# An anomaly may quote what the charger sent: enough to recognise it, no more.
MAX_ANOMALY_TEXT = 500
EVENT_LOG_SIZE = 100

type Listener = Callable[[], None]


class Change(Enum):
    """What a notification changed, for how soon it must reach the disk."""

    # Anything but the below: saved within seconds.
    STATE = "state"
    # Readings and times the charger sends again (MeterValues, Heartbeat): saved on
    # a slow cadence, as HA saves its entities' last states.
    READINGS = "readings"
    # Nothing kept: time alone moved a value on (a duration, a reading aged).
    TIME = "time"


type SaveListener = Callable[["ChargePoint", Change], None]

_LOGGER = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class Connection:
    """One WebSocket connection of a charge point."""

    connected_at: datetime
    remote_address: str | None
    path: str
    subprotocol: str | None
    disconnected_at: datetime | None = None
    close_reason: str | None = None
    # The OCPP security profile its handshake authenticated with (0: none).
    security_profile: int | None = None


@dataclass(slots=True, frozen=True)
class Anomaly:
    """Something a charger did that the central system could not take at face value."""

    time: datetime
    description: str


@dataclass(slots=True)
class Connector:
    """A connector (or, with id 0, the charge point as a whole) and what it last reported.

    For connector 0 the readings are the charger's main meter.
    """

    connector_id: int
    status: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    status_time: datetime | None = None
    readings: Readings = field(default_factory=Readings)
    # The energy register as published: monotonic, so a total_increasing sensor
    # never goes backwards whatever the charger sends.
    energy_register_kwh: float | None = None
    energy_register_time: datetime | None = None
    # The step of the published reading's last digit: finer differences are rounding.
    energy_register_resolution_kwh: float = 0.0
    # A reading that leapt too far, shown only once the next one confirms it.
    energy_register_suspect_kwh: float | None = None
    transaction: Transaction | None = None
    last_transaction: Transaction | None = None
    # The current limit the user set (kept, re-applied when the charger lost it), the
    # one the charger took or reported last, and the phases it is to charge on.
    current_limit_a: float | None = None
    applied_limit_a: float | None = None
    number_phases: int | None = None

    @property
    def session(self) -> Transaction | None:
        """The running session, else the last one (its values stay shown until the next)."""
        return self.transaction or self.last_transaction


@dataclass(slots=True)
class ChargePoint:
    """Everything the central system knows about one charge point."""

    id: str
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    connected: bool = False
    path: str | None = None
    subprotocol: str | None = None
    last_boot: datetime | None = None
    last_heartbeat: datetime | None = None
    # When someone last presented an id tag at the charger (Authorize).
    last_authorize: datetime | None = None
    connectors: dict[int, Connector] = field(default_factory=dict)
    # Start charging when a car is plugged in (a setting of the user's, kept).
    auto_start: bool = True
    # How a current limit is sent (csms/limits.py LimitProfile) and the lowest one
    # above 0 the charger takes (some need 7 A).
    limit_profile: str = "tx_default"
    min_current_a: float = 6.0
    # The highest limit the installation allows, and whether the charger takes only
    # the stepped currents some do (6/8/10/13/16 A) instead of any whole ampere.
    max_current_a: float = 32.0
    current_steps: str = "any"
    # The latest FirmwareStatusNotification / DiagnosticsStatusNotification.
    firmware_status: str | None = None
    diagnostics_status: str | None = None
    # The latest DataTransfer from the charger: "vendor id" or "vendor id/message id".
    last_data_transfer: str | None = None
    configuration: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown_configuration_keys: list[str] = field(default_factory=list)
    # The local authorization list as the charger last accepted it (local_list.py):
    # its version (None: unknown, -1: it keeps none) and entries by case-folded id tag.
    local_list_version: int | None = None
    local_list: dict[str, LocalAuthorization] = field(default_factory=dict)
    frames: FrameLog = field(default_factory=FrameLog)
    # Anomalies, and what the charger reported about itself (OCPP 2.0.1 NotifyEvent
    # and security events): the latest few, for diagnostics. Made on first use: most
    # chargers have none, and an empty deque takes 760 bytes.
    _anomalies: deque[Anomaly] | None = field(default=None, repr=False)
    _reported_events: deque[dict[str, Any]] | None = field(default=None, repr=False)
    connections: deque[Connection] = field(
        default_factory=lambda: deque(maxlen=CONNECTION_HISTORY_SIZE)
    )
    _listeners: dict[int, list[Listener]] = field(default_factory=dict, repr=False)
    # Told at once of every change but TIME (the store: it only marks and schedules).
    save_listener: SaveListener | None = field(default=None, repr=False)
    # Connectors changed since listeners were last told, in the order they changed
    # (a dict as an ordered set), the flush scheduled for them, and how many
    # replies are being made (notifications wait for them).
    _dirty: dict[int, None] = field(default_factory=dict, repr=False)
    _flush: asyncio.Handle | None = field(default=None, repr=False)
    _replying: int = field(default=0, repr=False)

    @property
    def anomalies(self) -> Sequence[Anomaly]:
        """The latest anomalies, oldest first (see `record_anomaly`)."""
        return () if self._anomalies is None else self._anomalies

    @property
    def reported_events(self) -> Sequence[dict[str, Any]]:
        """The latest events the charger reported, oldest first (see `record_event`)."""
        return () if self._reported_events is None else self._reported_events

    @property
    def connector_ids(self) -> list[int]:
        """Return the ids of the real connectors (not the charge point's 0), sorted."""
        return sorted(cid for cid in self.connectors if cid != CHARGE_POINT_CONNECTOR)

    def configured(self, key: str) -> str | None:
        """A configuration value the charger reported, None if it did not."""
        value = self.configuration.get(key, {}).get("value")
        return None if value is None else str(value)

    def supports(self, feature_profile: str) -> bool:
        """Whether the charger reports an OCPP feature profile.

        SupportedFeatureProfiles ("Core,SmartCharging,...") decides which entities
        a charger gets; until it has said (GetConfiguration after its boot), only
        Core, which every charger has.
        """
        if (profiles := self.configured("SupportedFeatureProfiles")) is None:
            return feature_profile.casefold() == "core"
        return feature_profile.casefold() in {
            profile.strip().casefold() for profile in profiles.split(",")
        }

    def connector(self, connector_id: int) -> Connector:
        """Return the connector with this id, creating it when first seen."""
        if (connector := self.connectors.get(connector_id)) is None:
            connector = self.connectors[connector_id] = Connector(connector_id)
        return connector

    def add_listener(self, connector_id: int, listener: Listener) -> Callable[[], None]:
        """Call `listener` when something on this connector (0: the charge point) changes.

        Return a function that removes the listener again.
        """
        self._listeners.setdefault(connector_id, []).append(listener)
        return lambda: self.remove_listener(connector_id, listener)

    def remove_listener(self, connector_id: int, listener: Listener) -> None:
        """Stop calling a listener `add_listener` added (no closure kept to undo it)."""
        self._listeners[connector_id].remove(listener)

    def notify(
        self, connector_id: int = CHARGE_POINT_CONNECTOR, change: Change = Change.STATE
    ) -> None:
        """Tell the listeners of one connector (0: the charge point) that it changed.

        While a reply is being made (`hold_notifications`), not yet: once per
        listener on the next turn of the event loop after the reply is on the wire,
        however often it changed meanwhile. A message that changes ten values writes
        each changed entity once, with its final value, and the charger waits for no
        entity. Otherwise (a user's action, a timer) at once, so that a service call
        returns with the entity already showing what it did. `change` tells the
        save listener how soon this must be on disk.
        """
        if change is not Change.TIME and self.save_listener is not None:
            self.save_listener(self, change)
        self._dirty[connector_id] = None
        if not self._replying:
            self.flush()

    def notify_all(self) -> None:
        """Tell every listener of this charge point that something changed."""
        if self.save_listener is not None:
            self.save_listener(self, Change.STATE)
        self._dirty.update(dict.fromkeys(self._listeners))
        if not self._replying:
            self.flush()

    def hold_notifications(self) -> None:
        """Hold notifications back while a reply is made (one `release` per hold)."""
        self._replying += 1

    def release_notifications(self) -> None:
        """The reply is sent: what it changed reaches the listeners on the next loop turn."""
        self._replying -= 1
        if self._dirty and self._flush is None and not self._replying:
            self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush = loop.call_soon(self.flush)

    def flush(self) -> None:
        """Tell the listeners of every changed connector now (each listener once)."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if not self._dirty:
            return
        dirty = self._dirty
        if len(dirty) == 1:
            (connector_id,) = dirty
            listeners = list(self._listeners.get(connector_id, ()))
        else:  # an entity of connector 1 listens to 0 as well: told once
            listeners = list(
                dict.fromkeys(
                    listener
                    for connector_id in dirty
                    for listener in self._listeners.get(connector_id, ())
                )
            )
        # Emptied, not replaced: a new dict per message would live until the next
        # one (~10 s), long enough to reach the collector's old generation.
        dirty.clear()
        for listener in listeners:
            try:
                listener()
            except Exception:  # one broken listener must not silence the rest
                _LOGGER.exception("%s: a change listener failed", self.id)

    def record_anomaly(self, description: str) -> None:
        """Remember something implausible the charger did (shown in diagnostics)."""
        if len(description) > MAX_ANOMALY_TEXT:
            description = f"{description[:MAX_ANOMALY_TEXT]}… ({len(description)} characters)"
        if self._anomalies is None:
            self._anomalies = deque(maxlen=ANOMALY_LOG_SIZE)
        self._anomalies.append(Anomaly(utcnow(), description))

    def record_event(self, kind: str, event: dict[str, Any]) -> None:
        """Remember an event the charger reported (shown in diagnostics)."""
        if self._reported_events is None:
            self._reported_events = deque(maxlen=EVENT_LOG_SIZE)
        self._reported_events.append({"time": utcnow().isoformat(), "kind": kind, **event})

    def log_frame(self, direction: Direction, data: str | bytes) -> None:
        """Remember a frame (its start, if long) in the bounded per-charge-point log."""
        self.frames.record(direction, data)
