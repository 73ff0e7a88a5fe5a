"""Shared fixtures: a running central system in HA and OCPP charge point clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.components.recorder import Recorder
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.entity import Entity
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.levity_ocpp  # noqa: F401 - HA must be able to find the integration
from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_HEARTBEAT_INTERVAL,
    DOMAIN,
)
from custom_components.levity_ocpp.entity import LevityEntity
from custom_components.levity_ocpp.migration import MINOR_VERSION

from .client import TestChargePoint, connect_charge_point

# pytest-homeassistant-custom-component turns on SQL statement logging; it buries
# our own log lines in CI output and costs time.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Let HA load custom_components/levity_ocpp (and its recorder dependency) in every test."""


# Entities disabled by default so that large sites fit HA's cap of enabled entities
# (capacity.py), which tests of what they show enable: (description key, on the charge
# point itself).
ENABLED_FOR_TESTS = frozenset(
    {
        ("applied_limit", False),
        ("firmware_status", True),
        ("error_code", False),
        ("error_code", True),
        ("available", True),
        ("refresh", True),
        ("clear_cache", True),
        ("limit_profile", True),
        ("soft_reset", True),
        ("status", True),
        ("available", False),
        ("unlock", False),
        ("charging_state", False),
        ("session_end", False),
    }
)


@pytest.fixture
def entities_enabled_by_default() -> Iterator[None]:
    """Those entities enabled when registered, as if the user had enabled them."""
    original = Entity.entity_registry_enabled_default

    def enabled(entity: Entity) -> bool:
        if isinstance(entity, LevityEntity):
            key = (entity.entity_description.key, entity.connector_id == 0)
            return (
                key in ENABLED_FOR_TESTS
                or entity.entity_description.entity_registry_enabled_default
            )
        return bool(original.__get__(entity, type(entity)))

    with patch.object(Entity, "entity_registry_enabled_default", property(enabled)):
        yield


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config directory per test: the journal is a real file in its `.storage`."""
    return hass_tmp_config_dir


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """A central system on a free port of 127.0.0.1 (port 0: the OS picks one).

    It accepts every new charge point, so tests of what a charger does need not
    approve it first (tests of approval set the policy to approve).
    """
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={CONF_HEARTBEAT_INTERVAL: 60, CONF_ADMISSION_POLICY: "accept"},
        minor_version=MINOR_VERSION,
    )


@pytest.fixture
async def setup_integration(
    hass: HomeAssistant,
    socket_enabled: None,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """Set up the integration with its server listening."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


@pytest.fixture
def port(setup_integration: MockConfigEntry) -> int:
    """The port the central system actually listens on."""
    port = setup_integration.runtime_data.central_system.bound_port
    assert port
    return port


type Connect = Callable[..., contextlib.AbstractAsyncContextManager[TestChargePoint]]


@pytest.fixture
def connect(port: int) -> Connect:
    """Connect OCPP 1.6 test charge points to the central system under test."""
    return lambda path="/CP1", **kwargs: connect_charge_point(port, path, **kwargs)


def listening_port(entry: MockConfigEntry) -> int:
    """The port a loaded entry's central system listens on (it changes on reload: port 0)."""
    port = entry.runtime_data.central_system.bound_port
    assert port
    return port


async def async_wait_until(
    hass: HomeAssistant, condition: Callable[[], object], within: float = 5.0
) -> None:
    """Wait (bounded) until `condition()` is true, letting HA and the sockets run meanwhile."""
    async with asyncio.timeout(within):
        while True:
            await hass.async_block_till_done()
            if condition():
                return
            await asyncio.sleep(0.01)


async def open_options_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> Any:
    """Open the options and pick one group of settings from the menu."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert step in result["menu_options"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
