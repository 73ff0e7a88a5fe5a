"""Keep each charger's local authorization list the same as the user's id tags.

OCPP 1.6 §3.5.1 / §5.15 (2.0.1 D01, D02 the same): a charger that supports it
(feature profile LocalAuthListManagement) keeps a versioned list of id tags with
their status, so tags work, or are refused, while it is offline and without
asking. The central system sends the whole list (full) or what changed since a
version (differential), and can ask which version the charger has.

- When the tags change, every connected charger with a list gets a differential
  update (a full one when what it has is unknown).
- After a boot the charger is asked for its version: the one we last sent (kept
  on the model, persisted) means only changes since are sent; any other (a reset,
  another central system) means the full list.
- Updates are cut to the charger's SendLocalListMaxLength; a charger answering
  VersionMismatch to a differential update gets the full list.

The list holds the tags of the book with their standing (Accepted, Blocked,
Expired), expiry and group: a blocked card is refused offline too. A charger's
list is left alone until Home Assistant has tags for it: a home charger whose
cards were added at the charger itself keeps them while the user has none here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import logging
from typing import Any

from .authorization import tag_key
from .commands import (
    Command,
    CommandFailed,
    CommandResult,
    GetLocalListVersion,
    LocalAuthorization,
    SendLocalList,
    Status,
)
from .hooks import CentralSystemHooks
from .model import ChargePoint

_LOGGER = logging.getLogger(__name__)

FEATURE_PROFILE = "LocalAuthListManagement"
# GetLocalListVersion's "this charger keeps no local list" (1.6 §6.28); kept as its version.
NO_LIST = -1

type Execute = Callable[[str, Command], Awaitable[CommandResult]]


@dataclass(frozen=True, slots=True)
class ListUpdate:
    """What bringing one charger's list up to date took."""

    sent: int  # SendLocalList messages
    status: str | None  # the charger's answer to the last one; None when none was needed
    version: int | None  # the charger's list version now; None: unknown


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class LocalListSync:
    """Sends local authorization list updates, one charger at a time each."""

    def __init__(
        self,
        execute: Execute,
        entries: Callable[[], dict[str, LocalAuthorization]],
        charge_points: Mapping[str, ChargePoint],
        hooks: CentralSystemHooks,
    ) -> None:
        """Send through `execute` the list `entries` returns (by `tag_key`)."""
        self._execute = execute
        self._entries = entries
        self._charge_points = charge_points
        self._hooks = hooks
        self._locks: dict[str, asyncio.Lock] = {}
        self._queued: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned: set[str] = set()

    @staticmethod
    def keeps_list(charge_point: ChargePoint) -> bool:
        """Whether a charger says it keeps a local list (and did not deny it since)."""
        return charge_point.supports(FEATURE_PROFILE) and charge_point.local_list_version != NO_LIST

    async def booted(self, charge_point: ChargePoint) -> None:
        """Compare the charger's list version with ours and send what it lacks."""
        if not charge_point.supports(FEATURE_PROFILE) or not self._ours(charge_point):
            return
        async with self._lock(charge_point.id):
            try:
                await self._after_boot(charge_point)
            except CommandFailed as error:
                _LOGGER.info("%s: local authorization list not checked: %s", charge_point.id, error)

    def tags_changed(self) -> None:
        """Send the change to every connected charger with a list, in the background."""
        for charge_point in list(self._charge_points.values()):
            if charge_point.connected and self.keeps_list(charge_point):
                self._schedule(charge_point)

    async def send(self, charge_point: ChargePoint, *, full: bool) -> ListUpdate:
        """Send the list now (even an empty one): all of it, or what changed.

        Raises CommandFailed when the charger does not answer.
        """
        async with self._lock(charge_point.id):
            return await self._send(charge_point, full=full, asked=True)

    async def stop(self) -> None:
        """Cancel the updates still running (the central system stops)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _ours(self, charge_point: ChargePoint) -> bool:
        """Whether the charger's list is (to be) Home Assistant's: it has tags, or had."""
        return bool(self._entries()) or charge_point.local_list_version not in (None, NO_LIST)

    def _lock(self, charge_point_id: str) -> asyncio.Lock:
        return self._locks.setdefault(charge_point_id, asyncio.Lock())

    def _schedule(self, charge_point: ChargePoint) -> None:
        if charge_point.id in self._queued:  # the queued run will read the newest tags
            return
        self._queued.add(charge_point.id)
        task = asyncio.create_task(
            self._run(charge_point), name=f"levity_ocpp local list {charge_point.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, charge_point: ChargePoint) -> None:
        async with self._lock(charge_point.id):
            self._queued.discard(charge_point.id)  # a change from now on needs another run
            if not self.keeps_list(charge_point):  # the boot's check found it keeps none
                return
            try:
                await self._send(charge_point, full=False)
            except CommandFailed as error:
                _LOGGER.info("%s: local authorization list not updated: %s", charge_point.id, error)

    async def _after_boot(self, charge_point: ChargePoint) -> None:
        result = await self._execute(charge_point.id, GetLocalListVersion())
        version = result.data.get("list_version")
        if not isinstance(version, int) or isinstance(version, bool):
            charge_point.record_anomaly(f"GetLocalListVersion answered {version!r}")
            return
        if version < 0:
            self._set(charge_point, NO_LIST, {})
        elif version == charge_point.local_list_version:
            await self._send(charge_point, full=False)
        elif version == 0 and not self._entries():
            self._set(charge_point, 0, {})  # no list there, none to send
        else:
            await self._send(charge_point, full=True, above=version)

    async def _send(
        self, charge_point: ChargePoint, *, full: bool, above: int = 0, asked: bool = False
    ) -> ListUpdate:
        known = charge_point.local_list_version
        wanted = self._entries()
        if not asked and not self._ours(charge_point):
            return ListUpdate(0, None, known)
        if known is None or known < 0:
            full = True  # what the charger has is unknown: only a full list says it
        if full:
            version = max(above, known or 0) + 1
            changes = list(wanted.values())
        else:
            assert known is not None
            version = known + 1
            changes = [e for key, e in wanted.items() if charge_point.local_list.get(key) != e]
            changes += [
                LocalAuthorization(entry.id_tag)  # no status: remove it
                for key, entry in charge_point.local_list.items()
                if key not in wanted
            ]
            if not changes:
                return ListUpdate(0, None, known)
        self._check_capacity(charge_point, len(wanted))
        size = _number(charge_point.configured("SendLocalListMaxLength")) or len(changes)
        size = max(size, 1)
        batches = [changes[start : start + size] for start in range(0, len(changes), size)]
        sent = 0
        try:
            for index, batch in enumerate(batches or [[]]):
                command = SendLocalList(version, full and index == 0, tuple(batch))
                result = await self._execute(charge_point.id, command)
                sent += 1
                if result.status != Status.ACCEPTED:
                    return await self._refused(charge_point, command, result, sent)
                self._apply(charge_point, command)
                version += 1
        except CommandFailed:
            self._set(charge_point, None, {})  # it may or may not have taken it
            raise
        self._hooks.charge_point_updated(charge_point)
        return ListUpdate(sent, Status.ACCEPTED.value, charge_point.local_list_version)

    async def _refused(
        self, charge_point: ChargePoint, command: SendLocalList, result: CommandResult, sent: int
    ) -> ListUpdate:
        if result.status == Status.VERSION_MISMATCH and not command.full:
            # Its list is not the one we think it has: replace it.
            update = await self._send(charge_point, full=True, above=command.version, asked=True)
            return ListUpdate(sent + update.sent, update.status, update.version)
        kind = "full" if command.full else "differential"
        description = (
            f"SendLocalList ({kind}, version {command.version}, {len(command.entries)} "
            f"id tags) answered {result.status}"
        )
        charge_point.record_anomaly(description)
        if charge_point.id not in self._warned:
            self._warned.add(charge_point.id)
            _LOGGER.warning("%s: %s", charge_point.id, description)
        if result.status == Status.NOT_SUPPORTED:
            self._set(charge_point, NO_LIST, {})
        else:
            self._set(charge_point, None, {})  # sent in full next time
        return ListUpdate(sent, result.status, charge_point.local_list_version)

    def _check_capacity(self, charge_point: ChargePoint, wanted: int) -> None:
        capacity = _number(charge_point.configured("LocalAuthListMaxLength"))
        if capacity is not None and wanted > capacity:
            charge_point.record_anomaly(
                f"the local authorization list holds at most {capacity} id tags; "
                f"Home Assistant has {wanted}"
            )

    def _apply(self, charge_point: ChargePoint, command: SendLocalList) -> None:
        if command.full:
            charge_point.local_list = {}
        for entry in command.entries:
            if entry.status is None:
                charge_point.local_list.pop(tag_key(entry.id_tag), None)
            else:
                charge_point.local_list[tag_key(entry.id_tag)] = entry
        charge_point.local_list_version = command.version

    def _set(
        self,
        charge_point: ChargePoint,
        version: int | None,
        entries: dict[str, LocalAuthorization],
    ) -> None:
        charge_point.local_list_version = version
        charge_point.local_list = entries
        self._hooks.charge_point_updated(charge_point)


def local_list_to_dict(charge_point: ChargePoint) -> dict[str, Any]:
    """A charger's list as last accepted, for storage."""
    return {
        "version": charge_point.local_list_version,
        "entries": [
            {
                "id_tag": entry.id_tag,
                "status": entry.status,
                "expiry": entry.expiry.isoformat() if entry.expiry else None,
                "parent_id_tag": entry.parent_id_tag,
            }
            for entry in charge_point.local_list.values()
        ],
    }


def restore_local_list(charge_point: ChargePoint, data: Mapping[str, Any] | None) -> None:
    """Put a stored list back on a charger's model."""
    if not data:
        return
    version = data.get("version")
    charge_point.local_list_version = version if isinstance(version, int) else None
    charge_point.local_list = {}
    for item in data.get("entries", []):
        expiry = item.get("expiry")
        entry = LocalAuthorization(
            item["id_tag"],
            item.get("status"),
            datetime.fromisoformat(expiry) if expiry else None,
            item.get("parent_id_tag"),
        )
        charge_point.local_list[tag_key(entry.id_tag)] = entry
