"""The WebSocket server: which charge point is calling, in which protocol, on which socket."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from http import HTTPStatus
import logging

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .autostart import DEFAULT_DELAY_S, DEFAULT_ID_TAG, AutoStart
from .commands import ChargePointOffline, Command, CommandResult, SetConfiguration
from .hooks import CentralSystemHooks
from .model import ChargePoint, Connection, utcnow
from .paths import InvalidChargePointId, charge_point_id_from_path, redact_query
from .sessions import DEFAULT_JUMP_LIMIT_KWH, SessionManager
from .settings import AdmissionPolicy, ChargePointSettings, OcppVersion
from .transactions import TransactionBook
from .v16 import SUBPROTOCOL as OCPP16, ChargePointV16
from .v201 import SUBPROTOCOL as OCPP201, ChargePointV201

_LOGGER = logging.getLogger(__name__)

# In order of preference: 2.0.1 firmware is often the less mature one.
SUPPORTED_SUBPROTOCOLS = (OCPP16, OCPP201)
type Handler = ChargePointV16 | ChargePointV201
HANDLERS: dict[str, type[Handler]] = {OCPP16: ChargePointV16, OCPP201: ChargePointV201}
MAX_FRAME_BYTES = 1 << 20
# How long a charger may stay connected without booting before it is asked to.
BOOT_WAIT_S = 5.0
# Refusals already logged as a warning; a charger retrying its wrong URL every few
# seconds gets one warning per path and reason, then DEBUG lines.
MAX_WARNED_REFUSALS = 32
# OCPP-J 1.6 section 3.1.2: a charger offering no version we speak gets a
# completed handshake without Sec-WebSocket-Protocol, then an immediate close.
UNSUPPORTED_SUBPROTOCOL_CLOSE_CODE = 1002  # protocol error (RFC 6455 7.4.1)


DEFAULT_SETTINGS = ChargePointSettings()


def offered_subprotocols(headers: Headers) -> list[str]:
    """Return the subprotocols a client offered, in its order of preference."""
    return [
        protocol.strip()
        for value in headers.get_all("Sec-WebSocket-Protocol")
        for protocol in value.split(",")
        if protocol.strip()
    ]


def choose_subprotocol(offered: Sequence[str], version: OcppVersion) -> str | None:
    """The OCPP version to speak: the one pinned, else the preferred one offered."""
    if version is not OcppVersion.AUTO:
        return version.value if version.value in offered else None
    return next((protocol for protocol in SUPPORTED_SUBPROTOCOLS if protocol in offered), None)


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
    ) -> None:
        """Prepare a central system; `charge_points` and `transactions` are from before."""
        self.host = host
        self.port = port
        self.heartbeat_interval = heartbeat_interval
        self.response_timeout = response_timeout
        self.boot_wait = boot_wait
        self.policy = policy
        # The user's settings per approved charge point id; replaced as a whole by
        # the layer above whenever one changes (see `settings_for`).
        self.settings: dict[str, ChargePointSettings] = settings or {}
        self.auto_start = AutoStart(self.execute, auto_start_delay, id_tag)
        self.hooks = hooks or CentralSystemHooks()
        self.charge_points: dict[str, ChargePoint] = {cp.id: cp for cp in charge_points}
        self.sessions = SessionManager(
            transactions or TransactionBook(), self.hooks, jump_limit_kwh
        )
        self.sessions.attach_open_transactions(self.charge_points)
        self._handlers: dict[str, Handler] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self._warned: OrderedDict[tuple[str, str], None] = OrderedDict()

    @property
    def bound_port(self) -> int | None:
        """The port actually listened on (differs from `port` when that was 0)."""
        if self._server is None or not self._server.sockets:
            return None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def settings_for(self, charge_point_id: str) -> ChargePointSettings:
        """The settings of a charge point; the defaults for one without any."""
        return self.settings.get(charge_point_id) or DEFAULT_SETTINGS

    def handler(self, charge_point_id: str) -> Handler | None:
        """Return the live protocol handler of a connected charge point."""
        return self._handlers.get(charge_point_id)

    async def start(self) -> None:
        """Start listening; raises OSError when the address is taken."""
        self._server = await serve(
            self._serve_connection,
            self.host or None,
            self.port,
            subprotocols=[Subprotocol(protocol) for protocol in SUPPORTED_SUBPROTOCOLS],
            select_subprotocol=self._select_subprotocol,
            process_request=self._check_request,
            max_size=MAX_FRAME_BYTES,
        )
        _LOGGER.info("OCPP central system listening on %s:%s", self.host, self.bound_port)

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        await server.wait_closed()
        await self.auto_start.stop()
        await asyncio.gather(*self._closing, return_exceptions=True)
        for handler in self._handlers.values():
            handler.active = False
        self._handlers.clear()

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The version to speak with this charger; none if it offers none we may speak.

        websockets refuses a client offering no subprotocol when the server has a
        list; Grizzl-E and other 1.6 chargers offer none and must still be served.
        """
        assert connection.request is not None  # called during the handshake
        try:
            charge_point_id = charge_point_id_from_path(connection.request.path)
        except InvalidChargePointId:
            return None  # refused by _check_request already
        chosen = choose_subprotocol(offered, self.settings_for(charge_point_id).ocpp_version)
        return Subprotocol(chosen) if chosen is not None else None

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse a handshake whose path names no usable charge point id (HTTP 400)."""
        try:
            charge_point_id_from_path(request.path)
        except InvalidChargePointId as error:
            self._refused(connection, request.path, f"invalid charge point id: {error}")
            return connection.respond(HTTPStatus.BAD_REQUEST, f"Invalid charge point id: {error}\n")
        return None

    def _refused(self, connection: ServerConnection, path: str, reason: str) -> None:
        """Log a refusal (once per path and reason) and tell the layer above."""
        shown = redact_query(path)
        remote = _address(connection)
        key = (shown, reason)
        if key in self._warned:
            self._warned.move_to_end(key)
            _LOGGER.debug("Refused connection to %r from %s again: %s", shown, remote, reason)
        else:
            self._warned[key] = None
            if len(self._warned) > MAX_WARNED_REFUSALS:
                self._warned.popitem(last=False)
            _LOGGER.warning("Refused connection to %r from %s: %s", shown, remote, reason)
        self.hooks.connection_refused(shown, remote, reason)

    async def _refuse_subprotocols(self, connection: ServerConnection, path: str) -> bool:
        """Close a connection that offered only OCPP versions we do not speak.

        The handshake went through without a subprotocol, as OCPP-J asks; the
        close reason names what this central system speaks.
        """
        assert connection.request is not None
        offered = offered_subprotocols(connection.request.headers)
        if connection.subprotocol is not None or not offered:
            return False
        version = self.settings_for(charge_point_id_from_path(path)).ocpp_version
        supported = ", ".join(SUPPORTED_SUBPROTOCOLS)
        speaks = supported if version is OcppVersion.AUTO else f"{version.value} to it (set so)"
        self._refused(
            connection,
            path,
            f"it offers only OCPP versions {', '.join(offered)[:200]}; "
            f"this central system speaks {speaks}",
        )
        await connection.close(
            UNSUPPORTED_SUBPROTOCOL_CLOSE_CODE, f"unsupported OCPP version; supported: {supported}"
        )
        return True

    async def _serve_connection(self, connection: ServerConnection) -> None:
        """Run one charge point connection until it closes or is replaced."""
        assert connection.request is not None  # websockets calls us after the handshake
        path = connection.request.path
        if await self._refuse_subprotocols(connection, path):
            return
        charge_point_id = charge_point_id_from_path(path)
        model = self._charge_point(charge_point_id)
        record = Connection(
            connected_at=utcnow(),
            remote_address=_address(connection),
            path=path,
            # Grizzl-E and others offer no subprotocol: accepted as OCPP 1.6.
            subprotocol=connection.subprotocol,
        )
        model.connections.append(record)
        # Grizzl-E and others offer no subprotocol: served as OCPP 1.6.
        handler = HANDLERS[connection.subprotocol or OCPP16](
            model,
            connection,
            hooks=self.hooks,
            sessions=self.sessions,
            heartbeat_interval=self.heartbeat_interval,
            response_timeout=self.response_timeout,
            auto_start=self.auto_start,
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
            closing = asyncio.create_task(
                previous.close("replaced by a new connection"),
                name=f"levity_ocpp close replaced connection of {charge_point_id}",
            )
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        model.path = path
        model.subprotocol = connection.subprotocol or OCPP16
        was_connected, model.connected = model.connected, True
        if not was_connected:
            _LOGGER.info("%s connected from %s", charge_point_id, record.remote_address)
        self.hooks.charge_point_updated(model)
        model.notify_all()
        boot_check = asyncio.create_task(
            handler.expect_boot(self.boot_wait), name=f"levity_ocpp boot check {charge_point_id}"
        )
        try:
            await handler.start()
        except ConnectionClosed as closed:
            record.close_reason = str(closed)
        except asyncio.CancelledError:
            record.close_reason = "central system stopped"
            raise
        finally:
            boot_check.cancel()
            await handler.shutdown()
            record.disconnected_at = utcnow()
            if self._handlers.get(charge_point_id) is handler:
                del self._handlers[charge_point_id]
                model.connected = False
                handler.active = False
                _LOGGER.info("%s disconnected (%s)", charge_point_id, record.close_reason)
                model.notify_all()
            self.hooks.charge_point_updated(model)

    async def execute(self, charge_point_id: str, command: Command) -> CommandResult:
        """Send a command to a connected charge point; fails at once if it is offline."""
        if (handler := self._handlers.get(charge_point_id)) is None:
            raise ChargePointOffline(charge_point_id, type(command).__name__)
        result = await handler.execute(command)
        if isinstance(command, SetConfiguration) and result.succeeded:
            # What decides freshness, features and stack levels follows at once.
            model = self.charge_points[charge_point_id]
            item = model.configuration.setdefault(command.key, {"readonly": False})
            item["value"] = command.value
            self.hooks.charge_point_updated(model)
            self.hooks.charge_point_configured(model)
        return result

    async def remove(self, charge_point_id: str) -> None:
        """Forget a charge point that is not connected, ending its open sessions."""
        model = self.charge_points.pop(charge_point_id)
        assert not model.connected, "a connected charge point would come straight back"
        # Gone before anything is awaited: a reconnect meanwhile finds a new charger.
        await self.sessions.charge_point_removed(model)

    def _charge_point(self, charge_point_id: str) -> ChargePoint:
        if (model := self.charge_points.get(charge_point_id)) is None:
            model = self.charge_points[charge_point_id] = ChargePoint(charge_point_id)
            self.hooks.charge_point_discovered(model)
        return model


def _address(connection: ServerConnection) -> str | None:
    remote = connection.remote_address
    return f"{remote[0]}:{remote[1]}" if remote else None
