"""The security of each WebSocket handshake, as the server asks for it.

Between websockets and `security.Authenticator`: it reads the request's
credentials and the TLS peer certificate, answers a refusal with the right HTTP
status and headers, logs it (once per charge point per hour) and tells the
layer above, and remembers how each admitted connection authenticated.
"""

from __future__ import annotations

import logging
import ssl
import weakref

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from .hooks import CentralSystemHooks
from .paths import redact_query
from .security import Admitted, Authenticator, PasswordUsed, RefusalLog, SecurityProfile
from .settings import ChargePointSettings
from .tls import report_handshake_failures

_LOGGER = logging.getLogger(__package__ + ".server")


class HandshakeSecurity:
    """Admits or refuses each handshake of one central system's server."""

    def __init__(
        self,
        hooks: CentralSystemHooks,
        minimum_profile: SecurityProfile = SecurityProfile.NONE,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """With an `ssl_context` the server speaks wss; with its CA, profile 3 too."""
        self.hooks = hooks
        self.ssl_context = ssl_context
        self.authenticator = Authenticator(
            minimum_profile,
            tls=ssl_context is not None,
            client_certificates=ssl_context is not None
            and ssl_context.verify_mode != ssl.CERT_NONE,
        )
        self._tls_failures = RefusalLog()
        if ssl_context is not None:
            report_handshake_failures(ssl_context, self._tls_failed)
        # How each admitted handshake authenticated, until its connection is served.
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, Admitted] = (
            weakref.WeakKeyDictionary()
        )

    def check(
        self,
        connection: ServerConnection,
        request: Request,
        charge_point_id: str,
        settings: ChargePointSettings | None,
    ) -> Response | None:
        """None to go on with the handshake, or the refusal (HTTP 401, 403 or 429).

        `settings` is None for a charge point not approved yet. Called before
        anything else happens for the connection: a refused one never replaces
        the charge point's live connection.
        """
        ssl_object = connection.transport.get_extra_info("ssl_object")
        remote = connection.remote_address
        verdict = self.authenticator.authenticate(
            charge_point_id,
            settings,
            authorization=request.headers.get_all("Authorization"),
            peer_certificate=ssl_object.getpeercert() if ssl_object is not None else None,
            remote_host=str(remote[0]) if remote else "an unknown address",
        )
        if isinstance(verdict, Admitted):
            self._admitted[connection] = verdict
            if (
                verdict.password is PasswordUsed.CURRENT
                and settings is not None
                and settings.previous_password is not None
            ):
                self.hooks.password_confirmed(charge_point_id)
            return None
        shown = redact_query(request.path)
        address = f"{remote[0]}:{remote[1]}" if remote else None
        log = self.authenticator.log
        if log.should_log(charge_point_id):
            held_back = log.take_held_back()
            _LOGGER.warning(
                "Refused connection to %r from %s: %s (HTTP %d; logged once an hour%s)",
                shown,
                address,
                verdict.reason,
                verdict.status,
                f"; {held_back} other refusals not logged" if held_back else "",
            )
            self.hooks.connection_refused(shown, address, verdict.reason)
        else:
            _LOGGER.debug("Refused connection to %r from %s: %s", shown, address, verdict.reason)
        response = connection.respond(verdict.status, verdict.body)
        for name, value in verdict.headers.items():
            response.headers[name] = value
        return response

    def profile(self, connection: ServerConnection) -> SecurityProfile | None:
        """The security profile an admitted connection's handshake reached."""
        admitted = self._admitted.pop(connection, None)
        return admitted.profile if admitted is not None else None

    def _tls_failed(self, problem: str) -> None:
        """A TLS handshake failed: say why once an hour (no address is known there)."""
        if self._tls_failures.should_log(problem):
            _LOGGER.warning("Refused a connection at the TLS handshake: %s", problem)
            self.hooks.connection_refused("(TLS handshake)", None, problem)
        else:
            _LOGGER.debug("Refused a connection at the TLS handshake: %s", problem)
