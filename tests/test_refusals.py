"""Refused connections: what the charger sees on the wire and what the user sees in HA."""

from __future__ import annotations

from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.typing import Subprotocol

from custom_components.levity_ocpp.const import DOMAIN

from .client import connect_charge_point
from .conftest import Connect, listening_port

PATH_ADVICE = "the URL must end with the charge point's id"


def refusal_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """The repair issue listing this central system's refused connections."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"connection_refused_{entry.entry_id}")


def devices(hass: HomeAssistant, entry: MockConfigEntry) -> list[dr.DeviceEntry]:
    return dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)


async def refused(connect: Connect, path: str) -> int:
    """Try to connect; return the HTTP status of the refusal."""
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(path):
            pass
    return refusal.value.response.status_code


async def test_url_without_id_shown_as_repair_issue(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await refused(connect, "/ocpp/") == 400
    await hass.async_block_till_done()

    issue = refusal_issue(hass, setup_integration)
    assert issue is not None
    assert issue.severity == ir.IssueSeverity.WARNING
    assert issue.is_fixable is False
    assert issue.translation_key == "connection_refused"
    placeholders = issue.translation_placeholders
    assert placeholders is not None
    assert placeholders["path"] == "/ocpp/"
    assert placeholders["remote"].startswith("127.0.0.1:")
    assert PATH_ADVICE in placeholders["reason"]
    assert placeholders["refusals"].startswith("- `/ocpp/` from 127.0.0.1:")
    assert devices(hass, setup_integration) == []
    # No charger named "ocpp" was made up.
    assert "ocpp" not in setup_integration.runtime_data.charge_points
    [warning] = [r for r in caplog.records if "Refused connection" in r.getMessage()]
    assert warning.levelno == logging.WARNING


async def test_refusals_update_the_issue_at_most_once_a_minute(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await refused(connect, "/ocpp/") == 400
    assert await refused(connect, "/ocpp/") == 400  # the charger retries
    assert await refused(connect, "/CP%07") == 400
    await hass.async_block_till_done()
    issue = refusal_issue(hass, setup_integration)
    assert issue is not None
    assert issue.translation_placeholders["path"] == "/ocpp/"  # not rewritten yet

    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    placeholders = refusal_issue(hass, setup_integration).translation_placeholders
    assert placeholders["path"] == "/CP%07"
    assert "control characters" in placeholders["reason"]
    lines = placeholders["refusals"].splitlines()
    assert [line.split("`")[1] for line in lines] == ["/CP%07", "/ocpp/"]  # newest first
    assert devices(hass, setup_integration) == []
    # One warning per path and reason, however often the charger retries.
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "Refused" in r.message
    ]
    assert len(warnings) == 2


async def test_issue_keeps_the_last_five_paths_and_hides_queries(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    for number in range(7):
        assert await refused(connect, f"/ws/ocpp{number}/{'x' * 49}?token=secret") == 400
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    placeholders = refusal_issue(hass, setup_integration).translation_placeholders
    lines = placeholders["refusals"].splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(f"- `/ws/ocpp6/{'x' * 49}?**REDACTED**`")
    assert lines[-1].startswith("- `/ws/ocpp2/")
    assert "secret" not in str(placeholders)


async def test_issue_goes_a_day_after_the_last_refusal(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    assert await refused(connect, "/ocpp") == 400
    await hass.async_block_till_done()
    freezer.tick(timedelta(hours=23))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert refusal_issue(hass, setup_integration) is not None
    freezer.tick(timedelta(hours=1, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert refusal_issue(hass, setup_integration) is None


async def test_issue_survives_a_reload_and_goes_with_the_entry(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    assert await refused(connect, "/ocpp/") == 400
    assert await refused(connect, "/csms") == 400  # held back by the once-a-minute rule
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    issue = refusal_issue(hass, setup_integration)
    assert issue is not None
    assert issue.translation_placeholders["path"] == "/csms"  # shown before unloading

    # The reloaded entry still ends it a day later.
    freezer.tick(timedelta(days=1, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert refusal_issue(hass, setup_integration) is None

    assert await refused(connect_to(setup_integration), "/ocpp/") == 400
    await hass.async_block_till_done()
    assert refusal_issue(hass, setup_integration) is not None
    assert await hass.config_entries.async_remove(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert refusal_issue(hass, setup_integration) is None


def connect_to(entry: MockConfigEntry) -> Connect:
    """Connect to the entry's current port (a reload listens on a new one: port 0)."""
    return lambda path="/CP1", **kwargs: connect_charge_point(listening_port(entry), path, **kwargs)


# Unsupported OCPP versions


@pytest.mark.parametrize("offered", [["ocpp2.1"], ["foo"], ["ocpp2.1", "ocpp1.5"]])
async def test_unsupported_subprotocol_handshake_then_close(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
    offered: list[str],
) -> None:
    """OCPP-J 1.6 3.1.2: complete the handshake without a subprotocol, then close."""
    async with connect(
        f"ws://127.0.0.1:{port}/CP1", subprotocols=[Subprotocol(p) for p in offered]
    ) as websocket:
        assert websocket.response is not None
        assert websocket.response.status_code == 101
        assert "Sec-WebSocket-Protocol" not in websocket.response.headers
        with pytest.raises(ConnectionClosedError):
            await websocket.recv()
    assert websocket.close_code == 1002
    assert websocket.close_reason == "unsupported OCPP version; supported: ocpp1.6, ocpp2.0.1"

    [warning] = [r for r in caplog.records if "Refused" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert offered[0] in warning.getMessage()
    await hass.async_block_till_done()
    assert devices(hass, setup_integration) == []
    placeholders = refusal_issue(hass, setup_integration).translation_placeholders
    assert placeholders["path"] == "/CP1"
    assert "ocpp1.6" in placeholders["reason"]
    assert offered[0] in placeholders["reason"]
