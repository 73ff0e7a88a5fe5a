"""What the central system tells the layer above it (Home Assistant, or a test)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import ChargePoint
from .transactions import Transaction

if TYPE_CHECKING:
    from .admission import UnknownChargePoint
    from .authorization import Authorization


class CentralSystemHooks:
    """Callbacks from the central system; every method defaults to doing nothing.

    They run in the event loop, synchronously, while the frame that caused them is
    being handled: keep them quick and let them schedule slow work.
    """

    def charge_point_discovered(self, charge_point: ChargePoint) -> None:
        """A charge point connected for the first time."""

    def charge_point_pending(self, charge_point: UnknownChargePoint) -> None:
        """A charger the user has not approved booted and waits (Pending): offer it."""

    def unknown_charge_point_forgotten(self, charge_point_id: str) -> None:
        """A waiting charger is no longer waiting (approved, gone for a while, or pushed out)."""

    def charge_point_accepted(self, charge_point_id: str, subprotocol: str | None) -> None:
        """The policy accepts a new charger: record its approval now, before its device.

        `subprotocol` is what its connection agreed on (None: it offered none).
        """

    def charge_point_removed(self, charge_point: ChargePoint) -> None:
        """The user removed a charge point; it is unknown again (its sessions are ended)."""

    def connection_refused(self, path: str, remote: str | None, reason: str) -> None:
        """A connection was refused; `path` has its query hidden, `remote` is host:port."""

    def password_confirmed(self, charge_point_id: str) -> None:
        """A charge point authenticated with its new password: forget its previous one."""

    def charge_point_updated(self, charge_point: ChargePoint) -> None:
        """Identity, configuration or connection history changed (worth persisting)."""

    def connector_discovered(self, charge_point: ChargePoint, connector_id: int) -> None:
        """A charge point reported a connector (0: the charge point) not seen before."""

    def readings_discovered(self, charge_point: ChargePoint, connector_id: int) -> None:
        """A connector (0: the main meter) reported a measurand series not seen before."""

    async def persist_transactions(self, transaction: Transaction | None = None) -> None:
        """Durably save what changed in the book now; a reply to the charger depends on it.

        `transaction`: the one that changed (opened, ended, corrected) with the id
        counter; None: the book changed beyond one transaction (save all of it).
        """

    def transactions_changed(self) -> None:
        """The book changed in a way worth saving soon (a session was flagged)."""

    def transactions_metered(self) -> None:
        """Open sessions took meter readings: worth saving, on a slow cadence.

        A finished session's energy comes from its stop; these matter only for a
        session whose stop never comes, after a crash.
        """

    def session_started(self, charge_point: ChargePoint, transaction: Transaction) -> None:
        """A charging session began (already persisted)."""

    async def session_stopped(self, charge_point: ChargePoint, transaction: Transaction) -> None:
        """A session ended: record it durably before the charger is answered.

        Its record and the book's change (the closed transaction with the id
        counter) together: `persist_transactions` is not called for it as well.
        Whatever the reply does not depend on can wait until it is sent.
        """

    async def session_amended(
        self,
        charge_point: ChargePoint,
        transaction: Transaction,
        previous_hourly_kwh: dict[str, float],
        *,
        final: bool,
    ) -> None:
        """A stopped session changed (the charger reported late on an orphan): re-record it.

        Durably, with the book's change, as `session_stopped` does.

        `previous_hourly_kwh` is what its energy per hour was, to correct statistics;
        `final` when the charger's StopTransaction settled it (more MeterValues may
        follow otherwise).
        """

    def charge_point_configured(self, charge_point: ChargePoint) -> None:
        """The charger's configuration was read: what it supports may differ now."""

    def charger_reported(
        self, charge_point: ChargePoint, message: str, data: dict[str, Any]
    ) -> None:
        """An informational message (DataTransfer, firmware or diagnostics status) arrived."""

    def id_tag_presented(
        self, charge_point: ChargePoint, id_tag: str, authorization: Authorization
    ) -> None:
        """Someone presented an id tag at the charger; `authorization` is our answer.

        Not called for the tag the central system starts sessions with, nor twice for
        one presentation (an Authorize and the start that follows it).
        """
