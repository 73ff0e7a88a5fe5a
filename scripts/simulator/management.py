"""Answering the other feature profiles: Reservation, LocalAuthListManagement,
FirmwareManagement, and DataTransfer.

Nothing is really downloaded or uploaded: firmware and diagnostics go through
their status notifications with short pauses (``transfer_seconds``, divided
by ``speed``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    CancelReservationStatus,
    ChargePointStatus,
    ClearCacheStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    ReservationStatus,
    UpdateStatus,
    UpdateType,
)

from .config import number
from .model import Connector, Reservation
from .smart_charging import parse_time

if TYPE_CHECKING:
    from .charge_point import Link

BUSY = frozenset(
    (
        ChargePointStatus.preparing,
        ChargePointStatus.charging,
        ChargePointStatus.suspended_ev,
        ChargePointStatus.suspended_evse,
        ChargePointStatus.finishing,
        ChargePointStatus.reserved,
    )
)


class Management:
    """Mixin of :class:`~.core.SimulatedChargePoint`: reservations, local list, firmware."""

    def handle_reserve_now(
        self,
        link: Link,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        """Reserve an Available connector until ``expiry_date`` (status Reserved)."""
        conn = self.connectors.get(connector_id)
        expiry = parse_time(expiry_date)
        assert expiry is not None  # the schema requires it
        if conn is None or expiry <= datetime.now(UTC):
            # Connector 0 too: ReserveConnectorZeroSupported is false.
            self._log.warning("ReserveNow: no connector %d or expired already", connector_id)
            return call_result.ReserveNow(ReservationStatus.rejected)
        same = conn.reservation and conn.reservation.reservation_id == reservation_id
        if conn.status == ChargePointStatus.faulted:
            return call_result.ReserveNow(ReservationStatus.faulted)
        if conn.status == ChargePointStatus.unavailable:
            return call_result.ReserveNow(ReservationStatus.unavailable)
        if conn.session is not None or (conn.status in BUSY and not same):
            return call_result.ReserveNow(ReservationStatus.occupied)
        for other in self.connectors.values():  # a reservation id is unique: move it here
            if other.reservation and other.reservation.reservation_id == reservation_id:
                other.reservation = None
                if other is not conn:
                    link.defer(self._set_status(other, self._idle_status(other)))
        reservation = Reservation(reservation_id, id_tag, expiry, parent_id_tag)
        conn.reservation = reservation
        self.spawn(self._expire(conn, reservation))
        link.defer(self._set_status(conn, self._idle_status(conn)))
        return call_result.ReserveNow(ReservationStatus.accepted)

    def handle_cancel_reservation(
        self, link: Link, reservation_id: int, **_: Any
    ) -> call_result.CancelReservation:
        """Cancel a reservation: the connector is Available again."""
        for conn in self.connectors.values():
            if conn.reservation and conn.reservation.reservation_id == reservation_id:
                conn.reservation = None
                link.defer(self._set_status(conn, self._idle_status(conn)))
                return call_result.CancelReservation(CancelReservationStatus.accepted)
        self._log.warning("CancelReservation: no reservation %d", reservation_id)
        return call_result.CancelReservation(CancelReservationStatus.rejected)

    async def _expire(self, conn: Connector, reservation: Reservation) -> None:
        await asyncio.sleep((reservation.expiry - datetime.now(UTC)).total_seconds())
        if conn.reservation is reservation:
            self._log.info("reservation %d expired", reservation.reservation_id)
            conn.reservation = None
            await self._set_status(conn, self._idle_status(conn))

    def handle_get_local_list_version(
        self, link: Link, **_: Any
    ) -> call_result.GetLocalListVersion:
        """The list's version; 0 means an empty list (OCPP 1.6 §5.10)."""
        return call_result.GetLocalListVersion(self.local_list_version if self.local_list else 0)

    def handle_send_local_list(
        self,
        link: Link,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        """Replace (Full) or update (Differential) the local authorization list."""
        entries = local_authorization_list or []
        if len(entries) > number(self.config, "SendLocalListMaxLength"):
            self._log.warning("SendLocalList: %d entries are too many", len(entries))
            return call_result.SendLocalList(UpdateStatus.failed)
        full = update_type == UpdateType.full
        if not full and list_version <= self.local_list_version:
            self._log.warning(
                "SendLocalList: version %d is not above %d", list_version, self.local_list_version
            )
            return call_result.SendLocalList(UpdateStatus.version_mismatch)
        new = {} if full else dict(self.local_list)
        for entry in entries:
            if entry.get("id_tag_info") is None:
                new.pop(entry["id_tag"], None)  # a Differential entry without info: remove
            else:
                new[entry["id_tag"]] = entry["id_tag_info"]
        if len(new) > number(self.config, "LocalAuthListMaxLength"):
            self._log.warning("SendLocalList: the list would hold %d id tags", len(new))
            return call_result.SendLocalList(UpdateStatus.failed)
        self.local_list, self.local_list_version = new, list_version
        return call_result.SendLocalList(UpdateStatus.accepted)

    def handle_clear_cache(self, link: Link, **_: Any) -> call_result.ClearCache:
        """Accepted: the simulator keeps no authorization cache (AuthorizationCacheEnabled)."""
        return call_result.ClearCache(ClearCacheStatus.accepted)

    def handle_data_transfer(
        self,
        link: Link,
        vendor_id: str,
        message_id: str | None = None,
        data: str | None = None,
        **_: Any,
    ) -> call_result.DataTransfer:
        """Echo the data back for a configured vendor id; UnknownVendorId otherwise."""
        if vendor_id not in self.behaviour.vendor_ids:
            return call_result.DataTransfer(DataTransferStatus.unknown_vendor_id)
        return call_result.DataTransfer(DataTransferStatus.accepted, data=data)

    def handle_get_diagnostics(
        self, link: Link, location: str, **_: Any
    ) -> call_result.GetDiagnostics:
        """Name the file, then report Uploading and Uploaded."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        file_name = f"diagnostics-{self.cp_id}-{stamp}.log"

        async def upload() -> None:
            self._log.info("uploading %s to %s (simulated)", file_name, location)
            for status in (DiagnosticsStatus.uploading, DiagnosticsStatus.uploaded):
                self.diagnostics_status = status
                await self._send(call.DiagnosticsStatusNotification(status))
                await asyncio.sleep(self.transfer_seconds / self.speed)
            self.diagnostics_status = DiagnosticsStatus.idle

        link.defer(upload())
        return call_result.GetDiagnostics(file_name=file_name)

    def handle_update_firmware(
        self, link: Link, location: str, retrieve_date: str, **_: Any
    ) -> call_result.UpdateFirmware:
        """From ``retrieve_date`` on: Downloading, Downloaded, Installing, Installed."""
        retrieve = parse_time(retrieve_date)
        assert retrieve is not None  # the schema requires it
        if self._firmware_task is not None:
            self._firmware_task.cancel()  # a new update replaces a pending one

        async def update() -> None:
            await asyncio.sleep((retrieve - datetime.now(UTC)).total_seconds())
            self._log.info("updating firmware from %s (simulated)", location)
            for status in (
                FirmwareStatus.downloading,
                FirmwareStatus.downloaded,
                FirmwareStatus.installing,
                FirmwareStatus.installed,
            ):
                self.firmware_status = status
                await self._send(call.FirmwareStatusNotification(status))
                await asyncio.sleep(self.transfer_seconds / self.speed)
            self.firmware_status = FirmwareStatus.idle

        async def schedule() -> None:
            self._firmware_task = self.spawn(update())

        link.defer(schedule())
        return call_result.UpdateFirmware()
