"""Id tags kept in config subentries (one per tag), read by the central system live.

One subentry of type `id_tag` per tag; no unique id (charge point subentries use
theirs, and a tag may look like a charge point id): the flows refuse a second
subentry for a tag themselves, comparing as OCPP does, case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BLOCKED,
    CONF_EXPIRY,
    CONF_ID_TAG,
    CONF_PARENT_ID_TAG,
    CONF_PERSON,
    CONF_TAG_NAME,
    DEFAULT_ID_TAG,
    SUBENTRY_ID_TAG,
)
from .csms.authorization import IdTag, TagBook, tag_key

# OCPP 1.6 IdToken: CiString20, printable ASCII only (§7.36, §7.56).
MAX_ID_TAG_LENGTH = 20
_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))


def is_valid_id_tag(id_tag: str) -> bool:
    """Whether a charger can send this tag: 1 to 20 printable ASCII characters."""
    return 1 <= len(id_tag) <= MAX_ID_TAG_LENGTH and set(id_tag) <= _PRINTABLE_ASCII


def parse_expiry(value: Any) -> datetime | None:
    """A form's or a subentry's expiry as an aware time; None when there is none."""
    if not value:
        return None
    moment = dt_util.parse_datetime(str(value))
    if moment is None:
        return None
    if moment.tzinfo is None:  # typed in the form: Home Assistant's time zone
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment)


def tag_from_data(data: Mapping[str, Any]) -> IdTag:
    """The id tag a subentry's data describes."""
    return IdTag(
        id_tag=data[CONF_ID_TAG],
        blocked=bool(data.get(CONF_BLOCKED, False)),
        expiry=parse_expiry(data.get(CONF_EXPIRY)),
        parent_id_tag=data.get(CONF_PARENT_ID_TAG) or None,
    )


def data_from_input(id_tag: str, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The subentry data a (checked) form input stores."""
    expiry = parse_expiry(user_input.get(CONF_EXPIRY))
    return {
        CONF_ID_TAG: id_tag,
        CONF_TAG_NAME: (user_input.get(CONF_TAG_NAME) or "").strip() or None,
        CONF_BLOCKED: bool(user_input.get(CONF_BLOCKED, False)),
        CONF_EXPIRY: expiry.isoformat() if expiry is not None else None,
        CONF_PARENT_ID_TAG: (user_input.get(CONF_PARENT_ID_TAG) or "").strip() or None,
        CONF_PERSON: user_input.get(CONF_PERSON) or None,
    }


def subentry_title(data: Mapping[str, Any]) -> str:
    """A tag subentry is shown by its name, else by the tag itself."""
    return str(data.get(CONF_TAG_NAME) or data[CONF_ID_TAG])


def id_tag_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """The id tag subentries of an entry, by case-folded tag."""
    return {
        tag_key(subentry.data[CONF_ID_TAG]): subentry
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_ID_TAG
    }


def tag_book_from_entry(entry: ConfigEntry) -> TagBook:
    """Every id tag of an entry, for the rules."""
    return TagBook(tag_from_data(subentry.data) for subentry in id_tag_subentries(entry).values())


def own_id_tag(entry: ConfigEntry) -> str:
    """The id tag Home Assistant starts sessions with (an option)."""
    return str(entry.options.get(CONF_ID_TAG, DEFAULT_ID_TAG))


def tag_owner(
    hass: HomeAssistant, entry: ConfigEntry, id_tag: str
) -> tuple[str | None, str | None]:
    """The name the user gave a tag, and the name of the person it is linked to."""
    if (subentry := id_tag_subentries(entry).get(tag_key(id_tag))) is None:
        return None, None
    person: str | None = None
    if (entity_id := subentry.data.get(CONF_PERSON)) and (state := hass.states.get(entity_id)):
        person = state.name
    return subentry.data.get(CONF_TAG_NAME), person
