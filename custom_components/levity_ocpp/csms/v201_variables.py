"""OCPP 1.6 configuration keys as OCPP 2.0.1 device-model variables, and back.

A 2.0.1 charger has no configuration keys: it has components (OCPPCommCtrlr,
EVSE 1, ...) with variables. The version-neutral Get/SetConfiguration name keys
as 1.6 does, so on 2.0.1 a key is either a 1.6 key that has a 2.0.1 counterpart
(HeartbeatInterval is OCPPCommCtrlr.HeartbeatInterval) or a variable written out:

    Component[component instance](evse id[,connector id])/Variable[variable instance]

for example "SampledDataCtrlr/TxUpdatedInterval", "EVSE(1)/Power" or
"OCPPCommCtrlr/MessageTimeout[Default]". OCPP identifiers never hold "/", "[",
"]", "(", ")" or ",", so every key reads one way only.

Variables with a 1.6 counterpart travel under their 1.6 name and in 1.6's value
format (a rate unit "A,W" is "Current,Power"), whichever way they were asked for:
`ChargePoint.configured("HeartbeatInterval")` means the same on both versions. The
2.0.1 handler stores what a NotifyReport says through `configuration_entry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import re
from typing import Any

from ocpp.v201 import datatypes

from .model import ChargePoint

_NAME = r"[^/\[\]\(\),]+"
_KEY = re.compile(
    rf"(?P<component>{_NAME})(?:\[(?P<component_instance>{_NAME})\])?"
    r"(?:\((?P<evse>\d+)(?:,(?P<connector>\d+))?\))?"
    rf"/(?P<variable>{_NAME})(?:\[(?P<variable_instance>{_NAME})\])?"
)


@dataclass(frozen=True, slots=True)
class VariableRef:
    """One variable of one component (of one EVSE or connector, where it has one)."""

    component: str
    variable: str
    component_instance: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None

    @property
    def key(self) -> str:
        """The variable written out as a configuration key."""
        component = self.component
        if self.component_instance is not None:
            component += f"[{self.component_instance}]"
        if self.evse_id is not None:
            where = str(self.evse_id)
            if self.connector_id is not None:
                where += f",{self.connector_id}"
            component += f"({where})"
        variable = self.variable
        if self.variable_instance is not None:
            variable += f"[{self.variable_instance}]"
        return f"{component}/{variable}"

    def component_type(self) -> datatypes.ComponentType:
        """The component as OCPP 2.0.1 names it."""
        evse = None
        if self.evse_id is not None:
            evse = datatypes.EVSEType(id=self.evse_id, connector_id=self.connector_id)
        return datatypes.ComponentType(
            name=self.component, instance=self.component_instance, evse=evse
        )

    def variable_type(self) -> datatypes.VariableType:
        """The variable as OCPP 2.0.1 names it."""
        return datatypes.VariableType(name=self.variable, instance=self.variable_instance)


def parse_key(key: str) -> VariableRef | None:
    """The variable a written-out key names; None if `key` is not one."""
    if (match := _KEY.fullmatch(key.strip())) is None:
        return None
    evse, connector = match["evse"], match["connector"]
    return VariableRef(
        component=match["component"],
        variable=match["variable"],
        component_instance=match["component_instance"],
        variable_instance=match["variable_instance"],
        evse_id=int(evse) if evse is not None else None,
        connector_id=int(connector) if connector is not None else None,
    )


def reported_ref(component: Any, variable: Any) -> VariableRef | None:
    """The variable a charger named in a result or report (snake_case dicts)."""
    if not isinstance(component, dict) or not isinstance(variable, dict):
        return None
    evse = component.get("evse")
    evse = evse if isinstance(evse, dict) else {}
    name, variable_name = component.get("name"), variable.get("name")
    if not isinstance(name, str) or not isinstance(variable_name, str):
        return None
    return VariableRef(
        component=name,
        variable=variable_name,
        component_instance=_text(component.get("instance")),
        variable_instance=_text(variable.get("instance")),
        evse_id=_number(evse.get("id")),
        connector_id=_number(evse.get("connector_id")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# Schedules' rate units: 1.6 names them ChargingScheduleAllowedChargingRateUnit
# "Current,Power", 2.0.1 SmartChargingCtrlr.RateUnit "A,W".
_UNITS_V16 = {"A": "Current", "W": "Power"}
_UNITS_V201 = {v16.casefold(): v201 for v201, v16 in _UNITS_V16.items()}


def _list(mapping: dict[str, str]) -> Callable[[str], str]:
    def convert(value: str) -> str:
        items = (item.strip() for item in value.split(","))
        return ",".join(mapping.get(item.casefold(), mapping.get(item, item)) for item in items)

    return convert


@dataclass(frozen=True, slots=True)
class Counterpart:
    """A 1.6 key's 2.0.1 variable, and how a value changes on the way (if it does)."""

    ref: VariableRef
    to_v201: Callable[[str], str] = str
    to_v16: Callable[[str], str] = str


def _at(component: str, variable: str, instance: str | None = None) -> Counterpart:
    return Counterpart(VariableRef(component, variable, variable_instance=instance))


# The 1.6 keys with a 2.0.1 variable of the same meaning (OCPP 2.0.1 part 2,
# appendix 3; the 1.6 security white paper's keys with SecurityCtrlr). 1.6 maxima
# such as LocalAuthListMaxLength have none: 2.0.1 gives them as a maxLimit of a
# variable whose value is a count, which only a base report carries.
V16_KEYS: dict[str, Counterpart] = {
    "HeartbeatInterval": _at("OCPPCommCtrlr", "HeartbeatInterval"),
    "MeterValueSampleInterval": _at("SampledDataCtrlr", "TxUpdatedInterval"),
    "MeterValuesSampledData": _at("SampledDataCtrlr", "TxUpdatedMeasurands"),
    "StopTxnSampledData": _at("SampledDataCtrlr", "TxEndedMeasurands"),
    "ClockAlignedDataInterval": _at("AlignedDataCtrlr", "Interval"),
    "MeterValuesAlignedData": _at("AlignedDataCtrlr", "Measurands"),
    "StopTxnAlignedData": _at("AlignedDataCtrlr", "TxEndedMeasurands"),
    "AuthorizationKey": _at("SecurityCtrlr", "BasicAuthPassword"),
    "SecurityProfile": _at("SecurityCtrlr", "SecurityProfile"),
    "CpoName": _at("SecurityCtrlr", "OrganizationName"),
    "CertificateSignedMaxChainSize": _at("SecurityCtrlr", "MaxCertificateChainSize"),
    "AdditionalRootCertificateCheck": _at("SecurityCtrlr", "AdditionalRootCertificateCheck"),
    "ChargeProfileMaxStackLevel": _at("SmartChargingCtrlr", "ProfileStackLevel"),
    "ChargingScheduleAllowedChargingRateUnit": Counterpart(
        VariableRef("SmartChargingCtrlr", "RateUnit"), _list(_UNITS_V201), _list(_UNITS_V16)
    ),
    "ChargingScheduleMaxPeriods": _at("SmartChargingCtrlr", "PeriodsPerSchedule"),
    "ConnectorSwitch3to1PhaseSupported": _at("SmartChargingCtrlr", "Phases3to1"),
    "AuthorizeRemoteTxRequests": _at("AuthCtrlr", "AuthorizeRemoteStart"),
    "LocalAuthorizeOffline": _at("AuthCtrlr", "LocalAuthorizeOffline"),
    "LocalPreAuthorize": _at("AuthCtrlr", "LocalPreAuthorize"),
    "AllowOfflineTxForUnknownId": _at("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
    "AuthorizationCacheEnabled": _at("AuthCacheCtrlr", "Enabled"),
    "LocalAuthListEnabled": _at("LocalAuthListCtrlr", "Enabled"),
    "SendLocalListMaxLength": _at("LocalAuthListCtrlr", "ItemsPerMessage"),
    "ConnectionTimeOut": _at("TxCtrlr", "EVConnectionTimeOut"),
    "StopTransactionOnEVSideDisconnect": _at("TxCtrlr", "StopTxOnEVSideDisconnect"),
    "StopTransactionOnInvalidId": _at("TxCtrlr", "StopTxOnInvalidId"),
    "MaxEnergyOnInvalidId": _at("TxCtrlr", "MaxEnergyOnInvalidId"),
    "UnlockConnectorOnEVSideDisconnect": _at("OCPPCommCtrlr", "UnlockOnEVSideDisconnect"),
    "ResetRetries": _at("OCPPCommCtrlr", "ResetRetries"),
    "TransactionMessageAttempts": _at("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    "TransactionMessageRetryInterval": _at(
        "OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"
    ),
    "WebSocketPingInterval": _at("OCPPCommCtrlr", "WebSocketPingInterval"),
    "GetConfigurationMaxKeys": _at("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    "ReserveConnectorZeroSupported": _at("ReservationCtrlr", "NonEvseSpecific"),
}
_V16_NAMES = {counterpart.ref: key for key, counterpart in V16_KEYS.items()}

# What only 2.0.1 says: whether a single-phase period may pick its phase (K01.FR.20).
AC_PHASE_SWITCHING = VariableRef("SmartChargingCtrlr", "ACPhaseSwitchingSupported")


def variable_for(key: str) -> VariableRef | None:
    """The 2.0.1 variable a configuration key means; None if it means none."""
    if (counterpart := V16_KEYS.get(key)) is not None:
        return counterpart.ref
    return parse_key(key)


def value_to_v201(key: str, value: str) -> str:
    """A value given for configuration `key` as its 2.0.1 variable takes it."""
    counterpart = V16_KEYS.get(key)
    return counterpart.to_v201(value) if counterpart is not None else value


def neutral_key(ref: VariableRef) -> str:
    """The configuration key of a variable: its 1.6 name if it has one."""
    return _V16_NAMES.get(ref, ref.key)


def neutral_value(ref: VariableRef, value: str) -> str:
    """A variable's value as its configuration key shows it."""
    if (name := _V16_NAMES.get(ref)) is not None:
        return V16_KEYS[name].to_v16(value)
    return value


def configuration_entry(
    ref: VariableRef, value: str | None, *, readonly: bool | None
) -> tuple[str, dict[str, Any]]:
    """A reported variable as an entry of `ChargePoint.configuration`."""
    shown = neutral_value(ref, value) if value is not None else None
    return neutral_key(ref), {"value": shown, "readonly": readonly}


def station_value(charge_point: ChargePoint, ref: VariableRef) -> str | None:
    """What the charger reported for a variable (under its 1.6 name if it has one)."""
    if (name := _V16_NAMES.get(ref)) is None:
        return charge_point.configured(ref.key)
    if (value := charge_point.configured(name)) is not None:
        return value
    raw = charge_point.configured(ref.key)  # kept as written out, in 2.0.1's format
    return V16_KEYS[name].to_v16(raw) if raw is not None else None
