"""The config flow: where the central system listens, reconfiguring it, and its options."""

from __future__ import annotations

from collections.abc import Iterator
import socket
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from ocpp.v16.enums import RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DOMAIN,
)

from .client import ConfiguredChargePoint, connect_charge_point
from .conftest import listening_port, open_options_step

LOCALHOST = "127.0.0.1"
TEST_NET = "192.0.2.1"  # TEST-NET-1: never an address of this machine


@pytest.fixture
def mock_setup_entry() -> Iterator[AsyncMock]:
    """Skip the real central system where the flow alone is under test."""
    with patch("custom_components.levity_ocpp.async_setup_entry", return_value=True) as mock_setup:
        yield mock_setup


@pytest.fixture
def free_port(socket_enabled: None) -> int:
    """A port of 127.0.0.1 that nothing listens on (the OS just handed it out)."""
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def busy_port(socket_enabled: None) -> Iterator[int]:
    """A port of 127.0.0.1 another program listens on."""
    with socket.socket() as squatter:
        squatter.bind((LOCALHOST, 0))
        squatter.listen()
        yield squatter.getsockname()[1]


def user_input(
    port: int, host: str = LOCALHOST, heartbeat: int = 120, policy: str = "approve"
) -> dict[str, Any]:
    """What a user types into the form."""
    return {
        CONF_HOST: host,
        CONF_PORT: port,
        CONF_HEARTBEAT_INTERVAL: heartbeat,
        CONF_ADMISSION_POLICY: policy,
    }


async def test_user_flow_creates_entry(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, free_port: int
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert result["data_schema"]({}) == {
        CONF_HOST: DEFAULT_HOST,
        CONF_PORT: DEFAULT_PORT,
        CONF_HEARTBEAT_INTERVAL: DEFAULT_HEARTBEAT_INTERVAL,
        CONF_ADMISSION_POLICY: "approve",  # new charge points wait for the user
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        user_input(free_port, host=f"  {LOCALHOST} ", heartbeat=120, policy="accept"),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"OCPP central system on port {free_port}"
    assert result["data"] == {CONF_HOST: LOCALHOST, CONF_PORT: free_port}
    assert result["options"] == {CONF_HEARTBEAT_INTERVAL: 120, CONF_ADMISSION_POLICY: "accept"}
    assert isinstance(result["data"][CONF_PORT], int)
    assert len(mock_setup_entry.mock_calls) == 1


async def test_user_flow_port_in_use(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, socket_enabled: None
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with socket.socket() as squatter:
        squatter.bind((LOCALHOST, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(port, heartbeat=45)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_PORT: "port_in_use"}
        # The form comes back with what the user typed.
        assert result["data_schema"]({}) == user_input(port, heartbeat=45)

    # The other program went away: the same input now goes through.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(port, heartbeat=45)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: LOCALHOST, CONF_PORT: port}


async def test_user_flow_port_already_configured(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, free_port: int, busy_port: int
) -> None:
    """Another entry's port on another address: an error the user fixes in the form."""
    MockConfigEntry(domain=DOMAIN, data={CONF_HOST: "0.0.0.0", CONF_PORT: busy_port}).add_to_hass(
        hass
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(busy_port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "port_already_configured"}
    assert not mock_setup_entry.mock_calls

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(free_port)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: LOCALHOST, CONF_PORT: free_port}
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


async def test_user_flow_same_central_system_aborts(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, free_port: int
) -> None:
    """The address and port of an existing entry: that central system is already set up."""
    MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: free_port}).add_to_hass(
        hass
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(free_port, host=f" {LOCALHOST}")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert not mock_setup_entry.mock_calls


async def test_user_flow_invalid_host(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, free_port: int
) -> None:
    """A name that does not resolve (the test harness forbids real DNS: simulate it)."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: str | None, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch("custom_components.levity_ocpp.config_flow.socket.getaddrinfo", getaddrinfo):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(free_port, host="no-such-host.invalid")
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    assert not mock_setup_entry.mock_calls

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(free_port)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: LOCALHOST, CONF_PORT: free_port}


async def test_user_flow_address_not_of_this_machine(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, free_port: int
) -> None:
    """Binding fails with something else than EADDRINUSE (here EADDRNOTAVAIL)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(free_port, host=TEST_NET)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "cannot_listen"}
    assert not mock_setup_entry.mock_calls

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(free_port)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: LOCALHOST, CONF_PORT: free_port}


# Reconfigure


async def test_reconfigure_same_address_skips_bind_check(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, busy_port: int
) -> None:
    """The running central system holds its own port: that is not 'in use'."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: busy_port})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["data_schema"]({}) == {CONF_HOST: LOCALHOST, CONF_PORT: busy_port}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: LOCALHOST, CONF_PORT: busy_port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_HOST: LOCALHOST, CONF_PORT: busy_port}


async def test_reconfigure_host_on_own_port(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, busy_port: int
) -> None:
    """Only the host changes (0.0.0.0 -> one address): the port is still ours."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: "0.0.0.0", CONF_PORT: busy_port})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: LOCALHOST, CONF_PORT: busy_port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_HOST: LOCALHOST, CONF_PORT: busy_port}


async def test_reconfigure_new_port(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, busy_port: int, free_port: int
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"OCPP central system on port {busy_port}",
        data={CONF_HOST: LOCALHOST, CONF_PORT: busy_port},
        options={CONF_HEARTBEAT_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f"{LOCALHOST} ", CONF_PORT: free_port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_HOST: LOCALHOST, CONF_PORT: free_port}
    assert entry.title == f"OCPP central system on port {free_port}"
    assert entry.options == {CONF_HEARTBEAT_INTERVAL: 60}
    await hass.async_block_till_done()
    assert mock_setup_entry.mock_calls  # reloaded with the new address


async def test_reconfigure_refuses_taken_ports(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, busy_port: int, free_port: int
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: free_port})
    entry.add_to_hass(hass)
    other = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: 9123})
    other.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    # Another entry's port.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: LOCALHOST, CONF_PORT: 9123}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "port_already_configured"}
    assert result["data_schema"]({}) == {CONF_HOST: LOCALHOST, CONF_PORT: 9123}
    # Another program's port.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: LOCALHOST, CONF_PORT: busy_port}
    )
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    # Own port, but another address: that one is checked.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: TEST_NET, CONF_PORT: free_port}
    )
    assert result["errors"] == {CONF_HOST: "cannot_listen"}
    # An address that does not resolve.
    with patch(
        "custom_components.levity_ocpp.config_flow.socket.getaddrinfo",
        side_effect=socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "no-such-host.invalid", CONF_PORT: free_port}
        )
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    assert entry.data == {CONF_HOST: LOCALHOST, CONF_PORT: free_port}
    assert not mock_setup_entry.mock_calls

    # Corrected: a free port of this machine, on this machine's address.
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        new_port = probe.getsockname()[1]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: LOCALHOST, CONF_PORT: new_port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_HOST: LOCALHOST, CONF_PORT: new_port}


# Options


async def test_options_flow_reloads_with_new_heartbeat_interval(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    entry = setup_integration
    async with connect_charge_point(port, "/CP1", charge_point_class=ConfiguredChargePoint) as cp:
        assert (await cp.boot()).interval == 60

    result = await open_options_step(hass, entry, "general")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "general"
    defaults = result["data_schema"]({})
    assert defaults[CONF_HEARTBEAT_INTERVAL] == 60

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, CONF_HEARTBEAT_INTERVAL: 120.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_HEARTBEAT_INTERVAL] == 120
    assert isinstance(entry.options[CONF_HEARTBEAT_INTERVAL], int)

    # Reloaded: a new server (port 0 gives it a new port), the old one is gone.
    assert entry.state is ConfigEntryState.LOADED
    new_port = listening_port(entry)
    assert new_port != port
    with pytest.raises(ConnectionRefusedError):
        async with connect_charge_point(port, "/CP1"):
            pass
    async with connect_charge_point(
        new_port, "/CP1", charge_point_class=ConfiguredChargePoint
    ) as cp:
        reply = await cp.boot()
        assert reply.status == RegistrationStatus.accepted
        assert reply.interval == 120


async def test_options_flow_default_when_unset(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: 9000})
    entry.add_to_hass(hass)
    result = await open_options_step(hass, entry, "general")
    assert result["data_schema"]({})[CONF_HEARTBEAT_INTERVAL] == DEFAULT_HEARTBEAT_INTERVAL


async def test_options_flow_sets_the_id_tag_and_auto_start_delay(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: 9000})
    entry.add_to_hass(hass)
    result = await open_options_step(hass, entry, "general")
    defaults = result["data_schema"]({})
    assert (defaults["id_tag"], defaults["auto_start_delay"]) == ("HomeAssistant", 1.0)
    # An id tag OCPP 1.6 cannot carry is refused in the form, then corrected.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, "id_tag": "X" * 21}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"id_tag": "invalid_id_tag"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, "id_tag": " GARAGE ", "auto_start_delay": 2.5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (entry.options["id_tag"], entry.options["auto_start_delay"]) == ("GARAGE", 2.5)
