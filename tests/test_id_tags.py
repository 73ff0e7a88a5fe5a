"""Id tag rules end to end: what a charger is answered for each card, at each mode."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .client import ConfiguredChargePoint
from .commanded import CommandedChargePoint
from .conftest import Connect, async_wait_until
from .id_tag_helpers import (
    TAGS,
    authorize,
    charge_point_subentry,
    entry_with,
    start_transaction,
    stop_transaction,
    tag_subentry_object,
)
from .test_control import sent
from .test_sessions import get_sessions


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """CP1 takes only known tags, CP2 any tag (the default)."""
    return entry_with(charge_point_subentry("CP1", "known_tags"), *TAGS, id_tag="HA-OWN")


def charger(connect: Connect, path: str = "/CP1") -> Any:
    return connect(path, charge_point_class=ConfiguredChargePoint)


async def test_authorize_answers_each_status(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with charger(connect) as cp1, charger(connect, "/CP2") as cp2:
        await cp1.boot()
        await cp2.boot()
        # Known and in good standing: its group and the group's expiry in the answer.
        anna = await authorize(cp1, "card-anna")  # CiString: the case does not matter
        assert anna["status"] == "Accepted"
        assert anna["parent_id_tag"] == "HOUSE-7"
        assert anna["expiry_date"].startswith(TAGS[1]["data"]["expiry"][:16])
        assert (await authorize(cp1, "CARD-LOST"))["status"] == "Blocked"
        assert (await authorize(cp1, "CARD-OLD"))["status"] == "Expired"
        # A blocked group blocks its tags.
        guest = await authorize(cp1, "CARD-GUEST")
        assert guest == {"status": "Blocked", "parent_id_tag": "GUESTS"}
        # Unknown: refused where only known tags may charge, accepted elsewhere.
        assert await authorize(cp1, "STRANGER") == {"status": "Invalid"}
        assert await authorize(cp2, "STRANGER") == {"status": "Accepted"}
        # Blocked stays blocked at an any-tag charger too.
        assert (await authorize(cp2, "CARD-LOST"))["status"] == "Blocked"
        # Home Assistant's own id tag (an option) is always accepted.
        assert await authorize(cp1, "ha-own") == {"status": "Accepted"}


async def test_a_blocked_start_is_recorded_and_answered_so_the_charger_stops(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with charger(connect) as cp:
        await cp.boot()
        await cp.status(1)
        # The charger knew the card from its cache and started already: the session is
        # real (energy flowed), but the answer says Blocked so the charger ends it.
        reply = await start_transaction(cp, "CARD-LOST")
        assert reply.id_tag_info["status"] == "Blocked"
        assert reply.transaction_id > 0
        await async_wait_until(
            hass, lambda: hass.states.get("sensor.cp1_session_id_tag").state == "CARD-LOST"
        )
        stop = await stop_transaction(cp, reply.transaction_id, "CARD-LOST")
        assert stop.id_tag_info["status"] == "Blocked"
        await hass.async_block_till_done()
    [session] = await get_sessions(hass)
    assert session["id_tag"] == "CARD-LOST"
    assert session["energy_kwh"] == 1.0
    assert session["anomalies"] == ["the id tag was answered Blocked at the start"]


async def test_an_unknown_start_at_a_known_tags_charger_is_invalid(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with charger(connect) as cp:
        await cp.boot()
        # A card the charger's own local list accepts, unknown here.
        reply = await start_transaction(cp, "LOCAL-ONLY")
        assert reply.id_tag_info == {"status": "Invalid"}
        accepted = await start_transaction(cp, "CARD-ANNA", connector_id=2)
        assert accepted.id_tag_info["status"] == "Accepted"
        assert accepted.id_tag_info["parent_id_tag"] == "HOUSE-7"


async def test_one_card_charges_in_one_place_at_a_time_where_only_known_tags_may(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with charger(connect) as cp1, charger(connect, "/CP2") as cp2:
        await cp1.boot()
        await cp2.boot()
        first = await start_transaction(cp2, "CARD-ANNA")
        assert first.id_tag_info["status"] == "Accepted"
        # Authorize is no start (someone may be stopping): still Accepted.
        assert (await authorize(cp1, "CARD-ANNA"))["status"] == "Accepted"
        second = await start_transaction(cp1, "card-anna")
        assert second.id_tag_info["status"] == "ConcurrentTx"
        # At an any-tag charger one card may charge two cars (a home).
        third = await start_transaction(cp2, "CARD-ANNA", connector_id=2)
        assert third.id_tag_info["status"] == "Accepted"
        # Home Assistant's own tag starts any number of sessions.
        own = await start_transaction(cp1, "HA-OWN", connector_id=2)
        assert own.id_tag_info == {"status": "Accepted"}
        await stop_transaction(cp1, second.transaction_id)
        await stop_transaction(cp2, first.transaction_id)
        await stop_transaction(cp2, third.transaction_id)
        # Its other sessions ended: the card may start again.
        again = await start_transaction(cp1, "CARD-ANNA")
        assert again.id_tag_info["status"] == "Accepted"


async def test_a_session_on_a_charger_that_went_away_does_not_lock_the_card(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with charger(connect, "/CP2") as cp2:
        await cp2.boot()
        await start_transaction(cp2, "CARD-ANNA")
    # CP2 is offline with its session open (it may never come back).
    async with charger(connect) as cp1:
        await cp1.boot()
        reply = await start_transaction(cp1, "CARD-ANNA")
        assert reply.id_tag_info["status"] == "Accepted"


async def test_tag_changes_apply_without_a_reload(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    async with charger(connect) as cp:
        await cp.boot()
        assert await authorize(cp, "NEW-CARD") == {"status": "Invalid"}
        hass.config_entries.async_add_subentry(
            entry, tag_subentry_object("NEW-CARD", parent_id_tag="HOUSE-7")
        )
        await hass.async_block_till_done()
        assert (await authorize(cp, "NEW-CARD"))["status"] == "Accepted"
        [subentry] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "HOUSE-7"]
        hass.config_entries.async_update_subentry(
            entry, subentry, data={**subentry.data, "blocked": True}
        )
        await hass.async_block_till_done()
        # Blocking the group blocks its members at once.
        assert (await authorize(cp, "NEW-CARD"))["status"] == "Blocked"
        assert (await authorize(cp, "CARD-ANNA"))["status"] == "Blocked"
        hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
        await hass.async_block_till_done()
        anna = await authorize(cp, "CARD-ANNA")
        assert anna == {"status": "Accepted", "parent_id_tag": "HOUSE-7"}  # the group's expiry left


async def test_a_card_decides_where_only_known_tags_may_charge(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """Starting every plugged-in car with our own tag would let anyone charge at CP1."""
    async with (
        connect("/CP1", charge_point_class=CommandedChargePoint) as cp1,
        connect("/CP2", charge_point_class=CommandedChargePoint) as cp2,
    ):
        await cp1.boot()
        await cp2.boot()
        await cp1.status(1, ChargePointStatus.preparing)
        await cp2.status(1, ChargePointStatus.preparing)
        await async_wait_until(hass, lambda: sent(cp2, "RemoteStartTransaction"))
        assert sent(cp2, "RemoteStartTransaction") == [{"id_tag": "HA-OWN", "connector_id": 1}]
        assert sent(cp1, "RemoteStartTransaction") == []
