"""What the integration writes to `.storage` (an SD card's wear), watched from outside.

A poller looks at `.storage/levity_ocpp.*` twice a second: a journal that grew
was appended to; any other file that changed was written whole (HA's stores).
A window of minutes does not see saves on a slower cadence: `snapshot_sizes`
gives their sizes, so a day's writes can be told from both.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
import time

POLL_S = 0.5
PREFIX = "levity_ocpp."


def _files(storage: Path) -> dict[str, tuple[int, int, int]]:
    """Each file's (inode, modification time in ns, size)."""
    found: dict[str, tuple[int, int, int]] = {}
    for path in storage.glob(f"{PREFIX}*"):
        try:
            stat = path.stat()
        except FileNotFoundError:  # replaced or dropped between glob and stat
            continue
        found[path.name] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return found


@dataclass
class StorageWrites:
    """Bytes written to the integration's files while `watch` runs."""

    storage: Path
    appended: int = 0
    rewritten: int = 0
    rewrites: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    async def watch(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set."""
        started = time.monotonic()
        seen = _files(self.storage)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)
            now = _files(self.storage)
            for name, (inode, mtime, size) in now.items():
                before = seen.get(name)
                if before is not None and before[:2] == (inode, mtime):
                    continue  # untouched
                grown = before is not None and before[0] == inode and size >= before[2]
                if "journal" in name:  # appended to, or a new generation begun
                    self.appended += size - before[2] if grown and before else size
                else:  # HA's stores write a file whole
                    self._rewritten(name, size)
            seen = now
        self.seconds = time.monotonic() - started

    def _rewritten(self, name: str, size: int) -> None:
        self.rewritten += size
        kind = name.removeprefix(PREFIX).split(".", 1)[-1].split(".")[0]
        self.rewrites[kind] = self.rewrites.get(kind, 0) + 1


def snapshot_sizes(storage: Path) -> dict[str, int]:
    """Bytes of the charge point snapshots and transaction books now, by kind."""
    sizes: dict[str, int] = {}
    for kind in ("charge_points", "transactions"):
        sizes[kind] = sum(path.stat().st_size for path in storage.glob(f"{PREFIX}*.{kind}"))
    return sizes
