"""An HA Store whose save says whether the file is on disk.

A checkpoint deletes the journal once its snapshot is written. HA's Store logs a
failed write and returns, and while HA stops it defers the write to the end:
either way the journal must stay, so the save has to tell.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

STORAGE_VERSION = 1


class NotWritten(Exception):
    """The data did not reach the disk (yet)."""


class DurableStore(Store[dict[str, Any]]):
    """A private Store, written atomically (temp file, fsync, rename)."""

    def __init__(self, hass: HomeAssistant, key: str) -> None:
        """Store `key` in `.storage`."""
        super().__init__(hass, STORAGE_VERSION, key, private=True, atomic_writes=True)
        self._written = False

    async def _async_write_data(self, data: dict[str, Any]) -> None:
        await super()._async_write_data(data)
        self._written = True  # not reached when the write raised

    async def async_save_durably(self, data: dict[str, Any]) -> None:
        """Save now; raise NotWritten unless the file holds `data` when this returns."""
        self._written = False
        await self.async_save(data)
        if not self._written:
            raise NotWritten(self.key)
