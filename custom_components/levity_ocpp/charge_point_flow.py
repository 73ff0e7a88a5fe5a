"""The charge point subentry flow: add a charge point by hand, or change its settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers import selector
import probatio

from .charge_point_settings import (
    charge_point_subentries,
    data_from_settings,
    settings_from_data,
)
from .const import (
    CONF_AUTHORIZATION,
    CONF_CHARGE_POINT_ID,
    CONF_OCPP_VERSION,
    CONF_PASSWORD,
    CONF_SUBPROTOCOL_OPTIONAL,
    CONF_VALIDATE_SCHEMA,
    CONF_WEBSOCKET_PING,
)
from .credentials import (
    ADD_ACTIONS,
    CHANGE_ACTIONS,
    PasswordAction,
    async_send_password,
    choose_password,
    default_action,
    password_outcome,
    password_schema,
    rotated,
)
from .csms.paths import InvalidChargePointId, validate_charge_point_id
from .csms.settings import AuthorizationMode, ChargePointSettings, OcppVersion

AUTHORIZATION_SELECTOR = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[mode.value for mode in AuthorizationMode],
        translation_key=CONF_AUTHORIZATION,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)
OCPP_VERSION_SELECTOR = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[version.value for version in OcppVersion],
        translation_key=CONF_OCPP_VERSION,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)


def _settings_schema(settings: ChargePointSettings) -> dict[probatio.Marker, Any]:
    return {
        probatio.Required(
            CONF_AUTHORIZATION, default=settings.authorization.value
        ): AUTHORIZATION_SELECTOR,
        probatio.Required(
            CONF_OCPP_VERSION, default=settings.ocpp_version.value
        ): OCPP_VERSION_SELECTOR,
        probatio.Required(CONF_VALIDATE_SCHEMA, default=settings.validate_schema): bool,
        probatio.Required(CONF_WEBSOCKET_PING, default=settings.websocket_ping): bool,
        probatio.Required(CONF_SUBPROTOCOL_OPTIONAL, default=settings.subprotocol_optional): bool,
    }


class ChargePointSubentryFlow(ConfigSubentryFlow):
    """Add a charge point that may connect, or change how one is served."""

    def __init__(self) -> None:
        """Nothing chosen yet."""
        self._new: tuple[str, dict[str, Any]] | None = None
        self._outcome: dict[str, str] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a charge point by its id (the last part of the URL it connects to)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            charge_point_id = user_input[CONF_CHARGE_POINT_ID].strip()
            try:
                validate_charge_point_id(charge_point_id)
            except InvalidChargePointId:
                errors[CONF_CHARGE_POINT_ID] = "invalid_charge_point_id"
            else:
                if charge_point_id in charge_point_subentries(self._get_entry()):
                    return self.async_abort(reason="already_configured")
                choice, errors = choose_password(user_input, None)
            if not errors:
                assert choice is not None
                settings = replace(settings_from_data(user_input), password=choice.password)
                self._new = (charge_point_id, data_from_settings(charge_point_id, settings))
                if choice.generated:
                    return await self.async_step_new_password()
                return self._create()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_CHARGE_POINT_ID): str,
                        **password_schema(ADD_ACTIONS, default_action(self._get_entry())),
                        **_settings_schema(ChargePointSettings()),
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_new_password(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Show the generated password, once; the charge point is added when confirmed."""
        assert self._new is not None
        charge_point_id, data = self._new
        if user_input is not None:
            return self._create()
        return self.async_show_form(
            step_id="new_password",
            description_placeholders={
                "charge_point_id": charge_point_id,
                "password": data[CONF_PASSWORD],
            },
        )

    def _create(self) -> SubentryFlowResult:
        assert self._new is not None
        charge_point_id, data = self._new
        return self.async_create_entry(title=charge_point_id, data=data, unique_id=charge_point_id)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a charge point's password, authorization and leniency settings.

        A new password is sent to the charger first when it is connected; what it
        answers decides whether its previous password keeps working meanwhile.
        """
        entry, subentry = self._get_entry(), self._get_reconfigure_subentry()
        charge_point_id = subentry.data[CONF_CHARGE_POINT_ID]
        current = settings_from_data(subentry.data)
        errors: dict[str, str] = {}
        if user_input is not None:
            choice, errors = choose_password(user_input, current.password)
            if choice is not None:
                chosen = replace(
                    settings_from_data(user_input),
                    password=current.password,
                    previous_password=current.previous_password,
                )
                if choice.password is None or choice.password == current.password:
                    settings = rotated(chosen, choice.password, None)
                    return self.async_update_and_abort(
                        entry, subentry, data=data_from_settings(charge_point_id, settings)
                    )
                result = await async_send_password(entry, charge_point_id, choice.password)
                settings = rotated(chosen, choice.password, result.delivery)
                self.hass.config_entries.async_update_subentry(
                    entry, subentry, data=data_from_settings(charge_point_id, settings)
                )
                self._outcome = {
                    "charge_point_id": charge_point_id,
                    "previous": "yes" if current.password else "no",
                    **password_outcome(choice, result),
                }
                return await self.async_step_password_changed()
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=probatio.Schema(
                {
                    **password_schema(CHANGE_ACTIONS, PasswordAction.KEEP),
                    **_settings_schema(current),
                }
            ),
            errors=errors,
            description_placeholders={"charge_point_id": charge_point_id},
        )

    async def async_step_password_changed(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Say whether the charger took its new password, or what to enter in it."""
        if user_input is not None:
            return self.async_abort(reason="password_changed")
        return self.async_show_form(
            step_id="password_changed", description_placeholders=self._outcome
        )
