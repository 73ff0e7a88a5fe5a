"""A coalesced run with a deadline: busy chargers cannot postpone a save forever.

`Store.async_delay_save` restarts its timer at every call, so with chargers
reporting every few seconds the file is never written until HA stops. Here the
first unsaved change opens a window; changes inside it ride along; the save at
the window's end writes the state of that moment, and the next change opens a
new window.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

SAVE_DELAY = 10.0  # seconds; the longest a change waits to reach the disk
# Open sessions' latest readings: what an orphan (a session whose stop never comes)
# is accounted with after a crash. Rewriting the book every SAVE_DELAY for them
# would cost a 1,000-charger site gigabytes of writes a day.
SESSION_READINGS_SAVE_DELAY = 5 * 60.0
# Charge points' latest readings and heartbeats, shown again after a restart until
# the charger reports anew: as often as HA saves its entities' last states.
READINGS_SAVE_DELAY = 15 * 60.0


class DelayedRun:
    """Runs `job()` at most `delay` seconds after the first change of a window."""

    def __init__(
        self,
        hass: HomeAssistant,
        job: Callable[[], Coroutine[Any, Any, None]],
        name: str,
        delay: float = SAVE_DELAY,
    ) -> None:
        """Run `job` once per window of changes."""
        self._hass = hass
        self._job = job
        self._name = name
        self._delay = delay
        self._cancel: CALLBACK_TYPE | None = None

    @callback
    def schedule(self) -> None:
        """Run soon; a run already due keeps its time."""
        if self._cancel is None:
            self._cancel = async_call_later(self._hass, self._delay, self._due)

    @callback
    def _due(self, _now: datetime) -> None:
        self._cancel = None
        self._hass.async_create_task(self._job(), self._name)

    @callback
    def cancel(self) -> None:
        """Drop a pending run (the caller runs the job now, or it is not needed)."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None
