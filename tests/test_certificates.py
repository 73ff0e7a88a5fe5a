"""The server certificate's repair issue (expiring within 14 days) and its renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.levity_ocpp.const import DOMAIN

from .pki import Issued, TestPki
from .security_helpers import setup_secured


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    """A CA for the server certificates."""
    return TestPki(tmp_path)


def options(server: Issued) -> dict[str, object]:
    """Serve wss with this certificate (minimum profile 0)."""
    return {"certfile": str(server.certfile), "keyfile": str(server.keyfile)}


def issue(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    """The certificate repair issue of a central system."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"certificate_expiry_{entry_id}")


def expiring_in(pki: TestPki, days: float, name: str = "server") -> Issued:
    """A server certificate that expires `days` from now."""
    return pki.issue(
        "Levity OCPP",
        server=True,
        not_after=datetime.now(UTC) + timedelta(days=days),
        file_name=name,
    )


async def test_a_certificate_expiring_soon_is_a_repair_issue(
    hass: HomeAssistant, socket_enabled: None, pki: TestPki
) -> None:
    server = expiring_in(pki, 10.5)
    entry = await setup_secured(hass, options(server))
    found = issue(hass, entry.entry_id)
    assert found is not None
    assert found.translation_key == "certificate_expiring"
    assert found.severity is ir.IssueSeverity.WARNING
    assert found.translation_placeholders["days"] == "10"
    assert found.translation_placeholders["certfile"] == str(server.certfile)
    # Gone with the entry.
    await hass.config_entries.async_remove(entry.entry_id)
    assert issue(hass, entry.entry_id) is None


async def test_an_expired_certificate_is_an_error_but_still_served(
    hass: HomeAssistant, socket_enabled: None, pki: TestPki
) -> None:
    """Chargers that do not check dates keep working while the user renews it."""
    server = pki.issue(
        "Levity OCPP",
        server=True,
        not_before=datetime.now(UTC) - timedelta(days=100),
        not_after=datetime.now(UTC) - timedelta(days=2),
    )
    entry = await setup_secured(hass, options(server))
    assert entry.state is ConfigEntryState.LOADED
    found = issue(hass, entry.entry_id)
    assert found is not None
    assert (found.translation_key, found.severity) == (
        "certificate_expired",
        ir.IssueSeverity.ERROR,
    )


async def test_the_daily_check_raises_the_issue_and_takes_a_renewal(
    hass: HomeAssistant, socket_enabled: None, pki: TestPki, freezer: FrozenDateTimeFactory
) -> None:
    server = expiring_in(pki, 20)
    entry = await setup_secured(hass, options(server))
    assert issue(hass, entry.entry_id) is None
    freezer.tick(timedelta(days=7))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issue(hass, entry.entry_id) is not None

    # Renewed in place (as the Let's Encrypt add-on does): taken within a day.
    before = entry.runtime_data
    renewed = expiring_in(pki, 90, name="renewed")
    shutil.copy(renewed.certfile, server.certfile)
    shutil.copy(renewed.keyfile, server.keyfile)
    freezer.tick(timedelta(days=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not before
    assert issue(hass, entry.entry_id) is None


async def test_a_half_renewed_pair_is_not_taken(
    hass: HomeAssistant,
    socket_enabled: None,
    pki: TestPki,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = expiring_in(pki, 60)
    entry = await setup_secured(hass, options(server))
    before = entry.runtime_data
    renewed = expiring_in(pki, 90, name="renewed")
    shutil.copy(renewed.certfile, server.certfile)  # the key not yet
    freezer.tick(timedelta(days=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data is before
    assert "cannot be used" in caplog.text
    assert "key_mismatch" in caplog.text


async def test_no_tls_no_issue(hass: HomeAssistant, socket_enabled: None, pki: TestPki) -> None:
    server = expiring_in(pki, 3)
    entry = await setup_secured(hass, options(server))
    assert issue(hass, entry.entry_id) is not None
    hass.config_entries.async_update_entry(entry, options={"heartbeat_interval": 60})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, entry.entry_id) is None
