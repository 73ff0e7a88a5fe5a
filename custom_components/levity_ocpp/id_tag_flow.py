"""The id tag subentry flow: add an RFID card or app token, rename, block, expire, group it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
import probatio

from .const import (
    CONF_BLOCKED,
    CONF_EXPIRY,
    CONF_ID_TAG,
    CONF_PARENT_ID_TAG,
    CONF_PERSON,
    CONF_TAG_NAME,
)
from .csms.authorization import tag_key
from .id_tag_settings import (
    data_from_input,
    id_tag_subentries,
    is_valid_id_tag,
    own_id_tag,
    parse_expiry,
    subentry_title,
)

PERSON_SELECTOR = selector.EntitySelector(selector.EntitySelectorConfig(domain="person"))
EXPIRY_SELECTOR = selector.DateTimeSelector()


def tag_fields() -> dict[probatio.Marker, Any]:
    """What the user says about a tag besides the tag itself."""
    return {
        probatio.Optional(CONF_TAG_NAME): str,
        probatio.Optional(CONF_PERSON): PERSON_SELECTOR,
        probatio.Required(CONF_BLOCKED, default=False): bool,
        probatio.Optional(CONF_EXPIRY): EXPIRY_SELECTOR,
        probatio.Optional(CONF_PARENT_ID_TAG): str,
    }


def check_tag_fields(id_tag: str, user_input: Mapping[str, Any]) -> dict[str, str]:
    """Form errors of the fields besides the tag (the tag itself is checked already)."""
    errors: dict[str, str] = {}
    parent = (user_input.get(CONF_PARENT_ID_TAG) or "").strip()
    if parent and not is_valid_id_tag(parent):
        errors[CONF_PARENT_ID_TAG] = "invalid_id_tag"
    elif parent and tag_key(parent) == tag_key(id_tag):
        errors[CONF_PARENT_ID_TAG] = "parent_is_self"
    return errors  # the expiry's selector refuses what is no date and time


def _form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A subentry's data as the form shows it (the expiry in local time)."""
    values = {key: value for key, value in data.items() if value is not None}
    if (expiry := parse_expiry(data.get(CONF_EXPIRY))) is not None:
        values[CONF_EXPIRY] = dt_util.as_local(expiry).strftime("%Y-%m-%d %H:%M:%S")
    return values


class IdTagSubentryFlow(ConfigSubentryFlow):
    """Add an id tag, or change what is known about one."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a tag by its id (as the charger sends it; case does not matter)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = self._get_entry()
            id_tag = user_input[CONF_ID_TAG].strip()
            if not is_valid_id_tag(id_tag):
                errors[CONF_ID_TAG] = "invalid_id_tag"
            elif tag_key(id_tag) == tag_key(own_id_tag(entry)):
                errors[CONF_ID_TAG] = "own_id_tag"
            elif tag_key(id_tag) in id_tag_subentries(entry):
                return self.async_abort(reason="already_configured")
            else:
                errors = check_tag_fields(id_tag, user_input)
            if not errors:
                data = data_from_input(id_tag, user_input)
                return self.async_create_entry(title=subentry_title(data), data=data)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema({probatio.Required(CONF_ID_TAG): str, **tag_fields()}),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename, block, expire, group or link a tag to a person."""
        subentry = self._get_reconfigure_subentry()
        id_tag = subentry.data[CONF_ID_TAG]
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = check_tag_fields(id_tag, user_input)
            if not errors:
                data = data_from_input(id_tag, user_input)
                return self.async_update_and_abort(
                    self._get_entry(), subentry, title=subentry_title(data), data=data
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(tag_fields()), user_input or _form_values(subentry.data)
            ),
            errors=errors,
            description_placeholders={"id_tag": id_tag},
        )
