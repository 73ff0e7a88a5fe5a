"""Chargers' local authorization lists follow the id tags: full, differential, versions."""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from ocpp.v16.enums import Action
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .client import DEFAULT_CONFIGURATION, connect_charge_point
from .command_helpers import device_id
from .commanded import CommandedChargePoint
from .conftest import Connect, async_wait_until, listening_port
from .id_tag_helpers import (
    TAGS,
    ListKeepingChargePoint,
    entry_with,
    list_version,
    tag_subentry_object,
)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


HOUSE_EXPIRY = parse(TAGS[1]["data"]["expiry"])
# What the charger's list holds for the usual tags (as its reader sees them).
EXPECTED = {
    "card-anna": {"status": "Accepted", "expiry_date": HOUSE_EXPIRY, "parent_id_tag": "HOUSE-7"},
    "house-7": {"status": "Accepted", "expiry_date": HOUSE_EXPIRY},
    "card-lost": {"status": "Blocked"},
    "card-old": {"status": "Expired", "expiry_date": parse(TAGS[3]["data"]["expiry"])},
    "card-guest": {"status": "Blocked", "parent_id_tag": "GUESTS"},
    "guests": {"status": "Blocked"},
}


@pytest.fixture
def config_entry() -> MockConfigEntry:
    return entry_with(*TAGS)


class ShortListChargePoint(ListKeepingChargePoint):
    """Takes two id tags per SendLocalList and holds four."""

    __test__ = False
    configuration_keys = [  # noqa: RUF012 - a test table
        *ListKeepingChargePoint.configuration_keys,
        {"key": "SendLocalListMaxLength", "readonly": True, "value": "2"},
        {"key": "LocalAuthListMaxLength", "readonly": True, "value": "4"},
    ]


def listing(connect: Connect, cls: type[Any] = ListKeepingChargePoint) -> Any:
    return connect("/CP1", charge_point_class=cls)


def normalised(local_list: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Expiry dates as times (the charger reads them in OCPP's format)."""
    return {
        tag: {key: parse(value) if key == "expiry_date" else value for key, value in info.items()}
        for tag, info in local_list.items()
    }


def headers(cp: ListKeepingChargePoint) -> list[tuple[int, str, list[str]]]:
    """Each SendLocalList as (version, update type, id tags)."""
    return [
        (
            sent["list_version"],
            sent["update_type"],
            [item["id_tag"] for item in sent.get("local_authorization_list", [])],
        )
        for sent in cp.sent_lists()
    ]


async def test_a_booted_charger_gets_the_list_then_each_change(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    async with listing(connect) as cp:
        await cp.boot()
        await list_version(hass, cp, 1)
        assert cp.received[0] == (Action.get_local_list_version, {})
        assert headers(cp) == [(1, "Full", [tag["data"]["id_tag"] for tag in TAGS])]
        assert normalised(cp.local_list) == EXPECTED

        hass.config_entries.async_add_subentry(entry, tag_subentry_object("NEW-CARD"))
        await list_version(hass, cp, 2)
        [house] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "HOUSE-7"]
        hass.config_entries.async_update_subentry(
            entry, house, data={**house.data, "blocked": True}
        )
        await list_version(hass, cp, 3)
        [lost] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "CARD-LOST"]
        hass.config_entries.async_remove_subentry(entry, lost.subentry_id)
        await list_version(hass, cp, 4)
        # A change the list does not show (a name) sends nothing.
        hass.config_entries.async_update_subentry(entry, house, title="Number 7")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert headers(cp)[1:] == [
        (2, "Differential", ["NEW-CARD"]),
        # The blocked group: its member follows.
        (3, "Differential", ["CARD-ANNA", "HOUSE-7"]),
        (4, "Differential", ["CARD-LOST"]),
    ]
    assert cp.sent_lists()[3]["local_authorization_list"] == [{"id_tag": "CARD-LOST"}]
    assert cp.local_list["card-anna"]["status"] == "Blocked"
    assert "card-lost" not in cp.local_list
    assert cp.local_list["new-card"] == {"status": "Accepted"}


async def test_after_a_restart_and_reconnect_only_what_changed_is_sent(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    async with listing(connect) as cp:
        await cp.boot()
        await list_version(hass, cp, 1)
        kept = dict(cp.local_list)
    # Home Assistant restarts: the version sent to the charger is remembered.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    port = listening_port(entry)
    [old] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "CARD-OLD"]
    hass.config_entries.async_remove_subentry(entry, old.subentry_id)  # while it is away
    await hass.async_block_till_done()
    async with connect_charge_point(port, "/CP1", charge_point_class=ListKeepingChargePoint) as cp:
        cp.list_version, cp.local_list = 1, kept
        await cp.boot()
        await list_version(hass, cp, 2)
        assert headers(cp) == [(2, "Differential", ["CARD-OLD"])]
        assert "card-old" not in cp.local_list
    # Reconnected again, nothing changed: only the version is asked.
    async with connect_charge_point(port, "/CP1", charge_point_class=ListKeepingChargePoint) as cp:
        cp.list_version = 2
        await cp.boot()
        await async_wait_until(hass, lambda: len(cp.received) == 1)
        await cp.status(1)  # a round trip: an update would have been sent by now
        assert [action for action, _ in cp.received] == [Action.get_local_list_version]


async def test_a_charger_with_another_list_gets_ours_whole(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with listing(connect) as cp:
        # Another central system's list, or the charger reset it.
        cp.list_version, cp.local_list = 7, {"intruder": {"status": "Accepted"}}
        await cp.boot()
        await list_version(hass, cp, 8)
        assert headers(cp)[0][:2] == (8, "Full")
        assert normalised(cp.local_list) == EXPECTED
        # Changed behind our back while connected: a differential update does not fit.
        cp.list_version = 20
        hass.config_entries.async_add_subentry(setup_integration, tag_subentry_object("NEW-CARD"))
        await list_version(hass, cp, 10)
    assert [header[:2] for header in headers(cp)] == [
        (8, "Full"),
        (9, "Differential"),
        (10, "Full"),  # its list replaced: it need not be above the one it had
    ]
    assert "new-card" in cp.local_list


async def test_updates_are_cut_to_what_the_charger_takes(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with listing(connect, ShortListChargePoint) as cp:
        await cp.boot()
        await list_version(hass, cp, 3)
        assert [header[:2] for header in headers(cp)] == [
            (1, "Full"),
            (2, "Differential"),
            (3, "Differential"),
        ]
        assert all(len(header[2]) == 2 for header in headers(cp))
        assert normalised(cp.local_list) == EXPECTED
        diagnostics = await get_diagnostics_for_device(
            hass,
            hass_client,
            setup_integration,
            dr.async_get(hass).async_get(device_id(hass, setup_integration)),
        )
    assert any(
        "holds at most 4 id tags; Home Assistant has 6" in anomaly["description"]
        for anomaly in diagnostics["anomalies"]
    )


async def test_a_refused_list_is_sent_whole_next_time(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listing(connect) as cp:
        cp.statuses[Action.send_local_list] = "Failed"
        await cp.boot()
        await async_wait_until(hass, lambda: len(cp.sent_lists()) == 1)
        hass.config_entries.async_add_subentry(setup_integration, tag_subentry_object("A"))
        await async_wait_until(hass, lambda: len(cp.sent_lists()) == 2)
        del cp.statuses[Action.send_local_list]
        hass.config_entries.async_add_subentry(setup_integration, tag_subentry_object("B"))
        await list_version(hass, cp, 1)
    assert [header[:2] for header in headers(cp)] == [(1, "Full")] * 3
    assert len(cp.local_list) == 8
    refusals = [r for r in caplog.records if "answered Failed" in r.getMessage()]
    assert len(refusals) == 1  # a warning once per charger, the rest in its diagnostics
    assert refusals[0].levelno == logging.WARNING


async def test_a_charger_that_turns_out_to_keep_no_list_is_left_alone(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with listing(connect) as cp:
        cp.list_version = -1  # it says it has the profile, but keeps no list
        await cp.boot()
        await async_wait_until(hass, lambda: len(cp.received) == 1)
        hass.config_entries.async_add_subentry(setup_integration, tag_subentry_object("A"))
        await hass.async_block_till_done(wait_background_tasks=True)
    assert cp.sent_lists() == []
    async with listing(connect) as cp:
        cp.statuses[Action.send_local_list] = "NotSupported"
        await cp.boot()  # asked again after each boot (new firmware may have it)
        await async_wait_until(hass, lambda: len(cp.sent_lists()) == 1)
        hass.config_entries.async_add_subentry(setup_integration, tag_subentry_object("B"))
        await hass.async_block_till_done(wait_background_tasks=True)
        assert len(cp.sent_lists()) == 1


class CoreChargePoint(CommandedChargePoint):
    """Has only the Core profile: no local list."""

    __test__ = False
    configuration_keys = [  # noqa: RUF012 - a test table
        *DEFAULT_CONFIGURATION,
        {"key": "SupportedFeatureProfiles", "readonly": True, "value": "Core"},
    ]


async def test_chargers_without_a_list_are_not_asked(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CoreChargePoint) as cp:
        await cp.boot()
        hass.config_entries.async_add_subentry(setup_integration, tag_subentry_object("A"))
        await hass.async_block_till_done(wait_background_tasks=True)
        await cp.status(1)
        assert cp.received == []


@pytest.mark.usefixtures("entities_enabled_by_default")
@pytest.mark.parametrize("config_entry", [entry_with()])
async def test_a_list_home_assistant_has_no_tags_for_is_not_touched(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with listing(connect) as cp:
        # Cards added at the charger itself, and none in Home Assistant.
        cp.list_version, cp.local_list = 3, {"own-card": {"status": "Accepted"}}
        await cp.boot()
        # Its profiles are read (the refresh button appears), its list left alone.
        await async_wait_until(hass, lambda: hass.states.get("button.cp1_refresh") is not None)
        await cp.status(1)
        assert cp.received == []
        # The first tag added here makes the list Home Assistant's.
        hass.config_entries.async_add_subentry(
            setup_integration, tag_subentry_object("CARD", blocked=True)
        )
        await list_version(hass, cp, 1)
    assert cp.local_list == {"card": {"status": "Blocked"}}
    assert headers(cp) == [(1, "Full", ["CARD"])]
