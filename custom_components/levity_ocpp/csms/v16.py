"""OCPP 1.6J: translate the charger's messages into the model and back."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
import logging
from typing import Any, ClassVar

from ocpp import v16
from ocpp.exceptions import (
    FormationViolationError,
    FormatViolationError,
    OccurenceConstraintViolationError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
)
from ocpp.routing import after, on
from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    MessageTrigger,
    RegistrationStatus,
)

from .admission import BootIdentity, Gate, Registration
from .authorization import Authorization, Authorizer, TagStatus
from .autostart import AutoStart
from .commands import Command, CommandFailed, CommandResult, TriggerMessage
from .gated import GatedChargePoint
from .guards import ConnectionGuard
from .hooks import CentralSystemHooks
from .local_list import LocalListSync
from .meter import InvalidMeterValue, MeterSample, parse_meter_values
from .model import Change, ChargePoint, utcnow
from .sessions import SessionManager
from .timestamps import format_timestamp, parse_timestamp
from .v16_commands import to_call, to_result

_LOGGER = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"
# A sanity bound: a charger claiming connector 4000 is broken, not big.
MAX_CONNECTOR_ID = 32
# Characters of a DataTransfer's data passed on in its event.
MAX_REPORTED_DATA = 16 * 1024
# A charger's time further ahead than this is a wrong clock. Trusted, one stamp in
# 2099 would make every later status and reading look older, frozen for good.
MAX_CLOCK_AHEAD = timedelta(minutes=15)
_AUTHORIZATION_STATUS = {status: AuthorizationStatus(status.value) for status in TagStatus}


def id_tag_info(authorization: Authorization) -> datatypes.IdTagInfo:
    """The rules' answer as OCPP 1.6's IdTagInfo."""
    expiry = authorization.expiry
    return datatypes.IdTagInfo(
        status=_AUTHORIZATION_STATUS[authorization.status],
        parent_id_tag=authorization.parent_id_tag,
        expiry_date=format_timestamp(expiry) if expiry is not None else None,
    )


class ChargePointV16(GatedChargePoint, v16.ChargePoint):
    """The central system's side of one OCPP 1.6J connection."""

    # OCPP 1.6 spells these codes differently from the library (and from 2.0.1).
    error_code_spelling: ClassVar[dict[type[OCPPError], type[OCPPError]]] = {
        FormatViolationError: FormationViolationError,
        OccurrenceConstraintViolationError: OccurenceConstraintViolationError,
    }
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
        response_timeout: float = 30,
        auto_start: AutoStart | None = None,
        local_list: LocalListSync | None = None,
        gate: Gate,
        guard: ConnectionGuard | None = None,
    ) -> None:
        """Handle one connection of `model`; `gate` says what it may send."""
        super().__init__(model, connection, response_timeout, gate, guard)
        self._hooks = hooks
        self._sessions = sessions
        self._authorizer = authorizer
        self._local_list = local_list
        self._auto_start = auto_start
        self._booted = False
        # A BootNotification we asked for (TriggerMessage) is no restart of the charger.
        self._boot_requested = False
        self._heartbeat_interval = heartbeat_interval
        self._clock_ahead_reported = False  # once per connection is enough
        self._fetching_configuration = False

    def _connector(self, connector_id: int) -> None:
        """Make sure a connector id is plausible and known, announcing new ones."""
        if not 0 <= connector_id <= MAX_CONNECTOR_ID:
            raise PropertyConstraintViolationError(
                details={"cause": f"connectorId {connector_id} is out of range"}
            )
        if connector_id not in self.model.connectors:
            self.model.connector(connector_id)
            self._hooks.connector_discovered(self.model, connector_id)

    async def execute(self, command: Command) -> CommandResult:
        """Send a command as OCPP 1.6 and return the charger's answer."""
        return to_result(await self.send_command(to_call(command, self.id)))

    @on(Action.boot_notification)
    async def on_boot_notification(
        self,
        charge_point_vendor: str,
        charge_point_model: str,
        charge_point_serial_number: str | None = None,
        charge_box_serial_number: str | None = None,
        firmware_version: str | None = None,
        iccid: str | None = None,
        imsi: str | None = None,
        meter_type: str | None = None,
        meter_serial_number: str | None = None,
    ) -> call_result.BootNotification:
        """Record who the charger is and accept it with our heartbeat interval.

        One the user has not approved is answered Pending (or Rejected, if they
        ignored it) and nothing it said is kept on a charge point.
        """
        status = self.gate.boot(
            BootIdentity(
                vendor=charge_point_vendor,
                model=charge_point_model,
                serial_number=charge_box_serial_number or charge_point_serial_number,
                firmware_version=firmware_version,
            )
        )
        if status is not Registration.ACCEPTED:
            self._booted = True  # it did boot: no need to ask for one
            self._boot_requested = False
            return call_result.BootNotification(
                current_time=format_timestamp(utcnow()),
                interval=self.gate.retry_interval,
                status=RegistrationStatus(status.value),
            )
        model = self.model  # admitting the connection may just have given it its model
        model.vendor = charge_point_vendor
        model.model = charge_point_model
        # chargePointSerialNumber is deprecated in favour of chargeBoxSerialNumber.
        model.serial_number = charge_box_serial_number or charge_point_serial_number
        model.firmware_version = firmware_version
        model.iccid = iccid
        model.imsi = imsi
        model.meter_type = meter_type
        model.meter_serial_number = meter_serial_number
        model.last_boot = now = utcnow()
        self._booted = True
        if self._boot_requested:
            # Asked for after a reconnect: the charger did not restart, its sessions run.
            self._boot_requested = False
        else:
            # Levity's orphan rule: sessions open across a reboot will never be stopped.
            await self._sessions.charge_point_booted(model)
        self._hooks.charge_point_updated(model)
        model.notify()
        return call_result.BootNotification(
            current_time=format_timestamp(now),
            interval=self._heartbeat_interval,
            status=RegistrationStatus.accepted,
        )

    @after(Action.boot_notification)
    async def after_boot_notification(self, **_: Any) -> None:
        """Read the charger's configuration once it is registered, then check its list."""
        if not self.gate.admitted:
            return  # Pending or Rejected: nothing to learn about it yet
        with self.cancelled_on_shutdown():
            await self.fetch_configuration()
            if self._local_list is not None:
                await self._local_list.booted(self.model)

    async def expect_boot(self, wait_s: float) -> None:
        """Ask a charger that connected but did not boot within `wait_s` to boot now.

        Some firmware never sends BootNotification after a reconnect; without one the
        central system would not learn what the charger is or supports.
        """
        with self.cancelled_on_shutdown():
            await asyncio.sleep(wait_s)
            if self._booted or not self.gate.may_ask_to_boot:
                return
            _LOGGER.info("%s sent no BootNotification; asking for one", self.id)
            await self._ask_to_boot()

    async def _ask_to_boot(self) -> None:
        self._boot_requested = True
        try:
            await self.execute(TriggerMessage(MessageTrigger.boot_notification.value))
        except CommandFailed as error:
            _LOGGER.debug("%s: TriggerMessage(BootNotification) failed: %s", self.id, error)

    async def fetch_configuration(self) -> None:
        """Ask for every configuration key and keep the answer on the model.

        One request at a time: a charger booting over and over must not queue one
        GetConfiguration per boot behind the call lock.
        """
        if self._fetching_configuration:
            return
        self._fetching_configuration = True
        try:
            result = await self.call(call.GetConfiguration(), suppress=False)
        except Exception as error:  # noqa: BLE001 - a charger may not answer; not fatal
            _LOGGER.debug("%s: GetConfiguration failed: %r", self.id, error)
            return
        finally:
            self._fetching_configuration = False
        self.model.configuration = {
            item["key"]: {"value": item.get("value"), "readonly": item.get("readonly")}
            for item in result.configuration_key or []
            if isinstance(item, dict) and "key" in item
        }
        self.model.unknown_configuration_keys = list(result.unknown_key or [])
        self._hooks.charge_point_updated(self.model)
        self._hooks.charge_point_configured(self.model)

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        """Answer with our clock; the charger may use it to set its own."""
        self.model.last_heartbeat = now = utcnow()
        self.model.notify(change=Change.READINGS)
        return call_result.Heartbeat(current_time=format_timestamp(now))

    @on(Action.status_notification)
    def on_status_notification(
        self,
        connector_id: int,
        error_code: str,
        status: str,
        timestamp: str | None = None,
        info: str | None = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
    ) -> call_result.StatusNotification:
        """Record a connector's (0: the charge point's) status and error."""
        self._connector(connector_id)
        connector = self.model.connector(connector_id)
        reported_at = self._not_ahead(parse_timestamp(timestamp) or utcnow())
        if connector.status_time is not None and reported_at < connector.status_time:
            # A status queued while offline arriving after a newer one: keep the newer.
            _LOGGER.debug("%s: stale status for connector %s ignored", self.id, connector_id)
            return call_result.StatusNotification()
        connector.status = status
        connector.error_code = error_code
        connector.info = info
        connector.vendor_id = vendor_id
        connector.vendor_error_code = vendor_error_code
        connector.status_time = reported_at
        self.model.notify(connector_id)
        if self._auto_start is not None:
            self._auto_start.status_changed(self.model, connector_id)
        return call_result.StatusNotification()

    @on(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        """Open a session; its id is persisted before the charger learns it."""
        if connector_id < 1:
            raise PropertyConstraintViolationError(
                details={"cause": "a transaction needs a connector id of 1 or more"}
            )
        self._connector(connector_id)
        transaction = await self._sessions.start(
            self.model,
            connector_id,
            id_tag,
            self._charger_time(timestamp),
            meter_start,
            reservation_id,
        )
        if self._auto_start is not None:
            self._auto_start.transaction_started(self.model, connector_id)
        # Recorded whatever the answer: the charger has started it already.
        authorization = self._authorizer.authorize_start(self.model, id_tag, transaction)
        return call_result.StartTransaction(
            transaction_id=transaction.transaction_id, id_tag_info=id_tag_info(authorization)
        )

    @on(Action.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
    ) -> call_result.MeterValues:
        """Take the samples; the sample timestamps, not arrival order, decide what is newest."""
        self._connector(connector_id)
        await self._sessions.meter_values(
            self.model, connector_id, self._samples(meter_value), transaction_id
        )
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        reason: str | None = None,
        id_tag: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        """Close the session with its final reading; an unknown id is answered, not raised."""
        await self._sessions.stop(
            self.model,
            transaction_id,
            self._charger_time(timestamp),
            meter_stop,
            reason,
            id_tag,
            self._transaction_data(transaction_data or []),
        )
        if id_tag is None:
            return call_result.StopTransaction()
        # The session ends either way; the answer tells the charger's cache the tag's standing.
        authorization = self._authorizer.check(self.id, id_tag)
        return call_result.StopTransaction(id_tag_info=id_tag_info(authorization))

    def _charger_time(self, timestamp: str) -> datetime:
        """The charger's clock is the truth; an unreadable stamp is a broken message."""
        if (parsed := parse_timestamp(timestamp)) is None:
            raise FormationViolationError(details={"cause": f"invalid timestamp {timestamp!r}"})
        return self._not_ahead(parsed)

    def _not_ahead(self, moment: datetime) -> datetime:
        """The charger's time, or when we received it if that lies in the future."""
        now = utcnow()
        if moment <= now + MAX_CLOCK_AHEAD:
            return moment
        if not self._clock_ahead_reported:
            self._clock_ahead_reported = True
            self.model.record_anomaly(
                f"clock ahead: stamped {moment.isoformat()} at {now.isoformat()}; "
                "such times are taken as received"
            )
        return now

    def _samples(self, meter_value: list[dict[str, Any]]) -> list[MeterSample]:
        try:
            samples = parse_meter_values(meter_value)
        except InvalidMeterValue as error:
            raise FormationViolationError(details={"cause": str(error)}) from error
        return [self._sample_not_ahead(sample) for sample in samples]

    def _sample_not_ahead(self, sample: MeterSample) -> MeterSample:
        timestamp = self._not_ahead(sample.timestamp)
        return sample if timestamp is sample.timestamp else replace(sample, timestamp=timestamp)

    def _transaction_data(self, meter_value: list[dict[str, Any]]) -> list[MeterSample]:
        """StopTransaction's samples; a broken one must not cost the stop itself."""
        samples: list[MeterSample] = []
        for index, item in enumerate(meter_value):
            try:
                samples += map(self._sample_not_ahead, parse_meter_values([item]))
            except InvalidMeterValue as error:
                self.model.record_anomaly(
                    f"StopTransaction transactionData[{index}] ignored: {error}"
                )
        return sorted(samples, key=lambda sample: sample.timestamp)

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        """Answer from the id tag rules (authorization.py)."""
        self.model.last_authorize = utcnow()
        authorization = self._authorizer.authorize(self.model, id_tag)
        return call_result.Authorize(id_tag_info=id_tag_info(authorization))

    @on(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        """Tell HA (an event) and the charger that no vendor extension is known here."""
        self.model.last_data_transfer = f"{vendor_id}/{message_id}" if message_id else vendor_id
        self.model.notify()
        report: dict[str, Any] = {"vendor_id": vendor_id, "message_id": message_id, "data": data}
        if data is not None and len(data) > MAX_REPORTED_DATA:
            # Home Assistant's recorder drops (and warns about) bigger events.
            report |= {"data": data[:MAX_REPORTED_DATA], "data_truncated": len(data)}
        self._hooks.charger_reported(self.model, "data_transfer", report)
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(
        self, status: str
    ) -> call_result.DiagnosticsStatusNotification:
        """Show how a diagnostics upload goes."""
        self.model.diagnostics_status = status
        self._hooks.charger_reported(self.model, "diagnostics_status", {"status": status})
        self.model.notify()
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(
        self, status: str
    ) -> call_result.FirmwareStatusNotification:
        """Show how a firmware update goes."""
        self.model.firmware_status = status
        self._hooks.charger_reported(self.model, "firmware_status", {"status": status})
        self.model.notify()
        return call_result.FirmwareStatusNotification()
