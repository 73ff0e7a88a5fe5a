"""What the central system tells the layer above it (Home Assistant, or a test)."""

from __future__ import annotations

from .model import ChargePoint


class CentralSystemHooks:
    """Callbacks from the central system; every method defaults to doing nothing.

    They run in the event loop, synchronously, while the frame that caused them is
    being handled: keep them quick and let them schedule slow work.
    """

    def charge_point_discovered(self, charge_point: ChargePoint) -> None:
        """A charge point connected for the first time."""

    def charge_point_updated(self, charge_point: ChargePoint) -> None:
        """Identity, configuration or connection history changed (worth persisting)."""

    def connector_discovered(self, charge_point: ChargePoint, connector_id: int) -> None:
        """A charge point reported a connector (0: the charge point) not seen before."""
