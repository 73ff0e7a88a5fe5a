"""Who may connect: each boot answered Accepted, Pending or Rejected, and who is waiting.

OCPP 1.6 section 4.2: a charger answered Pending keeps its connection open and
sends no request but BootNotification (unless the central system triggers one)
until it is Accepted; one answered Rejected sends nothing until the interval we
gave it has passed. What such a charger sends anyway is answered with CALLERROR
SecurityError (1.6 names no code; 2.0.1 B02.FR.09 and B03.FR.07 name this one
for exactly this case) and changes nothing.

Unknown chargers are not charge points of the central system: they live only in
a small registry here (capped, forgotten after a while), so a stranger's laptop
creates no device, no entity, no session and nothing on disk.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
import logging

from .hooks import CentralSystemHooks
from .model import utcnow
from .settings import AdmissionPolicy

_LOGGER = logging.getLogger(__name__)

# How long a charger waits before its next BootNotification (the `interval` of
# the answer): a minute while the user decides; longer for one the user ignored,
# which still comes back within minutes if they change their mind.
PENDING_RETRY_S = 60
REJECTED_RETRY_S = 300
MAX_UNKNOWN = 20
FORGET_AFTER = timedelta(hours=1)
BOOT_NOTIFICATION = "BootNotification"


class Registration(StrEnum):
    """The answer to a BootNotification (the same words in OCPP 1.6 and 2.0.1)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class BootIdentity:
    """What a charger says about itself when it boots."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownChargePoint:
    """A charger that booted without being approved, and what it said."""

    id: str
    identity: BootIdentity
    remote_address: str | None
    # The OCPP version its connection agreed on; None: it offered none (Grizzl-E).
    subprotocol: str | None
    first_seen: datetime
    last_seen: datetime
    status: Registration  # Pending; Rejected when the user ignored it


class UnknownChargePoints:
    """At most `capacity` unknown chargers, in order of last contact (oldest first).

    One not heard from for `forget_after` is forgotten; when a new one would
    exceed the capacity, the one heard from longest ago goes.
    """

    def __init__(self, capacity: int = MAX_UNKNOWN, forget_after: timedelta = FORGET_AFTER) -> None:
        """Start empty."""
        self.capacity = capacity
        self.forget_after = forget_after
        self._entries: OrderedDict[str, UnknownChargePoint] = OrderedDict()

    def ids(self) -> set[str]:
        """The ids of the chargers remembered."""
        return set(self._entries)

    def get(self, charge_point_id: str) -> UnknownChargePoint | None:
        """What an unknown charger said, if it is remembered."""
        return self._entries.get(charge_point_id)

    def record(self, entry: UnknownChargePoint) -> list[UnknownChargePoint]:
        """Remember a charger (or its latest contact); return the ones pushed out."""
        self._entries[entry.id] = entry
        self._entries.move_to_end(entry.id)
        dropped = []
        while len(self._entries) > self.capacity:
            dropped.append(self._entries.popitem(last=False)[1])
        return dropped

    def pop(self, charge_point_id: str) -> UnknownChargePoint | None:
        """Forget one charger; return it if it was remembered."""
        return self._entries.pop(charge_point_id, None)

    def expire(self, now: datetime) -> list[UnknownChargePoint]:
        """Forget the chargers not heard from for `forget_after`; return them."""
        expired = []
        for entry in list(self._entries.values()):
            if now - entry.last_seen < self.forget_after:
                break  # in order of last contact: the rest are younger
            expired.append(self._entries.pop(entry.id))
        return expired

    def next_expiry(self) -> datetime | None:
        """When the next charger is to be forgotten, if any is remembered."""
        oldest = next(iter(self._entries.values()), None)
        return None if oldest is None else oldest.last_seen + self.forget_after


class Admission:
    """Decides each boot from the policy, the approved ids and the ignored ones.

    `is_approved` is the central system's view of the user's approvals (one
    subentry per charge point in HA); `ignored` is kept up to date by the layer
    above.
    """

    def __init__(
        self,
        *,
        policy: AdmissionPolicy,
        is_approved: Callable[[str], bool],
        hooks: CentralSystemHooks,
        ignored: Iterable[str] = (),
        unknown: UnknownChargePoints | None = None,
    ) -> None:
        """Admit by `policy`; nobody is waiting yet."""
        self.policy = policy
        self.unknown = unknown or UnknownChargePoints()
        self._is_approved = is_approved
        self._hooks = hooks
        self._ignored = frozenset(ignored)
        self._timer: asyncio.TimerHandle | None = None

    @property
    def ignored(self) -> frozenset[str]:
        """Ids the user chose to ignore: their boots are Rejected."""
        return self._ignored

    @ignored.setter
    def ignored(self, ignored: Iterable[str]) -> None:
        before, self._ignored = self._ignored, frozenset(ignored)
        for charge_point_id in before ^ self._ignored:
            if (entry := self.unknown.get(charge_point_id)) is None:
                continue
            if charge_point_id in self._ignored:
                self.unknown.record(replace(entry, status=Registration.REJECTED))
            else:
                # The user changed their mind: offer it again at once, not at its next boot.
                pending = replace(entry, status=Registration.PENDING)
                self.unknown.record(pending)
                self._hooks.charge_point_pending(pending)

    def is_ignored(self, charge_point_id: str) -> bool:
        """Whether the user ignored this charger (and it is not approved since)."""
        return charge_point_id in self._ignored and not self._is_approved(charge_point_id)

    def admits(
        self,
        charge_point_id: str,
        *,
        known: bool,
        remote_address: str | None,
        subprotocol: str | None,
    ) -> bool:
        """Whether a new connection is admitted from the start, before any boot.

        Known and approved chargers are (they often reconnect without booting);
        with the accept policy every charger is but one the user ignored, and a
        new one is announced (`charge_point_accepted`) before anything of it is
        kept, so the layer above can record its approval first.
        """
        if known or self._is_approved(charge_point_id):
            return True
        if self.policy is not AdmissionPolicy.ACCEPT or charge_point_id in self._ignored:
            return False
        self.unknown.pop(charge_point_id)
        _LOGGER.info(
            "New charge point %s connected from %s: accepted automatically",
            charge_point_id,
            remote_address,
        )
        self._hooks.charge_point_accepted(charge_point_id, subprotocol)
        return True

    def decide(
        self,
        charge_point_id: str,
        identity: BootIdentity,
        remote_address: str | None,
        subprotocol: str | None,
    ) -> Registration:
        """Answer the boot of a charger this connection has not admitted yet.

        Accepted once the user approved it (the caller admits it); otherwise it
        is remembered as Pending or Rejected, and a newly pending one is offered
        to the user (`charge_point_pending`).
        """
        now = utcnow()
        self.expire(now)
        if self._is_approved(charge_point_id):
            self.unknown.pop(charge_point_id)
            return Registration.ACCEPTED
        status = Registration.REJECTED if charge_point_id in self._ignored else Registration.PENDING
        previous = self.unknown.get(charge_point_id)
        entry = UnknownChargePoint(
            id=charge_point_id,
            identity=identity,
            remote_address=remote_address,
            subprotocol=subprotocol,
            first_seen=previous.first_seen if previous else now,
            last_seen=now,
            status=status,
        )
        self._forgotten(self.unknown.record(entry))
        if status is Registration.PENDING and (previous is None or previous.status != status):
            _LOGGER.info(
                "New charge point %s (%s %s) is waiting to be added in Home Assistant",
                charge_point_id,
                identity.vendor,
                identity.model,
            )
            self._hooks.charge_point_pending(entry)
        elif previous is None:
            _LOGGER.debug("%s is ignored: its boot is answered Rejected", charge_point_id)
        self._schedule_expiry()
        return status

    def touch(self, charge_point_id: str) -> None:
        """An unknown charger sent something: it is still around."""
        if (entry := self.unknown.get(charge_point_id)) is not None:
            self.unknown.record(replace(entry, last_seen=utcnow()))

    def approved(self, charge_point_id: str) -> None:
        """The user approved a charger: it is no longer waiting, and no longer offered.

        Even one not waiting here: its offer may be from before a restart.
        """
        self.unknown.pop(charge_point_id)
        self._hooks.unknown_charge_point_forgotten(charge_point_id)

    def expire(self, now: datetime | None = None) -> None:
        """Forget the unknown chargers not heard from for a while."""
        self._forgotten(self.unknown.expire(now or utcnow()))

    def stop(self) -> None:
        """No more timers (the central system stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _forgotten(self, entries: list[UnknownChargePoint]) -> None:
        for entry in entries:
            _LOGGER.debug("Forgot unknown charge point %s", entry.id)
            self._hooks.unknown_charge_point_forgotten(entry.id)

    def _schedule_expiry(self) -> None:
        """Wake up when the oldest unknown charger is due to be forgotten."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if (due := self.unknown.next_expiry()) is None:
            return
        delay = max((due - utcnow()).total_seconds(), 0.0)
        self._timer = asyncio.get_running_loop().call_later(delay, self._expire_due)

    def _expire_due(self) -> None:
        self._timer = None
        self.expire()
        self._schedule_expiry()


class Gate:
    """One connection's standing: until its boot is accepted, it may only boot.

    A connection of an approved charger is admitted from the start (chargers
    reconnecting often skip the boot). Another one is admitted when a boot of
    it is accepted; `on_admitted` then makes it a charge point of the central
    system.
    """

    def __init__(
        self,
        admission: Admission,
        charge_point_id: str,
        *,
        remote_address: str | None,
        subprotocol: str | None,
        admitted: bool,
        on_admitted: Callable[[], None],
    ) -> None:
        """Gate one connection of `charge_point_id`."""
        self.charge_point_id = charge_point_id
        self.admitted = admitted
        self._admission = admission
        self._remote_address = remote_address
        self._subprotocol = subprotocol
        self._on_admitted = on_admitted
        self._refusals = 0

    @property
    def retry_interval(self) -> int:
        """The `interval` to answer a boot that is not accepted with."""
        if self._admission.is_ignored(self.charge_point_id):
            return REJECTED_RETRY_S
        return PENDING_RETRY_S

    @property
    def may_ask_to_boot(self) -> bool:
        """Whether we may send it a TriggerMessage (never to one the user ignored)."""
        return self.admitted or not self._admission.is_ignored(self.charge_point_id)

    def boot(self, identity: BootIdentity) -> Registration:
        """Answer a boot; an accepted one admits this connection."""
        if self.admitted:
            return Registration.ACCEPTED
        status = self._admission.decide(
            self.charge_point_id, identity, self._remote_address, self._subprotocol
        )
        if status is Registration.ACCEPTED:
            self.admitted = True
            self._on_admitted()
        return status

    def refuses(self, action: str) -> bool:
        """Whether a request of the charger must be refused (SecurityError).

        Counts the refusals; the first of a connection is worth a log line.
        """
        if self.admitted or action == BOOT_NOTIFICATION:
            return False
        self._admission.touch(self.charge_point_id)
        self._refusals += 1
        log = _LOGGER.info if self._refusals == 1 else _LOGGER.debug
        log(
            "%s sent %s before its boot was accepted: refused (SecurityError)%s",
            self.charge_point_id,
            action,
            "; further ones are logged at debug level" if self._refusals == 1 else "",
        )
        return True
