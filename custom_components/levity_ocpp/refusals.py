"""Refused charger connections, shown to the user as one repair issue per central system.

A refused charger retries forever and only a person can fix it (by changing the
URL or OCPP version set in the charger), so a warning in the log is not enough.
The issue lists the last few distinct paths, is rewritten at most once a
minute whatever the charger's retry rate, and goes away after a day without
refusals. It is not persistent: a restart drops it, and a charger still
misconfigured brings it back with its next attempt. Kept across reloads of the
entry (the charger stays wrong), removed with the entry.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

ISSUE_TRANSLATION_KEY = "connection_refused"
MAX_PATHS = 5  # distinct paths listed in the issue
MAX_PATH_LENGTH = 100  # shown in the issue text; longer ones are cut
MAX_REASON_LENGTH = 300
UPDATE_INTERVAL = timedelta(minutes=1)
EXPIRE_AFTER = timedelta(days=1)

_REFUSALS: HassKey[dict[str, RefusedConnections]] = HassKey(f"{DOMAIN}_refusals")


def issue_id(entry_id: str) -> str:
    """The repair issue of one central system's refused connections."""
    return f"connection_refused_{entry_id}"


def _shown(text: str, limit: int) -> str:
    # Backticks would end the code span the path is shown in.
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Refusal:
    """One refused connection, as the user is shown it."""

    path: str
    remote: str
    reason: str

    def line(self) -> str:
        """A markdown list item of the issue."""
        return f"- `{self.path}` from {self.remote}: {self.reason}"


@dataclass
class RefusedConnections:
    """The recent refusals of one central system and their repair issue."""

    hass: HomeAssistant
    entry_id: str
    recent: OrderedDict[str, Refusal] = field(default_factory=OrderedDict)
    _shown_at: datetime | None = None
    _pending: CALLBACK_TYPE | None = None
    _expiry: CALLBACK_TYPE | None = None

    @callback
    def add(self, path: str, remote: str | None, reason: str) -> None:
        """Remember a refusal; the issue shows it now or within a minute."""
        refusal = Refusal(
            _shown(path, MAX_PATH_LENGTH),
            remote or "an unknown address",
            _shown(reason, MAX_REASON_LENGTH),
        )
        self.recent.pop(refusal.path, None)
        self.recent[refusal.path] = refusal
        while len(self.recent) > MAX_PATHS:
            self.recent.popitem(last=False)
        if self._pending is not None:
            return  # the update already planned will show this one too
        now = dt_util.utcnow()
        if self._shown_at is None or now - self._shown_at >= UPDATE_INTERVAL:
            self._show()
        else:
            self._pending = async_call_later(
                self.hass,
                self._shown_at + UPDATE_INTERVAL - now,
                HassJob(self._show_later, cancel_on_shutdown=True),
            )

    @callback
    def _show_later(self, _now: datetime) -> None:
        self._pending = None
        self._show()

    @callback
    def _show(self) -> None:
        newest = next(reversed(self.recent.values()))
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(self.entry_id),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_TRANSLATION_KEY,
            translation_placeholders={
                "path": newest.path,
                "remote": newest.remote,
                "reason": newest.reason,
                "refusals": "\n".join(r.line() for r in reversed(self.recent.values())),
            },
        )
        self._shown_at = dt_util.utcnow()
        self._expire_later()

    @callback
    def _expire_later(self) -> None:
        if self._expiry is not None:
            self._expiry()
        # Stopping HA ends the wait too: the issue is not persistent.
        self._expiry = async_call_later(
            self.hass, EXPIRE_AFTER, HassJob(self._expire, cancel_on_shutdown=True)
        )

    @callback
    def _expire(self, _now: datetime | None = None) -> None:
        """A day without refusals: the charger was fixed (or is gone)."""
        self._expiry = None
        self.recent.clear()
        ir.async_delete_issue(self.hass, DOMAIN, issue_id(self.entry_id))

    @callback
    def resume(self) -> None:
        """The entry is (re)loaded: an issue from before expires a day from now."""
        if ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id(self.entry_id)):
            self._expire_later()

    @callback
    def pause(self) -> None:
        """The entry unloads: no timer outlives it; the issue stays, up to date."""
        if self._pending is not None:
            self._pending()
            self._pending = None
            self._show()  # a refusal held back by the throttle is not lost
        if self._expiry is not None:
            self._expiry()
            self._expiry = None


@callback
def async_refusals(hass: HomeAssistant, entry_id: str) -> RefusedConnections:
    """The refusals of one central system (kept across reloads of its entry)."""
    refusals = hass.data.setdefault(_REFUSALS, {})
    if (found := refusals.get(entry_id)) is None:
        found = refusals[entry_id] = RefusedConnections(hass, entry_id)
    return found


@callback
def async_forget(hass: HomeAssistant, entry_id: str) -> None:
    """Remove the issue and the state of a removed entry."""
    if (found := hass.data.get(_REFUSALS, {}).pop(entry_id, None)) is not None:
        found.pause()
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id))
