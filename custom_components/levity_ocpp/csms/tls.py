"""TLS for security profiles 2 and 3: the server's context and the files it is made of.

The files are the user's (paths on the Home Assistant host). Everything that reads
them blocks: call it from an executor. Each problem with a file is a `TlsFileError`
naming the file and the problem, so a form can point at the field to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import ssl
import warnings

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

# The TLS versions the OCPP 1.6 security whitepaper and 2.0.1 require at least.
MINIMUM_TLS = ssl.TLSVersion.TLSv1_2
# What "allow older TLS" lets in: chargers whose firmware stops at TLS 1.0 or 1.1.
# OpenSSL refuses those versions above security level 0.
OLD_TLS = ssl.TLSVersion.TLSv1
OLD_TLS_CIPHERS = "DEFAULT:@SECLEVEL=0"


class TlsFileError(Exception):
    """A certificate, key or CA file that cannot be used, and why.

    `field` is the file ("certfile", "keyfile" or "cafile"); `problem` a short key
    such as "file_unreadable" or "key_mismatch" (the form's error key).
    """

    def __init__(self, field: str, problem: str, detail: str = "") -> None:
        """Say which file and what is wrong with it."""
        super().__init__(f"{field}: {problem}" + (f" ({detail})" if detail else ""))
        self.field = field
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Where the server's certificate, its key and the charge points' CA are."""

    certfile: str
    keyfile: str
    # Profile 3: the CA that signs the charge points' client certificates.
    cafile: str | None = None
    allow_old_tls: bool = False


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What matters about a server certificate: whose, until when, which one."""

    subject: str
    not_before: datetime
    not_after: datetime
    fingerprint: str  # SHA-256 of the DER encoding, hex


def _read(path: str, field: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise TlsFileError(field, "file_unreadable", error.strerror or str(error)) from error


def _certificates(data: bytes, field: str, problem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise TlsFileError(field, problem, str(error)) from error


def read_certificate(certfile: str) -> CertificateInfo:
    """The first certificate of a PEM file (the server's; a chain may follow)."""
    certificate = _certificates(_read(certfile, "certfile"), "certfile", "certificate_invalid")[0]
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
    )


def _public_key(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_tls_files(files: TlsFiles, now: datetime) -> CertificateInfo:
    """Check the files make a server that chargers can trust now; raise TlsFileError if not.

    Readable, a certificate and a key that belong together, the certificate valid
    at `now`, and the CA (if any) a certificate too.
    """
    data = _read(files.certfile, "certfile")
    certificate = _certificates(data, "certfile", "certificate_invalid")[0]
    if now > certificate.not_valid_after_utc:
        raise TlsFileError("certfile", "certificate_expired", str(certificate.not_valid_after_utc))
    if now < certificate.not_valid_before_utc:
        raise TlsFileError(
            "certfile", "certificate_not_yet_valid", str(certificate.not_valid_before_utc)
        )
    key_data = _read(files.keyfile, "keyfile")
    try:
        key = serialization.load_pem_private_key(key_data, password=None)
    except TypeError as error:  # the key is encrypted: the server could not unlock it
        raise TlsFileError("keyfile", "key_encrypted") from error
    except (ValueError, UnsupportedAlgorithm) as error:
        raise TlsFileError("keyfile", "key_invalid", str(error)) from error
    if _public_key(key.public_key()) != _public_key(certificate.public_key()):
        raise TlsFileError("keyfile", "key_mismatch")
    if files.cafile:
        _certificates(_read(files.cafile, "cafile"), "cafile", "ca_invalid")
    server_context(files)  # what OpenSSL itself says of them
    return read_certificate(files.certfile)


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """The context the server listens with; raises TlsFileError for unusable files.

    With a CA file, a charge point's client certificate is asked for and, when one is
    presented, verified during the handshake (a certificate of another CA fails it).
    Whether a connection must have one is decided after the handshake, where the
    charge point's id is known and a refusal can say why.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if files.allow_old_tls:
        with warnings.catch_warnings():  # deprecated versions, chosen by the user
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = OLD_TLS
        context.set_ciphers(OLD_TLS_CIPHERS)
    else:
        context.minimum_version = MINIMUM_TLS
    try:
        # An encrypted key gets an empty password, never OpenSSL's terminal prompt.
        context.load_cert_chain(files.certfile, files.keyfile, password=lambda: b"")
    except OSError as error:
        raise TlsFileError("certfile", _problem(error), str(error)) from error
    if files.cafile:
        try:
            context.load_verify_locations(cafile=files.cafile)
        except OSError as error:
            raise TlsFileError("cafile", _problem(error, "ca_invalid"), str(error)) from error
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def _problem(error: OSError, invalid: str = "certificate_invalid") -> str:
    if isinstance(error, ssl.SSLError):
        return "key_mismatch" if "KEY_VALUES_MISMATCH" in str(error).upper() else invalid
    return "file_unreadable"


# What a failed handshake usually means, by OpenSSL's reason for it.
_HANDSHAKE_PROBLEMS = {
    "HTTP_REQUEST": "it spoke plain ws to the wss port: its URL must start with wss://",
    "UNSUPPORTED_PROTOCOL": (
        "it offers only TLS versions older than 1.2 (see 'Allow TLS older than 1.2')"
    ),
    "TLSV1_ALERT_PROTOCOL_VERSION": (
        "it offers only TLS versions older than 1.2 (see 'Allow TLS older than 1.2')"
    ),
    "VERSION_TOO_LOW": (
        "it offers only TLS versions older than 1.2 (see 'Allow TLS older than 1.2')"
    ),
    "TLSV1_ALERT_UNKNOWN_CA": (
        "it does not trust this server's certificate: give it the CA that signed it"
    ),
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "it does not accept this server's certificate",
    "SSLV3_ALERT_BAD_CERTIFICATE": "it does not accept this server's certificate",
    "TLSV1_ALERT_BAD_CERTIFICATE": "it does not accept this server's certificate",
    "CERTIFICATE_VERIFY_FAILED": (
        "its client certificate is not one the configured CA signed, or it has expired"
    ),
    "NO_SHARED_CIPHER": "it has no cipher in common with this server",
}


def handshake_problem(error: ssl.SSLError) -> str:
    """Why a charger's TLS handshake failed, in words a user can act on."""
    reason = getattr(error, "reason", None) or ""
    return _HANDSHAKE_PROBLEMS.get(reason, f"TLS handshake failed ({reason or error})")


def report_handshake_failures(context: ssl.SSLContext, report: Callable[[str], None]) -> None:
    """Call `report` with the problem of each handshake on this context that fails.

    asyncio drops a server's failed handshakes without a word (outside its debug
    mode), yet a charger that cannot connect over TLS needs its user told why.
    """

    class ReportedHandshake(ssl.SSLObject):
        def do_handshake(self) -> None:
            try:
                super().do_handshake()
            except ssl.SSLWantReadError, ssl.SSLWantWriteError:
                raise  # not done yet
            except ssl.SSLError as error:
                report(handshake_problem(error))
                raise

    context.sslobject_class = ReportedHandshake


def peer_common_name(peer_certificate: dict[str, object] | None) -> str | None:
    """The subject CN of a verified client certificate (ssl's getpeercert() form)."""
    if not peer_certificate:
        return None
    subject = peer_certificate.get("subject")
    if not isinstance(subject, tuple):
        return None
    for relative_name in subject:
        for attribute in relative_name:
            if attribute[0] == "commonName":
                return str(attribute[1])
    return None
