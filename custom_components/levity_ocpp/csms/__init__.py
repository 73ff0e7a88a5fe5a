"""An OCPP central system (CSMS) core with no Home Assistant imports.

The HA layer adapts it: entities read `model`, actions call `commands`,
and `store.py` implements the persistence protocol declared in `model`.
"""
