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

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector
import probatio

from .charge_point_settings import charge_point_subentries, data_from_settings, settings_from_data
from .const import CONF_PASSWORD, CONF_PASSWORD_ACTION
from .csms.commands import ChargePointOffline, CommandFailed, CommandResult
from .csms.security import (
    SecurityProfile,
    generate_password,
    password_configuration,
    password_problem,
)
from .csms.settings import ChargePointSettings
from .security_options import minimum_profile


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
    return await _async_deliver(central_system.execute(charge_point_id, command))


async def async_send_password_to_waiting(
    entry: ConfigEntry, charge_point_id: str, subprotocol: str | None, password: str
) -> DeliveryResult:
    """Give a charger being added (still Pending) its password before it is accepted.

    `entry` is loaded (the discovery's flow ends otherwise).
    """
    if (command := password_configuration(subprotocol, password)) is None:
        return DeliveryResult(Delivery.UNSUPPORTED, str(subprotocol))
    central_system = entry.runtime_data.central_system
    return await _async_deliver(central_system.configure_waiting(charge_point_id, command))


async def _async_deliver(sending: Awaitable[CommandResult]) -> DeliveryResult:
    try:
        result = await sending
    except CommandFailed as error:
        if isinstance(error, ChargePointOffline):
            return DeliveryResult(Delivery.OFFLINE)
        return DeliveryResult(Delivery.FAILED, error.detail or error.reason)
    if not result.succeeded:
        return DeliveryResult(Delivery.REFUSED, str(result.status))
    return DeliveryResult(Delivery.ACCEPTED, str(result.status))


def default_action(entry: ConfigEntry) -> PasswordAction:
    """A new charge point gets a password where the minimum profile needs one (1 or 2).

    At profile 0 no charger needs one (one that cannot send it would be locked
    out at its next connection); at 3 its client certificate says who it is.
    """
    if minimum_profile(entry.options) in (SecurityProfile.BASIC, SecurityProfile.TLS_BASIC):
        return PasswordAction.GENERATE
    return PasswordAction.NONE


def password_outcome(choice: PasswordChoice, result: DeliveryResult | None) -> dict[str, str]:
    """What a flow tells the user about a new password (description placeholders).

    A generated password is shown (once: it is not shown anywhere else); one the
    user typed is not repeated.
    """
    return {
        "password_set": "yes" if choice.password is not None else "no",
        "sent": "yes" if result is not None and result.delivery is Delivery.ACCEPTED else "no",
        "delivery": result.delivery.value if result is not None else "",
        "detail": result.detail if result is not None else "",
        "generated": "yes" if choice.generated else "no",
        "password": choice.password if choice.generated and choice.password else "",
    }


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
