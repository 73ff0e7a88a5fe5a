"""Unknown id tags offered for adding: a discovered flow per tag, Add or Ignore.

A tag presented at a charger that is not in the central system's tags opens a
discovery flow ("Id tag X was presented at CP1"). Add creates the tag's subentry
in that central system's entry; Ignore is HA's own (an ignored entry with the
flow's unique id, which stops later offers of that tag until it is removed).

The flow's source is `discovery`, so it cannot clash with the charge point
approval flow (`integration_discovery`). Bounded: at most MAX_OFFERS flows wait
at a time; further unknown tags are not offered until some are answered.
"""

from __future__ import annotations

import hashlib
import logging
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SOURCE_DISCOVERY,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import discovery_flow
import probatio

from .const import CONF_PERSON, CONF_TAG_NAME, DOMAIN, SUBENTRY_ID_TAG
from .csms.authorization import tag_key
from .id_tag_flow import PERSON_SELECTOR
from .id_tag_settings import data_from_input, id_tag_subentries, subentry_title

_LOGGER = logging.getLogger(__name__)

MAX_OFFERS = 10


def offer_unique_id(entry_id: str, id_tag: str) -> str:
    """The unique id of the offer of a tag at a central system (the tag itself hashed)."""
    digest = hashlib.sha256(f"{entry_id}\n{tag_key(id_tag)}".encode()).hexdigest()[:20]
    return f"id_tag_{digest}"


def _offers(hass: HomeAssistant) -> list[Any]:
    return hass.config_entries.flow.async_progress_by_handler(
        DOMAIN, include_uninitialized=True, match_context={"source": SOURCE_DISCOVERY}
    )


@callback
def async_offer_id_tag(
    hass: HomeAssistant, entry_id: str, id_tag: str, charge_point_id: str
) -> None:
    """Offer to add a tag that is not known (unless already offered, or too many are)."""
    unique_id = offer_unique_id(entry_id, id_tag)
    offers = _offers(hass)
    if any(offer["context"].get("unique_id") == unique_id for offer in offers):
        return
    if len(offers) >= MAX_OFFERS:
        _LOGGER.debug("%d unknown id tags wait to be added; not offering more", len(offers))
        return
    discovery_flow.async_create_flow(
        hass,
        DOMAIN,
        context={"source": SOURCE_DISCOVERY},
        data={"entry_id": entry_id, "id_tag": id_tag, "charge_point_id": charge_point_id},
    )


@callback
def async_withdraw_offers(hass: HomeAssistant, entry_id: str, id_tags: list[str]) -> None:
    """Close the offers of tags that were added meanwhile (by hand, or elsewhere)."""
    known = {offer_unique_id(entry_id, id_tag) for id_tag in id_tags}
    for offer in _offers(hass):
        if offer["context"].get("unique_id") in known:
            hass.config_entries.flow.async_abort(offer["flow_id"])


class IdTagDiscoveryFlow(ConfigFlow):
    """The steps of the config flow that offer an unknown id tag (a mixin of it)."""

    _offer: dict[str, str]

    async def async_step_discovery(self, discovery_info: dict[str, Any]) -> ConfigFlowResult:
        """An unknown tag was presented at a charger: offer it, once."""
        self._offer = {key: str(discovery_info[key]) for key in ("entry_id", "id_tag")}
        self._offer["charge_point_id"] = str(discovery_info["charge_point_id"])
        await self.async_set_unique_id(
            offer_unique_id(self._offer["entry_id"], self._offer["id_tag"])
        )
        self._abort_if_unique_id_configured()  # the user ignored it before
        if (abort := self._unavailable()) is not None:
            return abort
        self.context["title_placeholders"] = {"name": self._offer["id_tag"]}
        return await self.async_step_add_id_tag()

    async def async_step_add_id_tag(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the tag to the central system, with a name and a person if given."""
        if user_input is not None:
            if (abort := self._unavailable()) is not None:
                return abort
            entry = self.hass.config_entries.async_get_known_entry(self._offer["entry_id"])
            data = data_from_input(self._offer["id_tag"], user_input)
            self.hass.config_entries.async_add_subentry(
                entry,
                ConfigSubentry(
                    data=MappingProxyType(data),
                    subentry_type=SUBENTRY_ID_TAG,
                    title=subentry_title(data),
                    unique_id=None,
                ),
            )
            return self.async_abort(reason="id_tag_added")
        return self.async_show_form(
            step_id="add_id_tag",
            data_schema=probatio.Schema(
                {
                    probatio.Optional(CONF_TAG_NAME): str,
                    probatio.Optional(CONF_PERSON): PERSON_SELECTOR,
                }
            ),
            description_placeholders={
                "id_tag": self._offer["id_tag"],
                "charge_point": self._offer["charge_point_id"],
            },
        )

    def _unavailable(self) -> ConfigFlowResult | None:
        """An abort when the central system is gone or already has the tag."""
        entry = self.hass.config_entries.async_get_entry(self._offer["entry_id"])
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        if tag_key(self._offer["id_tag"]) in id_tag_subentries(entry):
            return self.async_abort(reason="id_tag_already_added")
        return None
