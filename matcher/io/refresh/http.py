"""HTTP for the refresh clients: one `httpx.Client` with time-outs, connection retries and a small retry on 5xx and
time-outs; every failure becomes a `RefreshError` that names the URL.

    >>> with http_client(transport=None, timeout_s=30.0) as client:
    ...     response = send(client, client.build_request("GET", "https://zoekservice.overheid.nl/sru/Search"))

Tests pass an `httpx.MockTransport` serving recorded answers (the seam); without one the client uses
`httpx.HTTPTransport(retries=CONNECT_RETRIES)`, which retries failed connections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx

from matcher.errors import MatcherError

log = logging.getLogger(__name__)

CONNECT_RETRIES = 2  # httpx retries a connection that fails to open (not a slow or failed answer)
ATTEMPTS = 3  # tries per request on a time-out or a 5xx answer
BACKOFF_S = 2.0  # wait before the second try; doubled for the next
USER_AGENT = "regio-matcher (matcher refresh)"


class RefreshError(MatcherError):
    """A source did not answer, or answered in a format we do not know; nothing was written."""


def http_client(transport: httpx.BaseTransport | None, timeout_s: float) -> httpx.Client:
    """A client with time-outs (connect at most 10 s) on `transport`, or on a transport that retries connections."""
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
    chosen = transport if transport is not None else httpx.HTTPTransport(retries=CONNECT_RETRIES)
    headers = {"User-Agent": USER_AGENT}
    return httpx.Client(transport=chosen, timeout=timeout, headers=headers, follow_redirects=True)


def send(
    client: httpx.Client,
    request: httpx.Request,
    attempts: int = ATTEMPTS,
    backoff_s: float = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """The answer to `request`, tried again after a time-out or a 5xx; RefreshError naming the URL when it fails."""
    url = str(request.url)
    attempt = 1
    while True:
        try:
            response = client.send(request)
        except httpx.TimeoutException:
            if attempt >= attempts:
                waited = client.timeout.read or 0
                raise RefreshError(f"{url}: no answer within {waited:g} s ({attempts} tries)") from None
            reason = "timed out"
        except httpx.TransportError as exc:
            raise RefreshError(f"{url}: cannot connect ({exc})") from None
        else:
            if response.status_code < 500 or attempt >= attempts:
                if not response.is_success:
                    raise RefreshError(f"{url}: answered HTTP {response.status_code} {response.reason_phrase}")
                return response
            reason = f"HTTP {response.status_code}"
        log.info("%s: %s (try %d of %d)", url, reason, attempt, attempts)
        sleep(backoff_s * 2 ** (attempt - 1))
        attempt += 1
