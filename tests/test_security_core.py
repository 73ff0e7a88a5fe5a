"""csms/security.py and csms/tls.py without Home Assistant: the rules, one by one."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
import logging
from pathlib import Path
import ssl

import pytest

from custom_components.levity_ocpp.csms.redaction import (
    REDACTED,
    SecretFilter,
    redact_logger,
    redact_secrets,
)
from custom_components.levity_ocpp.csms.security import (
    Admitted,
    Authenticator,
    FailureBackoff,
    InvalidAuthorization,
    PasswordUsed,
    RefusalLog,
    Refused,
    SecurityProfile,
    basic_credentials,
    generate_password,
    password_configuration,
    password_matches,
    password_problem,
    same_id,
)
from custom_components.levity_ocpp.csms.settings import ChargePointSettings
from custom_components.levity_ocpp.csms.tls import (
    TlsFileError,
    TlsFiles,
    check_tls_files,
    handshake_problem,
    peer_common_name,
    server_context,
)

from .pki import TestPki


class Clock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        """Start at 1000 s."""
        self.now = 1000.0

    def __call__(self) -> float:
        """The time now."""
        return self.now


def header(raw: bytes) -> list[str]:
    """An Authorization header carrying these raw credentials."""
    return [f"Basic {base64.b64encode(raw).decode()}"]


def test_basic_credentials() -> None:
    assert basic_credentials([]) is None
    parsed = basic_credentials(header(b"CP1:pass:with:colons"))
    assert parsed is not None
    assert (parsed.username, parsed.password) == ("CP1", b"pass:with:colons")
    parsed = basic_credentials([f"  basic   {base64.b64encode(b'CP1:x').decode()}  "])
    assert parsed is not None
    assert parsed.password == b"x"
    for values, problem in [
        (["Basic a", "Basic b"], "more than one"),
        (["Bearer abc"], "not HTTP Basic"),
        (["Basic ***"], "not valid base64"),
        (header(b"no colon here"), "no ':'"),
        (header(b"\xff\xfe:password"), "not UTF-8"),
    ]:
        with pytest.raises(InvalidAuthorization, match=problem):
            basic_credentials(values)


def test_ids_compare_case_and_width_insensitively() -> None:
    assert same_id("cp1", "CP1")
    assert same_id("\uff23\uff30\uff11", "CP1")  # full-width
    assert same_id("CP1\u200b", "CP1")  # an invisible character is no other charger
    assert not same_id("CP1X", "CP1")
    assert not same_id("CP2", "CP1")


def test_passwords() -> None:
    assert password_matches(b"s3cret-s3cret-s3cret", "s3cret-s3cret-s3cret")
    as_hex = b"s3cret-s3cret-s3cret".hex()
    assert password_matches(as_hex.encode(), "s3cret-s3cret-s3cret")
    assert password_matches(as_hex.upper().encode(), "s3cret-s3cret-s3cret")
    assert not password_matches(b"s3cret-s3cret-s3creT", "s3cret-s3cret-s3cret")
    assert not password_matches(b"", "s3cret-s3cret-s3cret")
    generated = {generate_password() for _ in range(50)}
    assert len(generated) == 50
    assert all(password_problem(password) is None for password in generated)
    assert password_problem("a" * 15) == "password_length"
    assert password_problem("a" * 16) is None
    assert password_problem("a" * 40) is None
    assert password_problem("tab\tinside-the-password") == "password_characters"


def test_password_configuration_per_version() -> None:
    command = password_configuration("ocpp1.6", "abc")
    assert command is not None
    assert (command.key, command.value) == ("AuthorizationKey", "616263")
    assert password_configuration(None, "abc") == command  # a charger that offered none
    # 2.0.1: SetVariables(SecurityCtrlr.BasicAuthPassword), the password as it is.
    v201 = password_configuration("ocpp2.0.1", "abc")
    assert v201 is not None
    assert (v201.key, v201.value) == ("AuthorizationKey", "abc")
    assert password_configuration("ocpp2.1", "abc") is None  # a version we cannot tell it in


def test_backoff_locks_doubles_and_forgives() -> None:
    clock = Clock()
    backoff = FailureBackoff(
        free_failures=3, first_lock=60, longest=200, forget_after=3600, clock=clock
    )
    key = ("10.0.0.9", "cp1")
    for _ in range(2):
        backoff.failed(key)
        assert backoff.wait(key) is None
    backoff.failed(key)
    assert backoff.wait(key) == 60
    clock.now += 59.5
    assert backoff.wait(key) == 1
    clock.now += 1
    assert backoff.wait(key) is None
    backoff.failed(key)  # the 4th: twice as long
    assert backoff.wait(key) == 120
    clock.now += 121
    backoff.failed(key)  # the 5th would be 240: capped
    assert backoff.wait(key) == 200
    # Other pairs are not affected.
    assert backoff.wait(("10.0.0.9", "cp2")) is None
    # A success forgives; so does an hour without failures.
    backoff.succeeded(key)
    assert backoff.wait(key) is None
    for _ in range(3):
        backoff.failed(key)
    clock.now += 3601
    backoff.failed(key)
    assert backoff.wait(key) is None


def test_backoff_memory_is_bounded() -> None:
    backoff = FailureBackoff(free_failures=1, max_entries=10, clock=Clock())
    for number in range(100):
        backoff.failed((f"10.0.{number}.1", "cp1"))
    assert backoff.wait(("10.0.99.1", "cp1")) is not None
    assert backoff.wait(("10.0.0.1", "cp1")) is None  # forgotten, oldest first


def test_refusal_log_once_per_charger_per_hour_and_capped() -> None:
    clock = Clock()
    log = RefusalLog(interval=3600, per_minute=3, max_entries=5, clock=clock)
    assert log.should_log("CP1")
    assert not log.should_log("cp1")  # the same charge point
    assert log.should_log("CP2")
    assert log.should_log("CP3")
    assert not log.should_log("CP4")  # the minute's cap
    assert not log.should_log("CP5")
    assert log.take_held_back() == 2
    assert log.take_held_back() == 0
    clock.now += 60
    assert log.should_log("CP4")
    clock.now += 3600
    assert log.should_log("CP1")
    # Remembers at most `max_entries` charge points: the oldest are logged again.
    for number in range(3):
        clock.now += 60
        assert log.should_log(f"CP{10 + number}")
    assert log.should_log("CP2")


def test_authenticator_needs_tls_for_profiles_2_and_3() -> None:
    with pytest.raises(ValueError, match="needs TLS"):
        Authenticator(SecurityProfile.TLS_BASIC)
    with pytest.raises(ValueError, match="CA"):
        Authenticator(SecurityProfile.TLS_CLIENT_CERTIFICATE, tls=True)


def check(
    authenticator: Authenticator,
    settings: ChargePointSettings | None,
    authorization: list[str] | None = None,
    certificate: dict[str, object] | None = None,
) -> Admitted | Refused:
    """One handshake of CP1 from 10.0.0.9."""
    return authenticator.authenticate(
        "CP1",
        settings,
        authorization=authorization or [],
        peer_certificate=certificate,
        remote_host="10.0.0.9",
    )


def test_authenticator_verdicts() -> None:
    authenticator = Authenticator(SecurityProfile.NONE)
    open_door = ChargePointSettings()
    assert check(authenticator, open_door) == Admitted(SecurityProfile.NONE)
    assert check(authenticator, None) == Admitted(SecurityProfile.NONE)
    rotated = ChargePointSettings(
        password="new-password-0123", previous_password="old-pw-0123456789"
    )
    assert check(authenticator, rotated, header(b"CP1:new-password-0123")) == Admitted(
        SecurityProfile.BASIC, PasswordUsed.CURRENT
    )
    assert check(authenticator, rotated, header(b"CP1:old-pw-0123456789")) == Admitted(
        SecurityProfile.BASIC, PasswordUsed.PREVIOUS
    )
    refused = check(authenticator, rotated, ["Digest abc"])
    assert isinstance(refused, Refused)
    assert refused.guess
    assert refused.status == HTTPStatus.UNAUTHORIZED
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert refused.body == "Unauthorized\n"
    # Without TLS a client certificate cannot be: its name is not looked at.
    assert isinstance(check(authenticator, rotated, certificate=_cert("CP1")), Refused)


def test_client_certificate_verdicts() -> None:
    authenticator = Authenticator(SecurityProfile.TLS_BASIC, tls=True, client_certificates=True)
    with_password = ChargePointSettings(password="a-password-0123456")
    assert check(authenticator, with_password, certificate=_cert("cp1")) == Admitted(
        SecurityProfile.TLS_CLIENT_CERTIFICATE
    )
    other = check(authenticator, with_password, certificate=_cert("CP2"))
    assert isinstance(other, Refused)
    assert other.status == HTTPStatus.FORBIDDEN
    assert other.headers == {}
    assert "'CP2'" in other.reason


def test_locked_out_refusal_says_when_to_retry() -> None:
    authenticator = Authenticator(backoff=FailureBackoff(free_failures=1, clock=Clock()))
    settings = ChargePointSettings(password="a-password-0123456")
    assert isinstance(check(authenticator, settings, header(b"CP1:wrong-password-000")), Refused)
    locked = check(authenticator, settings, header(b"CP1:a-password-0123456"))
    assert isinstance(locked, Refused)
    assert locked.status == HTTPStatus.TOO_MANY_REQUESTS
    assert locked.headers == {"Retry-After": "60"}


def _cert(common_name: str) -> dict[str, object]:
    """A verified peer certificate as ssl's getpeercert() gives it."""
    return {"subject": ((("countryName", "NL"),), (("commonName", common_name),))}


def test_peer_common_name() -> None:
    assert peer_common_name(_cert("CP1")) == "CP1"
    assert peer_common_name(None) is None
    assert peer_common_name({}) is None
    assert peer_common_name({"subject": "not a tuple"}) is None
    assert peer_common_name({"subject": ((("organizationName", "Levity"),),)}) is None


def test_redacting_secrets_in_text() -> None:
    frame = '[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"6162636465"}]'
    assert redact_secrets(frame) == frame.replace("6162636465", REDACTED)
    cut = '[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"616263'
    assert "616263" not in redact_secrets(cut)
    v201 = '{"attributeValue":"s3cret","variable":{"name":"BasicAuthPassword"}}'
    assert "s3cret" not in redact_secrets(v201)
    harmless = '{"key":"HeartbeatInterval","value":"60"}'
    assert redact_secrets(harmless) is harmless


@dataclass
class Frame:
    """What websockets logs a frame as: its repr is cut in the middle."""

    data: bytes

    def __str__(self) -> str:
        """Like websockets: the start and the end."""
        text = self.data.decode()
        return f"{text[:10]}...{text[-10:]}"


def test_secret_filter(caplog: pytest.LogCaptureFixture) -> None:
    logger = redact_logger(logging.getLogger("test_security_core.filtered"))
    redact_logger(logger)  # once is enough
    assert sum(isinstance(f, SecretFilter) for f in logger.filters) == 1
    caplog.set_level(logging.DEBUG)
    logger.debug("< %s: %s", "Authorization", "Basic c2VjcmV0")
    logger.debug("< %s: %s", "Host", "example")
    secret = b'[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"736563726574"}]'
    logger.debug("> %s", Frame(secret))
    logger.debug("> %s", Frame(b'[2,"1","Heartbeat",{}]'))
    logger.info("CP1: send %s", secret.decode())
    text = caplog.text
    assert "c2VjcmV0" not in text
    assert "Host: example" in text
    assert "736563726574" not in text
    assert "<a frame setting a password" in text
    assert 'tbeat",{}]' in text  # a frame without a secret is logged as it was


def test_tls_file_problems(tmp_path: Path) -> None:
    pki = TestPki(tmp_path)
    server = pki.issue("server", server=True)
    other = pki.issue("other", server=True)
    now = datetime.now(UTC)
    info = check_tls_files(TlsFiles(str(server.certfile), str(server.keyfile)), now)
    assert info.subject == "CN=server"
    # OpenSSL's own checks, when the files change between the form and the start.
    for files, field, problem in [
        (TlsFiles(str(tmp_path / "none.pem"), str(server.keyfile)), "certfile", "file_unreadable"),
        (TlsFiles(str(server.certfile), str(other.keyfile)), "certfile", "key_mismatch"),
        (TlsFiles(str(server.keyfile), str(server.keyfile)), "certfile", "certificate_invalid"),
        (
            TlsFiles(str(server.certfile), str(server.keyfile), str(server.keyfile)),
            "cafile",
            "ca_invalid",
        ),
        (
            TlsFiles(str(server.certfile), str(server.keyfile), str(tmp_path / "none.pem")),
            "cafile",
            "file_unreadable",
        ),
    ]:
        with pytest.raises(TlsFileError) as raised:
            server_context(files)
        assert (raised.value.field, raised.value.problem) == (field, problem), files
    context = server_context(TlsFiles(str(server.certfile), str(server.keyfile), str(pki.cafile)))
    assert context.verify_mode == ssl.CERT_OPTIONAL
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_handshake_problems() -> None:
    error = ssl.SSLError(1, "[SSL: HTTP_REQUEST] http request")
    error.reason = "HTTP_REQUEST"  # type: ignore[misc]
    assert "wss://" in handshake_problem(error)
    unknown = ssl.SSLError(1, "something else")
    assert handshake_problem(unknown).startswith("TLS handshake failed")
