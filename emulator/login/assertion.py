"""Checks a certificate client assertion (RFC 7523 JWT) the way Entra ID does for the token endpoint.

MSAL signs with RS256 + `x5t` (SHA-1 thumbprint) or PS256 + `x5t#S256` (microsoft-apis.md §5.1); the
signature must verify against the public key of the certificate registered on the app.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.core.http import parse_json

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class AssertionProblem:
    code: int  # the AADSTS number
    message: str


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprints(certificate: x509.Certificate) -> tuple[str, str]:
    """The base64url `x5t` (SHA-1) and `x5t#S256` (SHA-256) values of a certificate."""
    der = certificate.public_bytes(Encoding.DER)
    return _b64(hashlib.sha1(der).digest()), _b64(hashlib.sha256(der).digest())  # noqa: S324 - x5t is SHA-1


def check_assertion(
    assertion: str, *, client_id: str, token_endpoint: str, certificate: x509.Certificate, now: float
) -> AssertionProblem | None:
    """None when the assertion is valid for this client, endpoint and certificate."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return AssertionProblem(50027, "JWT token is invalid or malformed.")
    try:
        header = parse_json(_unb64(parts[0]))
        claims = parse_json(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except ValueError:
        return AssertionProblem(50027, "JWT token is invalid or malformed.")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return AssertionProblem(50027, "JWT token is invalid or malformed.")
    sha1, sha256 = thumbprints(certificate)
    # MSAL keeps the base64 padding on thumbprints; Entra compares the bytes, so padding is ignored here.
    presented = str(header.get("x5t#S256") or header.get("x5t") or "").rstrip("=")
    expected = sha256 if "x5t#S256" in header else sha1
    if presented != expected:
        return AssertionProblem(
            700027,
            f"The certificate with identifier used to sign the client assertion is not registered on "
            f"application. [Reason - The key was not found., Thumbprint of key used by client: '{presented}']",
        )
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return AssertionProblem(
            700027, "Client assertion contains an invalid signature. [Reason - unsupported key]"
        )
    signed = f"{parts[0]}.{parts[1]}".encode()
    algorithm = header.get("alg")
    try:
        if algorithm == "RS256":
            public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == "PS256":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            public_key.verify(signature, signed, pss, hashes.SHA256())
        else:
            return AssertionProblem(700027, f"Client assertion uses an unsupported algorithm '{algorithm}'.")
    except InvalidSignature:
        return AssertionProblem(
            700027, "Client assertion contains an invalid signature. [Reason - The key was not found.]"
        )
    if claims.get("aud") != token_endpoint:
        return AssertionProblem(700023, "Client assertion audience claim does not match Realm issuer.")
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return AssertionProblem(
            700021, "Client assertion application identifier doesn't match 'client_id' parameter."
        )
    if float(claims.get("exp", 0)) <= now:
        return AssertionProblem(700024, "Client assertion is not within its valid time range.")
    return None
