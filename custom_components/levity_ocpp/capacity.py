"""Home Assistant's cap of enabled entities per config entry, met before it bites.

HA (helpers/entity_platform.py) refuses every new entity of a config entry that
already has `MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY` enabled entities in the entity
registry: it logs one warning per platform and the entity never exists. Entities
registered before are always restored, and disabled ones (by the user or by default)
do not count. Left alone, a charger added past the cap silently gets no status,
energy or connectivity entity, so its sessions are not billed in the Energy
dashboard and nobody notices.

So each central system counts as HA does (the registry's count, plus entities
accepted but not registered yet) and:
- near the cap, raises a repair issue telling how to split the site;
- keeps room for the essential entities of every charger it knows (connector
  status, energy, connectivity): another charger's extras never take their place;
- past the cap, adds only those, refuses the rest with one log line per charger
  (one line for all the chargers refused at once, such as a start of a site that
  outgrew its central system) and raises a second repair issue;
- when the count goes down (a charger removed, entities disabled), clears the
  issues and offers the refused entities again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging

from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_platform, entity_registry as er, issue_registry as ir
from homeassistant.helpers.debounce import Debouncer

from .const import DOCUMENTATION_URL, DOMAIN
from .csms.model import CHARGE_POINT_CONNECTOR

_LOGGER = logging.getLogger(__name__)

# HA's cap (a module constant, so tests can lower it).
ENTITY_CAP: int = getattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 10_000)
NEAR_CAP_SHARE = 0.9
LEARN_MORE_URL = f"{DOCUMENTATION_URL}#large-sites"
ISSUE_NEAR = "entity_cap_near"
ISSUE_REACHED = "entity_cap_reached"
MAX_LISTED = 5  # refused charge points named in the issue
MAX_LOGGED = 10  # and in the log line that tells of many at once
RETRY_DELAY_S = 1.0

# What must never be missing: (platform, on the charge point itself?, description key).
ESSENTIAL: frozenset[tuple[str, bool, str]] = frozenset(
    {
        (Platform.BINARY_SENSOR, True, "connected"),
        (Platform.SENSOR, False, "status"),
        (Platform.SENSOR, False, "energy"),
    }
)


def entity_unique_id(entry_id: str, charge_point_id: str, connector_id: int, key: str) -> str:
    """The unique id of an entity of a charge point (connector 0) or of a connector."""
    return f"{entry_id}_{charge_point_id}_{connector_id}_{key}"


def is_essential(platform: str, connector_id: int, key: str) -> bool:
    """Whether an entity is one a charger must never be without."""
    return (platform, connector_id == CHARGE_POINT_CONNECTOR, key) in ESSENTIAL


def issue_id(kind: str, entry_id: str) -> str:
    """The repair issue of one central system."""
    return f"{kind}_{entry_id}"


class EntityCapacity:
    """Counts one config entry's enabled entities against HA's cap and acts on it."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, title: Callable[[], str], port: Callable[[], int]
    ) -> None:
        """Count for `entry_id`; `title` and `port` name the central system in the issues."""
        self.hass = hass
        self.entry_id = entry_id
        self._title = title
        self._port = port
        self._registry = er.async_get(hass)
        # Accepted but not in the registry yet (HA registers them a moment later).
        self._pending: set[str] = set()
        # Essential entities of known chargers not registered yet: their places are
        # kept (by unique id: (platform, charge point id)).
        self._awaited: dict[str, tuple[str, str]] = {}
        # Charge points with refused entities (logged once each, until there is room).
        self._refused: dict[str, None] = {}
        # Refused since the last log line, with whether even their essentials did not
        # fit: told in one line once the central system's start (every platform) or
        # the current step after it is over.
        self._unlogged: dict[str, bool] = {}
        self._tell: asyncio.Handle | None = None
        self._starting = True
        self._near_shown: int | None = None  # the percentage the near issue shows
        self._retry: dict[str, None] = {}  # refused charge points to offer again
        self._retry_later = Debouncer(
            hass, _LOGGER, cooldown=RETRY_DELAY_S, immediate=False, function=self._offer_again
        )
        self.on_room: Callable[[list[str]], None] = lambda _ids: None

    @property
    def enabled(self) -> int:
        """Enabled entities as HA counts them, with those about to be registered."""
        return self._registry.entities.get_enabled_count_for_config_entry_id(self.entry_id) + len(
            self._pending
        )

    def _registered(self, platform: str, unique_id: str) -> bool:
        return self._registry.async_get_entity_id(platform, DOMAIN, unique_id) is not None

    @callback
    def expect(self, charge_point_id: str, connector_id: int) -> None:
        """Keep places for the essential entities of a charger (0) or connector.

        A charger has a connector 1 before it says so: its places are kept with the
        charger's own, so the charger's other entities cannot take them. Kept until
        they exist: a charger that never sends an energy register keeps one place.
        """
        parts = (connector_id, 1) if connector_id == CHARGE_POINT_CONNECTOR else (connector_id,)
        for platform, on_charge_point, key in ESSENTIAL:
            for part in parts:
                if on_charge_point != (part == CHARGE_POINT_CONNECTOR):
                    continue
                unique_id = entity_unique_id(self.entry_id, charge_point_id, part, key)
                if unique_id not in self._pending and not self._registered(platform, unique_id):
                    self._awaited[unique_id] = (platform, charge_point_id)

    @callback
    def admit(
        self,
        platform: str,
        unique_id: str,
        charge_point_id: str,
        *,
        enabled: bool,
        essential: bool,
    ) -> bool:
        """Whether HA will take this entity; refusing it is logged once per charger.

        A registered entity is restored whatever the count, a disabled one does not
        count; an essential one uses the place kept for it.
        """
        if not enabled or unique_id in self._pending or self._registered(platform, unique_id):
            return True
        kept = len(self._awaited) - (unique_id in self._awaited)
        if self.enabled + (0 if essential else kept) < ENTITY_CAP:
            self._awaited.pop(unique_id, None)
            self._pending.add(unique_id)
            return True
        self._refuse(charge_point_id)
        return False

    @callback
    def registered(self, unique_id: str) -> None:
        """An accepted entity is in the registry now (or HA did not take it after all)."""
        self._pending.discard(unique_id)

    @callback
    def forget(self, charge_point_id: str) -> None:
        """A charge point was removed: its kept places and refusals go."""
        self._awaited = {
            unique_id: owner
            for unique_id, owner in self._awaited.items()
            if owner[1] != charge_point_id
        }
        self._refused.pop(charge_point_id, None)
        self.update()

    @callback
    def update(self) -> None:
        """Show or clear the issues for the count as it is now."""
        used = self.enabled + len(self._awaited)
        percent = min(100, used * 100 // ENTITY_CAP)
        if used >= NEAR_CAP_SHARE * ENTITY_CAP:
            if percent != self._near_shown:
                self._near_shown = percent
                self._create(
                    ISSUE_NEAR,
                    ir.IssueSeverity.WARNING,
                    enabled=str(self.enabled),
                    percent=str(percent),
                )
        elif self._near_shown is not None:
            self._near_shown = None
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(ISSUE_NEAR, self.entry_id))
        if self._refused and used < ENTITY_CAP:
            self._retry.update(self._refused)
            self._refused.clear()
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(ISSUE_REACHED, self.entry_id))
            # A removed device takes its entities one by one: offer again once they
            # are all gone, not after each (it would log a charger again each time).
            self._retry_later.async_schedule_call()

    @callback
    def started(self) -> None:
        """Every platform has added what it had: the count and the refusals, told once."""
        self._starting = False
        self.update()  # near the cap with no new entity: still worth saying
        if self._unlogged:
            self._tell_refused()

    @callback
    def _offer_again(self) -> None:
        charge_point_ids = list(self._retry)
        self._retry.clear()
        self.on_room(charge_point_ids)

    @callback
    def async_listen(self) -> Callable[[], None]:
        """Count again when the user enables or disables an entity (it changes HA's count)."""

        @callback
        def _disabled_changed(data: er.EventEntityRegistryUpdatedData) -> bool:
            return data["action"] == "update" and "disabled_by" in data["changes"]

        @callback
        def _count_again(_event: Event[er.EventEntityRegistryUpdatedData]) -> None:
            self.update()

        return self.hass.bus.async_listen(
            er.EVENT_ENTITY_REGISTRY_UPDATED, _count_again, event_filter=_disabled_changed
        )

    @callback
    def async_clear(self) -> None:
        """The central system is unloaded: its issues go (they come back if still true)."""
        self._retry_later.async_shutdown()
        if self._tell is not None:
            self._tell.cancel()
            self._tell = None
        self._unlogged.clear()
        for kind in (ISSUE_NEAR, ISSUE_REACHED):
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(kind, self.entry_id))

    def _refuse(self, charge_point_id: str) -> None:
        if charge_point_id in self._refused:
            return
        # Whichever platform comes first: whether its essentials still fit.
        self._unlogged[charge_point_id] = self.enabled >= ENTITY_CAP
        self._refused[charge_point_id] = None
        if self._tell is None and not self._starting:
            self._tell = self.hass.loop.call_soon(self._tell_refused)

    @callback
    def _tell_refused(self) -> None:
        """One log line and one issue update for the chargers refused in one go."""
        if self._tell is not None:
            self._tell.cancel()
            self._tell = None
        unlogged, self._unlogged = self._unlogged, {}
        refused = [
            _who([cp for cp, full in unlogged.items() if full is whole], gets)
            for whole, gets in (
                (False, ("gets only its status, energy and connectivity",
                         "get only their status, energy and connectivity")),
                (True, ("gets no new entities", "get no new entities")),
            )
        ]  # fmt: skip
        _LOGGER.warning(
            "%s has %d enabled entities, Home Assistant's limit per central system is %d:"
            " %s. Add a second central system on another port for more chargers (%s)",
            self._title(),
            self.enabled,
            ENTITY_CAP,
            "; ".join(part for part in refused if part),
            LEARN_MORE_URL,
        )
        if not self._refused:
            return  # room again meanwhile (update() cleared them): no issue
        listed = list(self._refused)
        self._create(
            ISSUE_REACHED,
            ir.IssueSeverity.ERROR,
            count=str(len(listed)),
            charge_points=_names(listed, MAX_LISTED),
        )

    def _create(self, kind: str, severity: ir.IssueSeverity, **placeholders: str) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(kind, self.entry_id),
            is_fixable=False,
            is_persistent=False,
            learn_more_url=LEARN_MORE_URL,
            severity=severity,
            translation_key=kind,
            translation_placeholders={
                "central_system": self._title(),
                "cap": str(ENTITY_CAP),
                "port": str(self._port()),
                **placeholders,
            },
        )


def _names(charge_point_ids: list[str], most: int) -> str:
    """The first few ids, and how many more."""
    names = ", ".join(charge_point_ids[:most])
    if len(charge_point_ids) > most:
        names += f" (+{len(charge_point_ids) - most})"
    return names


def _who(charge_point_ids: list[str], gets: tuple[str, str]) -> str:
    """'charge point CP2 gets ...' or '12 charge points (CP1, ... (+2)) get ...'; or ''."""
    if not charge_point_ids:
        return ""
    if len(charge_point_ids) == 1:
        return f"charge point {charge_point_ids[0]} {gets[0]}"
    names = _names(charge_point_ids, MAX_LOGGED)
    return f"{len(charge_point_ids)} charge points ({names}) {gets[1]}"
