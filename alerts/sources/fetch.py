"""Fetching feeds politely with one shared httpx client.

Bounded concurrency overall and per host, named timeouts plus a total deadline, a body size
cap enforced while streaming (so a gzip bomb is cut too), conditional GET, and redirects
followed by hand so that loops are named and only an all-permanent chain moves the stored
URL. Every failure leaves as a `FetchError` with a message an operator can act on.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from alerts.errors import FetchError
from alerts.retry_after import parse_retry_after

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (compatible; SanctionsAlerts/0.1; "
    "+https://github.com/sanctions-alerts/sanctions-alerts)"
)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_PERMANENT = {301, 308}
_REDIRECT = {301, 302, 303, 307, 308}


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Named defaults: never an unbounded wait or body."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    max_connections: int = 10
    max_per_host: int = 2


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What the server answered, after redirects."""

    url: str
    status: int
    body: bytes | None
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None

    @property
    def not_modified(self) -> bool:
        """True for a 304: the body is unchanged since the ETag / Last-Modified we sent."""
        return self.status == 304


class Fetcher:
    """Fetch feeds over one shared client; safe to use from many tasks at once."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        limits: FetchLimits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        lim = self.limits
        self._client = httpx.AsyncClient(
            headers={
                "User-Agent": user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(
                connect=lim.connect_timeout,
                read=lim.read_timeout,
                write=lim.read_timeout,
                pool=lim.total_timeout,
            ),
            limits=httpx.Limits(
                max_connections=lim.max_connections, max_keepalive_connections=lim.max_connections
            ),
            follow_redirects=False,
            transport=transport,
        )
        self._overall = asyncio.Semaphore(lim.max_connections)
        self._hosts: dict[str, asyncio.Semaphore] = {}

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
    ) -> FetchResult:
        """GET `url` (conditionally), following redirects; raises FetchError only."""
        try:
            async with asyncio.timeout(self.limits.total_timeout), self._overall:
                return await self._follow(feed, url, etag, last_modified)
        except TimeoutError:
            raise FetchError(
                feed, f"timed out after {self.limits.total_timeout:g}s in total fetching {url}"
            ) from None

    async def _follow(
        self, feed: str, url: str, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        visited = [url]
        permanent = True
        current = url
        for _ in range(self.limits.max_redirects + 1):
            status, location, result = await self._get(feed, current, headers)
            if location is None:
                assert result is not None
                moved = permanent and current != url
                return FetchResult(
                    url=current,
                    status=result.status,
                    body=result.body,
                    headers=result.headers,
                    etag=result.etag,
                    last_modified=result.last_modified,
                    permanent_url=current if moved else None,
                )
            permanent = permanent and status in _PERMANENT
            if location in visited:
                chain = " -> ".join([*visited, location])
                raise FetchError(feed, f"redirect loop: {chain}", status=status)
            visited.append(location)
            current = location
        raise FetchError(
            feed, f"too many redirects (more than {self.limits.max_redirects}) starting at {url}"
        )

    async def _get(
        self, feed: str, url: str, headers: dict[str, str]
    ) -> tuple[int, str | None, FetchResult | None]:
        """One request; returns (status, redirect location, result)."""
        try:
            request = self._client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            raise FetchError(feed, f"invalid URL {url!r}: {exc}") from exc
        host = request.url.host
        semaphore = self._hosts.setdefault(host, asyncio.Semaphore(self.limits.max_per_host))
        async with semaphore:
            try:
                response = await self._client.send(request, stream=True)
            except httpx.ConnectTimeout as exc:
                raise FetchError(
                    feed,
                    f"timed out after {self.limits.connect_timeout:g}s connecting to {_where(url)}",
                ) from exc
            except httpx.TimeoutException as exc:
                raise FetchError(
                    feed, f"timed out after {self.limits.read_timeout:g}s waiting for {_where(url)}"
                ) from exc
            except httpx.ConnectError as exc:
                raise FetchError(feed, _connect_message(url, exc)) from exc
            except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
                raise FetchError(
                    feed, f"request to {_where(url)} failed: {exc or type(exc).__name__}"
                ) from exc
            try:
                return await self._read(feed, url, response)
            finally:
                await response.aclose()

    async def _read(
        self, feed: str, url: str, response: httpx.Response
    ) -> tuple[int, str | None, FetchResult | None]:
        status = response.status_code
        lowered = {k.lower(): v for k, v in response.headers.items()}
        if status in _REDIRECT:
            location = response.headers.get("Location")
            if not location:
                raise FetchError(
                    feed, f"HTTP {status} redirect without a Location header", status=status
                )
            return status, str(response.url.join(location)), None
        if status == 304:
            return (
                status,
                None,
                FetchResult(
                    url, 304, None, lowered, lowered.get("etag"), lowered.get("last-modified")
                ),
            )
        if status >= 400 or status < 200:
            retry_after = parse_retry_after(lowered.get("retry-after"), datetime.now(UTC))
            reason = response.reason_phrase or ""
            message = f"HTTP {status} {reason}".rstrip()
            if retry_after is not None:
                message += f" (retry after {retry_after:g}s)"
            raise FetchError(feed, message, status=status, retry_after=retry_after)
        declared = lowered.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise FetchError(feed, self._too_big(int(declared)), status=status)
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.limits.max_bytes:
                    raise FetchError(feed, self._too_big(None), status=status)
        except httpx.TimeoutException as exc:
            raise FetchError(
                feed, f"timed out after {self.limits.read_timeout:g}s reading {_where(url)}"
            ) from exc
        except httpx.DecodingError as exc:
            raise FetchError(feed, f"could not decode the compressed body: {exc}") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise FetchError(
                feed, f"connection lost reading {_where(url)}: {exc or type(exc).__name__}"
            ) from exc
        return (
            status,
            None,
            FetchResult(
                url, status, bytes(body), lowered, lowered.get("etag"), lowered.get("last-modified")
            ),
        )

    def _too_big(self, declared: int | None) -> str:
        cap = self.limits.max_bytes
        size = f"{declared} bytes" if declared is not None else "more than that"
        return f"response body over the {_human(cap)} cap ({size})"


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MiB"
    return f"{size / 1024:g} KiB"


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def _connect_message(url: str, exc: Exception) -> str:
    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(causes) < 10:
        causes.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(c) for c in causes)
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text.lower():
        return f"connection refused: {_where(url)}"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return f"host not found: {urlsplit(url).hostname}"
    return f"could not connect to {_where(url)}: {exc or type(exc).__name__}"
