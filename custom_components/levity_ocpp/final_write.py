"""Saving when an entry unloads: now, or at HA's final write while HA stops.

While HA stops, its stores defer every write to the final write: a checkpoint
then would keep the journal, and every start after a clean stop would replay
it. At the final write the files are written at once.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CoreState, Event, HomeAssistant


async def async_now_or_at_final_write(
    hass: HomeAssistant, save: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Run `save` now, or (HA is stopping) at its final write."""
    if hass.state is not CoreState.stopping:
        await save()
        return

    async def at_final_write(_event: Event) -> None:
        await save()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_FINAL_WRITE, at_final_write)
