"""A 2.0.1 charger passes the same gate and id tag rules as a 1.6 one."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from ocpp.exceptions import SecurityError
from ocpp.v201 import call
from ocpp.v201.enums import RegistrationStatusEnumType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .admission_helpers import devices_and_entities
from .client_v201 import connect_v201
from .conftest import async_wait_until
from .id_tag_helpers import TAGS, charge_point_subentry, entry_with


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """CP1 is added and takes only known cards; anyone else must wait for approval."""
    return entry_with(charge_point_subentry("CP1", "known_tags"), *TAGS, admission_policy="approve")


async def test_an_unknown_2_0_1_charger_waits_and_leaves_nothing(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    entry = setup_integration
    before = devices_and_entities(hass, entry)
    async with connect_v201(port, "/CP9") as station:
        reply = await station.boot(wait_report=False)
        assert reply.status == RegistrationStatusEnumType.pending
        assert reply.interval == 60
        with pytest.raises(SecurityError):
            await station.status(1)
        await async_wait_until(
            hass,
            lambda: any(
                flow["context"].get("unique_id") == f"{entry.entry_id}_CP9"
                for flow in hass.config_entries.flow.async_progress_by_handler("levity_ocpp")
            ),
        )
    assert devices_and_entities(hass, entry) == before
    assert "CP9" not in entry.runtime_data.charge_points


async def test_2_0_1_id_tokens_are_answered_from_the_id_tag_rules(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    async with connect_v201(port, "/CP1") as station:
        assert (await station.boot()).status == RegistrationStatusEnumType.accepted

        async def authorize(id_token: str) -> dict[str, object]:
            reply = await station.call(
                call.Authorize(id_token={"id_token": id_token, "type": "ISO14443"}),
                suppress=False,
            )
            info: dict[str, object] = reply.id_token_info
            return info

        anna = await authorize("card-anna")
        assert anna["status"] == "Accepted"
        assert anna["group_id_token"] == {"id_token": "HOUSE-7", "type": "Central"}
        assert str(anna["cache_expiry_date_time"]).startswith(TAGS[1]["data"]["expiry"][:16])
        assert await authorize("CARD-LOST") == {"status": "Blocked"}
        assert await authorize("STRANGER") == {"status": "Invalid"}
        # A session the station started with a blocked card: answered so it stops.
        reply = await station.event(
            "Started", "tx-1", 0, trigger="Authorized", id_token="CARD-LOST"
        )
        assert reply.id_token_info == {"status": "Blocked"}
        reply = await station.event("Updated", "tx-1", 1)
        assert reply.id_token_info is None
