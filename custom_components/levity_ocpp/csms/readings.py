"""A connector's latest reading of each series, kept where the garbage collector never looks.

A charger's latest values live until its next MeterValues, ~10 s: as objects that
is long enough to reach Python's old generation, and what moves there brings on
the next full collection of Home Assistant's whole heap (at 1,000 chargers a
pause of ~1 s; these readings were ~40 % of what moved). Here a reading is one
flat tuple of strings, numbers and datetimes, which Python does not track at
all. Callers get `Reading` views made on access; they die young.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Final, NamedTuple

from .meter import SampledValue

# SampledValue's nine fields, then the reading's time and when it arrived.
type _Row = tuple[
    str, float | None, str | None, str | None, str, str, str, str, float, datetime, datetime | None
]
_SAMPLED: Final = 9  # len(SampledValue._fields): literals, so that each item keeps its type
_TIME: Final = 9
_RECEIVED_AT: Final = 10


class Reading(NamedTuple):
    """The latest sampled value of one series (measurand, phase, location)."""

    sampled: SampledValue
    time: datetime  # the charger's (when it was measured)
    # Ours (when it arrived); None for readings from before a restart. What a
    # reading is worth now depends on this, not on a charger clock that may be off.
    received_at: datetime | None = None


def _row(sampled: SampledValue, time: datetime, received_at: datetime | None) -> _Row:
    # Built from its items (not from the tuple): a tuple of atoms is untracked at birth.
    measurand, value, unit, phase, context, location, value_format, raw, resolution = sampled
    return (
        measurand, value, unit, phase, context, location, value_format, raw, resolution,
        time, received_at,
    )  # fmt: skip


def _reading(row: _Row) -> Reading:
    return Reading(SampledValue._make(row[:_SAMPLED]), row[_TIME], row[_RECEIVED_AT])


class Readings:
    """Series key (SampledValue.key) -> its latest reading."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        """No readings yet."""
        self._rows: dict[str, _Row] = {}

    def __len__(self) -> int:
        """How many series."""
        return len(self._rows)

    def __eq__(self, other: object) -> bool:
        """The same readings (what a restored charge point is compared by)."""
        return isinstance(other, Readings) and self._rows == other._rows

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        """The readings, as a dict of them would show."""
        return f"Readings({list(self.values())!r})"

    def get(self, key: str) -> Reading | None:
        """The latest reading of a series, if any."""
        row = self._rows.get(key)
        return None if row is None else _reading(row)

    def __getitem__(self, key: str) -> Reading:
        """The latest reading of a series (KeyError without one)."""
        return _reading(self._rows[key])

    def values(self) -> Iterator[Reading]:
        """Every series' latest reading."""
        return map(_reading, self._rows.values())

    def of(self, measurand: str) -> list[Reading]:
        """The latest readings of one measurand (each phase and location)."""
        return [_reading(row) for row in self._rows.values() if row[0] == measurand]

    def received(self) -> Iterator[datetime | None]:
        """When each series' latest reading arrived (None: from before a restart)."""
        return (row[_RECEIVED_AT] for row in self._rows.values())

    def put(self, reading: Reading) -> None:
        """Keep a reading as its series' latest."""
        sampled = reading.sampled
        self._rows[sampled.key] = _row(sampled, reading.time, reading.received_at)

    def take(self, values: Iterable[SampledValue], time: datetime, received_at: datetime) -> bool:
        """Keep one moment's sampled values, each unless a newer one of its series is known.

        Buffered history never overwrites live values. Return whether one of them is
        of a series not seen before.
        """
        rows = self._rows
        new_series = False
        for sampled in values:
            current = rows.get(key := sampled.key)
            if current is None:
                new_series = True
            elif time < current[_TIME]:
                continue
            rows[key] = _row(sampled, time, received_at)
        return new_series
