"""Config flow: one entry per central system (a listening address and port)."""

from __future__ import annotations

from dataclasses import replace
import errno
import socket
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers import selector
from homeassistant.helpers.typing import DiscoveryInfoType
import probatio

from .central import LevityConfigEntry
from .charge_point_flow import ChargePointSubentryFlow
from .const import (
    CONF_ADMISSION_POLICY,
    CONF_AUTO_START_DELAY,
    CONF_COMMAND_TIMEOUT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_ID_TAG,
    CONF_METER_JUMP_LIMIT,
    DEFAULT_AUTO_START_DELAY,
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HOST,
    DEFAULT_ID_TAG,
    DEFAULT_METER_JUMP_LIMIT,
    DEFAULT_PORT,
    DOMAIN,
    MAX_COMMAND_TIMEOUT,
    MAX_HEARTBEAT_INTERVAL,
    MIN_COMMAND_TIMEOUT,
    MIN_HEARTBEAT_INTERVAL,
    SUBENTRY_CHARGE_POINT,
    SUBENTRY_ID_TAG,
)
from .credentials import (
    ADD_ACTIONS,
    async_send_password_to_waiting,
    choose_password,
    default_action,
    password_outcome,
    password_schema,
)
from .csms.settings import AdmissionPolicy
from .id_tag_discovery import IdTagDiscoveryFlow
from .id_tag_flow import IdTagSubentryFlow
from .limit_options import limit_options, limits_schema
from .migration import MINOR_VERSION, VERSION
from .new_charge_points import (
    CHARGE_POINT_ID,
    ENTRY_ID,
    SUBPROTOCOL,
    async_approve,
    description_placeholders,
    flow_unique_id,
    initial_settings,
    is_approved,
)
from .security_options import (
    SECURITY_OPTIONS,
    admission_problem,
    async_validate_security,
    minimum_profile,
    security_schema,
    without_password,
)

HEARTBEAT_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=MIN_HEARTBEAT_INTERVAL,
        max=MAX_HEARTBEAT_INTERVAL,
        step=1,
        unit_of_measurement="s",
        mode=selector.NumberSelectorMode.BOX,
    )
)
JUMP_LIMIT_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=0.1, max=1000, step=0.1, unit_of_measurement="kWh", mode=selector.NumberSelectorMode.BOX
    )
)
AUTO_START_DELAY_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=0, max=60, step=0.5, unit_of_measurement="s", mode=selector.NumberSelectorMode.BOX
    )
)
COMMAND_TIMEOUT_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=MIN_COMMAND_TIMEOUT,
        max=MAX_COMMAND_TIMEOUT,
        step=1,
        unit_of_measurement="s",
        mode=selector.NumberSelectorMode.BOX,
    )
)
# Shown in the setup form's description (a placeholder: the frontend's message format
# reads angle brackets as markup, and translators should not touch a URL).
EXAMPLE_URL = f"ws://homeassistant.local:{DEFAULT_PORT}/CP1"
PORT_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(min=1, max=65535, step=1, mode=selector.NumberSelectorMode.BOX)
)
POLICY_SELECTOR = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[policy.value for policy in AdmissionPolicy],
        translation_key=CONF_ADMISSION_POLICY,
        mode=selector.SelectSelectorMode.LIST,
    )
)


def _address_schema(defaults: dict[str, Any]) -> dict[probatio.Marker, Any]:
    return {
        probatio.Required(CONF_HOST, default=defaults.get(CONF_HOST, DEFAULT_HOST)): str,
        probatio.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): PORT_SELECTOR,
    }


def _heartbeat_schema(default: int) -> dict[probatio.Marker, Any]:
    return {probatio.Required(CONF_HEARTBEAT_INTERVAL, default=default): HEARTBEAT_SELECTOR}


def _policy_schema(default: str) -> dict[probatio.Marker, Any]:
    return {probatio.Required(CONF_ADMISSION_POLICY, default=default): POLICY_SELECTOR}


def _can_listen(host: str, port: int) -> str | None:
    """Try to bind the address; return an error key for the form, or None if it is free."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return "invalid_host"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server will: a port in TIME_WAIT after our own restart is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return "port_in_use" if error.errno == errno.EADDRINUSE else "cannot_listen"
    return None


async def _validate_address(
    hass: HomeAssistant, user_input: dict[str, Any], own: LevityConfigEntry | None
) -> dict[str, str]:
    """Check the port is ours to take: not another entry's, and free on this machine.

    The same host and port as an existing entry aborts the setup flow before this
    (the same central system twice); a port another entry uses on another host is an
    error the user corrects in the form.
    """
    host, port = user_input[CONF_HOST].strip(), int(user_input[CONF_PORT])
    for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if entry is not own and entry.data.get(CONF_PORT) == port:
            return {CONF_PORT: "port_already_configured"}
    error = await hass.async_add_executor_job(_can_listen, host, port)
    if error == "port_in_use" and own is not None and own.data[CONF_PORT] == port:
        # Our own running server holds it (on this host, or on all addresses while
        # the host changes); an address this machine doesn't have is still refused.
        error = None
    if error:
        return {CONF_PORT if error == "port_in_use" else CONF_HOST: error}
    return {}


class LevityConfigFlow(IdTagDiscoveryFlow, ConfigFlow, domain=DOMAIN):
    """Set up a central system that charge points connect to."""

    VERSION = VERSION
    MINOR_VERSION = MINOR_VERSION

    _discovered: DiscoveryInfoType

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: LevityConfigEntry) -> LevityOptionsFlow:
        """Options are applied by reloading the entry."""
        return LevityOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Charge points (approved, with their settings) and id tags are its subentries."""
        return {SUBENTRY_CHARGE_POINT: ChargePointSubentryFlow, SUBENTRY_ID_TAG: IdTagSubentryFlow}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask where to listen and how often chargers should send a heartbeat."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), int(user_input[CONF_PORT])
            self._async_abort_entries_match({CONF_HOST: host, CONF_PORT: port})
            errors = await _validate_address(self.hass, user_input, None)
            if not errors:
                return self.async_create_entry(
                    title=f"OCPP central system on port {port}",
                    data={CONF_HOST: host, CONF_PORT: port},
                    options={
                        CONF_HEARTBEAT_INTERVAL: int(user_input[CONF_HEARTBEAT_INTERVAL]),
                        CONF_ADMISSION_POLICY: user_input[CONF_ADMISSION_POLICY],
                    },
                )
        defaults = user_input or {}
        return self.async_show_form(
            step_id="user",
            data_schema=probatio.Schema(
                {
                    **_address_schema(defaults),
                    **_heartbeat_schema(
                        defaults.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL)
                    ),
                    **_policy_schema(defaults.get(CONF_ADMISSION_POLICY, AdmissionPolicy.APPROVE)),
                }
            ),
            errors=errors,
            description_placeholders={"example_url": EXAMPLE_URL},
        )

    async def async_step_integration_discovery(
        self, discovery_info: DiscoveryInfoType
    ) -> ConfigFlowResult:
        """A charger the user has not approved booted: offer to add it (or ignore it)."""
        entry = self._central_system(discovery_info)
        await self.async_set_unique_id(
            flow_unique_id(entry.entry_id, discovery_info[CHARGE_POINT_ID])
        )
        self._abort_if_unique_id_configured()  # ignored before
        if is_approved(entry, discovery_info[CHARGE_POINT_ID]):
            return self.async_abort(reason="charge_point_already_added")
        self._discovered = discovery_info
        self.context["title_placeholders"] = description_placeholders(entry, discovery_info)
        return await self.async_step_add()

    async def async_step_add(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add the charger: it is accepted at its next boot, which it is asked for now.

        A password chosen here is sent to it first, while it waits (credentials.py).
        """
        entry = self._central_system(self._discovered)
        placeholders = description_placeholders(entry, self._discovered)
        choice, errors = (None, {}) if user_input is None else choose_password(user_input, None)
        if choice is None:
            return self.async_show_form(
                step_id="add",
                data_schema=probatio.Schema(password_schema(ADD_ACTIONS, default_action(entry))),
                description_placeholders=placeholders,
                errors=errors,
            )
        # Approved meanwhile by hand, the central system would have ended this flow.
        charge_point_id = self._discovered[CHARGE_POINT_ID]
        subprotocol = self._discovered[SUBPROTOCOL]
        sent = None
        if choice.password is not None:
            sent = await async_send_password_to_waiting(
                entry, charge_point_id, subprotocol, choice.password
            )
        settings = replace(initial_settings(subprotocol), password=choice.password)
        async_approve(self.hass, entry, charge_point_id, settings)
        # The central system ends this flow as it sees the approval; HA takes an
        # abort from a flow removed during its step, and shows its message.
        return self.async_abort(
            reason="charge_point_added",
            description_placeholders={**placeholders, **password_outcome(choice, sent)},
        )

    def _central_system(self, discovery_info: DiscoveryInfoType) -> LevityConfigEntry:
        """The central system a charger asked to join; the flow ends if it is gone."""
        entry = self.hass.config_entries.async_get_entry(discovery_info[ENTRY_ID])
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            raise AbortFlow("central_system_not_loaded")
        return entry

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the central system to another address or port."""
        entry: LevityConfigEntry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await _validate_address(self.hass, user_input, entry)
            if not errors:
                port = int(user_input[CONF_PORT])
                return self.async_update_reload_and_abort(
                    entry,
                    title=f"OCPP central system on port {port}",
                    data={CONF_HOST: user_input[CONF_HOST].strip(), CONF_PORT: port},
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=probatio.Schema(_address_schema(user_input or dict(entry.data))),
            errors=errors,
        )


class LevityOptionsFlow(OptionsFlowWithReload):
    """Settings that take effect when the central system restarts."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Each group of settings is a step of its own."""
        return self.async_show_menu(
            step_id="init", menu_options=["general", "admission", "limits", "security"]
        )

    async def async_step_admission(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose whether new charge points wait for the user or are accepted at once."""
        errors: dict[str, str] = {}
        if user_input is not None and (
            error := admission_problem(
                user_input[CONF_ADMISSION_POLICY], minimum_profile(self.config_entry.options)
            )
        ):
            errors[CONF_ADMISSION_POLICY] = error
        elif user_input is not None:
            return self.async_create_entry(
                data={
                    **self.config_entry.options,
                    CONF_ADMISSION_POLICY: user_input[CONF_ADMISSION_POLICY],
                }
            )
        return self.async_show_form(
            step_id="admission",
            data_schema=probatio.Schema(
                _policy_schema(
                    self.config_entry.options.get(CONF_ADMISSION_POLICY, AdmissionPolicy.APPROVE)
                )
            ),
            errors=errors,
        )

    async def async_step_security(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the minimum security profile and the files for TLS (wss)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            security, errors = await async_validate_security(
                self.hass,
                self.config_entry,
                user_input,
                self.config_entry.options.get(CONF_ADMISSION_POLICY, AdmissionPolicy.APPROVE),
            )
            if not errors:
                kept = {
                    key: value
                    for key, value in self.config_entry.options.items()
                    if key not in SECURITY_OPTIONS
                }
                return self.async_create_entry(data={**kept, **security})
        return self.async_show_form(
            step_id="security",
            data_schema=security_schema(user_input or self.config_entry.options),
            errors=errors,
            description_placeholders={
                "without_password": ", ".join(without_password(self.config_entry)) or "-"
            },
        )

    async def async_step_limits(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change what one client may send and open (frame size, rate, connections)."""
        if user_input is not None:
            return self.async_create_entry(
                data={**self.config_entry.options, **limit_options(user_input)}
            )
        return self.async_show_form(
            step_id="limits", data_schema=limits_schema(self.config_entry.options)
        )

    async def async_step_general(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the heartbeat interval, meter-jump limit, command timeout and auto start."""
        errors: dict[str, str] = {}
        if user_input is not None and not 1 <= len(user_input[CONF_ID_TAG].strip()) <= 20:
            errors[CONF_ID_TAG] = "invalid_id_tag"  # OCPP 1.6 idToken is CiString20
        elif user_input is not None:
            return self.async_create_entry(
                data={
                    **self.config_entry.options,  # keep options set elsewhere (the id tag)
                    CONF_HEARTBEAT_INTERVAL: int(user_input[CONF_HEARTBEAT_INTERVAL]),
                    CONF_METER_JUMP_LIMIT: float(user_input[CONF_METER_JUMP_LIMIT]),
                    CONF_COMMAND_TIMEOUT: int(user_input[CONF_COMMAND_TIMEOUT]),
                    CONF_ID_TAG: user_input[CONF_ID_TAG].strip(),
                    CONF_AUTO_START_DELAY: float(user_input[CONF_AUTO_START_DELAY]),
                }
            )
        options = self.config_entry.options
        return self.async_show_form(
            step_id="general",
            data_schema=probatio.Schema(
                {
                    **_heartbeat_schema(
                        options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL)
                    ),
                    probatio.Required(
                        CONF_METER_JUMP_LIMIT,
                        default=options.get(CONF_METER_JUMP_LIMIT, DEFAULT_METER_JUMP_LIMIT),
                    ): JUMP_LIMIT_SELECTOR,
                    probatio.Required(
                        CONF_COMMAND_TIMEOUT,
                        default=options.get(CONF_COMMAND_TIMEOUT, DEFAULT_COMMAND_TIMEOUT),
                    ): COMMAND_TIMEOUT_SELECTOR,
                    probatio.Required(
                        CONF_ID_TAG, default=options.get(CONF_ID_TAG, DEFAULT_ID_TAG)
                    ): str,
                    probatio.Required(
                        CONF_AUTO_START_DELAY,
                        default=options.get(CONF_AUTO_START_DELAY, DEFAULT_AUTO_START_DELAY),
                    ): AUTO_START_DELAY_SELECTOR,
                }
            ),
            errors=errors,
        )
