"""The WebSocket server: which charge point is calling, in which protocol, on which socket."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Sequence
import contextlib
from http import HTTPStatus
import logging
import ssl
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .admission import Admission, Gate
from .authorization import Authorizer, TagBook
from .autostart import DEFAULT_DELAY_S, DEFAULT_ID_TAG, AutoStart
from .commands import (
    ChargePointOffline,
    Command,
    CommandResult,
    SetConfiguration,
    StartCharging,
)
from .connection_log import ConnectionLog
from .connections import PER_MESSAGE_DEFLATE, AcceptGate, GuardedConnection, connection_class
from .guards import (
    MAX_QUEUED_FRAMES,
    ConnectionCaps,
    ConnectionGuard,
    Limits,
)
from .handshake import HandshakeSecurity
from .hooks import CentralSystemHooks
from .identity import resolve
from .local_list import LocalListSync
from .model import ChargePoint, Connection, utcnow
from .negotiation import (
    SUPPORTED_SUBPROTOCOLS,
    UNSUPPORTED_SUBPROTOCOL_CLOSE_CODE,
    choose_subprotocol,
    refusal,
)
from .paths import InvalidChargePointId, charge_point_id_from_path
from .redaction import SECRET_CONFIGURATION_KEY, redact_logger
from .security import SecurityProfile
from .sessions import DEFAULT_JUMP_LIMIT_KWH, SessionManager
from .settings import AdmissionPolicy, AuthorizationMode, ChargePointSettings
from .transactions import TransactionBook
from .v16 import SUBPROTOCOL as OCPP16, ChargePointV16
from .v201 import SUBPROTOCOL as OCPP201, ChargePointV201

_LOGGER = logging.getLogger(__name__)
# Passwords never reach the log: not in a frame the library logs, nor in the
# request headers websockets logs at DEBUG.
redact_logger(logging.getLogger(f"{__package__}.rpc"))
_HANDSHAKE_LOGGER = redact_logger(logging.getLogger("websockets.server.levity_ocpp"))

type Handler = ChargePointV16 | ChargePointV201
HANDLERS: dict[str, type[Handler]] = {OCPP16: ChargePointV16, OCPP201: ChargePointV201}
# How long a charger may stay connected without booting before it is asked to.
BOOT_WAIT_S = 5.0
# Keepalive pings (websockets' default): a charger that stops answering is dropped
# after two intervals, so its state turns unavailable without waiting for TCP.
PING_INTERVAL_S = 20.0


DEFAULT_SETTINGS = ChargePointSettings()


class CentralSystem:
    """Accepts charge point connections and keeps one live handler per charge point."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        heartbeat_interval: int,
        hooks: CentralSystemHooks | None = None,
        charge_points: Iterable[ChargePoint] = (),
        transactions: TransactionBook | None = None,
        jump_limit_kwh: float = DEFAULT_JUMP_LIMIT_KWH,
        response_timeout: float = 30,
        auto_start_delay: float = DEFAULT_DELAY_S,
        id_tag: str = DEFAULT_ID_TAG,
        boot_wait: float = BOOT_WAIT_S,
        policy: AdmissionPolicy = AdmissionPolicy.ACCEPT,
        settings: dict[str, ChargePointSettings] | None = None,
        minimum_profile: SecurityProfile = SecurityProfile.NONE,
        ssl_context: ssl.SSLContext | None = None,
        tags: TagBook | None = None,
        ignored: Iterable[str] = (),
        limits: Limits | None = None,
        ping_interval: float = PING_INTERVAL_S,
    ) -> None:
        """Prepare a central system; `charge_points` and `transactions` are from before.

        With an `ssl_context` the port serves wss (security profiles 2 and 3).
        """
        self.host = host
        self.port = port
        self.heartbeat_interval = heartbeat_interval
        self.response_timeout = response_timeout
        self.boot_wait = boot_wait
        # The user's settings per approved charge point id; replaced as a whole by
        # the layer above whenever one changes (see `settings_for`).
        self._settings: dict[str, ChargePointSettings] = settings or {}
        self.auto_start = AutoStart(
            self.execute,
            auto_start_delay,
            id_tag,
            card_required=lambda charge_point_id: (
                self.settings_for(charge_point_id).authorization is AuthorizationMode.KNOWN_TAGS
            ),
        )
        self.hooks = hooks or CentralSystemHooks()
        self.charge_points: dict[str, ChargePoint] = {cp.id: cp for cp in charge_points}
        self.admission = Admission(
            policy=policy,
            is_approved=lambda charge_point_id: charge_point_id in self._settings,
            hooks=self.hooks,
            ignored=ignored,
        )
        self.sessions = SessionManager(
            transactions or TransactionBook(), self.hooks, jump_limit_kwh
        )
        self.sessions.attach_open_transactions(self.charge_points)
        # Who may charge (authorization.py), and the chargers' own lists of it.
        self.authorizer = Authorizer(
            settings_for=self.settings_for,
            own_id_tag=id_tag,
            transactions=lambda: self.sessions.book,
            charge_points=self.charge_points,
            hooks=self.hooks,
            tags=tags,
        )
        self.local_list = LocalListSync(
            self.execute,
            lambda: self.authorizer.tags.local_list(utcnow()),
            self.charge_points,
            self.hooks,
        )
        self._handlers: dict[str, Handler] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self.limits = limits or Limits()
        self.ping_interval = ping_interval
        self._caps = ConnectionCaps(self.limits)
        self._log = ConnectionLog(_LOGGER, self.hooks, self.limits)
        self.security = HandshakeSecurity(self.hooks, minimum_profile, ssl_context)

    @property
    def bound_port(self) -> int | None:
        """The port actually listened on (differs from `port` when that was 0)."""
        if self._server is None or not self._server.sockets:
            return None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def policy(self) -> AdmissionPolicy:
        """What happens to a charger the user has not approved."""
        return self.admission.policy

    @property
    def settings(self) -> dict[str, ChargePointSettings]:
        """The user's settings per approved charge point id."""
        return self._settings

    @settings.setter
    def settings(self, settings: dict[str, ChargePointSettings]) -> None:
        """Take the user's new settings live: approvals and removals act at once.

        A charge point no longer approved is forgotten (its connection closed);
        a waiting one just approved is asked to boot again, to be accepted now.
        """
        before, self._settings = self._settings, settings
        for charge_point_id in before.keys() - settings.keys():
            if charge_point_id in self.charge_points:
                self.forget(charge_point_id)
        for charge_point_id in settings.keys() - before.keys():
            self.admission.approved(charge_point_id)
            handler = self._handlers.get(charge_point_id)
            if handler is not None and not handler.gate.admitted:
                self._track(
                    handler.request_boot(), f"levity_ocpp ask {charge_point_id} to boot again"
                )

    def settings_for(self, charge_point_id: str) -> ChargePointSettings:
        """The settings of a charge point; the defaults for one without any."""
        return self._settings.get(charge_point_id) or DEFAULT_SETTINGS

    @property
    def tags(self) -> TagBook:
        """The user's id tags the rules answer from."""
        return self.authorizer.tags

    @tags.setter
    def tags(self, book: TagBook) -> None:
        """Replace the id tags (live); chargers' local lists follow."""
        if book == self.authorizer.tags:
            return
        self.authorizer.tags = book
        self.local_list.tags_changed()

    def handler(self, charge_point_id: str) -> Handler | None:
        """Return the live protocol handler of a connected, admitted charge point."""
        handler = self._handlers.get(charge_point_id)
        return handler if handler is not None and handler.gate.admitted else None

    async def start(self) -> None:
        """Start listening; raises OSError when the address is taken."""
        self._server = await serve(
            self._serve_connection,
            self.host or None,
            self.port,
            subprotocols=[Subprotocol(protocol) for protocol in SUPPORTED_SUBPROTOCOLS],
            select_subprotocol=self._select_subprotocol,
            process_request=self._check_request,
            max_size=self.limits.max_frame_bytes,
            max_queue=MAX_QUEUED_FRAMES,
            extensions=[PER_MESSAGE_DEFLATE],
            open_timeout=self.limits.handshake_timeout,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            create_connection=connection_class(AcceptGate(self._caps, self._log.refused_at_accept)),
            ssl=self.security.ssl_context,
            logger=_HANDSHAKE_LOGGER,
        )
        _LOGGER.info(
            "OCPP central system listening on %s://%s:%s",
            "wss" if self.security.ssl_context else "ws",
            self.host,
            self.bound_port,
        )

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        await server.wait_closed()
        await self.auto_start.stop()
        await self.local_list.stop()
        self.admission.stop()
        await asyncio.gather(*self._closing, return_exceptions=True)
        for handler in self._handlers.values():
            handler.active = False
        self._handlers.clear()

    def identify(self, path: str) -> str:
        """The charge point a connection's path names; raise InvalidChargePointId if none.

        A known charge point's id spelt in other case or width is that charge point
        (OCPP ids are case-insensitive); a new id that looks like a known one is refused.
        Chargers waiting for approval count: a look-alike must not slip in beside one.
        """
        known = self.charge_points.keys() | self.settings.keys() | self.admission.unknown.ids()
        return resolve(charge_point_id_from_path(path), known)

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The version to speak with this charger; none if it offers none we may speak.

        websockets refuses a client offering no subprotocol when the server has a
        list; Grizzl-E and other 1.6 chargers offer none and must still be served.
        """
        assert isinstance(connection, GuardedConnection)  # our server makes only these
        # After _check_request, which identified the charge point (or refused it).
        if (charge_point_id := connection.charge_point_id) is None:
            return None
        chosen = choose_subprotocol(offered, self.settings_for(charge_point_id).ocpp_version)
        return Subprotocol(chosen) if chosen is not None else None

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse a handshake whose path names no usable charge point id (HTTP 400)."""
        try:
            charge_point_id = self.identify(request.path)
        except InvalidChargePointId as error:
            self._log.refused(
                request.path, _address(connection), f"invalid charge point id: {error}"
            )
            return connection.respond(
                HTTPStatus.BAD_REQUEST, f"Invalid charge point id: {error.public}\n"
            )
        self._admitted(connection, charge_point_id)
        return self.security.check(
            connection, request, charge_point_id, self.settings.get(charge_point_id)
        )

    def _admitted(self, connection: ServerConnection, charge_point_id: str) -> None:
        """Remember whom a handshake is for, and what its settings ask of the connection."""
        assert isinstance(connection, GuardedConnection)  # our server makes only these
        connection.charge_point_id = charge_point_id
        connection.pings_wanted = self.settings_for(charge_point_id).websocket_ping

    def _guard(self, charge_point_id: str) -> ConnectionGuard:
        """What a connection of this charge point may send; its faults logged per charger."""
        return ConnectionGuard(
            self.limits,
            self._log.faults(charge_point_id),
            lambda: self.settings_for(charge_point_id),
        )

    async def _refuse_versions(
        self, connection: ServerConnection, path: str, charge_point_id: str
    ) -> bool:
        """Close a connection no OCPP version can serve (negotiation.py says why)."""
        assert connection.request is not None
        why = refusal(
            connection.subprotocol, connection.request.headers, self.settings.get(charge_point_id)
        )
        if why is None:
            return False
        reason, close_reason = why
        self._log.refused(path, _address(connection), reason)
        await connection.close(UNSUPPORTED_SUBPROTOCOL_CLOSE_CODE, close_reason)
        return True

    async def _serve_connection(self, connection: ServerConnection) -> None:
        """Run one charge point connection until it closes or is replaced."""
        assert connection.request is not None  # websockets calls us after the handshake
        assert isinstance(connection, GuardedConnection)
        assert connection.charge_point_id is not None  # _check_request said whom it is for
        path = connection.request.path
        charge_point_id = connection.charge_point_id
        if await self._refuse_versions(connection, path, charge_point_id):
            return
        record = Connection(
            connected_at=utcnow(),
            remote_address=_address(connection),
            path=path,
            # Grizzl-E and others offer no subprotocol: accepted as OCPP 1.6.
            subprotocol=connection.subprotocol,
            security_profile=self.security.profile(connection),
        )
        # A charger not approved yet gets a model of its own, in no registry: what
        # it sends until it is accepted reaches nothing lasting (see admission.py).
        admitted = self.admission.admits(
            charge_point_id,
            known=charge_point_id in self.charge_points,
            remote_address=record.remote_address,
            subprotocol=connection.subprotocol,
        )
        model = self._charge_point(charge_point_id) if admitted else ChargePoint(charge_point_id)
        gate = Gate(
            self.admission,
            charge_point_id,
            remote_address=record.remote_address,
            subprotocol=connection.subprotocol,
            admitted=admitted,
            on_admitted=lambda: self._admit(handler, record),
        )
        # Grizzl-E and others offer no subprotocol: served as OCPP 1.6.
        handler = HANDLERS[connection.subprotocol or OCPP16](
            model,
            connection,
            hooks=self.hooks,
            sessions=self.sessions,
            authorizer=self.authorizer,
            heartbeat_interval=self.heartbeat_interval,
            response_timeout=self.response_timeout,
            auto_start=self.auto_start,
            local_list=self.local_list,
            gate=gate,
            guard=self._guard(charge_point_id),
        )
        previous = self._handlers.get(charge_point_id)
        # Registered before the old socket is closed, so the old handler's cleanup
        # sees it is no longer current and leaves the model alone.
        self._handlers[charge_point_id] = handler
        if previous is not None:
            # The charger reconnected before we noticed its old socket died. That socket
            # is often half-open and its close handshake would time out: close it aside
            # so the new connection is served at once.
            _LOGGER.info("%s reconnected; closing its previous connection", charge_point_id)
            previous.active = False
            self._track(
                previous.close("replaced by a new connection"),
                f"levity_ocpp close replaced connection of {charge_point_id}",
            )
        if admitted:
            self._attach(model, record)
        boot_check = asyncio.create_task(
            handler.expect_boot(self.boot_wait), name=f"levity_ocpp boot check {charge_point_id}"
        )
        try:
            await handler.start()
        except ConnectionClosed as closed:
            record.close_reason = str(closed)
            self._log.closed_for_input(charge_point_id, closed)
        except asyncio.CancelledError:
            record.close_reason = "central system stopped"
            raise
        finally:
            boot_check.cancel()
            await handler.shutdown()
            record.disconnected_at = utcnow()
            # The model the connection ended with: its own, or the charge point's
            # if it was admitted meanwhile; one the user removed is left alone.
            model = handler.model
            ours = handler.gate.admitted and self.charge_points.get(charge_point_id) is model
            if self._handlers.get(charge_point_id) is handler:
                del self._handlers[charge_point_id]
                handler.active = False
                if ours:
                    model.connected = False
                    _LOGGER.info("%s disconnected (%s)", charge_point_id, record.close_reason)
                    model.notify_all()
            self._log.flush(charge_point_id)
            if ours:
                self.hooks.charge_point_updated(model)

    def _attach(self, model: ChargePoint, record: Connection) -> None:
        """Make a connection the live one of an admitted charge point."""
        model.connections.append(record)
        model.path = record.path
        model.subprotocol = record.subprotocol or OCPP16
        was_connected, model.connected = model.connected, True
        if not was_connected:
            _LOGGER.info("%s connected from %s", model.id, record.remote_address)
        self.hooks.charge_point_updated(model)
        model.notify_all()

    def _admit(self, handler: ChargePointV16, record: Connection) -> None:
        """A connection's boot was accepted: its charger becomes a charge point now.

        Its frames so far (the boot among them) go along to the charge point's log.
        """
        waiting = handler.model
        model = self._charge_point(waiting.id)
        model.frames.extend(waiting.frames)
        handler.model = model
        if self._handlers.get(model.id) is handler:
            self._attach(model, record)

    def _track(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run work aside that `stop` waits for."""
        task = asyncio.create_task(work, name=name)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def execute(self, charge_point_id: str, command: Command) -> CommandResult:
        """Send a command to a connected charge point; fails at once if it is offline."""
        if (handler := self.handler(charge_point_id)) is None:
            raise ChargePointOffline(charge_point_id, type(command).__name__)
        if isinstance(command, StartCharging):  # the tag it starts with is no card shown
            self.authorizer.remote_start(charge_point_id, command.id_tag)
        result = await handler.execute(command)
        if (
            isinstance(command, SetConfiguration)
            and result.succeeded
            and not SECRET_CONFIGURATION_KEY.search(command.key)  # write-only, kept nowhere
        ):
            # What decides freshness, features and stack levels follows at once.
            model = self.charge_points[charge_point_id]
            item = model.configuration.setdefault(command.key, {"readonly": False})
            item["value"] = command.value
            self.hooks.charge_point_updated(model)
            self.hooks.charge_point_configured(model)
        return result

    async def configure_waiting(
        self, charge_point_id: str, command: SetConfiguration
    ) -> CommandResult:
        """Change the configuration of a charger still waiting (Pending) to be accepted.

        OCPP 1.6 lets a central system configure a Pending charger before it accepts
        it: this is how a charger being added gets its password.
        """
        if (handler := self._handlers.get(charge_point_id)) is None:
            raise ChargePointOffline(charge_point_id, type(command).__name__)
        return await handler.execute(command)

    async def remove(self, charge_point_id: str) -> None:
        """Forget a charge point: close its connection, end its open sessions.

        It is unknown from then on: its next connection must be admitted anew.
        """
        await self.forget(charge_point_id)

    def forget(self, charge_point_id: str) -> asyncio.Task[None]:
        """Forget a charge point now; its connection and sessions end in the task returned.

        Gone before anything is awaited: a reconnect meanwhile finds an unknown charger.
        """
        model = self.charge_points.pop(charge_point_id)
        handler = self._handlers.get(charge_point_id)
        if handler is not None and handler.model is model:
            del self._handlers[charge_point_id]
            handler.active = False  # its frames no longer count
        model.connected = False
        task = asyncio.create_task(
            self._end(model, handler), name=f"levity_ocpp remove {charge_point_id}"
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return task

    async def _end(self, model: ChargePoint, handler: ChargePointV16 | None) -> None:
        if handler is not None:
            _LOGGER.info("%s was removed; closing its connection", model.id)
            with contextlib.suppress(ConnectionClosed):
                await handler.close("charge point removed")
        await self.sessions.charge_point_removed(model)
        self.hooks.charge_point_removed(model)

    def _charge_point(self, charge_point_id: str) -> ChargePoint:
        if (model := self.charge_points.get(charge_point_id)) is None:
            model = self.charge_points[charge_point_id] = ChargePoint(charge_point_id)
            self.hooks.charge_point_discovered(model)
        return model


def _address(connection: ServerConnection) -> str | None:
    remote = connection.remote_address
    return f"{remote[0]}:{remote[1]}" if remote else None
