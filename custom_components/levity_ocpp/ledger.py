"""The ledger of finished sessions: one HA Store per month of the sessions' start.

A site with 20 chargers records some thousands of sessions a year; one file
for all of them would be rewritten in full at every stop. Per month, a stop
writes one month's file, and a query reads only the months it can touch.
An index file lists the months, so removing the entry finds all of them.

A change is durable once the session store has journaled it (journal.py); the
month files are written at the next checkpoint, which the session store runs.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import logging
from typing import Any

from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .durable_store import DurableStore

_LOGGER = logging.getLogger(__name__)

type Session = dict[str, Any]


def month_of(moment: datetime) -> str:
    """The month a moment belongs to, in UTC (`2026-11`): stable whatever HA's zone."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def _session_month(session: Session) -> str:
    """The month of a session's start; raises on a record without a readable start."""
    started_at = datetime.fromisoformat(session["started_at"])
    return month_of(started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC))


class SessionLedger:
    """Finished sessions of one central system (config entry), stored per month."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use an index file and one file per month."""
        self._hass = hass
        self._prefix = f"{DOMAIN}.{entry_id}.ledger"
        self._index_store = self._new_store(f"{self._prefix}_index")
        self._months: list[str] = []
        # Months this run wrote to, kept in memory: a stop lands in the current
        # month, so this stays a month or two; other months are read on demand.
        self._loaded: dict[str, list[Session]] = {}
        self._stores: dict[str, DurableStore] = {}
        # Where each transaction's record is in a kept month (it is replaced there).
        self._positions: dict[str, dict[int, int]] = {}
        # Months changed since the last checkpoint.
        self._dirty: set[str] = set()
        self._lock = asyncio.Lock()

    def _new_store(self, key: str) -> DurableStore:
        return DurableStore(self._hass, key)

    def _month_store(self, month: str) -> DurableStore:
        if (store := self._stores.get(month)) is None:
            store = self._stores[month] = self._new_store(f"{self._prefix}.{month}")
        return store

    async def async_load(self) -> None:
        """Read the index of months; migrate a ledger saved as one file before."""
        if (index := await self._index_store.async_load()) is not None:
            self._months = sorted(
                m for m in index.get("months", []) if isinstance(m, str) and len(m) == 7
            )
            return
        legacy = self._new_store(self._prefix)
        if (data := await legacy.async_load()) is not None:
            await self._async_migrate(data.get("sessions", []))
            await legacy.async_remove()

    async def _async_migrate(self, sessions: list[Session]) -> None:
        """Split the single-file ledger into months (repeatable if interrupted)."""
        by_month: dict[str, list[Session]] = {}
        undated = 0
        for session in sessions:
            try:
                by_month.setdefault(_session_month(session), []).append(session)
            except KeyError, TypeError, ValueError:
                undated += 1
        if undated:
            _LOGGER.error("Dropped %d saved sessions without a readable start time", undated)
        for month, records in by_month.items():
            await self._month_store(month).async_save({"sessions": records})
        # The index last: until it exists, the next start migrates again.
        self._months = sorted(by_month)
        await self._index_store.async_save({"months": self._months})

    async def _async_month(self, month: str, *, keep: bool) -> list[Session]:
        if (sessions := self._loaded.get(month)) is not None:
            return sessions
        sessions = []
        if month in self._months:
            data = await self._month_store(month).async_load() or {}
            if isinstance(found := data.get("sessions"), list):
                sessions = [s for s in found if isinstance(s, dict)]
        if keep:
            self._loaded[month] = sessions
        return sessions

    async def _async_add_month(self, month: str) -> None:
        if month not in self._months:
            # The index first: a month file the index does not list would be orphaned.
            self._months = sorted([*self._months, month])
            await self._index_store.async_save({"months": self._months})

    async def async_restore(self, session: Session) -> None:
        """Add a session, or replace its record (same transaction id), in memory.

        The caller journals it (session_store.py) and a checkpoint writes the month.
        A record already there is replaced: a correction, or a stop the charger
        resent because our reply was lost.
        """
        month = _session_month(session)
        async with self._lock:
            await self._async_add_month(month)
            sessions = await self._async_month(month, keep=True)
            positions = self._positions.get(month)
            if positions is None:
                positions = self._positions[month] = {
                    tid: index
                    for index, s in enumerate(sessions)
                    if isinstance(tid := s.get("transaction_id"), int)
                }
            self._dirty.add(month)
            if (index := positions.get(session["transaction_id"])) is not None:
                sessions[index] = session
            else:
                positions[session["transaction_id"]] = len(sessions)
                sessions.append(session)

    def take_changes(self) -> dict[str, list[Session]]:
        """The changed months as they are now (a checkpoint's snapshot)."""
        changes = {month: list(self._loaded[month]) for month in self._dirty}
        self._dirty.clear()
        return changes

    async def async_write(self, changes: dict[str, list[Session]]) -> None:
        """Write a snapshot's months; a month not written is changed still (raises)."""
        for month, sessions in changes.items():
            try:
                await self._month_store(month).async_save_durably({"sessions": sessions})
            except BaseException:
                self._dirty.update(changes)
                raise

    async def async_sessions(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[Session]:
        """Sessions of the months a start/end filter can touch (all months without one)."""
        # "YYYY-MM" keys sort as the months do.
        first = month_of(start) if start is not None else ""
        last = month_of(end) if end is not None else "~"
        months = [month for month in self._months if first <= month <= last]
        found: list[Session] = []
        for month in months:
            found.extend(await self._async_month(month, keep=False))
        return found

    async def async_remove(self) -> None:
        """Delete every month, the index and a not yet migrated single file."""
        index = await self._index_store.async_load() or {}
        for month in index.get("months", []):
            if isinstance(month, str):
                await self._month_store(month).async_remove()
        await self._index_store.async_remove()
        await self._new_store(self._prefix).async_remove()
