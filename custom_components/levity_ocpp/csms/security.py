"""Who a connection is: OCPP security profiles 1-3 at the WebSocket handshake.

- Profile 1: HTTP Basic authentication, username = the charge point id, a password
  per charge point (1.6 security whitepaper, OCPP-J 1.6 section 6.2.2).
- Profile 2: the same over TLS (the server's certificate, see tls.py).
- Profile 3: TLS with a client certificate whose subject CN is the charge point id.

A charge point with a password must present it, whatever the minimum profile: a
second connection for its id is no takeover without it. Unknown charge points (not
approved yet) may connect without credentials at the server's transport, to be told
Pending (admission decides); with minimum profile 3 they need a client certificate.
Passwords are compared in constant time, repeated failures from one address back
off, and refusals are logged once per charge point per hour, never with a secret.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
import hashlib
import hmac
from http import HTTPStatus
import math
import secrets
import time

from .commands import SetConfiguration
from .identity import canonical
from .settings import ChargePointSettings
from .tls import peer_common_name

# Basic authentication passwords: the 1.6 whitepaper asks for at least 16 bytes
# (AuthorizationKey, at most 20 bytes sent as up to 40 hex digits); 2.0.1 for 16
# to at least 40 characters of its passwordString set. Generated ones fit both.
MIN_PASSWORD_LENGTH = 16
MAX_PASSWORD_LENGTH = 40
GENERATED_PASSWORD_LENGTH = 20
# Letters and digits that cannot be misread when typed into a charger's web page.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
# The configuration keys that carry the Basic authentication password.
AUTHORIZATION_KEY = "AuthorizationKey"  # OCPP 1.6 (security whitepaper)
OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"


class SecurityProfile(IntEnum):
    """The OCPP security profiles; 0 is plain OCPP-J 1.6 without authentication."""

    NONE = 0
    BASIC = 1
    TLS_BASIC = 2
    TLS_CLIENT_CERTIFICATE = 3


class PasswordUsed(StrEnum):
    """Which password a connection authenticated with."""

    NONE = "none"  # no password checked (none set, or a client certificate)
    CURRENT = "current"
    PREVIOUS = "previous"  # the one before a rotation the charger has not used yet


@dataclass(frozen=True, slots=True)
class Admitted:
    """The handshake may go on: the profile the connection reached and how."""

    profile: SecurityProfile
    password: PasswordUsed = PasswordUsed.NONE


@dataclass(frozen=True, slots=True)
class Refused:
    """Refuse the handshake with this HTTP status; `reason` is for logs, never a secret."""

    status: HTTPStatus
    reason: str
    retry_after: int | None = None
    # A guess at a password (wrong one, wrong username, garbled header) counts
    # toward the back-off; missing credentials cannot be a guess.
    guess: bool = False

    @property
    def headers(self) -> dict[str, str]:
        """The headers the refusal is answered with (a challenge for 401)."""
        if self.status == HTTPStatus.UNAUTHORIZED:
            return {"WWW-Authenticate": 'Basic realm="OCPP", charset="UTF-8"'}
        if self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        return {}

    @property
    def body(self) -> str:
        """What the client is told: the status only, nothing an attacker could use."""
        return f"{self.status.phrase}\n"


type Verdict = Admitted | Refused


class InvalidAuthorization(ValueError):
    """The Authorization header is not usable HTTP Basic credentials."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """HTTP Basic credentials as sent."""

    username: str
    password: bytes


def basic_credentials(values: Sequence[str]) -> Credentials | None:
    """The credentials of the Authorization header values of a request; None if none."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidAuthorization("it sent more than one Authorization header")
    scheme, _, token = values[0].strip().partition(" ")
    if scheme.casefold() != "basic":
        raise InvalidAuthorization(f"its Authorization header is not HTTP Basic ({scheme[:20]!r})")
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except binascii.Error as error:
        raise InvalidAuthorization("its Basic credentials are not valid base64") from error
    username, colon, password = decoded.partition(b":")
    if not colon:
        raise InvalidAuthorization("its Basic credentials have no ':' between name and password")
    try:
        return Credentials(username.decode(), password)
    except UnicodeDecodeError as error:
        raise InvalidAuthorization("its Basic username is not UTF-8") from error


def same_id(presented: str, charge_point_id: str) -> bool:
    """Whether a name presented (username, certificate CN) is this charge point's id.

    Compared as paths are (identity.py): OCPP ids are case-insensitive, and
    compatibility forms (full-width letters) and invisible characters do not
    make another charger.
    """
    return canonical(presented) == canonical(charge_point_id)


def _equal(presented: bytes, expected: bytes) -> bool:
    # Digests first: constant time whatever the lengths, which stay secret too.
    return hmac.compare_digest(
        hashlib.sha256(presented).digest(), hashlib.sha256(expected).digest()
    )


def password_matches(presented: bytes, password: str) -> bool:
    """Whether a Basic password is this one, as typed or as its AuthorizationKey hex.

    We send a 1.6 charger its password as hex digits (AuthorizationKey); a charger
    that then presents those digits instead of the bytes they stand for means the
    same password.
    """
    raw = password.encode()
    as_typed = _equal(presented, raw)
    as_hex = _equal(presented.lower(), authorization_key_value(password).encode())
    return as_typed | as_hex  # both compared, whichever matches


def authorization_key_value(password: str) -> str:
    """The 1.6 AuthorizationKey value for a password: its bytes as hex digits."""
    return password.encode().hex()


def password_configuration(subprotocol: str | None, password: str) -> SetConfiguration | None:
    """The configuration change that gives a charger a new password; None where none can.

    OCPP 1.6 (security whitepaper): AuthorizationKey, the password's bytes as hex.
    2.0.1: SecurityCtrlr.BasicAuthPassword (what AuthorizationKey becomes on the
    way, see v201_variables.py), the password itself.
    """
    if subprotocol in (None, OCPP16):
        return SetConfiguration(AUTHORIZATION_KEY, authorization_key_value(password))
    if subprotocol == OCPP201:
        return SetConfiguration(AUTHORIZATION_KEY, password)
    return None


def generate_password() -> str:
    """A random password every OCPP version and charger web page accepts (about 116 bits)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))


def password_problem(password: str) -> str | None:
    """Why a password entered by a user cannot be used (a form error key), or None."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return "password_length"
    if not all("!" <= char <= "~" for char in password):  # printable ASCII, no spaces
        return "password_characters"
    return None


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    locked_until: float = 0.0


class FailureBackoff:
    """Refuse quickly, without checking, after repeated failures for one address and id.

    The first few failures are free (a charger retrying with a typo, a user
    fixing it); after that each one locks the pair out for twice as long as the
    last, up to `longest` seconds. Attempts while locked out are not counted, so
    a charger retrying steadily is let back in once the lock ends. Keyed by
    address and charge point id, so one misconfigured charger behind a router
    does not lock out the others behind the same address. Bounded memory.
    """

    def __init__(
        self,
        *,
        free_failures: int = 5,
        first_lock: float = 60.0,
        longest: float = 900.0,
        forget_after: float = 3600.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Set how forgiving to be and how many (address, id) pairs to remember."""
        self._free = free_failures
        self._first_lock = first_lock
        self._longest = longest
        self._forget_after = forget_after
        self._max_entries = max_entries
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    def wait(self, key: tuple[str, str]) -> int | None:
        """Seconds this pair is still locked out for, or None if it may try."""
        if (failures := self._failures.get(key)) is None:
            return None
        remaining = failures.locked_until - self._clock()
        return math.ceil(remaining) if remaining > 0 else None

    def failed(self, key: tuple[str, str]) -> None:
        """Count a failure; lock the pair out once the free ones are used up."""
        now = self._clock()
        failures = self._failures.pop(key, None)
        if failures is None or now - failures.last > self._forget_after:
            failures = _Failures(0, now)
        failures.count += 1
        failures.last = now
        if failures.count >= self._free:
            lock = self._first_lock * 2 ** (failures.count - self._free)
            failures.locked_until = now + min(lock, self._longest)
        self._failures[key] = failures
        while len(self._failures) > self._max_entries:
            self._failures.popitem(last=False)

    def succeeded(self, key: tuple[str, str]) -> None:
        """The pair authenticated: its failures are forgiven."""
        self._failures.pop(key, None)


class RefusalLog:
    """Decides which refusals are worth a warning: once per charge point per hour.

    A flood of refusals for made-up ids is also capped overall (`per_minute`);
    what is held back is counted and said with the next warning.
    """

    def __init__(
        self,
        *,
        interval: float = 3600.0,
        per_minute: int = 10,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Set how often one charge point's refusals are logged."""
        self._interval = interval
        self._per_minute = per_minute
        self._max_entries = max_entries
        self._clock = clock
        self._logged: OrderedDict[str, float] = OrderedDict()
        self._minute_start = -math.inf
        self._in_minute = 0
        self.held_back = 0

    def should_log(self, charge_point_id: str) -> bool:
        """Whether this refusal gets a warning (else a debug line)."""
        now = self._clock()
        key = canonical(charge_point_id)
        last = self._logged.get(key)
        if last is not None and now - last < self._interval:
            return False
        if now - self._minute_start >= 60:
            self._minute_start, self._in_minute = now, 0
        if self._in_minute >= self._per_minute:
            self.held_back += 1
            return False
        self._in_minute += 1
        self._logged.pop(key, None)
        self._logged[key] = now
        while len(self._logged) > self._max_entries:
            self._logged.popitem(last=False)
        return True

    def take_held_back(self) -> int:
        """How many warnings were held back since the last one (and start counting anew)."""
        held, self.held_back = self.held_back, 0
        return held


class Authenticator:
    """Decides at each handshake whether a connection may be the charge point it names."""

    def __init__(
        self,
        minimum: SecurityProfile = SecurityProfile.NONE,
        *,
        tls: bool = False,
        client_certificates: bool = False,
        backoff: FailureBackoff | None = None,
    ) -> None:
        """`tls`: the server speaks wss; `client_certificates`: it has a CA for them."""
        if minimum >= SecurityProfile.TLS_BASIC and not tls:
            raise ValueError(f"security profile {minimum} needs TLS (a certificate and key)")
        if minimum >= SecurityProfile.TLS_CLIENT_CERTIFICATE and not client_certificates:
            raise ValueError("security profile 3 needs the CA of the client certificates")
        self.minimum = minimum
        self.tls = tls
        self.client_certificates = client_certificates
        self.backoff = backoff or FailureBackoff()
        self.log = RefusalLog()

    def authenticate(
        self,
        charge_point_id: str,
        settings: ChargePointSettings | None,
        *,
        authorization: Sequence[str],
        peer_certificate: dict[str, object] | None,
        remote_host: str,
    ) -> Verdict:
        """Check one handshake; `settings` is None for a charge point not approved yet."""
        key = (remote_host, canonical(charge_point_id))
        if (wait := self.backoff.wait(key)) is not None:
            return Refused(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"too many failed authentication attempts from {remote_host}; "
                f"refused without checking for {wait} more seconds",
                retry_after=wait,
            )
        verdict = self._check(charge_point_id, settings, authorization, peer_certificate)
        if isinstance(verdict, Admitted):
            self.backoff.succeeded(key)
        elif verdict.guess:
            self.backoff.failed(key)
        return verdict

    def _check(
        self,
        charge_point_id: str,
        settings: ChargePointSettings | None,
        authorization: Sequence[str],
        peer_certificate: dict[str, object] | None,
    ) -> Verdict:
        if (verdict := self._check_certificate(charge_point_id, peer_certificate)) is not None:
            return verdict
        if settings is None:
            # Not approved yet: it may boot to be told Pending, nothing more.
            return Admitted(SecurityProfile.NONE)
        if settings.password is None:
            if self.minimum > SecurityProfile.NONE:
                return Refused(
                    HTTPStatus.UNAUTHORIZED,
                    f"no password is set for it in Home Assistant, and the minimum security "
                    f"profile is {int(self.minimum)}: set one in its settings",
                )
            return Admitted(SecurityProfile.NONE)
        return self._check_password(charge_point_id, settings, authorization)

    def _check_certificate(
        self, charge_point_id: str, peer_certificate: dict[str, object] | None
    ) -> Verdict | None:
        """Profile 3: a verified client certificate names the charge point (None: none)."""
        common_name = peer_common_name(peer_certificate) if self.tls else None
        if common_name is not None:
            if not same_id(common_name, charge_point_id):
                return Refused(
                    HTTPStatus.FORBIDDEN,
                    f"its client certificate is for {common_name[:64]!r}, not for this id",
                    guess=True,
                )
            return Admitted(SecurityProfile.TLS_CLIENT_CERTIFICATE)
        if self.minimum >= SecurityProfile.TLS_CLIENT_CERTIFICATE:
            return Refused(
                HTTPStatus.UNAUTHORIZED,
                "it presented no client certificate, and the minimum security profile is 3",
            )
        return None

    def _check_password(
        self, charge_point_id: str, settings: ChargePointSettings, authorization: Sequence[str]
    ) -> Verdict:
        try:
            credentials = basic_credentials(authorization)
        except InvalidAuthorization as error:
            return Refused(HTTPStatus.UNAUTHORIZED, str(error), guess=True)
        if credentials is None:
            return Refused(
                HTTPStatus.UNAUTHORIZED,
                "it sent no password (HTTP Basic authentication), and one is set for it",
            )
        if not same_id(credentials.username, charge_point_id):
            return Refused(
                HTTPStatus.UNAUTHORIZED,
                f"its Basic username {credentials.username[:64]!r} is not its id",
                guess=True,
            )
        assert settings.password is not None
        current = password_matches(credentials.password, settings.password)
        previous = settings.previous_password is not None and password_matches(
            credentials.password, settings.previous_password
        )
        profile = SecurityProfile.TLS_BASIC if self.tls else SecurityProfile.BASIC
        if current:
            return Admitted(profile, PasswordUsed.CURRENT)
        if previous:
            return Admitted(profile, PasswordUsed.PREVIOUS)
        return Refused(HTTPStatus.UNAUTHORIZED, "wrong password", guess=True)
