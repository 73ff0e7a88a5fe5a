"""Constants of the Levity OCPP integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "levity_ocpp"
# The README, as manifest.json's `documentation` (a test keeps the two equal).
DOCUMENTATION_URL: Final = "https://github.com/levity-ocpp/levity_ocpp"

CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"

DEFAULT_HOST: Final = "0.0.0.0"
DEFAULT_PORT: Final = 9000
DEFAULT_HEARTBEAT_INTERVAL: Final = 300
MIN_HEARTBEAT_INTERVAL: Final = 10
MAX_HEARTBEAT_INTERVAL: Final = 86400

CONF_METER_JUMP_LIMIT: Final = "meter_jump_limit"
DEFAULT_METER_JUMP_LIMIT: Final = 10.0  # kWh between two samples

CONF_ID_TAG: Final = "id_tag"
DEFAULT_ID_TAG: Final = "HomeAssistant"  # the id tag HA starts sessions with
CONF_AUTO_START_DELAY: Final = "auto_start_delay"
DEFAULT_AUTO_START_DELAY: Final = 1.0  # seconds after Preparing (the Grizzl-E needs one)

CONF_COMMAND_TIMEOUT: Final = "command_timeout"
DEFAULT_COMMAND_TIMEOUT: Final = 30  # seconds a charger has to answer a command
MIN_COMMAND_TIMEOUT: Final = 1
MAX_COMMAND_TIMEOUT: Final = 300

# Who may connect: a policy per central system (entry options).
CONF_ADMISSION_POLICY: Final = "admission_policy"

# One config subentry per approved charge point; its data holds these keys
# (csms/settings.py ChargePointSettings is what the central system reads).
SUBENTRY_CHARGE_POINT: Final = "charge_point"
CONF_CHARGE_POINT_ID: Final = "charge_point_id"
CONF_PASSWORD: Final = "password"
CONF_AUTHORIZATION: Final = "authorization"
CONF_VALIDATE_SCHEMA: Final = "validate_schema"
CONF_WEBSOCKET_PING: Final = "websocket_ping"
CONF_SUBPROTOCOL_OPTIONAL: Final = "subprotocol_optional"
CONF_OCPP_VERSION: Final = "ocpp_version"

# Security (entry options, "security" step): OCPP security profiles 1-3.
CONF_SECURITY_PROFILE: Final = "security_profile"  # the minimum a charger must reach
CONF_CERTFILE: Final = "certfile"
CONF_KEYFILE: Final = "keyfile"
CONF_CAFILE: Final = "cafile"
CONF_ALLOW_OLD_TLS: Final = "allow_old_tls"
# In a charge point subentry: the password before a rotation the charger accepted.
CONF_PREVIOUS_PASSWORD: Final = "previous_password"
# In the charge point form: generate, enter, keep or remove the password.
CONF_PASSWORD_ACTION: Final = "password_action"

# One config subentry per id tag (an RFID card, an app token, or a group id); its data
# holds CONF_ID_TAG and these (csms/authorization.py IdTag is what the rules read).
SUBENTRY_ID_TAG: Final = "id_tag"
CONF_TAG_NAME: Final = "name"
CONF_BLOCKED: Final = "blocked"
CONF_EXPIRY: Final = "expiry"
CONF_PARENT_ID_TAG: Final = "parent_id_tag"
CONF_PERSON: Final = "person"
