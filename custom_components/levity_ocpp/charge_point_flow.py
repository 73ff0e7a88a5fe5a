"""The charge point subentry flow: add a charge point by hand, or change its settings."""

from __future__ import annotations

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
PASSWORD_SELECTOR = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)


def _settings_schema(settings: ChargePointSettings) -> dict[probatio.Marker, Any]:
    return {
        probatio.Optional(
            CONF_PASSWORD, description={"suggested_value": settings.password}
        ): PASSWORD_SELECTOR,
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
                settings = settings_from_data(user_input)
                return self.async_create_entry(
                    title=charge_point_id,
                    data=data_from_settings(charge_point_id, settings),
                    unique_id=charge_point_id,
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_CHARGE_POINT_ID): str,
                        **_settings_schema(ChargePointSettings()),
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a charge point's password, authorization and leniency settings."""
        subentry = self._get_reconfigure_subentry()
        charge_point_id = subentry.data[CONF_CHARGE_POINT_ID]
        if user_input is not None:
            return self.async_update_and_abort(
                self._get_entry(),
                subentry,
                data=data_from_settings(charge_point_id, settings_from_data(user_input)),
            )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=probatio.Schema(_settings_schema(settings_from_data(subentry.data))),
            description_placeholders={"charge_point_id": charge_point_id},
        )
