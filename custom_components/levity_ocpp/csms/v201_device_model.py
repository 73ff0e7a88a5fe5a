"""OCPP 2.0.1 device model: what a NotifyReport says, as the charge point's configuration.

A 2.0.1 charger describes itself as components (SmartChargingCtrlr, EVSE 1,
Connector 1 of EVSE 1, ...) with variables. After GetBaseReport(FullInventory) it
sends them in one or more NotifyReport parts. They become `ChargePoint.configuration`
the way a 1.6 GetConfiguration answer does (v201_variables.py says under which
keys: a 1.6 key where one means the same, else the variable written out), so the
features that read it (`supports()`, limits, freshness) work unchanged. Two keys
are derived from the whole report: `SupportedFeatureProfiles` (which controllers
are enabled) and `NumberOfConnectors` (how many EVSEs: the model's connectors).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ocpp.v201.enums import AttributeEnumType, MutabilityEnumType

from .v201_variables import VariableRef, configuration_entry, reported_ref

# Bounds: what one charger's report may cost.
MAX_REPORT_VARIABLES = 2000
MAX_OPEN_REPORTS = 4

SMART_CHARGING = "SmartChargingCtrlr"

type Item = dict[str, Any]

# Feature profiles every 2.0.1 charger has: its core messages include TriggerMessage
# and the firmware messages; the others depend on a controller being enabled.
ALWAYS_SUPPORTED = ("Core", "RemoteTrigger", "FirmwareManagement")
ENABLED_BY = {
    "SmartCharging": SMART_CHARGING,
    "Reservation": "ReservationCtrlr",
    "LocalAuthListManagement": "LocalAuthListCtrlr",
}


def _actual(attributes: Any) -> Mapping[str, Any] | None:
    """The Actual attribute of a variable (the type is Actual when not given)."""
    if not isinstance(attributes, list):
        return None
    for attribute in attributes:
        if isinstance(attribute, Mapping) and attribute.get("type", "Actual") == (
            AttributeEnumType.actual.value
        ):
            return attribute
    return None


@dataclass(slots=True)
class DeviceModel:
    """The variables and the EVSE/connector topology one report described."""

    # Each variable's Actual value and whether it is read-only.
    variables: dict[VariableRef, tuple[str | None, bool]] = field(default_factory=dict)
    # EVSE id -> the ids of its connectors.
    evses: dict[int, set[int]] = field(default_factory=dict)
    truncated: int = 0

    def take(self, report_data: Iterable[Any]) -> None:
        """Add one NotifyReport part's reportData."""
        for entry in report_data:
            if not isinstance(entry, Mapping):
                continue
            ref = reported_ref(entry.get("component"), entry.get("variable"))
            if ref is None:
                continue
            if ref.evse_id is not None and ref.evse_id > 0:
                connectors = self.evses.setdefault(ref.evse_id, set())
                if ref.connector_id is not None:
                    connectors.add(ref.connector_id)
            if ref not in self.variables and len(self.variables) >= MAX_REPORT_VARIABLES:
                self.truncated += 1
                continue
            actual = _actual(entry.get("variable_attribute")) or {}
            value = actual.get("value")
            self.variables[ref] = (
                None if value is None else str(value),
                actual.get("mutability") == MutabilityEnumType.read_only.value,
            )

    def configuration(self) -> dict[str, Item]:
        """The charge point's configuration: every variable, and the derived keys."""
        configuration = dict(
            configuration_entry(ref, value, readonly=readonly)
            for ref, (value, readonly) in self.variables.items()
        )
        profiles = [*ALWAYS_SUPPORTED]
        profiles += [name for name, component in ENABLED_BY.items() if self._enabled(component)]
        configuration["SupportedFeatureProfiles"] = {"value": ",".join(profiles), "readonly": True}
        if self.evses:
            configuration["NumberOfConnectors"] = {"value": str(len(self.evses)), "readonly": True}
        return configuration

    def _enabled(self, component: str) -> bool:
        """A controller is in use when Enabled says so (or, lacking it, Available)."""
        for variable in ("Enabled", "Available"):
            value, _ = self.variables.get(VariableRef(component, variable), (None, False))
            if value is not None:
                return value.strip().casefold() == "true"
        return False


@dataclass(slots=True)
class ReportCollector:
    """NotifyReport parts, gathered per request until the last one (tbc false) arrives."""

    _open: dict[int, DeviceModel] = field(default_factory=dict)

    def take(self, request_id: int, report_data: Iterable[Any], tbc: bool) -> DeviceModel | None:
        """Add a part; return the whole report once its last part is in."""
        model = self._open.pop(request_id, None) or DeviceModel()
        model.take(report_data)
        if not tbc:
            return model
        self._open[request_id] = model
        while len(self._open) > MAX_OPEN_REPORTS:  # reports never finished
            del self._open[next(iter(self._open))]
        return None
