"""Charge point settings kept in config subentries, read by the central system live.

One subentry of type `charge_point` per approved charge point; its unique id is the
charge point id. Adding, changing or removing one takes effect without a reload:
the next handshake and message see the new settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry

from .const import (
    CONF_AUTHORIZATION,
    CONF_CHARGE_POINT_ID,
    CONF_OCPP_VERSION,
    CONF_PASSWORD,
    CONF_PREVIOUS_PASSWORD,
    CONF_SUBPROTOCOL_OPTIONAL,
    CONF_VALIDATE_SCHEMA,
    CONF_WEBSOCKET_PING,
    SUBENTRY_CHARGE_POINT,
)
from .csms.settings import AuthorizationMode, ChargePointSettings, OcppVersion

DEFAULTS = ChargePointSettings()


def settings_from_data(data: Mapping[str, Any]) -> ChargePointSettings:
    """The settings a subentry's data describes; missing keys take the defaults."""
    return ChargePointSettings(
        password=data.get(CONF_PASSWORD) or None,
        previous_password=data.get(CONF_PREVIOUS_PASSWORD) or None,
        authorization=AuthorizationMode(data.get(CONF_AUTHORIZATION, DEFAULTS.authorization)),
        validate_schema=bool(data.get(CONF_VALIDATE_SCHEMA, DEFAULTS.validate_schema)),
        websocket_ping=bool(data.get(CONF_WEBSOCKET_PING, DEFAULTS.websocket_ping)),
        subprotocol_optional=bool(
            data.get(CONF_SUBPROTOCOL_OPTIONAL, DEFAULTS.subprotocol_optional)
        ),
        ocpp_version=OcppVersion(data.get(CONF_OCPP_VERSION, DEFAULTS.ocpp_version)),
    )


def data_from_settings(charge_point_id: str, settings: ChargePointSettings) -> dict[str, Any]:
    """The subentry data that stores these settings."""
    return {
        CONF_CHARGE_POINT_ID: charge_point_id,
        CONF_PASSWORD: settings.password,
        CONF_PREVIOUS_PASSWORD: settings.previous_password,
        CONF_AUTHORIZATION: settings.authorization.value,
        CONF_VALIDATE_SCHEMA: settings.validate_schema,
        CONF_WEBSOCKET_PING: settings.websocket_ping,
        CONF_SUBPROTOCOL_OPTIONAL: settings.subprotocol_optional,
        CONF_OCPP_VERSION: settings.ocpp_version.value,
    }


def charge_point_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """The charge point subentries of an entry, by charge point id."""
    return {
        subentry.data[CONF_CHARGE_POINT_ID]: subentry
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_CHARGE_POINT
    }


def settings_from_entry(entry: ConfigEntry) -> dict[str, ChargePointSettings]:
    """Every approved charge point's settings, by charge point id."""
    return {
        charge_point_id: settings_from_data(subentry.data)
        for charge_point_id, subentry in charge_point_subentries(entry).items()
    }
