"""The central system's security settings: minimum profile, TLS files (entry options).

Saved only when they make a server chargers can use: the files readable, the key
the certificate's, the certificate valid now; each problem is an error on the
field to fix. TLS configured means the port serves wss; a minimum profile of 2
needs it, 3 the CA of the charge points' client certificates too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
import probatio

from .charge_point_settings import settings_from_entry
from .const import (
    CONF_ALLOW_OLD_TLS,
    CONF_CAFILE,
    CONF_CERTFILE,
    CONF_KEYFILE,
    CONF_SECURITY_PROFILE,
)
from .csms.security import SecurityProfile
from .csms.settings import AdmissionPolicy
from .csms.tls import TlsFileError, TlsFiles, check_tls_files

PROFILE_SELECTOR = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[str(int(profile)) for profile in SecurityProfile],
        translation_key=CONF_SECURITY_PROFILE,
        mode=selector.SelectSelectorMode.LIST,
    )
)
FILE_FIELDS = (CONF_CERTFILE, CONF_KEYFILE, CONF_CAFILE)
# Every option this step owns: saving it replaces them all (a file left empty is gone).
SECURITY_OPTIONS = frozenset({CONF_SECURITY_PROFILE, CONF_ALLOW_OLD_TLS, *FILE_FIELDS})


def minimum_profile(options: Mapping[str, Any]) -> SecurityProfile:
    """The minimum security profile the options ask of every charger."""
    return SecurityProfile(int(options.get(CONF_SECURITY_PROFILE, SecurityProfile.NONE)))


def tls_files(options: Mapping[str, Any]) -> TlsFiles | None:
    """The TLS files the options name; None: the port serves plain ws."""
    if not options.get(CONF_CERTFILE):
        return None
    return TlsFiles(
        certfile=options[CONF_CERTFILE],
        keyfile=options[CONF_KEYFILE],
        cafile=options.get(CONF_CAFILE) or None,
        allow_old_tls=bool(options.get(CONF_ALLOW_OLD_TLS, False)),
    )


def security_schema(values: Mapping[str, Any]) -> probatio.Schema:
    """The security form, showing `values` (the options, or what was just entered)."""
    return probatio.Schema(
        {
            probatio.Required(
                CONF_SECURITY_PROFILE, default=str(int(minimum_profile(values)))
            ): PROFILE_SELECTOR,
            **{
                probatio.Optional(field, description={"suggested_value": values.get(field)}): str
                for field in FILE_FIELDS
            },
            probatio.Required(
                CONF_ALLOW_OLD_TLS, default=bool(values.get(CONF_ALLOW_OLD_TLS, False))
            ): bool,
        }
    )


def _combination_errors(profile: SecurityProfile, files: dict[str, str]) -> dict[str, str]:
    """What is missing for the profile asked, before any file is read."""
    errors: dict[str, str] = {}
    if files[CONF_KEYFILE] and not files[CONF_CERTFILE]:
        errors[CONF_CERTFILE] = "certificate_required"
    elif files[CONF_CERTFILE] and not files[CONF_KEYFILE]:
        errors[CONF_KEYFILE] = "key_required"
    elif files[CONF_CAFILE] and not files[CONF_CERTFILE]:
        errors[CONF_CERTFILE] = "certificate_required"
    elif profile >= SecurityProfile.TLS_BASIC and not files[CONF_CERTFILE]:
        errors[CONF_SECURITY_PROFILE] = "tls_required"
    elif profile >= SecurityProfile.TLS_CLIENT_CERTIFICATE and not files[CONF_CAFILE]:
        errors[CONF_SECURITY_PROFILE] = "ca_required"
    return errors


def admission_problem(policy: str, profile: SecurityProfile) -> str | None:
    """Why new charge points cannot be added automatically at this minimum profile.

    At profiles 1 and 2 a charger added as it connects has no password yet, so it
    would be refused at its next connection; at 0 none is needed, and at 3 its
    client certificate is its credential.
    """
    if policy == AdmissionPolicy.ACCEPT and profile in (
        SecurityProfile.BASIC,
        SecurityProfile.TLS_BASIC,
    ):
        return "accept_needs_profile_0_or_3"
    return None


def without_password(entry: ConfigEntry) -> list[str]:
    """The approved charge points that have no password (refused at profiles 1 and 2)."""
    return sorted(
        charge_point_id
        for charge_point_id, settings in settings_from_entry(entry).items()
        if settings.password is None
    )


async def async_validate_security(
    hass: HomeAssistant, entry: ConfigEntry, user_input: Mapping[str, Any], policy: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The options to save from the security form, or the form's errors."""
    profile = SecurityProfile(int(user_input[CONF_SECURITY_PROFILE]))
    files = {field: str(user_input.get(field) or "").strip() for field in FILE_FIELDS}
    if errors := _combination_errors(profile, files):
        return {}, errors
    if problem := admission_problem(policy, profile):
        return {}, {CONF_SECURITY_PROFILE: problem}
    if profile in (SecurityProfile.BASIC, SecurityProfile.TLS_BASIC) and without_password(entry):
        # Every one of them would be refused from the next connection on.
        return {}, {CONF_SECURITY_PROFILE: "charge_points_without_password"}
    options: dict[str, Any] = {
        CONF_SECURITY_PROFILE: int(profile),
        **{field: path for field, path in files.items() if path},
        CONF_ALLOW_OLD_TLS: bool(user_input.get(CONF_ALLOW_OLD_TLS, False)),
    }
    if (tls := tls_files(options)) is not None:
        try:
            await hass.async_add_executor_job(check_tls_files, tls, dt_util.utcnow())
        except TlsFileError as error:
            return {}, {error.field: error.problem}
    return options, {}
