"""Charge point passwords (HTTP Basic authentication, security profiles 1 and 2).

Each approved charge point may have one, kept in its subentry. It is generated
(shown once, to enter in the charger) or entered, and can be rotated: a
connected charger that supports it is sent the new one (1.6 AuthorizationKey).

Rotation: when the charger accepts the new password, its previous one stays
valid until the charger first authenticates with the new one (a charger that
accepts but applies it only after a reboot is not locked out); then it is
forgotten. When the charger cannot be sent it (offline, refused, no such key),
the new password alone is valid at once: the user is shown it to enter it in
the charger. The connection that is open meanwhile stays open either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector
import probatio

from .charge_point_settings import charge_point_subentries, data_from_settings, settings_from_data
from .const import CONF_PASSWORD, CONF_PASSWORD_ACTION
from .csms.commands import ChargePointOffline, CommandFailed
from .csms.security import generate_password, password_configuration, password_problem
from .csms.settings import ChargePointSettings


class PasswordAction(StrEnum):
    """What the charge point form does with the password."""

    GENERATE = "generate"
    ENTER = "enter"
    KEEP = "keep"
    NONE = "none"  # no password: no authentication (profile 0 or client certificates)


ADD_ACTIONS = (PasswordAction.GENERATE, PasswordAction.ENTER, PasswordAction.NONE)
CHANGE_ACTIONS = (PasswordAction.KEEP, *ADD_ACTIONS)
PASSWORD_SELECTOR = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)


def password_schema(
    actions: tuple[PasswordAction, ...], default: PasswordAction
) -> dict[probatio.Marker, Any]:
    """The password fields of the charge point form (the password is never shown in it)."""
    return {
        probatio.Required(CONF_PASSWORD_ACTION, default=default.value): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[action.value for action in actions],
                translation_key=CONF_PASSWORD_ACTION,
                mode=selector.SelectSelectorMode.LIST,
            )
        ),
        probatio.Optional(CONF_PASSWORD): PASSWORD_SELECTOR,
    }


@dataclass(frozen=True, slots=True)
class PasswordChoice:
    """The password the form asked for; `generated` when the user must be shown it."""

    password: str | None
    generated: bool = False


def choose_password(
    user_input: Mapping[str, Any], current: str | None
) -> tuple[PasswordChoice | None, dict[str, str]]:
    """The password the form's answer asks for, or the form's errors."""
    action = PasswordAction(user_input[CONF_PASSWORD_ACTION])
    entered = str(user_input.get(CONF_PASSWORD) or "")
    if action is PasswordAction.ENTER:
        if (problem := password_problem(entered)) is not None:
            return None, {CONF_PASSWORD: problem}
        return PasswordChoice(entered), {}
    if entered:  # typed, but another choice made: say so rather than drop it
        return None, {CONF_PASSWORD: "password_not_used"}
    if action is PasswordAction.GENERATE:
        return PasswordChoice(generate_password(), generated=True), {}
    if action is PasswordAction.KEEP:
        return PasswordChoice(current), {}
    return PasswordChoice(None), {}


class Delivery(StrEnum):
    """What came of sending a charger its new password."""

    ACCEPTED = "accepted"
    OFFLINE = "offline"
    REFUSED = "refused"  # it answered, not Accepted (Rejected, NotSupported)
    FAILED = "failed"  # no answer: a timeout or a CALLERROR
    UNSUPPORTED = "unsupported"  # no way to send it in this OCPP version


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome, and what the charger said (its status, or the failure)."""

    delivery: Delivery
    detail: str = ""


async def async_send_password(
    entry: ConfigEntry, charge_point_id: str, password: str
) -> DeliveryResult:
    """Send a connected charger its new password; its answer decides what is next."""
    loaded = entry.state is ConfigEntryState.LOADED
    central_system = entry.runtime_data.central_system if loaded else None
    model = central_system.charge_points.get(charge_point_id) if central_system else None
    if central_system is None or model is None:
        return DeliveryResult(Delivery.OFFLINE)
    if (command := password_configuration(model.subprotocol, password)) is None:
        return DeliveryResult(Delivery.UNSUPPORTED, str(model.subprotocol))
    try:
        result = await central_system.execute(charge_point_id, command)
    except CommandFailed as error:
        if isinstance(error, ChargePointOffline):
            return DeliveryResult(Delivery.OFFLINE)
        return DeliveryResult(Delivery.FAILED, error.detail or error.reason)
    if not result.succeeded:
        return DeliveryResult(Delivery.REFUSED, str(result.status))
    return DeliveryResult(Delivery.ACCEPTED, str(result.status))


def rotated(
    settings: ChargePointSettings, password: str | None, delivery: Delivery | None
) -> ChargePointSettings:
    """The settings after a password change; the old one kept only if the charger took it."""
    if password == settings.password:
        return settings
    previous = settings.password if delivery is Delivery.ACCEPTED else None
    return replace(settings, password=password, previous_password=previous)


@callback
def async_forget_previous_password(
    hass: HomeAssistant, entry: ConfigEntry, charge_point_id: str
) -> None:
    """The charger uses its new password: the previous one stops working."""
    if (subentry := charge_point_subentries(entry).get(charge_point_id)) is None:
        return
    settings = settings_from_data(subentry.data)
    if settings.previous_password is None:
        return
    hass.config_entries.async_update_subentry(
        entry,
        subentry,
        data=data_from_settings(charge_point_id, replace(settings, previous_password=None)),
    )
