"""Helpers for the id tag tests: subentries, a charger with a real local list, messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry, ConfigSubentryData
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_HEARTBEAT_INTERVAL,
    DOMAIN,
)
from custom_components.levity_ocpp.migration import MINOR_VERSION

from .client import TestChargePoint
from .commanded import CommandedChargePoint
from .conftest import async_wait_until

NOW = datetime.now(UTC).replace(microsecond=0)  # what OCPP's milliseconds keep


def iso(moment: datetime) -> str:
    """A time as the charger reads it."""
    return moment.isoformat().replace("+00:00", "Z")


def tag_subentry(id_tag: str, **fields: Any) -> ConfigSubentryData:
    """An id tag subentry as the flow stores it."""
    data = {
        "id_tag": id_tag,
        "name": None,
        "blocked": False,
        "expiry": None,
        "parent_id_tag": None,
        "person": None,
        **fields,
    }
    return ConfigSubentryData(
        data=data, subentry_type="id_tag", title=data["name"] or id_tag, unique_id=None
    )


def tag_subentry_object(id_tag: str, **fields: Any) -> ConfigSubentry:
    """An id tag subentry to add to a running entry, as the flows do."""
    data = tag_subentry(id_tag, **fields)
    return ConfigSubentry(
        data=MappingProxyType(dict(data["data"])),
        subentry_type=data["subentry_type"],
        title=data["title"],
        unique_id=None,
    )


def charge_point_subentry(charge_point_id: str, authorization: str) -> ConfigSubentryData:
    """A charge point subentry with an authorization mode."""
    return ConfigSubentryData(
        data={"charge_point_id": charge_point_id, "authorization": authorization},
        subentry_type="charge_point",
        title=charge_point_id,
        unique_id=charge_point_id,
    )


def entry_with(*subentries: ConfigSubentryData, **options: Any) -> MockConfigEntry:
    """A central system on a free port with these subentries."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={CONF_HEARTBEAT_INTERVAL: 60, CONF_ADMISSION_POLICY: "accept", **options},
        subentries_data=list(subentries),
        minor_version=MINOR_VERSION,
    )


# The user's tags of most tests: known, blocked, expired, and a group whose tags follow it.
TAGS = (
    tag_subentry("CARD-ANNA", name="Anna's card", parent_id_tag="HOUSE-7"),
    tag_subentry("HOUSE-7", name="House 7", expiry=iso(NOW + timedelta(days=30))),
    tag_subentry("CARD-LOST", blocked=True),
    tag_subentry("CARD-OLD", expiry=iso(NOW - timedelta(days=1))),
    tag_subentry("CARD-GUEST", parent_id_tag="GUESTS"),
    tag_subentry("GUESTS", blocked=True),
)


async def authorize(cp: TestChargePoint, id_tag: str) -> dict[str, Any]:
    """Present a tag; return the IdTagInfo answered."""
    reply = await cp.call(call.Authorize(id_tag=id_tag), suppress=False)
    info: dict[str, Any] = reply.id_tag_info
    return info


async def start_transaction(
    cp: TestChargePoint, id_tag: str, connector_id: int = 1, meter_start: int = 1000
) -> Any:
    """A transaction the charger started with `id_tag`; return the whole reply."""
    return await cp.call(
        call.StartTransaction(
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=iso(datetime.now(UTC)),
        ),
        suppress=False,
    )


async def stop_transaction(
    cp: TestChargePoint, transaction_id: int, id_tag: str | None = None, meter_stop: int = 2000
) -> Any:
    """The charger's end of a transaction."""
    return await cp.call(
        call.StopTransaction(
            meter_stop=meter_stop,
            timestamp=iso(datetime.now(UTC)),
            transaction_id=transaction_id,
            id_tag=id_tag,
        ),
        suppress=False,
    )


async def list_version(hass: HomeAssistant, cp: ListKeepingChargePoint, version: int) -> None:
    """Wait until the charger's list has `version` and the central system has its answer.

    The charger takes the list before its answer reaches the central system: a
    round trip after it makes sure the answer was read before the test goes on.
    """
    await async_wait_until(hass, lambda: cp.list_version == version)
    await cp.call(call.Heartbeat(), suppress=False)


class ListKeepingChargePoint(CommandedChargePoint):
    """Keeps a local authorization list as a real charger does (OCPP 1.6 §5.15).

    A differential update must be above the version it has; `statuses` and
    `errors` still override the answer.
    """

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start without a list."""
        super().__init__(*args, **kwargs)
        self.list_version = 0
        self.local_list: dict[str, dict[str, Any]] = {}

    @on(Action.get_local_list_version)
    async def on_GetLocalListVersion(self, **payload: Any) -> Any:
        self.received.append((Action.get_local_list_version, payload))
        return call_result.GetLocalListVersion(self.list_version)

    @on(Action.send_local_list)
    async def on_SendLocalList(self, **payload: Any) -> Any:
        self.received.append((Action.send_local_list, payload))
        if (error := self.errors.get(Action.send_local_list)) is not None:
            raise error
        if (status := self.statuses.get(Action.send_local_list)) is not None:
            return call_result.SendLocalList(status)
        full = payload["update_type"] == "Full"
        if not full and payload["list_version"] <= self.list_version:
            return call_result.SendLocalList("VersionMismatch")
        entries = {} if full else dict(self.local_list)
        for item in payload.get("local_authorization_list", []):
            key = item["id_tag"].casefold()
            if "id_tag_info" in item:
                entries[key] = item["id_tag_info"]
            else:
                entries.pop(key, None)
        self.local_list, self.list_version = entries, payload["list_version"]
        return call_result.SendLocalList("Accepted")

    def sent_lists(self) -> list[dict[str, Any]]:
        """The SendLocalList requests received, in order."""
        return [payload for action, payload in self.received if action == Action.send_local_list]
