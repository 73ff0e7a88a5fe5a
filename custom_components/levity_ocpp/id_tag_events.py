"""Id tags in HA: `tag_scanned` when one is shown, offers of unknown ones, live changes.

Users automate on RFID cards as on NFC tags: the `tag` integration fires
`tag_scanned` with the charger's device and lists the tag on its Tags page. A
tag in the central system's tags is reported as the user spelled it there (OCPP
tags are case-insensitive, HA tags are not), an unknown one as it was first sent.

Every unknown tag becomes an HA tag (a stored item and an entity), so a charger
sending made-up tags must not cost unbounded storage: at most
MAX_NEW_UNKNOWN_PER_HOUR new unknown tags per central system and hour are passed
on; known tags, and unknown ones already passed on, always are.
"""

from __future__ import annotations

from collections import OrderedDict
import logging
import time

from homeassistant.components.tag import async_scan_tag
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .const import CONF_ID_TAG, CONF_PERSON, CONF_TAG_NAME, DOMAIN
from .csms.authorization import Authorization, tag_key
from .csms.server import CentralSystem
from .id_tag_discovery import async_offer_id_tag, async_withdraw_offers
from .id_tag_settings import id_tag_subentries, tag_book_from_entry
from .tag_statistics import IdTagStatistics

_LOGGER = logging.getLogger(__name__)

MAX_NEW_UNKNOWN_PER_HOUR = 20
MAX_REMEMBERED_UNKNOWN = 200
_HOUR_S = 3600.0


class IdTagEvents:
    """Passes presented tags on to HA's tag integration, offers unknown ones, follows edits."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Report the tags presented at this central system's chargers."""
        self._hass = hass
        self._entry = entry
        # Unknown tags passed on, by case-folded tag: the spelling they were passed on in.
        self._unknown: OrderedDict[str, str] = OrderedDict()
        # Per tag: the spelling, name and person its statistic's name was made from.
        self._labels = self._current_labels()
        self._window_start = -_HOUR_S
        self._new_in_window = 0
        self._warned = False

    @callback
    def presented(
        self,
        charge_point_id: str,
        id_tag: str,
        authorization: Authorization,
        device_id: str | None,
    ) -> None:
        """Fire `tag_scanned` (in the background: the charger's answer does not wait)."""
        if authorization.tag is not None:
            tag_id = authorization.tag.id_tag
        elif (spelling := self._admit_unknown(id_tag)) is not None:
            tag_id = spelling
            async_offer_id_tag(self._hass, self._entry.entry_id, spelling, charge_point_id)
        else:
            return
        self._entry.async_create_background_task(
            self._hass, async_scan_tag(self._hass, tag_id, device_id), f"{DOMAIN} tag scanned"
        )

    @callback
    def refresh(self, central_system: CentralSystem, statistics: IdTagStatistics) -> None:
        """The tag subentries may have changed: rules and lists, names and offers follow."""
        central_system.tags = tag_book_from_entry(self._entry)
        labels = self._current_labels()
        changed = [
            (labels.get(key) or self._labels[key])[0]
            for key in labels.keys() | self._labels.keys()
            if labels.get(key) != self._labels.get(key)
        ]
        added = [labels[key][0] for key in labels.keys() - self._labels.keys()]
        self._labels = labels
        if changed:
            statistics.rename_soon(changed)
        if added:
            async_withdraw_offers(self._hass, self._entry.entry_id, added)

    def _current_labels(self) -> dict[str, tuple[str, str | None, str | None]]:
        return {
            key: (
                subentry.data[CONF_ID_TAG],
                subentry.data.get(CONF_TAG_NAME),
                subentry.data.get(CONF_PERSON),
            )
            for key, subentry in id_tag_subentries(self._entry).items()
        }

    def _admit_unknown(self, id_tag: str) -> str | None:
        """The spelling to pass an unknown tag on in; None: too many new ones this hour."""
        key = tag_key(id_tag)
        if (spelling := self._unknown.get(key)) is not None:
            self._unknown.move_to_end(key)
            return spelling
        now = time.monotonic()
        if now - self._window_start >= _HOUR_S:
            self._window_start, self._new_in_window, self._warned = now, 0, False
        if self._new_in_window >= MAX_NEW_UNKNOWN_PER_HOUR:
            if not self._warned:
                self._warned = True
                _LOGGER.warning(
                    "More than %d unknown id tags presented within an hour; "
                    "further ones are not passed to Home Assistant's tags this hour",
                    MAX_NEW_UNKNOWN_PER_HOUR,
                )
            return None
        self._new_in_window += 1
        self._unknown[key] = id_tag
        while len(self._unknown) > MAX_REMEMBERED_UNKNOWN:
            self._unknown.popitem(last=False)
        return id_tag
