"""The simulated station's device model: its components' variables, as 2.0.1 has them.

GetVariables and SetVariables read and change them (B06, B05), GetBaseReport
reports them (B07, in NotifyReport parts). A few values are live (an EVSE's
AvailabilityState, how many profiles are installed): ``DeviceModel.live`` gives
them when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ocpp.v201 import datatypes
from ocpp.v201.enums import (
    AttributeEnumType,
    DataEnumType,
    GetVariableStatusEnumType,
    MeasurandEnumType,
    MutabilityEnumType,
    ReportBaseEnumType,
    SetVariableStatusEnumType,
)

RO, RW, WO = (
    MutabilityEnumType.read_only,
    MutabilityEnumType.read_write,
    MutabilityEnumType.write_only,
)
DEFAULT_MEASURANDS = (
    MeasurandEnumType.energy_active_import_register,
    MeasurandEnumType.power_active_import,
    MeasurandEnumType.current_import,
    MeasurandEnumType.voltage,
    MeasurandEnumType.current_offered,
    MeasurandEnumType.soc,
)
SUPPORTED_MEASURANDS = frozenset(
    (*DEFAULT_MEASURANDS, MeasurandEnumType.power_offered, MeasurandEnumType.frequency)
)
# The most items a GetVariables, SetVariables or NotifyReport part carries.
ITEMS_PER_MESSAGE = 20

# (component, component instance, evse id, connector id, variable, variable instance)
type Key = tuple[str, str | None, int | None, int | None, str, str | None]


@dataclass
class Variable:
    """One variable's Actual value, who may change it, and what it holds."""

    value: str
    mutability: MutabilityEnumType = RW
    data_type: DataEnumType = DataEnumType.string
    unit: str | None = None
    values_list: str | None = None
    max_limit: float | None = None
    password: bool = False  # a basic auth password: 16 to 40 characters (A00.FR.205)

    def characteristics(self) -> datatypes.VariableCharacteristicsType:
        return datatypes.VariableCharacteristicsType(
            data_type=self.data_type,
            supports_monitoring=False,
            unit=self.unit,
            values_list=self.values_list,
            max_limit=self.max_limit,
        )


def _key(component: dict[str, Any], variable: dict[str, Any]) -> Key:
    evse = component.get("evse") or {}
    return (
        component["name"],
        component.get("instance"),
        evse.get("id"),
        evse.get("connector_id"),
        variable["name"],
        variable.get("instance"),
    )


def _component(key: Key) -> datatypes.ComponentType:
    name, instance, evse_id, connector_id, _, _ = key
    evse = None if evse_id is None else datatypes.EVSEType(evse_id, connector_id)
    return datatypes.ComponentType(name=name, instance=instance, evse=evse)


def _variable(key: Key) -> datatypes.VariableType:
    return datatypes.VariableType(name=key[4], instance=key[5])


def _integer(value: str, mutability: MutabilityEnumType = RW, unit: str | None = None) -> Variable:
    return Variable(value, mutability, DataEnumType.integer, unit)


def _boolean(value: bool, mutability: MutabilityEnumType = RO) -> Variable:
    return Variable(str(value).lower(), mutability, DataEnumType.boolean)


def _measurands(value: Iterable[str]) -> Variable:
    return Variable(
        ",".join(value),
        RW,
        DataEnumType.member_list,
        values_list=",".join(sorted(SUPPORTED_MEASURANDS)),
    )


def default_variables(
    evses: int,
    *,
    heartbeat_s: float,
    interval_s: float,
    aligned_s: float,
    phases: int,
    amps: float,
    volts: float,
    rate_units: str,
) -> dict[Key, Variable]:
    """The variables of a station with ``evses`` single-connector EVSEs, from the factory."""
    station: dict[tuple[str, str] | tuple[str, str, str], Variable] = {
        ("OCPPCommCtrlr", "HeartbeatInterval"): _integer(f"{heartbeat_s:g}", unit="s"),
        ("OCPPCommCtrlr", "WebSocketPingInterval"): _integer("20", unit="s"),
        ("OCPPCommCtrlr", "ResetRetries"): _integer("2"),
        ("OCPPCommCtrlr", "MessageTimeout", "Default"): _integer("30", RO, "s"),
        ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"): _integer("3"),
        ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"): _integer("60", unit="s"),
        ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"): _boolean(True, RW),
        ("OCPPCommCtrlr", "FileTransferProtocols"): Variable("HTTP,HTTPS,FTP", RO),
        ("SampledDataCtrlr", "Enabled"): _boolean(True, RW),
        ("SampledDataCtrlr", "Available"): _boolean(True),
        ("SampledDataCtrlr", "TxUpdatedInterval"): _integer(f"{interval_s:g}", unit="s"),
        ("SampledDataCtrlr", "TxUpdatedMeasurands"): _measurands(DEFAULT_MEASURANDS),
        ("SampledDataCtrlr", "TxStartedMeasurands"): _measurands(DEFAULT_MEASURANDS[:1]),
        ("SampledDataCtrlr", "TxEndedMeasurands"): _measurands(DEFAULT_MEASURANDS[:2]),
        ("SampledDataCtrlr", "TxEndedInterval"): _integer("0", unit="s"),
        ("AlignedDataCtrlr", "Enabled"): _boolean(True, RW),
        ("AlignedDataCtrlr", "Available"): _boolean(True),
        ("AlignedDataCtrlr", "Interval"): _integer(f"{aligned_s:g}", unit="s"),
        ("AlignedDataCtrlr", "Measurands"): _measurands(
            (MeasurandEnumType.energy_active_import_register, MeasurandEnumType.voltage)
        ),
        ("AlignedDataCtrlr", "TxEndedMeasurands"): _measurands(()),
        ("AlignedDataCtrlr", "TxEndedInterval"): _integer("0", unit="s"),
        ("SmartChargingCtrlr", "Enabled"): _boolean(True, RW),
        ("SmartChargingCtrlr", "Available"): _boolean(True),
        ("SmartChargingCtrlr", "RateUnit"): Variable(rate_units, RO, DataEnumType.member_list),
        ("SmartChargingCtrlr", "PeriodsPerSchedule"): _integer("24", RO),
        ("SmartChargingCtrlr", "ProfileStackLevel"): _integer("8", RO),
        ("SmartChargingCtrlr", "ACPhaseSwitchingSupported"): _boolean(phases == 3),
        ("SmartChargingCtrlr", "Phases3to1"): _boolean(phases == 3),
        ("TxCtrlr", "EVConnectionTimeOut"): _integer("60", unit="s"),
        ("TxCtrlr", "StopTxOnEVSideDisconnect"): _boolean(True),
        ("TxCtrlr", "StopTxOnInvalidId"): _boolean(True, RW),
        ("TxCtrlr", "TxStartPoint"): Variable("Authorized,EVConnected", RO),
        ("TxCtrlr", "TxStopPoint"): Variable("EVConnected,Authorized", RO),
        ("AuthCtrlr", "Enabled"): _boolean(True, RW),
        ("AuthCtrlr", "AuthorizeRemoteStart"): _boolean(False, RW),
        ("AuthCtrlr", "LocalAuthorizeOffline"): _boolean(True, RW),
        ("AuthCtrlr", "LocalPreAuthorize"): _boolean(False, RW),
        ("AuthCacheCtrlr", "Enabled"): _boolean(False),
        ("LocalAuthListCtrlr", "Enabled"): _boolean(False),
        ("ReservationCtrlr", "Enabled"): _boolean(False),
        ("SecurityCtrlr", "SecurityProfile"): _integer("1", RO),
        ("SecurityCtrlr", "BasicAuthPassword"): Variable("", WO, password=True),
        ("SecurityCtrlr", "OrganizationName"): Variable("Levity", RW),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"): _integer(str(ITEMS_PER_MESSAGE), RO),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"): _integer(
            str(ITEMS_PER_MESSAGE), RO
        ),
        ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"): _integer(
            str(ITEMS_PER_MESSAGE), RO
        ),
        ("ChargingStation", "Available"): _boolean(True),
        ("ChargingStation", "SupplyPhases"): _integer(str(phases), RO),
    }
    found: dict[Key, Variable] = {}
    for names, variable in station.items():
        component, name, *instance = names
        found[(component, None, None, None, name, instance[0] if instance else None)] = variable
    max_w = amps * volts * phases
    states = "Available,Occupied,Reserved,Unavailable,Faulted"
    found[("ChargingStation", None, None, None, "AvailabilityState", None)] = Variable(
        "Available", RO, DataEnumType.option_list, values_list=states
    )
    for evse_id in range(1, evses + 1):
        for where in (("EVSE", None, evse_id, None), ("Connector", None, evse_id, 1)):
            found[(*where, "AvailabilityState", None)] = Variable(
                "Available", RO, DataEnumType.option_list, values_list=states
            )
        found[("EVSE", None, evse_id, None, "Available", None)] = _boolean(True)
        found[("EVSE", None, evse_id, None, "Power", None)] = Variable(
            f"{max_w:.0f}", RO, DataEnumType.decimal, "W", max_limit=max_w
        )
        found[("EVSE", None, evse_id, None, "SupplyPhases", None)] = _integer(str(phases), RO)
        found[("Connector", None, evse_id, 1, "ConnectorType", None)] = Variable("cType2", RO)
        found[("Connector", None, evse_id, 1, "Available", None)] = _boolean(True)
    return found


# Live values: the AvailabilityState of each EVSE and connector, and the like.
type Live = Callable[[Key], str | None]


@dataclass
class DeviceModel:
    """The variables, and what a change of one means to the rest of the station."""

    variables: dict[Key, Variable]
    live: Live = lambda _: None
    changed: Callable[[Key, str], None] = lambda _key, _value: None

    def value(self, component: str, name: str, instance: str | None = None) -> str:
        """A station-wide variable's value (the simulator's own, so it exists)."""
        return self.variables[(component, None, None, None, name, instance)].value

    def number(self, component: str, name: str, instance: str | None = None) -> float:
        return float(self.value(component, name, instance))

    def listed(self, component: str, name: str) -> list[str]:
        return [item for item in self.value(component, name).split(",") if item]

    def get(self, request: dict[str, Any]) -> datatypes.GetVariableResultType:
        """One GetVariableData answered."""
        component, variable = request["component"], request["variable"]
        attribute = request.get("attribute_type") or AttributeEnumType.actual
        key = _key(component, variable)
        status, value = self._read(key, attribute)
        return datatypes.GetVariableResultType(
            attribute_status=status,
            component=_component(key),
            variable=_variable(key),
            attribute_type=attribute,
            attribute_value=value,
        )

    def _read(self, key: Key, attribute: str) -> tuple[GetVariableStatusEnumType, str | None]:
        found = self.variables.get(key)
        if found is None:
            known = any(k[:4] == key[:4] for k in self.variables)
            return (
                GetVariableStatusEnumType.unknown_variable
                if known
                else GetVariableStatusEnumType.unknown_component
            ), None
        if attribute != AttributeEnumType.actual:
            return GetVariableStatusEnumType.not_supported_attribute_type, None
        if found.mutability == WO:
            return GetVariableStatusEnumType.rejected, None
        live = self.live(key)
        return GetVariableStatusEnumType.accepted, found.value if live is None else live

    def set(self, request: dict[str, Any]) -> datatypes.SetVariableResultType:
        """One SetVariableData applied (or refused, saying why)."""
        component, variable = request["component"], request["variable"]
        attribute = request.get("attribute_type") or AttributeEnumType.actual
        key = _key(component, variable)
        status, reason = self._write(key, attribute, request["attribute_value"])
        return datatypes.SetVariableResultType(
            attribute_status=status,
            component=_component(key),
            variable=_variable(key),
            attribute_type=attribute,
            attribute_status_info=datatypes.StatusInfoType(reason) if reason else None,
        )

    def _write(self, key: Key, attribute: str, value: str) -> tuple[SetVariableStatusEnumType, str]:
        found = self.variables.get(key)
        if found is None:
            known = any(k[:4] == key[:4] for k in self.variables)
            return (
                SetVariableStatusEnumType.unknown_variable
                if known
                else SetVariableStatusEnumType.unknown_component
            ), ""
        if attribute != AttributeEnumType.actual:
            return SetVariableStatusEnumType.not_supported_attribute_type, ""
        if found.mutability == RO:
            return SetVariableStatusEnumType.rejected, "ReadOnly"
        if not _valid(found, value):
            return SetVariableStatusEnumType.rejected, "InvalidValue"
        found.value = value
        self.changed(key, value)
        return SetVariableStatusEnumType.accepted, ""

    def report(self, base: str) -> list[datatypes.ReportDataType] | None:
        """What GetBaseReport(``base``) reports; None if nothing matches."""
        entries = []
        for key, variable in self.variables.items():
            if base == ReportBaseEnumType.configuration_inventory and variable.mutability == RO:
                continue
            if base == ReportBaseEnumType.summary_inventory and key[4] not in (
                "Available",
                "AvailabilityState",
            ):
                continue
            live = self.live(key)
            value = None if variable.mutability == WO else live or variable.value
            entries.append(
                datatypes.ReportDataType(
                    component=_component(key),
                    variable=_variable(key),
                    variable_attribute=[
                        datatypes.VariableAttributeType(
                            type=AttributeEnumType.actual,
                            value=value,
                            mutability=variable.mutability,
                            persistent=True,
                            constant=variable.mutability == RO,
                        )
                    ],
                    variable_characteristics=variable.characteristics(),
                )
            )
        return entries or None


def _valid(variable: Variable, value: str) -> bool:
    if variable.password:
        return 16 <= len(value) <= 40
    match variable.data_type:
        case DataEnumType.integer:
            return value.strip().isdigit()
        case DataEnumType.boolean:
            return value in ("true", "false")
        case DataEnumType.member_list if variable.values_list is not None:
            allowed = variable.values_list.split(",")
            return all(item in allowed for item in value.split(",") if item)
    return len(value) <= 1000
