"""The server certificate of a central system with TLS: loaded at setup, watched daily.

A certificate that expires within 14 days (or has) is a repair issue: chargers
refuse an expired one, and only the user can renew it. A renewed file (the
Let's Encrypt add-on rewrites it in place) is taken by restarting the central
system, which chargers see as a brief reconnect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import ssl

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .central import LevityConfigEntry
from .const import DOMAIN
from .csms.tls import (
    CertificateInfo,
    TlsFileError,
    TlsFiles,
    check_tls_files,
    read_certificate,
    server_context,
)

_LOGGER = logging.getLogger(__name__)

EXPIRY_WARNING = timedelta(days=14)
CHECK_INTERVAL = timedelta(days=1)


def issue_id(entry_id: str) -> str:
    """The repair issue of one central system's server certificate."""
    return f"certificate_expiry_{entry_id}"


def _load(files: TlsFiles) -> tuple[ssl.SSLContext, CertificateInfo]:
    return server_context(files), read_certificate(files.certfile)


async def async_load_tls(
    hass: HomeAssistant, entry: LevityConfigEntry, files: TlsFiles | None
) -> CertificateWatch | None:
    """The server's TLS context, with the watch on its certificate; None without TLS.

    Files that cannot be used (moved, unreadable) keep the central system from
    starting rather than let it fall back to unencrypted connections.
    """
    if files is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry.entry_id))
        return None
    try:
        context, served = await hass.async_add_executor_job(_load, files)
    except TlsFileError as error:
        path = {"certfile": files.certfile, "keyfile": files.keyfile}.get(
            error.field, files.cafile or ""
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="tls_files_unusable",
            translation_placeholders={"path": path, "problem": str(error)},
        ) from error
    return CertificateWatch(hass, entry, files, context, served)


@dataclass
class CertificateWatch:
    """The server's TLS context; checks the certificate it serves at setup and daily."""

    hass: HomeAssistant
    entry: LevityConfigEntry
    files: TlsFiles
    context: ssl.SSLContext
    served: CertificateInfo

    @callback
    def async_start(self) -> None:
        """Check now and every day until the entry unloads."""
        self._check_expiry(dt_util.utcnow())
        self.entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_daily, CHECK_INTERVAL, name="levity_ocpp certificate"
            )
        )

    async def _async_daily(self, now: datetime) -> None:
        await self.async_check_renewal(now)
        self._check_expiry(now)

    async def async_check_renewal(self, now: datetime) -> None:
        """Restart the central system when the file holds a new certificate that works."""
        try:
            found = await self.hass.async_add_executor_job(read_certificate, self.files.certfile)
            if found.fingerprint == self.served.fingerprint:
                return
            await self.hass.async_add_executor_job(check_tls_files, self.files, now)
        except TlsFileError as error:
            # Half-way through a renewal, or moved: keep serving what is loaded.
            _LOGGER.warning(
                "The certificate files of %s cannot be used (%s); keeping the certificate "
                "loaded, valid until %s",
                self.entry.title,
                error,
                self.served.not_after.date(),
            )
            return
        _LOGGER.info("%s has a renewed certificate; restarting to use it", self.entry.title)
        self.hass.config_entries.async_schedule_reload(self.entry.entry_id)

    @callback
    def _check_expiry(self, now: datetime) -> None:
        remaining = self.served.not_after - now
        if remaining > EXPIRY_WARNING:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(self.entry.entry_id))
            return
        expired = remaining <= timedelta(0)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(self.entry.entry_id),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR if expired else ir.IssueSeverity.WARNING,
            translation_key="certificate_expired" if expired else "certificate_expiring",
            translation_placeholders={
                "central_system": self.entry.title,
                "certfile": self.files.certfile,
                "date": self.served.not_after.date().isoformat(),
                "days": str(max(remaining.days, 0)),
            },
        )


@callback
def async_forget(hass: HomeAssistant, entry_id: str) -> None:
    """Remove the certificate issue of a removed entry."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id))
