"""The id tag rules and the local list sync alone, without Home Assistant or sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.levity_ocpp.csms import commands as c
from custom_components.levity_ocpp.csms.authorization import (
    MAX_GROUP_DEPTH,
    MAX_REMEMBERED,
    PRESENTATION_WINDOW,
    Authorization,
    Authorizer,
    IdTag,
    TagBook,
    TagStatus,
)
from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.local_list import (
    LocalListSync,
    local_list_to_dict,
    restore_local_list,
)
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.csms.settings import AuthorizationMode, ChargePointSettings
from custom_components.levity_ocpp.csms.transactions import TransactionBook

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


class Recorder(CentralSystemHooks):
    def __init__(self) -> None:
        self.presented: list[tuple[str, str, TagStatus]] = []
        self.updated = 0

    def id_tag_presented(
        self, charge_point: ChargePoint, id_tag: str, authorization: Authorization
    ) -> None:
        self.presented.append((charge_point.id, id_tag, authorization.status))

    def charge_point_updated(self, charge_point: ChargePoint) -> None:
        self.updated += 1


def test_groups_block_and_expire_their_tags_and_loops_end() -> None:
    later, sooner = NOW + timedelta(days=9), NOW + timedelta(days=2)
    book = TagBook(
        [
            IdTag("A", parent_id_tag="B", expiry=later),
            IdTag("B", parent_id_tag="A", expiry=sooner),  # a loop: A's group is B's
            IdTag("X", expiry=NOW - timedelta(seconds=1), blocked=True),
        ]
    )
    assert book.status(book.get("a"), NOW) == Authorization(  # type: ignore[arg-type]
        TagStatus.ACCEPTED, sooner, "B", IdTag("A", parent_id_tag="B", expiry=later)
    )
    # Blocked says more than expired.
    assert book.status(book.get("X"), NOW).status is TagStatus.BLOCKED  # type: ignore[arg-type]
    assert "x" in book and 42 not in book and len(book) == 3
    assert [tag.id_tag for tag in book] == ["A", "B", "X"]
    assert book != {"a": IdTag("A")}
    # A long chain stops after MAX_GROUP_DEPTH groups: the blocked root is not reached.
    chain = TagBook(
        [IdTag(f"T{n}", parent_id_tag=f"T{n + 1}") for n in range(MAX_GROUP_DEPTH)]
        + [IdTag(f"T{MAX_GROUP_DEPTH}", blocked=True)]
    )
    assert chain.status(chain.get("T0"), NOW).status is TagStatus.ACCEPTED  # type: ignore[arg-type]
    assert chain.status(chain.get("T1"), NOW).status is TagStatus.BLOCKED  # type: ignore[arg-type]


def authorizer(
    hooks: CentralSystemHooks, clock: list[datetime], **modes: AuthorizationMode
) -> Authorizer:
    return Authorizer(
        settings_for=lambda cp_id: ChargePointSettings(
            authorization=modes.get(cp_id, AuthorizationMode.ANY_TAG)
        ),
        own_id_tag="HA",
        transactions=TransactionBook,
        charge_points={},
        hooks=hooks,
        tags=TagBook([IdTag("CARD")]),
        clock=lambda: clock[0],
    )


def test_one_presentation_is_reported_once_within_a_window() -> None:
    hooks, clock = Recorder(), [NOW]
    rules = authorizer(hooks, clock, CP1=AuthorizationMode.KNOWN_TAGS)
    book, cp1, cp2 = TransactionBook(), ChargePoint("CP1"), ChargePoint("CP2")
    start = book.allocate("CP1", 1, "card", NOW, 0)
    rules.authorize(cp1, "CARD")
    rules.authorize_start(cp1, "card", start)  # the same presentation
    rules.authorize_start(cp2, "CARD", book.allocate("CP2", 1, "CARD", NOW, 0))  # elsewhere
    clock[0] += PRESENTATION_WINDOW + timedelta(seconds=1)
    rules.authorize_start(cp1, "CARD", start)  # long after: someone showed it again
    rules.authorize(cp1, "ha")  # our own tag: never a card
    assert rules.authorize(cp1, "UNKNOWN").status is TagStatus.INVALID
    assert hooks.presented == [
        ("CP1", "CARD", TagStatus.ACCEPTED),
        ("CP2", "CARD", TagStatus.ACCEPTED),
        ("CP1", "CARD", TagStatus.ACCEPTED),
        ("CP1", "UNKNOWN", TagStatus.INVALID),
    ]


def test_presentations_are_remembered_for_a_bounded_number_of_chargers() -> None:
    hooks, clock = Recorder(), [NOW]
    rules = authorizer(hooks, clock)
    book = TransactionBook()
    rules.remote_start("CP0", "CARD")
    for number in range(1, MAX_REMEMBERED + 1):
        rules.remote_start(f"CP{number}", "CARD")
    rules.authorize_start(ChargePoint("CP1"), "CARD", book.allocate("CP1", 1, "CARD", NOW, 0))
    # CP0's remote start was forgotten: its start counts as a presentation.
    rules.authorize_start(ChargePoint("CP0"), "CARD", book.allocate("CP0", 1, "CARD", NOW, 0))
    assert hooks.presented == [("CP0", "CARD", TagStatus.ACCEPTED)]


class Charger:
    """Answers the sync's commands from a script; a CommandFailed entry is raised."""

    def __init__(self, *answers: c.CommandResult | c.CommandFailed) -> None:
        self.answers = list(answers)
        self.sent: list[c.Command] = []

    async def execute(self, charge_point_id: str, command: c.Command) -> c.CommandResult:
        self.sent.append(command)
        answer = self.answers.pop(0)
        if isinstance(answer, c.CommandFailed):
            raise answer
        return answer


def listing_charge_point() -> ChargePoint:
    charge_point = ChargePoint("CP1", connected=True)
    charge_point.configuration = {
        "SupportedFeatureProfiles": {"value": "Core,LocalAuthListManagement"},
        "SendLocalListMaxLength": {"value": "many"},  # unreadable: no limit
    }
    return charge_point


ENTRIES = {"card": c.LocalAuthorization("CARD", "Accepted", NOW, "GROUP")}


async def test_odd_answers_leave_the_list_unknown() -> None:
    hooks, charge_point = Recorder(), listing_charge_point()
    charger = Charger(
        c.CommandResult(None, {"list_version": "3"}),  # a lenient charger's string
        c.CommandTimedOut("CP1", "GetLocalListVersion"),
    )
    sync = LocalListSync(charger.execute, lambda: ENTRIES, {"CP1": charge_point}, hooks)
    await sync.booted(charge_point)
    assert charge_point.anomalies[-1].description == "GetLocalListVersion answered '3'"
    await sync.booted(charge_point)  # no answer: tried again at the next boot
    assert charge_point.local_list_version is None

    # Sent, but no answer: it may or may not have it, so the next update is full.
    charge_point.local_list_version = 4
    charger.answers = [c.ChargePointOffline("CP1", "SendLocalList")]
    with pytest.raises(c.ChargePointOffline):
        await sync.send(charge_point, full=False)
    assert charge_point.local_list_version is None
    charger.answers = [c.CommandResult("Accepted")]
    update = await sync.send(charge_point, full=False)
    assert update.version == 1
    assert charger.sent[-1] == c.SendLocalList(1, True, tuple(ENTRIES.values()))


async def test_updates_in_the_background_end_with_the_central_system() -> None:
    hooks, charge_point = Recorder(), listing_charge_point()
    charge_point.local_list_version = 1
    answered = asyncio.Event()

    async def never(charge_point_id: str, command: c.Command) -> c.CommandResult:
        answered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    sync = LocalListSync(never, lambda: ENTRIES, {"CP1": charge_point}, hooks)
    sync.tags_changed()
    sync.tags_changed()  # queued already: one run sends both changes
    await answered.wait()
    await sync.stop()

    assert charge_point.local_list_version == 1  # cancelled, not failed

    failing = Charger(c.CommandTimedOut("CP1", "SendLocalList"))
    sync = LocalListSync(failing.execute, lambda: ENTRIES, {"CP1": charge_point}, hooks)
    sync.tags_changed()
    await asyncio.sleep(0)  # one turn: the update runs, its charger answers at once
    assert failing.sent == [c.SendLocalList(2, False, tuple(ENTRIES.values()))]
    assert charge_point.local_list_version is None  # logged; sent whole next time
    await sync.stop()


def test_a_stored_list_comes_back() -> None:
    charge_point = ChargePoint("CP1")
    charge_point.local_list = dict(ENTRIES)
    charge_point.local_list_version = 5
    stored: dict[str, Any] = local_list_to_dict(charge_point)
    again = ChargePoint("CP1")
    restore_local_list(again, stored)
    assert (again.local_list_version, again.local_list) == (5, ENTRIES)
    restore_local_list(again, None)  # saved before local lists existed
    assert again.local_list_version == 5
    restore_local_list(again, {"version": "x", "entries": [{"id_tag": "A"}]})
    assert again.local_list_version is None
    assert again.local_list == {"a": c.LocalAuthorization("A")}


async def test_what_is_not_ours_or_not_there_is_not_sent() -> None:
    hooks, charge_point = Recorder(), listing_charge_point()
    entries: dict[str, c.LocalAuthorization] = {}
    charger = Charger(c.CommandResult(None, {"list_version": 0}))
    sync = LocalListSync(charger.execute, lambda: entries, {"CP1": charge_point}, hooks)
    # We had sent a list, the user removed every tag, the charger lost its list: done.
    charge_point.local_list_version = 2
    await sync.booted(charge_point)
    assert (charge_point.local_list_version, charger.sent) == (0, [c.GetLocalListVersion()])
    # Never ours and no tags: a change sends nothing.
    charge_point.local_list_version = None
    sync.tags_changed()
    await asyncio.sleep(0)
    # Found to keep no list while an update waited: the update is dropped.
    entries["card"] = ENTRIES["card"]
    sync.tags_changed()
    charge_point.local_list_version = -1
    await asyncio.sleep(0)
    assert charger.sent == [c.GetLocalListVersion()]
    await sync.stop()
