"""OCPP 2.0.1: the charger's messages into the same model, sessions and commands as 1.6.

The model has one connector per EVSE (the EVSE id is the connector id; 0 is the
charge point as a whole and its main meter). Statuses and charging states are
told in 1.6's words (v201_status.py), transactions feed the same SessionManager
(v201_transactions.py), the device model becomes the same configuration
(v201_device_model.py), and commands are the same neutral ones
(v201_commands.py): nothing above this layer knows which version a charger speaks.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import logging
from typing import Any, ClassVar

from ocpp import v201
from ocpp.exceptions import FormatViolationError, PropertyConstraintViolationError
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    Action,
    BootReasonEnumType,
    GenericDeviceModelStatusEnumType,
    MessageTriggerEnumType,
    RegistrationStatusEnumType,
    ReportBaseEnumType,
    TransactionEventEnumType,
)

from .admission import BootIdentity, Gate, Registration
from .authorization import Authorizer
from .autostart import AutoStart
from .charger_clock import ChargerClock
from .commands import Command, CommandResult
from .gated import GatedChargePoint
from .guards import ConnectionGuard
from .hooks import CentralSystemHooks
from .local_list import LocalListSync
from .meter import InvalidMeterValue, MeterSample
from .model import Change, ChargePoint, utcnow
from .sessions import SessionManager
from .timestamps import format_timestamp, parse_timestamp
from .v201_authorization import id_token_info
from .v201_commands import REQUEST_IDS, to_call, to_result
from .v201_device_model import ReportCollector
from .v201_meter import parse_meter_values_v201
from .v201_station import StationReports
from .v201_status import evse_status, model_status
from .v201_transactions import Event, TransactionEvents, id_token_text

_LOGGER = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp2.0.1"
# A sanity bound, as for 1.6 connectors: a charger claiming EVSE 4000 is broken.
MAX_EVSE_ID = 32


class ChargePointV201(StationReports, GatedChargePoint, v201.ChargePoint):
    """The central system's side of one OCPP 2.0.1 connection."""

    known_actions: ClassVar[frozenset[str]] = frozenset(action.value for action in Action)

    def __init__(
        self,
        model: ChargePoint,
        connection: Any,
        *,
        hooks: CentralSystemHooks,
        sessions: SessionManager,
        authorizer: Authorizer,
        heartbeat_interval: int,
        gate: Gate,
        response_timeout: float = 30,
        auto_start: AutoStart | None = None,
        local_list: LocalListSync | None = None,
        guard: ConnectionGuard | None = None,
    ) -> None:
        """Handle one connection of `model`; `gate` says what it may send."""
        super().__init__(model, connection, response_timeout, gate, guard)
        self._hooks = hooks
        self._authorizer = authorizer
        self._local_list = local_list
        self._sessions = sessions
        self._auto_start = auto_start
        self._heartbeat_interval = heartbeat_interval
        self._clock = ChargerClock(model)
        self._reports = ReportCollector()
        # The 2.0.1 status of each connector of each EVSE, as this connection told.
        self._statuses: dict[int, dict[int, str]] = {}
        self._transactions = TransactionEvents(model, sessions, self._refresh_status, auto_start)
        self._booted = False
        # A BootNotification we asked for (TriggerMessage) is no restart of the charger.
        self._boot_requested = False

    async def execute(self, command: Command) -> CommandResult:
        """Send a command as OCPP 2.0.1 and return the charger's answer."""
        return to_result(await self.send_command(to_call(command, self.model)))

    def _evse(self, evse_id: int, *, main_meter: bool = False) -> None:
        """Make sure an EVSE id is plausible and known, announcing new ones."""
        lowest = 0 if main_meter else 1
        if not lowest <= evse_id <= MAX_EVSE_ID:
            raise PropertyConstraintViolationError(
                details={"cause": f"evseId {evse_id} is out of range"}
            )
        if evse_id not in self.model.connectors:
            self.model.connector(evse_id)
            self._hooks.connector_discovered(self.model, evse_id)

    # B: provisioning

    @on(Action.boot_notification)
    async def on_boot_notification(
        self,
        charging_station: dict[str, Any],
        reason: str,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.BootNotification:
        """Record who the charger is and answer with our heartbeat interval.

        One the user has not approved is answered Pending (or Rejected, if they
        ignored it) and nothing it said is kept on a charge point.
        """
        registration = self.gate.boot(
            BootIdentity(
                vendor=str(charging_station.get("vendor_name") or ""),
                model=str(charging_station.get("model") or ""),
                serial_number=charging_station.get("serial_number"),
                firmware_version=charging_station.get("firmware_version"),
            )
        )
        status = RegistrationStatusEnumType(registration.value)
        self._booted = True
        if registration is not Registration.ACCEPTED:
            self._boot_requested = False
            return call_result.BootNotification(
                current_time=format_timestamp(utcnow()),
                interval=self.gate.retry_interval,
                status=status,
            )
        model = self.model  # admitting the connection may just have given it its model
        modem = charging_station.get("modem") or {}
        model.vendor = charging_station.get("vendor_name")
        model.model = charging_station.get("model")
        model.serial_number = charging_station.get("serial_number")
        model.firmware_version = charging_station.get("firmware_version")
        model.iccid = modem.get("iccid")
        model.imsi = modem.get("imsi")
        model.last_boot = now = utcnow()
        restarted = reason != BootReasonEnumType.triggered and not self._boot_requested
        self._boot_requested = False
        if restarted:
            # Levity's orphan rule: sessions open across a reboot will never be stopped.
            await self._sessions.charge_point_booted(model)
        self._hooks.charge_point_updated(model)
        model.notify()
        return call_result.BootNotification(
            current_time=format_timestamp(now), interval=self._heartbeat_interval, status=status
        )

    @after(Action.boot_notification)
    async def after_boot_notification(self, reason: str, **_: Any) -> None:
        """Once registered: learn the device model; after a reconnect, the open sessions."""
        if not self.gate.admitted:  # Pending or Rejected: nothing to learn about it yet
            return
        with self.cancelled_on_shutdown():
            await self.read_device_model()
            if reason == BootReasonEnumType.triggered:
                await self.check_open_transactions()
            if self._local_list is not None:
                await self._local_list.booted(self.model)

    async def expect_boot(self, wait_s: float) -> None:
        """A connection without a boot: a charger reconnecting (2.0.1 boots only on start).

        A charger never registered here is asked to boot; one that was learns
        nothing new from a boot (it would refuse the request), so the central
        system asks what became of its open sessions instead.
        """
        with self.cancelled_on_shutdown():
            await asyncio.sleep(wait_s)
            if self._booted or not self.gate.may_ask_to_boot:
                return
            if self.model.last_boot is None or not self.gate.admitted:
                _LOGGER.info("%s sent no BootNotification; asking for one", self.id)
                await self._ask_to_boot()
                return
            if not self.model.configuration:
                await self.read_device_model()
            await self.check_open_transactions()

    async def _ask_to_boot(self) -> None:
        self._boot_requested = True
        trigger = MessageTriggerEnumType.boot_notification
        try:
            await self.send_command(call.TriggerMessage(requested_message=trigger))
        except Exception as error:  # noqa: BLE001 - a charger may refuse; not fatal
            _LOGGER.debug("%s: TriggerMessage(BootNotification): %r", self.id, error)

    async def read_device_model(self) -> None:
        """Ask for the full device model; NotifyReport messages bring it."""
        request = call.GetBaseReport(
            request_id=REQUEST_IDS.next(), report_base=ReportBaseEnumType.full_inventory
        )
        try:
            result = await self.send_command(request)
        except Exception as error:  # noqa: BLE001 - a charger may not answer; not fatal
            _LOGGER.debug("%s: GetBaseReport failed: %r", self.id, error)
            return
        if result.status != GenericDeviceModelStatusEnumType.accepted:
            _LOGGER.info("%s refused to report its device model: %s", self.id, result.status)

    @on(Action.notify_report)
    def on_notify_report(
        self,
        request_id: int,
        generated_at: str,
        seq_no: int,
        report_data: list[dict[str, Any]] | None = None,
        tbc: bool | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.NotifyReport:
        """Gather the report's parts; the last one makes it the configuration."""
        report = self._reports.take(request_id, report_data or [], bool(tbc))
        if report is None:
            return call_result.NotifyReport()
        # All EVSEs first, then announced: each gets its device at once, none moves later.
        new = [
            e for e in sorted(report.evses) if e <= MAX_EVSE_ID and e not in self.model.connectors
        ]
        for evse_id in new:
            self.model.connector(evse_id)
        for evse_id in new:
            self._hooks.connector_discovered(self.model, evse_id)
        if report.truncated:
            self.model.record_anomaly(
                f"device model report {request_id}: {report.truncated} variables beyond "
                "the first ones were not kept"
            )
        self.model.configuration = report.configuration()
        self.model.unknown_configuration_keys = []
        self._hooks.charge_point_updated(self.model)
        self._hooks.charge_point_configured(self.model)
        return call_result.NotifyReport()

    @on(Action.heartbeat)
    def on_heartbeat(self, custom_data: dict[str, Any] | None = None) -> call_result.Heartbeat:
        """Answer with our clock; the charger may use it to set its own."""
        self.model.last_heartbeat = now = utcnow()
        self.model.notify(change=Change.READINGS)
        return call_result.Heartbeat(current_time=format_timestamp(now))

    # G: availability

    @on(Action.status_notification)
    def on_status_notification(
        self,
        timestamp: str,
        connector_status: str,
        evse_id: int,
        connector_id: int,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.StatusNotification:
        """A connector's status: its EVSE's, in the model's words."""
        self._evse(evse_id)
        if not 1 <= connector_id <= MAX_EVSE_ID:  # what is kept per EVSE stays bounded
            raise PropertyConstraintViolationError(
                details={"cause": f"connectorId {connector_id} is out of range"}
            )
        connector = self.model.connector(evse_id)
        reported_at = self._clock.not_ahead(parse_timestamp(timestamp) or utcnow())
        if connector.status_time is not None and reported_at < connector.status_time:
            # A status queued while offline arriving after a newer one: keep the newer.
            _LOGGER.debug("%s: stale status for EVSE %s ignored", self.id, evse_id)
            return call_result.StatusNotification()
        self._statuses.setdefault(evse_id, {})[connector_id] = connector_status
        self._refresh_status(evse_id, reported_at, always=True)
        return call_result.StatusNotification()

    def _refresh_status(self, evse_id: int, at: datetime, *, always: bool = False) -> None:
        """Show the status the EVSE's connectors and its transaction make together."""
        connector = self.model.connector(evse_id)
        status = model_status(
            evse_status(self._statuses.get(evse_id, {}).values()),
            connector.transaction,
            connector.status,
        )
        if status is None or (status == connector.status and not always):
            return
        connector.status = status
        if connector.status_time is None or at > connector.status_time:
            connector.status_time = at
        self.model.notify(evse_id)
        if self._auto_start is not None:
            self._auto_start.status_changed(self.model, evse_id)

    # E, J: transactions and meter values

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None = None,
        offline: bool | None = None,
        number_of_phases_used: int | None = None,
        cable_max_current: int | None = None,
        reservation_id: int | None = None,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.TransactionEvent:
        """A session's start, progress or end; the session is saved before the answer."""
        evse_id = evse.get("id") if evse else None
        if evse_id is not None:
            self._evse(evse_id)
        _LOGGER.debug(
            "%s: TransactionEvent %s #%s (%s) of %s",
            self.id,
            event_type,
            seq_no,
            trigger_reason,
            transaction_info.get("transaction_id"),
        )
        await self._transactions.handle(
            Event(
                type=event_type,
                at=self._charger_time(timestamp),
                seq_no=seq_no,
                info=transaction_info,
                samples=self._samples(meter_value or []),
                evse_id=evse_id,
                id_tag=id_token_text(id_token),
                reservation_id=reservation_id,
                offline=bool(offline),
            )
        )
        id_tag = id_token_text(id_token)
        if id_tag is None:
            return call_result.TransactionEvent()
        transaction = self._sessions.book.by_charger_id(
            self.id, str(transaction_info.get("transaction_id"))
        )
        if event_type == TransactionEventEnumType.started and transaction is not None:
            authorization = self._authorizer.authorize_start(self.model, id_tag, transaction)
        else:  # a token shown during the session (to stop it, say): the rules alone
            authorization = self._authorizer.check(self.id, id_tag)
        return call_result.TransactionEvent(id_token_info=id_token_info(authorization))

    @on(Action.meter_values)
    async def on_meter_values(
        self,
        evse_id: int,
        meter_value: list[dict[str, Any]],
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.MeterValues:
        """Readings outside TransactionEvents: EVSE 0 is the main meter."""
        self._evse(evse_id, main_meter=True)
        await self._sessions.meter_values(self.model, evse_id, self._samples(meter_value), None)
        return call_result.MeterValues()

    def _charger_time(self, timestamp: str) -> datetime:
        """The charger's clock is the truth; an unreadable stamp is a broken message."""
        if (parsed := parse_timestamp(timestamp)) is None:
            raise FormatViolationError(details={"cause": f"invalid timestamp {timestamp!r}"})
        return self._clock.not_ahead(parsed)

    def _samples(self, meter_value: list[dict[str, Any]]) -> list[MeterSample]:
        try:
            samples = parse_meter_values_v201(meter_value)
        except InvalidMeterValue as error:
            raise FormatViolationError(details={"cause": str(error)}) from error
        return [self._clock.sample(sample) for sample in samples]

    async def check_open_transactions(self) -> None:
        """After a reconnect: ask about each open session (GetTransactionStatus).

        A session the charger says is over, with nothing more queued for it, will
        never get its Ended: it is closed as one abandoned (1.6's orphan rule),
        so a late report can still complete it.
        """
        for transaction in self._sessions.book.open_on(self.model.id):
            if transaction.charger_transaction_id is None:
                continue
            request = call.GetTransactionStatus(transaction_id=transaction.charger_transaction_id)
            try:
                result = await self.send_command(request)
            except Exception as error:  # noqa: BLE001 - a charger may not answer; not fatal
                _LOGGER.debug("%s: GetTransactionStatus failed: %r", self.id, error)
                return
            if result.ongoing_indicator is False and not result.messages_in_queue:
                await self._sessions.abandoned(
                    self.model,
                    transaction,
                    "the charger reports it ended and has nothing more to send",
                )

    # C: authorization

    @on(Action.authorize)
    def on_authorize(
        self,
        id_token: dict[str, Any],
        certificate: str | None = None,
        iso15118_certificate_hash_data: list[dict[str, Any]] | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.Authorize:
        """Someone presented an id token at the charger."""
        self.model.last_authorize = utcnow()
        authorization = self._authorizer.authorize(self.model, id_token_text(id_token) or "")
        return call_result.Authorize(id_token_info=id_token_info(authorization))
