"""Credentials that ride in URLs: which query parameters carry one, how to find them, and how to mask them.

Config refuses a configured URL that carries one (config.loader); connectors mask them in what they log
(connectors.redaction re-exports redact_url). Both read the one list below.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

MASK = "***"
# Query (or fragment) parameters that carry a credential somewhere in the Microsoft stack or beside it,
# compared lower-cased after percent-decoding. Why each is here:
CREDENTIAL_QUERY_KEYS = frozenset(
    {
        # OAuth 2.0: bearer tokens may travel as `access_token` (RFC 6750 2.3), and the implicit flow
        # returns tokens in the fragment; refresh and id tokens are as good as a sign-in.
        "access_token",
        "refresh_token",
        "id_token",
        # OAuth client credentials (RFC 6749 2.3.1, RFC 7523 client assertions).
        "client_secret",
        "client_assertion",
        # Authorization and device codes are exchanged for tokens; Azure Functions keys also travel as `code`.
        "code",
        "device_code",
        # Plain passwords and secrets some services accept in the query.
        "password",
        "passphrase",
        "secret",
        # Azure Storage / SharePoint SAS: `sig` is the signature that makes the URL a credential (sv, se,
        # sp alone are not secret); presigned AWS and Google URLs carry theirs as below.
        "sig",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        # API keys: generic names, and Azure API Management's subscription key.
        "key",
        "api_key",
        "api-key",
        "apikey",
        "subscription-key",
        # A bare `token` is a bearer token on many services (a Graph delta token is opaque and long too).
        "token",
    }
)


def _parameter_names(part: str) -> list[str]:
    return [unquote(name).strip().lower() for name, _value in parse_qsl(part, keep_blank_values=True)]


def url_credential(text: str) -> str | None:
    """What credential the URL carries ("a user:password@ part", "the 'sig' query parameter"), else None.

    Names the part, never its value. Text that is not a URL, or does not parse, carries none.
    """
    try:
        parts = urlsplit(text.strip())
        password = parts.password
    except ValueError:
        return None
    if "@" in parts.netloc:
        return "a user:password@ part" if password is not None else "a user@ part (a user name or token)"
    for where, part in (("query", parts.query), ("fragment", parts.fragment)):
        for name in _parameter_names(part):
            if name in CREDENTIAL_QUERY_KEYS:
                return f"the '{name}' {where} parameter"
    return None


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased: never its user, path, query or fragment."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    port = parts.port
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def redact_url(url: str) -> str:
    """The URL with user:password and credential query values masked; everything else kept as sent."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _redact_pair(pair: str) -> str:
    name, separator, _value = pair.partition("=")
    if separator and unquote(name).strip().lower() in CREDENTIAL_QUERY_KEYS:
        return f"{name}={MASK}"
    return pair
