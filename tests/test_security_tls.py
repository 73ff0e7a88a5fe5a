"""Security profiles 2 and 3 end to end: wss with certificates made in the test."""

from __future__ import annotations

from collections.abc import Iterator
import logging
from pathlib import Path
import ssl
import warnings

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from ocpp.v16.enums import RegistrationStatus
import pytest
from websockets.exceptions import InvalidMessage, InvalidStatus

from .client import ConfiguredChargePoint, connect_charge_point
from .pki import Issued, TestPki
from .security_helpers import basic, port_of, setup_secured

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def handshake_failures_as_in_production(hass: HomeAssistant) -> Iterator[None]:
    """asyncio's debug mode (on in tests) hands each failed TLS handshake to the loop's
    exception handler, which fails the test; Home Assistant runs without it."""
    debug = hass.loop.get_debug()
    hass.loop.set_debug(False)
    yield
    hass.loop.set_debug(debug)


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    """A CA that signs the server's and the chargers' certificates."""
    return TestPki(tmp_path)


@pytest.fixture
def server(pki: TestPki) -> Issued:
    """The central system's certificate, for 127.0.0.1."""
    return pki.issue("Levity OCPP", server=True)


def tls_options(server: Issued, profile: int, cafile: Path | None = None) -> dict[str, object]:
    """Entry options serving wss with this certificate."""
    options: dict[str, object] = {
        "security_profile": profile,
        "certfile": str(server.certfile),
        "keyfile": str(server.keyfile),
    }
    if cafile is not None:
        options["cafile"] = str(cafile)
    return options


async def boots(port: int, context: ssl.SSLContext, **kwargs: object) -> None:
    """Connect over wss as CP1 and boot (accepted)."""
    async with connect_charge_point(
        port,
        "/CP1",
        ssl=context,
        charge_point_class=ConfiguredChargePoint,
        **kwargs,  # type: ignore[arg-type]
    ) as charge_point:
        assert (await charge_point.boot()).status == RegistrationStatus.accepted


async def refusal(port: int, context: ssl.SSLContext, path: str = "/CP1", **kwargs: object) -> int:
    """Connect over wss; the HTTP status the handshake was refused with."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect_charge_point(port, path, ssl=context, **kwargs):  # type: ignore[arg-type]
            pass
    return refused.value.response.status_code


async def test_profile_2_password_over_tls(
    hass: HomeAssistant,
    socket_enabled: None,
    pki: TestPki,
    server: Issued,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await setup_secured(
        hass, tls_options(server, 2), {"CP1": {"password": PASSWORD}, "CP2": {}}
    )
    port = port_of(entry)
    context = pki.client_context()
    await boots(port, context, headers=basic("CP1", PASSWORD))
    cp1 = entry.runtime_data.central_system.charge_points["CP1"]
    assert cp1.connections[-1].security_profile == 2
    assert await refusal(port, context) == 401
    assert await refusal(port, context, headers=basic("CP1", "wrong-horse-battery")) == 401
    # Below the minimum: a charger without a password.
    assert await refusal(port, context, "/CP2") == 401
    # The port speaks TLS only: plain ws gets no OCPP at all, and the user is told why.
    for _ in range(2):
        with pytest.raises(InvalidMessage):
            async with connect_charge_point(port, "/CP1", headers=basic("CP1", PASSWORD)):
                pass
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("its URL must start with wss://" in message for message in warnings) == 1
    assert len(cp1.connections) == 1


async def test_tls_older_than_1_2_only_when_allowed(
    hass: HomeAssistant,
    socket_enabled: None,
    pki: TestPki,
    server: Issued,
    caplog: pytest.LogCaptureFixture,
) -> None:
    options = tls_options(server, 1)
    entry = await setup_secured(hass, options, {"CP1": {"password": PASSWORD}})
    old = pki.client_context()
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # a charger of old, on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await boots(port_of(entry), old, headers=basic("CP1", PASSWORD))
    # Said, with what to do about it.
    assert "it offers only TLS versions older than 1.2" in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)

    allowing = await setup_secured(
        hass, {**options, "allow_old_tls": True}, {"CP1": {"password": PASSWORD}}
    )
    await boots(port_of(allowing), old, headers=basic("CP1", PASSWORD))


async def test_profile_3_client_certificates(
    hass: HomeAssistant,
    socket_enabled: None,
    pki: TestPki,
    server: Issued,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await setup_secured(
        hass, tls_options(server, 3, pki.cafile), {"CP1": {"password": PASSWORD}}
    )
    port = port_of(entry)
    central_system = entry.runtime_data.central_system
    # Its certificate names it: no password needed.
    await boots(port, pki.client_context(pki.issue("CP1")))
    assert central_system.charge_points["CP1"].connections[-1].security_profile == 3
    # Another charger's certificate is not its own.
    assert await refusal(port, pki.client_context(pki.issue("CP2"))) == 403
    # A password is not enough at profile 3, nor is nothing.
    assert await refusal(port, pki.client_context(), headers=basic("CP1", PASSWORD)) == 401
    # A charge point not approved yet needs its certificate too.
    assert await refusal(port, pki.client_context(), "/CP9") == 401
    # A certificate from another CA fails the TLS handshake itself.
    # (TLS 1.3: the client learns only after its side of the handshake is done.)
    stranger = TestPki(tmp_path, "Other CA").issue("CP1", file_name="stranger")
    with pytest.raises((ssl.SSLError, ConnectionError, InvalidMessage)):
        await boots(port, pki.client_context(stranger))
    assert "its client certificate is not one the configured CA signed" in caplog.text
    assert len(central_system.charge_points["CP1"].connections) == 1


async def test_profile_3_ca_accepts_passwords_below_it(
    hass: HomeAssistant, socket_enabled: None, pki: TestPki, server: Issued
) -> None:
    """With a CA but minimum profile 2: certificates or passwords, either works."""
    entry = await setup_secured(
        hass, tls_options(server, 2, pki.cafile), {"CP1": {"password": PASSWORD}}
    )
    port = port_of(entry)
    await boots(port, pki.client_context(), headers=basic("CP1", PASSWORD))
    await boots(port, pki.client_context(pki.issue("CP1")))
    profiles = [
        c.security_profile
        for c in entry.runtime_data.central_system.charge_points["CP1"].connections
    ]
    assert profiles == [2, 3]


async def test_unusable_files_keep_the_server_from_starting(
    hass: HomeAssistant, socket_enabled: None, server: Issued, tmp_path: Path
) -> None:
    """Never a silent fall back to unencrypted ws."""
    options = {**tls_options(server, 2), "certfile": str(tmp_path / "gone.pem")}
    entry = await setup_secured(hass, options, {"CP1": {"password": PASSWORD}})
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "gone.pem" in str(entry.reason)
