"""Actions for a charger's local authorization list and authorization cache."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import probatio

from .command_target import action_schema, target_of
from .const import DOMAIN
from .control import command_failure
from .csms import commands as c
from .csms.local_list import FEATURE_PROFILE

UPDATE_TYPES = ("full", "differential")


async def _send_local_list(call: ServiceCall) -> ServiceResponse:
    """Bring the charger's list in line with the id tags now: all of it, or what changed."""
    target = target_of(call)
    charge_point = target.charge_point
    if not charge_point.supports(FEATURE_PROFILE):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="local_list_not_supported",
            translation_placeholders={"charge_point": charge_point.id},
        )
    full = call.data["update_type"] == "full"
    try:
        update = await target.central.central_system.local_list.send(charge_point, full=full)
    except c.CommandFailed as error:
        raise command_failure(error, charge_point.id, "send local list") from error
    if update.status not in (None, c.Status.ACCEPTED):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_refused",
            translation_placeholders={
                "charge_point": charge_point.id,
                "command": "send local list",
                "status": str(update.status),
            },
        )
    return {
        "version": update.version,
        "messages": update.sent,
        "id_tags": len(charge_point.local_list),
    }


async def _get_local_list_version(call: ServiceCall) -> ServiceResponse:
    result = await target_of(call).execute(c.GetLocalListVersion())
    return {"version": result.data.get("list_version")}


async def _clear_cache(call: ServiceCall) -> ServiceResponse:
    await target_of(call).execute(c.ClearCache())
    return None


def async_setup_local_list_services(hass: HomeAssistant) -> None:
    """Register the local list and cache actions."""
    hass.services.async_register(
        DOMAIN,
        "send_local_list",
        _send_local_list,
        schema=action_schema(
            {probatio.Optional("update_type", default="full"): probatio.In(UPDATE_TYPES)},
            connector=False,
        ),
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        "get_local_list_version",
        _get_local_list_version,
        schema=action_schema(connector=False),
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, "clear_cache", _clear_cache, schema=action_schema(connector=False)
    )
