"""Fetching feeds politely over one shared httpx client.

Bounded concurrency overall and per host, named timeouts plus a total deadline per fetch, a
body size cap enforced while streaming (so a gzip bomb is cut too), conditional GET, and
redirects followed by hand so that loops are named and only an all-permanent chain moves the
stored URL. Every failure leaves as a `FetchError` carrying a message an operator can act on.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import IO
from urllib.parse import urlsplit

import httpx

from alerts.errors import FetchError
from alerts.retry_after import parse_retry_after

# Some official sources (UN, DFAT, State) refuse clients that do not look like a browser.
DEFAULT_USER_AGENT = (
    "SanctionsAlerts/0.1 (+https://github.com/sanctions-alerts/sanctions-alerts) "
    "Mozilla/5.0 compatible"
)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Named defaults: never an unbounded wait, body or redirect chain."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0  # one fetch, all redirect hops included, queueing excluded
    max_bytes: int = 10 * 1024 * 1024  # decoded body size
    max_redirects: int = 5
    max_connections: int = 10
    max_per_host: int = 2
    # When set, a body is written to a temporary file (kept in memory up to this size),
    # not held as bytes: a list file of tens of MB is then streamed from disk to the parser.
    spool_over: int | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What the server answered, after redirects."""

    url: str  # final URL after redirects
    status: int  # 200 (any 2xx) or 304
    body: bytes | None  # None when 304 Not Modified
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # set only when every hop was 301/308
    # The body as a file positioned at its start, instead of `body`, when the limits spool
    # (see `FetchLimits.spool_over`); the caller closes it (`close`).
    file: IO[bytes] | None = None

    @property
    def not_modified(self) -> bool:
        """True for a 304: the feed is unchanged since the validators we sent."""
        return self.status == 304

    def close(self) -> None:
        """Release a spooled body (a no-op otherwise)."""
        if self.file is not None:
            self.file.close()


@dataclass(frozen=True, slots=True)
class _Hop:
    """One request's outcome: either a redirect target or a final result."""

    status: int
    location: str | None = None
    result: FetchResult | None = None


class Fetcher:
    """Fetches feeds over one shared client; safe to use from many tasks at once."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        limits: FetchLimits = FetchLimits(),  # frozen, so one shared default is safe
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.limits = limits
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent, "Accept": ACCEPT},
            timeout=httpx.Timeout(
                connect=limits.connect_timeout,
                read=limits.read_timeout,
                write=limits.read_timeout,
                pool=limits.total_timeout,
            ),
            limits=httpx.Limits(
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_connections,
            ),
            follow_redirects=False,  # we follow by hand: see _follow
            transport=transport,
        )
        self._overall = asyncio.Semaphore(limits.max_connections)
        self._per_host: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the shared client and its connections."""
        await self._client.aclose()

    async def fetch(
        self,
        feed: str,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        limits: FetchLimits | None = None,
    ) -> FetchResult:
        """GET `url` conditionally, following redirects; raises FetchError and nothing else.

        `limits` overrides the fetcher's size cap and total deadline for this request (a
        sanctions list file is tens of MB); connection limits stay the fetcher's own.
        """
        lim = limits or self.limits
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        async with self._overall:
            return await self._follow(feed, url, headers, etag, last_modified, lim)

    async def _follow(
        self,
        feed: str,
        url: str,
        headers: dict[str, str],
        etag: str | None,
        last_modified: str | None,
        lim: FetchLimits,
    ) -> FetchResult:
        # The total deadline is a budget spent only while talking to servers, so a feed queued
        # behind a slow host is not failed for time it spent waiting its turn.
        budget = lim.total_timeout
        chain = [url]
        all_permanent = True
        current = url
        while True:
            started = time.monotonic()
            hop = await self._request(feed, current, headers, budget, lim)
            budget -= time.monotonic() - started
            if hop.location is None:
                assert hop.result is not None
                result = hop.result
                if result.status == 304:
                    # A 304 need not repeat the validators; the ones we sent still hold.
                    result = _replace_validators(
                        result, result.etag or etag, result.last_modified or last_modified
                    )
                moved = all_permanent and current != url
                return _with_location(result, current, current if moved else None)
            all_permanent = all_permanent and hop.status in PERMANENT_REDIRECTS
            if hop.location in chain:
                loop = " -> ".join([*chain[chain.index(hop.location) :], hop.location])
                raise FetchError(feed, f"redirect loop: {loop}", status=hop.status)
            chain.append(hop.location)
            if len(chain) - 1 > self.limits.max_redirects:
                raise FetchError(
                    feed,
                    f"too many redirects: more than {self.limits.max_redirects} "
                    f"from {url} (last to {hop.location})",
                    status=hop.status,
                )
            current = hop.location

    async def _request(
        self, feed: str, url: str, headers: dict[str, str], budget: float, lim: FetchLimits
    ) -> _Hop:
        """One GET under the per-host limit and what remains of the total deadline."""
        host = _check_url(feed, url)
        semaphore = self._per_host.setdefault(host, asyncio.Semaphore(self.limits.max_per_host))
        async with semaphore:
            if budget <= 0:
                raise FetchError(feed, _total_timeout_message(lim, url))
            try:
                async with asyncio.timeout(budget):
                    return await self._exchange(feed, url, headers, lim)
            except TimeoutError:
                raise FetchError(feed, _total_timeout_message(lim, url)) from None

    async def _exchange(
        self, feed: str, url: str, headers: dict[str, str], lim: FetchLimits
    ) -> _Hop:
        try:
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
        except httpx.ConnectTimeout as exc:
            raise FetchError(
                feed, f"timed out after {self.limits.connect_timeout:g}s connecting to {url}"
            ) from exc
        except httpx.PoolTimeout as exc:
            raise FetchError(
                feed, f"timed out after {self.limits.total_timeout:g}s waiting for a connection"
            ) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(feed, self._read_timeout_message(url)) from exc
        except httpx.ConnectError as exc:
            raise FetchError(feed, _connect_message(url, exc)) from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, ValueError) as exc:
            # OSError covers ssl.SSLError; ValueError covers headers httpx cannot encode.
            raise FetchError(feed, f"request to {url} failed: {_describe(exc)}") from exc
        hop: _Hop | None = None
        try:
            hop = await self._read(feed, url, response, lim)
            return hop
        finally:
            try:
                await response.aclose()
            except BaseException:
                # The hop is lost with this exception: release a spooled body now.
                if hop is not None and hop.result is not None:
                    hop.result.close()
                raise

    async def _read(self, feed: str, url: str, response: httpx.Response, lim: FetchLimits) -> _Hop:
        status = response.status_code
        headers = {name.lower(): value for name, value in response.headers.items()}
        if status in REDIRECTS:
            location = headers.get("location", "").strip()
            if not location:
                raise FetchError(
                    feed, f"HTTP {status} redirect without a Location header", status=status
                )
            try:
                target = str(response.url.join(location))
            except (httpx.InvalidURL, ValueError) as exc:
                raise FetchError(
                    feed, f"HTTP {status} redirect to an invalid URL {location!r}", status=status
                ) from exc
            return _Hop(status, location=target)
        if status == 304:
            return _Hop(status, result=_result(url, status, None, headers))
        if not 200 <= status < 300:
            raise _status_error(feed, status, response.reason_phrase, headers)
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > lim.max_bytes:
            raise FetchError(feed, _too_big(lim, f"Content-Length {declared}"), status=status)
        body = bytearray()
        spool = (
            tempfile.SpooledTemporaryFile(max_size=lim.spool_over)  # noqa: SIM115 (returned)
            if lim.spool_over is not None
            else None
        )
        try:
            await self._receive(feed, url, response, lim, status, body, spool)
        except BaseException:
            if spool is not None:
                spool.close()
            raise
        if spool is not None:
            spool.seek(0)
            return _Hop(status, result=replace(_result(url, status, None, headers), file=spool))
        return _Hop(status, result=_result(url, status, bytes(body), headers))

    async def _receive(
        self,
        feed: str,
        url: str,
        response: httpx.Response,
        lim: FetchLimits,
        status: int,
        body: bytearray,
        spool: IO[bytes] | None,
    ) -> None:
        """Read the body into `spool` (when spooling) or `body`, within the size cap."""
        size = 0
        try:
            # Bytes are counted after decompression, so a small gzip bomb is cut too.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > lim.max_bytes:
                    raise FetchError(feed, _too_big(lim, "streamed"), status=status)
                if spool is not None:
                    _spool_write(feed, spool, chunk)
                else:
                    body += chunk
        except httpx.TimeoutException as exc:
            raise FetchError(feed, self._read_timeout_message(url), status=status) from exc
        except httpx.DecodingError as exc:
            raise FetchError(
                feed, f"could not decode the compressed body: {_describe(exc)}", status=status
            ) from exc
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            raise FetchError(
                feed, f"connection lost reading {url}: {_describe(exc)}", status=status
            ) from exc

    def _read_timeout_message(self, url: str) -> str:
        return f"timed out after {self.limits.read_timeout:g}s reading {url}"


def _spool_write(feed: str, spool: IO[bytes], chunk: bytes) -> None:
    """Write to the temporary file; a full disk is its own error, not "connection lost"."""
    try:
        spool.write(chunk)
    except OSError as exc:
        raise FetchError(
            feed, f"could not write the download to a temporary file: {_describe(exc)}"
        ) from exc


def _too_big(lim: FetchLimits, how: str) -> str:
    return f"response body over {_size(lim.max_bytes)} cap ({how})"


def _total_timeout_message(lim: FetchLimits, url: str) -> str:
    return f"timed out after {lim.total_timeout:g}s in total fetching {url}"


def _check_url(feed: str, url: str) -> str:
    """The host to limit on; FetchError for anything that is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range
    except ValueError as exc:
        raise FetchError(feed, f"invalid URL {url!r}: {exc}") from exc
    if parts.scheme not in {"http", "https"}:
        raise FetchError(feed, f"invalid URL {url!r}: only http and https are fetched")
    if not parts.hostname:
        raise FetchError(feed, f"invalid URL {url!r}: no host")
    return f"{parts.hostname}:{port}" if port else parts.hostname


def _result(url: str, status: int, body: bytes | None, headers: dict[str, str]) -> FetchResult:
    return FetchResult(
        url=url,
        status=status,
        body=body,
        headers=headers,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
    )


def _replace_validators(
    result: FetchResult, etag: str | None, last_modified: str | None
) -> FetchResult:
    return replace(result, etag=etag, last_modified=last_modified, permanent_url=None)


def _with_location(result: FetchResult, url: str, permanent_url: str | None) -> FetchResult:
    return replace(result, url=url, permanent_url=permanent_url)


def _status_error(feed: str, status: int, reason: str, headers: Mapping[str, str]) -> FetchError:
    retry_after = parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
    message = f"HTTP {status} {reason}".rstrip()
    if retry_after is not None:
        message += f" (retry after {retry_after:g}s)"
    return FetchError(feed, message, status=status, retry_after=retry_after)


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _connect_message(url: str, exc: BaseException) -> str:
    """Name the usual causes; httpx wraps the OSError that says which one it was."""
    parts = urlsplit(url)
    where = parts.netloc or url
    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(causes) < 10:
        causes.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(c) for c in causes).lower()
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
        return f"connection refused: {where}"
    if "name or service not known" in text or "nodename nor servname" in text:
        return f"host not found: {parts.hostname}"
    if "certificate" in text or "ssl" in text:
        return f"TLS error connecting to {where}: {_describe(exc)}"
    return f"could not connect to {where}: {_describe(exc)}"
