"""``python -m scripts.simulator``: see ``scripts/simulate --help``."""

from .cli import cli

cli()
