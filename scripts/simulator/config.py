"""Configuration keys: the defaults a charger reports and the rules for changing them."""

from __future__ import annotations

from dataclasses import dataclass

from ocpp.v16 import call_result, datatypes
from ocpp.v16.enums import ConfigurationStatus, Measurand

DEFAULT_MEASURANDS = (
    Measurand.energy_active_import_register,
    Measurand.power_active_import,
    Measurand.current_import,
    Measurand.voltage,
    Measurand.current_offered,
    Measurand.soc,
    Measurand.temperature,
)
SUPPORTED_MEASURANDS = frozenset(
    (*DEFAULT_MEASURANDS, Measurand.power_offered, Measurand.frequency)
)
MEASURAND_KEYS = frozenset(
    ("MeterValuesAlignedData", "MeterValuesSampledData", "StopTxnAlignedData", "StopTxnSampledData")
)
NUMBER_KEYS = frozenset(
    (
        "ClockAlignedDataInterval",
        "ConnectionTimeOut",
        "HeartbeatInterval",
        "MeterValueSampleInterval",
        "ResetRetries",
        "TransactionMessageAttempts",
        "TransactionMessageRetryInterval",
        "WebSocketPingInterval",
    )
)


FEATURE_PROFILES = (
    "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
)


@dataclass
class ConfigKey:
    """One configuration key as reported by GetConfiguration."""

    value: str
    readonly: bool = False
    writeonly: bool = False  # a secret: GetConfiguration lists it without its value


type Config = dict[str, ConfigKey]


def default_config(
    connectors: int, heartbeat_interval: float, interval: float, phases: int = 3
) -> Config:
    """The keys of a charger with ``connectors`` connectors, as it comes from the factory."""
    measurands = ",".join(DEFAULT_MEASURANDS)
    rotation = ",".join(f"{n}.RST" for n in range(connectors + 1))
    return {
        "AllowOfflineTxForUnknownId": ConfigKey("false"),
        "AuthorizationCacheEnabled": ConfigKey("false"),
        "AuthorizationKey": ConfigKey("", writeonly=True),
        "AuthorizeRemoteTxRequests": ConfigKey("false"),
        "ChargeProfileMaxStackLevel": ConfigKey("8", readonly=True),
        "ChargingScheduleAllowedChargingRateUnit": ConfigKey("Current", True),
        "ChargingScheduleMaxPeriods": ConfigKey("24", readonly=True),
        "ClockAlignedDataInterval": ConfigKey("0"),
        "ConnectionTimeOut": ConfigKey("60"),
        "ConnectorPhaseRotation": ConfigKey(rotation),
        "ConnectorSwitch3to1PhaseSupported": ConfigKey(str(phases == 3).lower(), True),
        "GetConfigurationMaxKeys": ConfigKey("50", readonly=True),
        "HeartbeatInterval": ConfigKey(f"{heartbeat_interval:g}"),
        "LocalAuthListEnabled": ConfigKey("true"),
        "LocalAuthListMaxLength": ConfigKey("100", readonly=True),
        "LocalAuthorizeOffline": ConfigKey("true"),
        "LocalPreAuthorize": ConfigKey("false"),
        "MaxChargingProfilesInstalled": ConfigKey("8", readonly=True),
        "MeterValuesAlignedData": ConfigKey("Energy.Active.Import.Register"),
        "MeterValuesSampledData": ConfigKey(measurands),
        "MeterValuesSampledDataMaxLength": ConfigKey(str(len(SUPPORTED_MEASURANDS)), True),
        "MeterValueSampleInterval": ConfigKey(f"{interval:g}"),
        "NumberOfConnectors": ConfigKey(str(connectors), readonly=True),
        "ReserveConnectorZeroSupported": ConfigKey("false", readonly=True),
        "ResetRetries": ConfigKey("3"),
        "SendLocalListMaxLength": ConfigKey("50", readonly=True),
        "StopTransactionOnEVSideDisconnect": ConfigKey("true"),
        "StopTransactionOnInvalidId": ConfigKey("true"),
        "StopTxnAlignedData": ConfigKey(""),
        "StopTxnSampledData": ConfigKey(measurands),
        "SupportedFeatureProfiles": ConfigKey(FEATURE_PROFILES, True),
        "SupportedFileTransferProtocols": ConfigKey("FTP,HTTP,HTTPS", readonly=True),
        "TransactionMessageAttempts": ConfigKey("3"),
        "TransactionMessageRetryInterval": ConfigKey("60"),
        "UnlockConnectorOnEVSideDisconnect": ConfigKey("true"),
        "WebSocketPingInterval": ConfigKey("20"),
    }


def get_configuration(config: Config, key: list[str] | None) -> call_result.GetConfiguration:
    """All keys, or the requested ones plus the unknown ones."""
    names = key or list(config)
    known = [
        datatypes.KeyValue(
            key=n,
            readonly=config[n].readonly,
            value=None if config[n].writeonly else config[n].value,
        )
        for n in names
        if n in config
    ]
    unknown = [n for n in names if n not in config]
    return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)


def change_configuration(config: Config, key: str, value: str) -> ConfigurationStatus:
    """Validate and store a key's new value."""
    entry = config.get(key)
    if entry is None:
        return ConfigurationStatus.not_supported
    if entry.readonly or not _valid_value(key, value, entry.value):
        return ConfigurationStatus.rejected
    entry.value = value
    return ConfigurationStatus.accepted


def number(config: Config, key: str) -> int:
    """A numeric key's value (read-only ones are ours, so always valid)."""
    return int(float(config[key].value))


def measurands(config: Config, key: str) -> list[str]:
    """The measurands listed in a key such as MeterValuesSampledData."""
    return [m for m in config[key].value.split(",") if m]


def _valid_value(key: str, value: str, current: str) -> bool:
    """Whether ``value`` is acceptable for configuration ``key``."""
    if key in NUMBER_KEYS:
        try:
            return float(value) >= 0
        except ValueError:
            return False
    if key == "AuthorizationKey":  # OCPP 1.6 security: a 16 to 40 character password
        return 16 <= len(value) <= 40
    if current in ("true", "false"):
        return value.lower() in ("true", "false")
    if key in MEASURAND_KEYS:
        return all(m in SUPPORTED_MEASURANDS for m in value.split(",") if m)
    return len(value) <= 500
