"""The security options step: each unusable file a specific error, good files serve wss."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from ocpp.v16.enums import RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .client import ConfiguredChargePoint, connect_charge_point
from .conftest import open_options_step
from .pki import Issued, TestPki
from .security_helpers import basic, port_of, setup_secured

PASSWORD = "correct-horse-battery"


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    """A CA for the server's and chargers' certificates."""
    return TestPki(tmp_path)


@pytest.fixture
def server(pki: TestPki) -> Issued:
    """A good server certificate and key."""
    return pki.issue("Levity OCPP", server=True)


async def submit(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> Any:
    """Open the security step and submit it."""
    result = await open_options_step(hass, entry, "security")
    assert result["type"] is FlowResultType.FORM
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"security_profile": "0", "allow_old_tls": False, **fields}
    )


def files(server: Issued, **overrides: object) -> dict[str, object]:
    """The form's file fields for this certificate."""
    return {"certfile": str(server.certfile), "keyfile": str(server.keyfile), **overrides}


def errors_for(
    tmp_path: Path, pki: TestPki, server: Issued
) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Each unusable combination of files, and the error it gets."""
    text = tmp_path / "notes.txt"
    text.write_text("not a certificate")
    expired = pki.issue(
        "old",
        server=True,
        not_before=datetime.now(UTC) - timedelta(days=30),
        not_after=datetime.now(UTC) - timedelta(days=1),
    )
    future = pki.issue("future", server=True, not_before=datetime.now(UTC) + timedelta(days=2))
    other = pki.issue("other", server=True)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        server.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    missing = str(tmp_path / "missing.pem")
    return [
        (files(server, certfile=missing), {"certfile": "file_unreadable"}),
        (files(server, certfile=str(text)), {"certfile": "certificate_invalid"}),
        (files(expired, keyfile=str(expired.keyfile)), {"certfile": "certificate_expired"}),
        (files(future), {"certfile": "certificate_not_yet_valid"}),
        (files(server, keyfile=missing), {"keyfile": "file_unreadable"}),
        (files(server, keyfile=str(text)), {"keyfile": "key_invalid"}),
        (files(server, keyfile=str(encrypted)), {"keyfile": "key_encrypted"}),
        (files(server, keyfile=str(other.keyfile)), {"keyfile": "key_mismatch"}),
        (files(server, cafile=missing), {"cafile": "file_unreadable"}),
        (files(server, cafile=str(text)), {"cafile": "ca_invalid"}),
        ({"keyfile": str(server.keyfile)}, {"certfile": "certificate_required"}),
        ({"certfile": str(server.certfile)}, {"keyfile": "key_required"}),
        ({"cafile": str(pki.cafile)}, {"certfile": "certificate_required"}),
        ({"security_profile": "2"}, {"security_profile": "tls_required"}),
        (files(server, security_profile="3"), {"security_profile": "ca_required"}),
    ]


async def test_each_unusable_file_is_a_specific_error(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    tmp_path: Path,
    pki: TestPki,
    server: Issued,
) -> None:
    for fields, errors in errors_for(tmp_path, pki, server):
        result = await submit(hass, setup_integration, **fields)
        assert result["type"] is FlowResultType.FORM, fields
        assert result["errors"] == errors, fields
    assert "security_profile" not in setup_integration.options


async def test_good_files_serve_wss_at_the_minimum_profile(
    hass: HomeAssistant, socket_enabled: None, pki: TestPki, server: Issued
) -> None:
    entry = await setup_secured(hass, {}, {"CP1": {"password": PASSWORD}})
    result = await submit(
        hass, entry, security_profile="2", **files(server, cafile=f"  {pki.cafile}  ")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["security_profile"] == 2
    assert entry.options["cafile"] == str(pki.cafile)  # trimmed
    assert entry.options["heartbeat_interval"] == 60  # other options kept
    assert entry.state is ConfigEntryState.LOADED
    async with connect_charge_point(
        port_of(entry),
        "/CP1",
        ssl=pki.client_context(),
        headers=basic("CP1", PASSWORD),
        charge_point_class=ConfiguredChargePoint,
    ) as charge_point:
        assert (await charge_point.boot()).status == RegistrationStatus.accepted

    # Back to plain ws: emptied fields are gone from the options.
    result = await submit(hass, entry, security_profile="1")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert "certfile" not in entry.options
    assert entry.runtime_data.central_system.security.ssl_context is None
