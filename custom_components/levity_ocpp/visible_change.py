"""Which changes of a value are worth a recorder row, and when a held one is due.

Every state write is a row in the recorder's database. A meter reading that moves
by less than the sensor shows (a power reading's noise of a few watts under a
display of 0.1 kW) changes nothing a user can see, so a sensor whose rule is
`VISIBLE_CHANGE` holds it back. What a user looks at stays as it was:

- history: a value is written once its display changes by at least half a display
  step, so what is shown is either exactly what the charger said, or within half a
  step of it; nothing that flickers at a rounding edge is written on every message;
- long-term statistics and the Energy dashboard: HA compiles a total's sum from the
  last state of each 5-minute period. A held total is written before its period ends
  (`flush_at`), and in the last seconds of a period nothing is held, so the state at
  every boundary is the charger's last reading;
- what a user reads after charging: values are held only while a session runs, so
  its end writes the exact final figures.

The meter's own resolution (the step of the last digit it sent) needs no rule of its
own: its values move in whole steps, so a change finer than the display is a change
finer than a display step, and one coarser is always visible.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

# HA compiles statistics for 5-minute periods aligned to the UTC clock.
STATISTICS_PERIOD = timedelta(minutes=5)
# A held total is written this long before its period ends: room for a busy event
# loop. Within it nothing is held.
FLUSH_LEAD = timedelta(seconds=5)


class WriteRule(StrEnum):
    """When a changed value of an entity is written."""

    EVERY_CHANGE = "every_change"
    # Numeric values only: a change the user could see at the display precision.
    VISIBLE_CHANGE = "visible_change"


def visible_change(
    written: float, value: float, precision: int, convert: Callable[[float], float] | None
) -> bool:
    """Whether `value` looks different from `written` at `precision` decimals.

    Compared in the unit the user sees (`convert` from the native unit, if it differs).
    Its display must differ and it must have moved by half a display step: a value
    wavering at a rounding edge is not rewritten on every message.
    """
    if convert is not None:
        written, value = convert(written), convert(value)
    if abs(value - written) < 0.5 * 10.0**-precision:
        return False
    return f"{written:z.{precision}f}" != f"{value:z.{precision}f}"


def flush_at(now: datetime) -> datetime | None:
    """When a total held back at `now` must be written; None: it may not be held."""
    start = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    due = start + STATISTICS_PERIOD - FLUSH_LEAD
    return due if now < due else None
