"""export_sessions writes only plain files in allowed folders, never through a link."""

from __future__ import annotations

import os
from pathlib import Path
import stat

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import DOMAIN


async def test_export_refuses_a_symlink_out_of_the_allowed_folder(
    hass: HomeAssistant, setup_integration: MockConfigEntry, tmp_path: Path
) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside" / "victim.csv"
    allowed.mkdir()
    outside.parent.mkdir()
    (allowed / "export.csv").symlink_to(outside)  # dangling: the target does not exist
    hass.config.allowlist_external_dirs = {str(allowed)}
    with pytest.raises(ServiceValidationError) as error:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"path": str(allowed / "export.csv")}, blocking=True
        )
    assert error.value.translation_key == "path_not_allowed"
    assert not outside.exists()


async def test_export_does_not_follow_a_symlink_swapped_in_after_the_check(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    allowed, victim = tmp_path / "allowed", tmp_path / "victim.txt"
    allowed.mkdir()
    victim.write_text("precious")
    target = allowed / "export.csv"
    target.write_text("old export")
    hass.config.allowlist_external_dirs = {str(allowed)}
    check = hass.config.is_allowed_path

    def check_then_swap(path: str) -> bool:
        allowed_path = check(path)
        target.unlink()  # an attacker races the check
        target.symlink_to(victim)
        return allowed_path

    monkeypatch.setattr(hass.config, "is_allowed_path", check_then_swap)
    with pytest.raises(ServiceValidationError) as error:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"path": str(target)}, blocking=True
        )
    assert error.value.translation_key == "path_not_allowed"
    assert victim.read_text() == "precious"


async def test_export_refuses_a_symlink_inside_the_allowed_folder(
    hass: HomeAssistant, setup_integration: MockConfigEntry, tmp_path: Path
) -> None:
    """Even a link whose target is allowed: the file written is never a link's."""
    (tmp_path / "real.csv").write_text("keep")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"path": str(tmp_path / "link.csv")}, blocking=True
        )
    assert (tmp_path / "real.csv").read_text() == "keep"


async def test_export_refuses_a_fifo_without_hanging(
    hass: HomeAssistant, setup_integration: MockConfigEntry, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    # Nobody reads: the open fails at once instead of blocking an executor thread.
    with pytest.raises(HomeAssistantError) as error:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"path": str(fifo)}, blocking=True
        )
    assert error.value.translation_key == "export_failed"
    # Somebody reads: it opens, and is refused for not being a file.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(ServiceValidationError) as refused:
            await hass.services.async_call(
                DOMAIN, "export_sessions", {"path": str(fifo)}, blocking=True
            )
        assert refused.value.translation_key == "path_not_allowed"
        assert os.read(reader, 100) == b""
    finally:
        os.close(reader)


async def test_export_into_a_folder_path_fails_clearly(
    hass: HomeAssistant, setup_integration: MockConfigEntry, tmp_path: Path
) -> None:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    (tmp_path / "folder").mkdir()
    with pytest.raises(HomeAssistantError) as error:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"path": str(tmp_path / "folder")}, blocking=True
        )
    assert error.value.translation_key == "export_failed"


async def test_export_writes_a_relative_path_in_the_config_folder(
    hass: HomeAssistant, setup_integration: MockConfigEntry, tmp_path: Path
) -> None:
    hass.config.config_dir = str(tmp_path)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    response = await hass.services.async_call(
        DOMAIN,
        "export_sessions",
        {"path": "exports/sessions.csv"},
        blocking=True,
        return_response=True,
    )
    target = tmp_path / "exports" / "sessions.csv"
    assert response == {"path": str(target), "sessions": 0}
    assert target.read_text().startswith("transaction_id,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # id tags: personal data


async def test_export_refuses_paths_outside_allowlist(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as error:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"path": "/etc/sessions.csv"}, blocking=True
        )
    assert error.value.translation_key == "path_not_allowed"
