"""Passwords never reach a log line, whatever is logged at which level.

websockets logs every request header (`< %s: %s`) and every frame at DEBUG; the
`ocpp` library logs every frame at INFO, a ChangeConfiguration of the password
too. The loggers that do are given `SecretFilter`.
"""

from __future__ import annotations

import logging
import re

REDACTED = "**REDACTED**"
# The configuration keys that carry the Basic authentication password (1.6, 2.0.1).
SECRET_CONFIGURATION_KEY = re.compile(r"(?i)authorizationkey|basicauthpassword")

# A value cut short by a log line's length limit is hidden up to where it was cut.
_SECRET_VALUE = re.compile(r'("(?:value|attributeValue)"\s*:\s*)"(?:[^"\\]|\\.)*"?')
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})


def redact_secrets(text: str) -> str:
    """A logged frame with the value of a password configuration key hidden."""
    if not SECRET_CONFIGURATION_KEY.search(text):
        return text
    return _SECRET_VALUE.sub(rf'\1"{REDACTED}"', text)


def _hidden_frame(arg: object) -> object:
    """A websockets frame (logged at DEBUG, cut in its middle) that sets a password: hidden."""
    data = getattr(arg, "data", None)
    if isinstance(data, bytes) and SECRET_CONFIGURATION_KEY.search(data.decode(errors="replace")):
        return f"<a frame setting a password, {len(data)} bytes, not shown>"
    return arg


class SecretFilter(logging.Filter):
    """Hides passwords in log records: frames setting one, and Authorization headers."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record if it holds a secret; never drop it."""
        args = record.args
        if isinstance(args, tuple):
            if (
                len(args) == 2
                and isinstance(args[0], str)
                and args[0].casefold() in _CREDENTIAL_HEADERS
            ):
                record.args = (args[0], REDACTED)
                return True
            record.args = tuple(_hidden_frame(arg) for arg in args)
        message = record.getMessage()
        if (redacted := redact_secrets(message)) != message:
            record.msg, record.args = redacted, ()
        return True


def redact_logger(logger: logging.Logger) -> logging.Logger:
    """Attach the secret filter to a logger (once) and return it."""
    if not any(isinstance(existing, SecretFilter) for existing in logger.filters):
        logger.addFilter(SecretFilter())
    return logger
