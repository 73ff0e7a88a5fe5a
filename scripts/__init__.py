"""Developer scripts; a package so tests can `from scripts.simulator import ...`."""
