"""Energy per id tag as long-term statistics in the recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial
import hashlib

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.unit_conversion import EnergyConverter

from .const import DOMAIN
from .id_tag_settings import tag_owner


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def energy_statistic_id(entry_id: str, id_tag: str) -> str:
    """The statistic of one id tag (a resident's card) at one central system.

    `levity_ocpp:energy_<entry>_<tag>`, both hashed: two central systems never
    share one, tags differing only in punctuation or accents stay apart (a slug
    would merge them), and the raw tag is not in the id. OCPP 1.6 id tags are
    case-insensitive, so the case is folded first.
    """
    return f"{DOMAIN}:energy_{_digest(entry_id, 8)}_{_digest(id_tag.casefold(), 16)}"


def energy_statistic_name(
    id_tag: str, entry_title: str, *, name: str | None = None, person: str | None = None
) -> str:
    """A readable name: whose card it is, else only the end of the tag (pickers list all).

    `name` is what the user called the tag, `person` the name of the person it is
    linked to; one person's two cards stay apart by the card's name or its end.
    """
    shown = id_tag[-min(4, len(id_tag) // 2) :].upper() if len(id_tag) > 1 else ""
    card = name or f"card …{shown}"
    if person:
        return f"EV charging, {person}: {card} ({entry_title})"
    return f"EV charging, {card} ({entry_title})"


def hourly_change(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """Return the kWh per hour to add to statistics holding `before` so they hold `after`."""
    return {
        hour: round(after.get(hour, 0.0) - before.get(hour, 0.0), 6)
        for hour in after.keys() | before.keys()
    }


class IdTagStatistics:
    """Hourly kWh per id tag as external long-term statistics (never purged).

    A late session (a charger that was offline) lands in past hours, so the sums
    of every later hour move too: the hours of each statistic are kept in memory,
    loaded once from the database, and rewritten from the first changed hour on.
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Write the statistics of this central system through HA's recorder."""
        self._hass = hass
        self._entry = entry
        self._hours: dict[str, dict[datetime, float]] = {}
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        # Energy added and not yet taken by the background task that writes it.
        self._queued: list[tuple[str, dict[str, float]]] = []
        self._drainer: asyncio.Task[None] | None = None

    @callback
    def add_energy_soon(self, id_tag: str, hourly_kwh: dict[str, float]) -> None:
        """Add energy in the background: a charger's reply does not wait for the recorder.

        What is added before the background task runs goes with it: a burst of
        stops costs one import per id tag, not one per stop.
        """
        self._queued.append((id_tag, hourly_kwh))
        if self._drainer is not None and not self._drainer.done():
            return  # it takes this one too
        task = self._drainer = self._hass.async_create_background_task(
            self._async_drain(), f"{DOMAIN} id tag statistics", eager_start=False
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _async_drain(self) -> None:
        while self._queued:
            queued, self._queued = self._queued, []
            await self._async_add(queued)

    async def async_wait(self) -> None:
        """Wait until what was added has reached the recorder (the entry unloads)."""
        await asyncio.gather(*self._tasks)

    async def _async_add(self, additions: list[tuple[str, dict[str, float]]]) -> None:
        """Add kWh per hour (ISO hour start; negative to correct) to id tags' statistics.

        Callers take each `hourly_kwh` from the session when it happens: the session
        may change again before this runs. One import per id tag for all of them.
        """
        by_tag: dict[str, list[dict[str, float]]] = {}
        for id_tag, hourly_kwh in additions:
            if hourly := {hour: kwh for hour, kwh in hourly_kwh.items() if kwh}:
                by_tag.setdefault(id_tag, []).append(hourly)
        async with self._lock:
            for id_tag, changes in by_tag.items():
                await self._async_add_tag(id_tag, changes)

    async def _async_add_tag(self, id_tag: str, changes: list[dict[str, float]]) -> None:
        hours = await self._async_hours(energy_statistic_id(self._entry.entry_id, id_tag))
        first_changed: datetime | None = None
        for hourly in changes:  # in order: a correction never takes an hour below 0
            for hour, kwh in hourly.items():
                start = datetime.fromisoformat(hour).astimezone(UTC)
                hours[start] = max(0.0, round(hours.get(start, 0.0) + kwh, 6))
                if first_changed is None or start < first_changed:
                    first_changed = start
        assert first_changed is not None  # every change has an hour
        total = 0.0
        rows: list[StatisticData] = []
        for start in sorted(hours):
            total = round(total + hours[start], 6)
            if start >= first_changed:
                rows.append(StatisticData(start=start, state=hours[start], sum=total))
        async_add_external_statistics(self._hass, self._metadata(id_tag), rows)

    def _metadata(self, id_tag: str) -> StatisticMetaData:
        name, person = tag_owner(self._hass, self._entry, id_tag)
        return StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=energy_statistic_name(id_tag, self._entry.title, name=name, person=person),
            source=DOMAIN,
            statistic_id=energy_statistic_id(self._entry.entry_id, id_tag),
            unit_class=EnergyConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        )

    @callback
    def rename_soon(self, id_tags: Iterable[str]) -> None:
        """Give the statistics of these tags their current names (a tag was renamed...)."""
        task = self._hass.async_create_background_task(
            self.async_rename(list(id_tags)), f"{DOMAIN} id tag statistic names"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def async_rename(self, id_tags: list[str]) -> None:
        """Rename the existing statistics of these tags whose name is out of date."""
        wanted = {energy_statistic_id(self._entry.entry_id, tag): tag for tag in id_tags}
        if not wanted:
            return
        existing = await get_instance(self._hass).async_add_executor_job(
            partial(get_metadata, self._hass, statistic_ids=set(wanted))
        )
        for statistic_id, (_, metadata) in existing.items():
            renamed = self._metadata(wanted[statistic_id])
            if metadata.get("name") != renamed["name"]:
                # No rows: only the metadata changes.
                async_add_external_statistics(self._hass, renamed, [])

    async def _async_hours(self, statistic_id: str) -> dict[datetime, float]:
        if (hours := self._hours.get(statistic_id)) is None:
            rows = await get_instance(self._hass).async_add_executor_job(
                statistics_during_period,
                self._hass,
                datetime.fromtimestamp(0, UTC),
                None,
                {statistic_id},
                "hour",
                None,
                {"state"},
            )
            hours = self._hours[statistic_id] = {
                datetime.fromtimestamp(row["start"], UTC): row.get("state") or 0.0
                for row in rows.get(statistic_id, [])
            }
        return hours
