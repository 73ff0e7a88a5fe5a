"""The server's connections: counted against the caps from accept on, knowing their charger.

websockets makes one of these per accepted TCP connection. Counting starts
before the handshake, so a client that opens sockets and sends nothing (or
trickles its request) fills only its own address's quota until the handshake
timeout ends it; the next one over the cap is dropped at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from websockets.asyncio.server import ServerConnection
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from .guards import ConnectionCaps

# websockets' own per-message deflate settings (12-bit windows, memLevel 5), except that
# the server starts each message afresh: it sends little (replies of a few bytes,
# occasional commands) yet a kept compressor costs ~38 KiB per connection for its
# whole life. What chargers send (most of the data, cellular ones pay for it) is
# still decompressed with the context they keep. RFC 7692 lets a server decide this
# alone; a client's decoder needs nothing for it.
PER_MESSAGE_DEFLATE = ServerPerMessageDeflateFactory(
    server_no_context_takeover=True,
    server_max_window_bits=12,
    client_max_window_bits=12,
    compress_settings={"memLevel": 5},
)


@dataclass(frozen=True, slots=True)
class AcceptGate:
    """The caps of one server and whom to tell when they drop a connection."""

    caps: ConnectionCaps
    refused: Callable[[str, str], None]  # (address, reason)


class GuardedConnection(ServerConnection):
    """A server connection counted against the caps, with what its handshake decided."""

    gate: ClassVar[AcceptGate]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing decided before the handshake."""
        super().__init__(*args, **kwargs)
        # The charge point the handshake's path names (a known one's exact id).
        self.charge_point_id: str | None = None
        # Off for chargers that answer pings wrongly (a per-charger setting).
        self.pings_wanted = True
        self._counted_as: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Count the connection, or drop it at once when its address or the total is full."""
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "unknown"
        if (reason := self.gate.caps.admit(address)) is not None:
            self.gate.refused(address, reason)
            cast(asyncio.Transport, transport).abort()
            return
        self._counted_as = address

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection no longer counts."""
        super().connection_lost(exc)
        if self._counted_as is not None:
            self.gate.caps.release(self._counted_as)
            self._counted_as = None

    def start_keepalive(self) -> None:
        """Ping the charger now and then, unless its settings say not to."""
        if self.pings_wanted:
            super().start_keepalive()


def connection_class(gate: AcceptGate) -> type[GuardedConnection]:
    """The connection class of one server (websockets takes a class, not an instance)."""

    class Connection(GuardedConnection):
        pass

    Connection.gate = gate
    return Connection
