"""An append-only journal of durable changes, so a reply waits for one small fsync.

Rewriting the whole transaction book or a ledger month before every reply costs
what the fleet has, not what changed. Instead each change is one JSON line,
appended and fsync'd before the reply; the full files are written later (a
checkpoint) and the journal is then dropped.

Appends that arrive while a write is on disk go together in the next one (group
commit): a burst of 100 stops costs a few fsyncs. The journal is split into
generations (`<key>.<n>` files): a checkpoint moves appends to the next one and,
once its snapshot is on disk, deletes the older ones. A snapshot says which
generation it was taken at, so a restart replays only what it lacks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
import contextlib
import json
import logging
import os
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import STORAGE_DIR

from .durable_store import NotWritten

_LOGGER = logging.getLogger(__name__)

type Record = dict[str, Any]

# Above any generation a journal reaches (one per checkpoint, every few seconds).
_EVERY_GENERATION = 1 << 62


class JournalError(Exception):
    """An append could not be made durable."""


def _fsync_directory(directory: Path) -> None:
    """A new or removed file survives a power cut only once its directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append(path: Path, data: bytes) -> None:
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    if created:
        os.chmod(path, 0o600)  # like HA's private stores: session records name users
        _fsync_directory(path.parent)


def _parse(path: Path) -> tuple[list[Record], int, bool]:
    """The records of one file, how many lines were unreadable, whether its tail was torn."""
    lines = path.read_bytes().split(b"\n")
    # The last piece has no newline: empty, or a write cut short by a crash.
    torn = lines.pop() != b""
    records: list[Record] = []
    damaged = 0
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            damaged += 1
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            damaged += 1
    return records, damaged, torn


class Journal:
    """The journal files of one store of a config entry, in `.storage`."""

    def __init__(self, hass: HomeAssistant, name: str) -> None:
        """Use `.storage/<name>.<generation>` (name: `levity_ocpp.<entry_id>.journal`)."""
        self._hass = hass
        self._directory = Path(hass.config.path(STORAGE_DIR))
        self._name = name
        self._pattern = re.compile(rf"{re.escape(self._name)}\.(\d+)")
        self.generation = 1
        self._pending: list[tuple[int, bytes, asyncio.Future[None]]] = []
        self._discard_below = 0
        # Generations below this are gone: a write looks at the directory only when
        # a checkpoint asked for more (listing `.storage` at every append is dear).
        self._discarded_below = 0
        self._writer: asyncio.Task[None] | None = None

    def _path(self, generation: int) -> Path:
        return self._directory / f"{self._name}.{generation}"

    def _generations(self) -> list[int]:
        if not self._directory.is_dir():
            return []
        found = (self._pattern.fullmatch(path.name) for path in self._directory.iterdir())
        return sorted(int(match.group(1)) for match in found if match)

    def _read(self) -> list[tuple[int, Record]]:
        records: list[tuple[int, Record]] = []
        for generation in self._generations():
            path = self._path(generation)
            found, damaged, torn = _parse(path)
            if torn:
                # Cut short by a crash while it was written: it was never answered for.
                _LOGGER.warning("Ignored the unfinished last line of %s", path.name)
            if damaged:
                _LOGGER.error("Skipped %d unreadable lines of %s", damaged, path.name)
            records.extend((generation, record) for record in found)
        return records

    async def async_load(self, at_least: int) -> list[tuple[int, Record]]:
        """Every record left by the previous run, with its generation, oldest first.

        New appends go to a generation above every one seen, and at least
        `at_least` (the snapshot's): none is mistaken for what a snapshot has.
        """
        records = await self._hass.async_add_executor_job(self._read)
        generations = await self._hass.async_add_executor_job(self._generations)
        self.generation = max([at_least, self.generation, *(g + 1 for g in generations)])
        return records

    def rotate(self) -> int:
        """Send appends from now on to a new generation; return it (for a snapshot)."""
        self.generation += 1
        return self.generation

    async def async_append(self, record: Record) -> None:
        """Append a record; return once it is on disk (raise JournalError if not)."""
        future: asyncio.Future[None] = self._hass.loop.create_future()
        self._pending.append((self.generation, json_bytes(record) + b"\n", future))
        self._wake()
        # Shielded: a caller given up on must not take the others' write with it.
        await asyncio.shield(future)

    async def async_discard_before(self, generation: int) -> None:
        """Delete the generations older than `generation` (a snapshot has them)."""
        future: asyncio.Future[None] = self._hass.loop.create_future()
        self._discard_below = max(self._discard_below, generation)
        self._pending.append((generation, b"", future))
        self._wake()
        await asyncio.shield(future)

    async def async_remove(self) -> None:
        """Delete every generation (the config entry was removed)."""
        await self.async_discard_before(_EVERY_GENERATION)

    def _wake(self) -> None:
        if self._writer is None:
            self._writer = self._hass.async_create_task(
                self._async_write(), f"{self._name} write", eager_start=False
            )

    async def _async_write(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                data: dict[int, list[bytes]] = {}
                for generation, line, _ in batch:
                    if line:
                        data.setdefault(generation, []).append(line)
                discard_below = self._discard_below
                if discard_below <= self._discarded_below:
                    discard_below = 0  # nothing new to delete
                try:
                    await self._hass.async_add_executor_job(self._write, data, discard_below)
                except OSError as error:
                    # A write cut short may have left half a line: later appends
                    # go to a new file, so it stays a torn tail, read as one.
                    self.generation += 1
                    _LOGGER.error("Could not write the journal %s: %s", self._name, error)
                    failure = JournalError(str(error))
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(failure)
                    continue
                self._discarded_below = max(self._discarded_below, discard_below)
                for _, _, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            self._writer = None

    def _write(self, data: dict[int, list[bytes]], discard_below: int) -> None:
        for generation, lines in data.items():
            _append(self._path(generation), b"".join(lines))
        if discard_below:
            self._delete(g for g in self._generations() if g < discard_below)

    def _delete(self, generations: Iterable[int]) -> None:
        removed = False
        for generation in generations:
            self._path(generation).unlink(missing_ok=True)
            removed = True
        if removed:
            _fsync_directory(self._directory)


class Checkpoints:
    """Folds a journal into its snapshot: write the files, then drop what they contain.

    A failure keeps the journal (nothing is lost; a later checkpoint retries) and
    is warned of once until one succeeds; not while HA stops, when HA writes the
    files at its final write and the journal stays until the next start.
    """

    def __init__(self, hass: HomeAssistant, journal: Journal, files: str) -> None:
        """`files` names what is written, for the warning ("the sessions' files")."""
        self._hass = hass
        self._journal = journal
        self._files = files
        self._failing = False

    async def async_fold(
        self, generation: int, write: Callable[[], Awaitable[None]], *, strict: bool = False
    ) -> bool:
        """Run `write` (a snapshot taken at `generation`); whether it reached the disk.

        Raise NotWritten if `strict` and it did not.
        """
        try:
            await write()
        except NotWritten:
            if strict:
                raise
            if not self._failing and not self._hass.is_stopping:
                _LOGGER.warning(
                    "Could not write %s; the journal keeps every change until a later "
                    "save succeeds",
                    self._files,
                )
                self._failing = True
            return False
        self._failing = False
        # Logged by the journal; replaying what a snapshot has changes nothing.
        with contextlib.suppress(JournalError):
            await self._journal.async_discard_before(generation)
        return True
