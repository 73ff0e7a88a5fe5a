"""The transaction book and the session ledger on disk, kept durable by a journal.

A reply that depends on a change (a new transaction id, a finished session's
record) waits for that change's journal line only (journal.py). The full book and
the changed ledger months are written by a checkpoint, after which the journal
they contain is deleted: within SESSION_READINGS_SAVE_DELAY of a journaled change
or of new readings of open sessions (the book holds all of them: rewriting it for
each would cost what the fleet has), within SAVE_DELAY of a change only the book
holds. A restart reads the files, replays the journal on top and checkpoints.
"""

from __future__ import annotations

import asyncio
import logging

from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .csms.transactions import Transaction, TransactionBook
from .delayed_save import SESSION_READINGS_SAVE_DELAY, DelayedRun
from .durable_store import DurableStore
from .final_write import async_now_or_at_final_write
from .journal import Checkpoints, Journal, Record
from .ledger import Session, SessionLedger

_LOGGER = logging.getLogger(__name__)

# The book's field naming the journal generation it was taken at: older
# generations are in it, so their transaction records are not replayed on it.
_GENERATION = "journal"


class SessionStore:
    """The transaction book (id counter, open sessions) and the ledger of finished ones.

    Recorder events are purged after some days, the ledger is not.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use a book file, the ledger's files and a journal per config entry."""
        self._hass = hass
        self._book_store = DurableStore(hass, f"{DOMAIN}.{entry_id}.transactions")
        self.book = TransactionBook()
        self._journal = Journal(hass, f"{DOMAIN}.{entry_id}.journal")
        # Soon for a change only the files hold; later for what the journal has
        # already, and for open sessions' readings.
        self._checkpoint_soon = DelayedRun(
            hass, self.async_checkpoint, f"{DOMAIN} checkpoint of {entry_id}"
        )
        self._checkpoint = DelayedRun(
            hass,
            self.async_checkpoint,
            f"{DOMAIN} checkpoint of {entry_id}'s journal and readings",
            SESSION_READINGS_SAVE_DELAY,
        )
        self.ledger = SessionLedger(hass, entry_id)
        self._lock = asyncio.Lock()
        self._checkpoints = Checkpoints(hass, self._journal, "the sessions' files")

    async def async_load(self) -> None:
        """Read the book and the ledger's index, then what the journal adds to them."""
        data = await self._book_store.async_load() or {}
        if data:
            self.book = TransactionBook.from_dict(data)
        generation = data.get(_GENERATION)
        snapshot = generation if isinstance(generation, int) else 0
        await self.ledger.async_load()
        records = await self._journal.async_load(at_least=snapshot)
        if not records:
            return
        unreadable: list[Record] = []
        for record_generation, record in records:
            if not await self._async_replay(record, replay_book=record_generation >= snapshot):
                unreadable.append(record)
        if unreadable:
            _LOGGER.error(
                "Skipped %d journaled changes that could not be read, the first: %.200s",
                len(unreadable),
                unreadable[0],
            )
        _LOGGER.info("Recovered %d changes from the journal", len(records) - len(unreadable))
        await self.async_checkpoint()

    async def _async_replay(self, record: Record, *, replay_book: bool) -> bool:
        """Apply one line: a ledger record, a book change, or both (a stop's one line).

        Both are read before either is applied: a line is taken whole or not at all.
        """
        if "session" not in record and "transaction" not in record:
            return False
        try:
            transaction = change = None
            if "transaction" in record:
                transaction = Transaction.from_dict(record["transaction"])
                change = int(record["next_id"])
            if "session" in record:
                await self.ledger.async_restore(record["session"])
            if transaction is not None and change is not None and replay_book:
                self.book.restore(transaction, change)
        except KeyError, TypeError, ValueError, AttributeError:
            return False
        return True

    async def async_persist(self, transaction: Transaction) -> None:
        """Make a transaction's state (a new id, an end) durable now, by the journal."""
        await self._journal.async_append(
            {"transaction": transaction.to_dict(), "next_id": self.book.next_id}
        )
        self._checkpoint.schedule()

    async def async_save_book(self) -> None:
        """Save the whole book now (it changed beyond one transaction); raise if not."""
        await self.async_checkpoint(strict=True)

    def schedule_save_book(self) -> None:
        """Save the book soon (within SAVE_DELAY): a change the journal does not have."""
        self._checkpoint_soon.schedule()

    def schedule_save_readings(self) -> None:
        """Save the open sessions' latest readings (within SESSION_READINGS_SAVE_DELAY)."""
        self._checkpoint.schedule()

    async def async_save_now(self) -> None:
        """Checkpoint now (the entry unloads), or at HA's final write if HA stops."""
        self._checkpoint_soon.cancel()
        self._checkpoint.cancel()
        await async_now_or_at_final_write(self._hass, self.async_checkpoint)

    async def async_checkpoint(self, *, strict: bool = False) -> None:
        """Write the book and the changed months, then drop the journal they contain.

        A failure keeps the journal (nothing is lost; a later checkpoint retries):
        logged once, raised only if `strict`.
        """
        async with self._lock:
            # This writes everything: a checkpoint still due is not needed.
            self._checkpoint_soon.cancel()
            self._checkpoint.cancel()
            # Appends from here on go to the next generation: not in this snapshot.
            generation = self._journal.rotate()
            book = {**self.book.to_dict(), _GENERATION: generation}
            months = self.ledger.take_changes()

            async def write() -> None:
                await self.ledger.async_write(months)
                await self._book_store.async_save_durably(book)

            await self._checkpoints.async_fold(generation, write, strict=strict)

    async def async_record_session(self, transaction: Transaction) -> Session:
        """Add a finished session (or its correction) and the book's change; durable on return.

        One journal line holds both the ledger record and the transaction with the
        id counter: one append per stop, and no crash can come between the two.
        Returns the record (the event's payload is made from it).
        """
        session = transaction.record()
        await self.ledger.async_restore(session)
        await self._journal.async_append(
            {"session": session, "transaction": transaction.to_dict(), "next_id": self.book.next_id}
        )
        self._checkpoint.schedule()
        return session

    async def async_remove(self) -> None:
        """Delete the book, every ledger file and the journal (the entry was removed)."""
        await self._book_store.async_remove()
        await self.ledger.async_remove()
        await self._journal.async_remove()
