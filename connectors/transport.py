"""The requests session every connector shares: retries, pacing, bearer tokens, User-Agent, timeouts, CA bundle.

`send()` is how connectors call it: transport failures and error answers come back as errors.py types.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from connectors.redaction import redact_url
from connectors.retry import (
    BudgetPacer,
    Clock,
    Jitter,
    RequestStats,
    RetryContext,
    RetryPolicy,
    ServiceRetry,
    Sleep,
)
from connectors.service_errors import raise_for_error, transport_error
from errors import ConnectorError

if TYPE_CHECKING:
    from requests.sessions import _Settings

TokenProvider = Callable[[], str]
Timeout = tuple[float, float]  # (connect, read) seconds
DEFAULT_TIMEOUT: Timeout = (10.0, 120.0)  # a 5,000-item Graph page can take tens of seconds to build
logger = logging.getLogger(__name__)


class BearerAuth(requests.auth.AuthBase):
    """Asks the provider for a token on every request, so a run longer than a token's hour gets a fresh one."""

    def __init__(self, token_provider: TokenProvider) -> None:
        self._token_provider = token_provider

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token_provider()}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<token provider>)"


class ServiceAdapter(HTTPAdapter):
    """Paces before each request, applies the default timeout and tags the request for support tickets."""

    def __init__(
        self, retry: ServiceRetry, pacer: BudgetPacer, stats: RequestStats, timeout: Timeout
    ) -> None:
        super().__init__(max_retries=retry)
        self.pacer, self.stats, self.default_timeout = pacer, stats, timeout

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        request.headers.setdefault(
            "client-request-id", str(uuid.uuid4())
        )  # Graph echoes it; Microsoft asks for it
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        self.pacer.before_request()
        self.stats.add(requests=1)
        logger.debug("%s %s", request.method, redact_url(request.url or ""))
        response = super().send(request, *args, **kwargs)
        self.pacer.observe(response.headers)
        return response


class ServiceSession(requests.Session):
    """A requests.Session that keeps its CA bundle over REQUESTS_CA_BUNDLE and its token over trusted redirects."""

    def __init__(
        self, *, clock: Clock, stats: RequestStats, ca_bundle: str | None, token_hosts: Collection[str]
    ):
        super().__init__()
        self.clock, self.stats, self.ca_bundle = clock, stats, ca_bundle
        self.token_hosts = tuple(host.lower().lstrip(".") for host in token_hosts)

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        # requests lets REQUESTS_CA_BUNDLE win over a session's verify (psf/requests#3829); a configured
        # bundle is the more specific choice. Proxies from the environment still apply.
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.ca_bundle is not None:
            settings["verify"] = self.ca_bundle
        return settings

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        # requests drops Authorization when a redirect changes host; Power BI's 307 to another cluster
        # still needs the token, so it is re-applied for https hosts the caller named, and only those.
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]
        target = urlsplit(prepared_request.url or "")
        host = (target.hostname or "").lower()
        trusted = any(host == name or host.endswith("." + name) for name in self.token_hosts)
        if self.auth is not None and target.scheme == "https" and trusted:
            prepared_request.prepare_auth(self.auth)


def build_session(
    token_provider: TokenProvider | None,
    *,
    user_agent: str,
    ca_bundle: Path | str | None = None,
    retries: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.time,
    jitter: Jitter = random.random,
    timeout: Timeout = DEFAULT_TIMEOUT,
    token_hosts: Collection[str] = (),
) -> ServiceSession:
    """A session for ONE service; `token_provider` None sends no Authorization (auth mode none, emulator only).

    `token_hosts` lists hosts (and their subdomains) a redirect may carry the token to, e.g. Power BI clusters.
    """
    policy = retries or RetryPolicy()
    stats = RequestStats()
    context = RetryContext(policy, sleep, clock, jitter, stats)
    session = ServiceSession(
        clock=clock, stats=stats, ca_bundle=str(ca_bundle) if ca_bundle else None, token_hosts=token_hosts
    )
    adapter = ServiceAdapter(
        ServiceRetry.from_policy(context), BudgetPacer(policy, clock, sleep, stats), stats, timeout
    )
    for prefix in ("https://", "http://"):  # http:// only ever reaches the loopback emulator
        session.mount(prefix, adapter)
    session.headers["User-Agent"] = user_agent
    session.auth = BearerAuth(token_provider) if token_provider is not None else None
    if ca_bundle:
        session.verify = str(ca_bundle)
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: Timeout | None = None,
    verbatim: bool = False,
) -> requests.Response:
    """One call through the session, with retries; returns a successful answer or raises an errors.py type.

    `verbatim` sends `url` exactly as given (a service's next link), where requests would re-quote it.
    """
    try:
        if not verbatim:
            response = session.request(
                method, url, params=params, json=json, data=data, headers=headers, timeout=timeout,
                stream=True,
            )  # fmt: skip
        else:
            if params:
                raise ValueError("a verbatim URL carries its own query; params cannot be added to it")
            prepared = session.prepare_request(
                requests.Request(method, url, json=json, data=data, headers=headers)
            )
            prepared.url = url  # requests re-quotes (e.g. %7E to ~); a signed link is sent as written
            options = session.merge_environment_settings(url, {}, True, None, None)
            response = session.send(prepared, timeout=timeout, **options)
        read_body(response)
    except requests.RequestException as exc:
        raise transport_error(method, url, exc) from exc
    clock = session.clock if isinstance(session, ServiceSession) else time.time
    return raise_for_error(response, now=clock())


def read_body(response: requests.Response) -> None:
    """The whole body of a response requested with `stream=True`, read in one call, as `.content`.

    requests reads a body 10 KB at a time through urllib3's generator: for a 4 MB Graph page that is about
    five times the CPU of one read (docs/performance.md, "Sync end to end"). The body is kept where requests
    keeps the one it reads (`_content`), so `.content`, `.text` and `.json()` answer as before, and the
    connection goes back to the pool once it is read. urllib3's errors become requests' own, as in
    requests' reading of the body."""
    if (
        getattr(response, "_content", False) is not False or response.raw is None
    ):  # read already, or nothing to read
        return
    try:
        body = response.raw.read(decode_content=True)
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
    response._content = body or b""
    response._content_consumed = True  # type: ignore[attr-defined]  # as requests sets it


def read_json(response: requests.Response, loads: Callable[[bytes], Any] = json.loads) -> Any:
    """The decoded body; a body that is not JSON (an HTML page from a proxy) is a ConnectorError."""
    try:
        return loads(response.content)
    except (ValueError, requests.RequestException) as exc:
        request = response.request
        where = f"{request.method} {redact_url(request.url or '')}" if request is not None else "the request"
        kind = response.headers.get("Content-Type", "no content type")
        raise ConnectorError(
            f"{where}: the answer (HTTP {response.status_code}, {kind}) is not valid JSON",
            hint="a proxy or captive portal may be answering instead of the service; check HTTPS_PROXY",
            status=response.status_code,
        ) from exc
