"""The WebSocket server: which charge point is calling, in which protocol, on which socket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from http import HTTPStatus
import logging
import unicodedata
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .hooks import CentralSystemHooks
from .model import ChargePoint, Connection, utcnow
from .sessions import DEFAULT_JUMP_LIMIT_KWH, SessionManager
from .transactions import TransactionBook
from .v16 import SUBPROTOCOL as OCPP16, ChargePointV16

_LOGGER = logging.getLogger(__name__)

MAX_ID_LENGTH = 48  # CiString48, the longest id OCPP lets a charge point have
SUPPORTED_SUBPROTOCOLS = (OCPP16,)
MAX_FRAME_BYTES = 1 << 20


class InvalidChargePointId(ValueError):
    """The request path does not name a usable charge point id."""


def charge_point_id_from_path(path: str) -> str:
    """Return the charge point id: the last non-empty path segment, URL-decoded.

    `/CP1`, `/ws/CP1/` and `/any/prefix/CP1?x=1` all mean `CP1`; chargers differ in
    what they put before the id.
    """
    segments = [segment for segment in urlsplit(path).path.split("/") if segment]
    if not segments:
        raise InvalidChargePointId("the path names no charge point id")
    charge_point_id = unquote(segments[-1])
    if len(charge_point_id) > MAX_ID_LENGTH:
        raise InvalidChargePointId(f"the id is longer than {MAX_ID_LENGTH} characters")
    if not charge_point_id.strip():
        raise InvalidChargePointId("the id is empty")
    if any(unicodedata.category(char).startswith("C") for char in charge_point_id):
        raise InvalidChargePointId("the id contains control characters")
    return charge_point_id


def offered_subprotocols(headers: Headers) -> list[str]:
    """Return the subprotocols a client offered, in its order of preference."""
    return [
        protocol.strip()
        for value in headers.get_all("Sec-WebSocket-Protocol")
        for protocol in value.split(",")
        if protocol.strip()
    ]


def select_subprotocol(
    _connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """Pick the first supported subprotocol the charger offers; none if it offers none.

    websockets refuses a client offering no subprotocol when the server has a list;
    Grizzl-E and other 1.6 chargers offer none and must still be served.
    """
    return next((protocol for protocol in offered if protocol in SUPPORTED_SUBPROTOCOLS), None)


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
    ) -> None:
        """Prepare a central system; `charge_points` and `transactions` are from before."""
        self.host = host
        self.port = port
        self.heartbeat_interval = heartbeat_interval
        self.response_timeout = response_timeout
        self.hooks = hooks or CentralSystemHooks()
        self.charge_points: dict[str, ChargePoint] = {cp.id: cp for cp in charge_points}
        self.sessions = SessionManager(
            transactions or TransactionBook(), self.hooks, jump_limit_kwh
        )
        self.sessions.attach_open_transactions(self.charge_points)
        self._handlers: dict[str, ChargePointV16] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._server: Server | None = None

    @property
    def bound_port(self) -> int | None:
        """The port actually listened on (differs from `port` when that was 0)."""
        if self._server is None or not self._server.sockets:
            return None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def handler(self, charge_point_id: str) -> ChargePointV16 | None:
        """Return the live protocol handler of a connected charge point."""
        return self._handlers.get(charge_point_id)

    async def start(self) -> None:
        """Start listening; raises OSError when the address is taken."""
        self._server = await serve(
            self._serve_connection,
            self.host or None,
            self.port,
            subprotocols=[Subprotocol(protocol) for protocol in SUPPORTED_SUBPROTOCOLS],
            select_subprotocol=select_subprotocol,
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
        await asyncio.gather(*self._closing, return_exceptions=True)
        for handler in self._handlers.values():
            handler.active = False
        self._handlers.clear()

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse a handshake with a bad id or only unsupported subprotocols (HTTP 400)."""
        try:
            charge_point_id_from_path(request.path)
        except InvalidChargePointId as error:
            _LOGGER.warning("Refused connection to %r: %s", request.path, error)
            return connection.respond(HTTPStatus.BAD_REQUEST, f"Invalid charge point id: {error}\n")
        offered = offered_subprotocols(request.headers)
        if offered and not set(offered) & set(SUPPORTED_SUBPROTOCOLS):
            _LOGGER.warning(
                "Refused %s: it offers only OCPP versions %s; this central system speaks %s",
                request.path,
                ", ".join(offered),
                ", ".join(SUPPORTED_SUBPROTOCOLS),
            )
            return connection.respond(
                HTTPStatus.BAD_REQUEST,
                f"Unsupported subprotocol; supported: {', '.join(SUPPORTED_SUBPROTOCOLS)}\n",
            )
        return None

    async def _serve_connection(self, connection: ServerConnection) -> None:
        """Run one charge point connection until it closes or is replaced."""
        assert connection.request is not None  # websockets calls us after the handshake
        path = connection.request.path
        charge_point_id = charge_point_id_from_path(path)
        model = self._charge_point(charge_point_id)
        remote = connection.remote_address
        record = Connection(
            connected_at=utcnow(),
            remote_address=f"{remote[0]}:{remote[1]}" if remote else None,
            path=path,
            # Grizzl-E and others offer no subprotocol: accepted as OCPP 1.6.
            subprotocol=connection.subprotocol,
        )
        model.connections.append(record)
        handler = ChargePointV16(
            model,
            connection,
            hooks=self.hooks,
            sessions=self.sessions,
            heartbeat_interval=self.heartbeat_interval,
            response_timeout=self.response_timeout,
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
        try:
            await handler.start()
        except ConnectionClosed as closed:
            record.close_reason = str(closed)
        except asyncio.CancelledError:
            record.close_reason = "central system stopped"
            raise
        finally:
            await handler.shutdown()
            record.disconnected_at = utcnow()
            if self._handlers.get(charge_point_id) is handler:
                del self._handlers[charge_point_id]
                model.connected = False
                handler.active = False
                _LOGGER.info("%s disconnected (%s)", charge_point_id, record.close_reason)
                model.notify_all()
            self.hooks.charge_point_updated(model)

    async def remove(self, charge_point_id: str) -> None:
        """Forget a charge point that is not connected, ending its open sessions."""
        model = self.charge_points[charge_point_id]
        assert not model.connected, "a connected charge point would come straight back"
        await self.sessions.charge_point_removed(model)
        del self.charge_points[charge_point_id]

    def _charge_point(self, charge_point_id: str) -> ChargePoint:
        if (model := self.charge_points.get(charge_point_id)) is None:
            model = self.charge_points[charge_point_id] = ChargePoint(charge_point_id)
            self.hooks.charge_point_discovered(model)
        return model
