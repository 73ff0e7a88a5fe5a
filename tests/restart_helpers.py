"""A second Home Assistant on the same config directory: what a restart of HA finds."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from typing import Any

from homeassistant import loader
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.levity_ocpp.const import DOMAIN


@contextlib.asynccontextmanager
async def restarted(
    hass: HomeAssistant, entry: MockConfigEntry, async_test_recorder: Any
) -> AsyncIterator[tuple[HomeAssistant, int]]:
    """A new HA instance on the same config directory; yields it and the server's port."""
    async with (
        async_test_home_assistant(config_dir=hass.config.config_dir) as hass2,
        async_test_recorder(hass2),
    ):
        hass2.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        again = MockConfigEntry(
            domain=DOMAIN,
            entry_id=entry.entry_id,
            data=dict(entry.data),
            options=dict(entry.options),
        )
        again.add_to_hass(hass2)
        assert await hass2.config_entries.async_setup(again.entry_id)
        await hass2.async_block_till_done()
        yield hass2, again.runtime_data.central_system.bound_port
        await hass2.async_stop(force=True)
