"""A polite asynchronous HTTP fetcher for small government servers.

Politeness first: robots.txt (incl. Crawl-delay and Request-rate) is obeyed, read once per
origin (scheme, host, port), every host gets at most `requests_per_second` request starts
and `concurrency_per_host` requests in flight, retries back off exponentially with jitter
and honour Retry-After, listing pages are fetched conditionally. Safety: only the portal's
origins are requested (`bantin.urls.AllowedOrigins`: a link or redirect to another port or
host is refused before any request), and on the real network a host that resolves to a
loopback, private, link-local, multicast or reserved address is refused unless the
portal's policy allows it (`private_network`). Robustness: timeouts per attempt, a size
cap enforced while streaming, redirects followed by hand, charset found in the header,
then <meta>, then by detection, text normalised to NFC.

Every request and every refusal is reported through `on_record` (the fetch log).
The transport is passed in, so offline mode routes real portal URLs to the fixture app.
Clock, sleep and randomness are injectable so tests need not wait.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import contextvars
import datetime as dt
import email.utils
import ipaddress
import random
import re
import socket
import ssl
import time
import unicodedata
import urllib.robotparser
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from bantin.settings import FetchSettings
from bantin.urls import AllowedOrigins, Origin, canonicalize_url, host_of

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


# --- errors: one type per meaning -------------------------------------------------------------


class FetchError(Exception):
    """A page could not be fetched; `url` is the page asked for."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{message}: {url}")
        self.url = url
        self.message = message


class RobotsDisallowed(FetchError):
    """robots.txt forbids the URL for our user agent (or robots.txt was unreachable)."""


class OffsiteRedirect(FetchError):
    """A redirect pointed outside the portal's allowed origins (another host, port or scheme)."""


class HostNotAllowed(FetchError):
    """The URL itself is outside the portal's allowed origins: another host, or the same
    host on another port or scheme (never requested)."""


class PrivateAddress(HostNotAllowed):
    """The host resolves to a loopback, private, link-local, multicast or reserved address,
    and the portal's policy does not allow it (never requested)."""


class TooManyRedirects(FetchError):
    """Redirect chain longer than MAX_REDIRECTS, or a loop."""


class TooLarge(FetchError):
    """The body exceeded FetchSettings.max_bytes; the download was stopped."""


class HttpStatusError(FetchError):
    """A final status that retrying will not change (404, 410, 403 ...)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status


class UnsupportedScheme(FetchError):
    """The URL's scheme is not http or https (a mailto:, javascript: or ftp: link): never requested."""


class RetriesExhausted(FetchError):
    """Transient failures (timeouts, resets, 429/5xx) persisted through every retry."""


class _AttemptTimeout(Exception):
    """Internal: the whole attempt ran past its deadline (covers transports without timeouts)."""


# --- where fetch log records go -------------------------------------------------------------------

_RECORDER: contextvars.ContextVar[Callable[[FetchRecord], None] | None] = contextvars.ContextVar(
    "bantin_fetch_recorder", default=None
)


@contextlib.contextmanager
def recording(sink: Callable[[FetchRecord], None]) -> Iterator[None]:
    """Send the records of fetches made in this context (and tasks it starts) to `sink`.

    One fetcher serves many portals at once; each portal's crawl collects its own log.
    """
    token = _RECORDER.set(sink)
    try:
        yield
    finally:
        _RECORDER.reset(token)


# --- records and results ----------------------------------------------------------------------


@dataclass(frozen=True)
class FetchRecord:
    """One line of the fetch log: a request made, or one refused before it was made."""

    url: str
    host: str
    purpose: str  # robots, listing, article
    status: int | None
    bytes: int
    duration_ms: int
    error: str | None
    requested_at: dt.datetime


@dataclass
class FetchResult:
    url: str  # the URL asked for (canonical)
    final_url: str  # after redirects (canonical)
    status: int
    content: bytes = b""
    text: str = ""
    encoding: str | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class _Response:
    status: int
    headers: httpx.Headers
    content: bytes


@dataclass(frozen=True)
class _Policy:
    """A host's overrides of FetchSettings (sources.yaml: politeness, verify_tls, private_network)."""

    requests_per_second: float | None = None
    concurrency: int | None = None
    verify_tls: bool | None = None
    private_network: bool = False


@dataclass
class _HostState:
    """Politeness is per host: every origin of a host shares its rate and its slots."""

    interval: float  # seconds between request starts
    semaphore: asyncio.Semaphore
    verify_tls: bool = True
    private_network: bool = False
    next_start: float = 0.0
    address_refusal: str | None = None  # why the host's addresses are refused
    address_checked: bool = False
    address_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _RobotsState:
    """robots.txt is per origin (RFC 9309): http://x:8080/robots.txt says nothing of https://x/."""

    robots: urllib.robotparser.RobotFileParser | None = None
    robots_error: str | None = None
    robots_loaded: bool = False
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, multicast, reserved or unspecified: not a public web server.

    An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


# --- charset ----------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Letters and combining tone marks that only Vietnamese text has: a cp1258 decode that yields them is right.
_VIETNAMESE_MARKS = re.compile("[\u0300\u0301\u0303\u0309\u0323ơưđăƠƯĐĂ]")


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_html(content: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode a page: (NFC text, codec used).

    Valid UTF-8 with non-ASCII bytes wins over a declared charset: by chance Vietnamese
    text in another code page is never valid UTF-8, while servers that label UTF-8 pages
    "windows-1258" (or the reverse) do exist.
    """
    declared = None
    if content_type:
        match = re.search(r"charset\s*=\s*([^\s;]+)", content_type, re.I)
        declared = _codec(match.group(1)) if match else None
    meta_match = _META_CHARSET.search(content[:8192])
    meta = _codec(meta_match.group(1).decode("ascii", "replace")) if meta_match else None

    def done(text: str, enc: str) -> tuple[str, str]:
        return unicodedata.normalize("NFC", text), enc

    try:
        text = content.decode("utf-8")
        if not content.isascii() or declared in (None, "utf-8") or meta in (None, "utf-8"):
            return done(text, "utf-8")
    except UnicodeDecodeError:
        pass
    for enc in (declared, meta):
        if enc and enc != "utf-8":
            try:
                return done(content.decode(enc), enc)
            except UnicodeDecodeError:
                continue
    try:
        text = content.decode("cp1258")
        if _VIETNAMESE_MARKS.search(text):
            return done(text, "cp1258")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(content).best()
        if best is not None and best.encoding:
            return done(str(best), _codec(best.encoding) or best.encoding)
    except ImportError:  # charset_normalizer ships with httpx's usual deps, but is optional
        pass
    return done(content.decode(declared or "utf-8", errors="replace"), declared or "utf-8")


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


_SSL_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def ssl_context(verify: bool) -> ssl.SSLContext:
    """One SSL context per verify mode for the whole process: each one loads the CA bundle
    (~1 MB), and the fetcher opens one client per host."""
    context = _SSL_CONTEXTS.get(verify)
    if context is None:
        if verify:
            context = ssl.create_default_context()
            try:
                import certifi

                context.load_verify_locations(certifi.where())
            except ImportError:  # the system store is then all there is
                pass
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        _SSL_CONTEXTS[verify] = context
    return context


def http_limits() -> httpx.Limits:
    """Connection pool limits for the crawler: no global cap (per-host concurrency is the bound)."""
    return httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=30.0)


# A transport, or a factory making one per host (a pool shared by hundreds of hosts costs
# httpcore O(requests x connections) per scheduling step).
TransportLike = httpx.AsyncBaseTransport | Callable[[], httpx.AsyncBaseTransport] | None


def loopback_transport(base_url: str) -> Callable[[], httpx.AsyncBaseTransport]:
    """Offline transports to a fixture server at `base_url`, one per portal host."""
    from bantin.fixtures.routing import LoopbackTransport

    return lambda: LoopbackTransport(
        base_url, inner=httpx.AsyncHTTPTransport(limits=http_limits(), verify=ssl_context(True))
    )


# --- the fetcher ------------------------------------------------------------------------------


class Fetcher:
    """Use as `async with Fetcher(settings, transport=...) as fetcher: await fetcher.fetch(...)`."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: TransportLike = None,
        on_record: Callable[[FetchRecord], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._on_record = on_record
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._hosts: dict[str, _HostState] = {}
        self._robots: dict[Origin, _RobotsState] = {}
        self._policies: dict[str, _Policy] = {}
        self._refused_links: set[str] = set()
        self._clients: dict[tuple[str, bool], httpx.AsyncClient] = {}
        self.user_agent = settings.user_agent

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    # -- configuration

    def set_host_policy(
        self,
        host: str,
        *,
        requests_per_second: float | None = None,
        concurrency: int | None = None,
        verify_tls: bool | None = None,
        private_network: bool = False,
    ) -> None:
        """Per-portal overrides (sources.yaml `politeness`, `verify_tls`, `private_network`);
        call before fetching."""
        self._policies[host.lower()] = _Policy(requests_per_second, concurrency, verify_tls, private_network)
        self._hosts.pop(host.lower(), None)

    def _state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            policy = self._policies.get(host, _Policy())
            rate = policy.requests_per_second or self.settings.requests_per_second
            state = _HostState(
                interval=1.0 / rate,
                semaphore=asyncio.Semaphore(policy.concurrency or self.settings.concurrency_per_host),
                verify_tls=self.settings.verify_tls if policy.verify_tls is None else policy.verify_tls,
                private_network=policy.private_network,
            )
            self._hosts[host] = state
        return state

    def _robots_state(self, url: str) -> _RobotsState:
        origin = Origin.of(url)
        assert origin is not None  # only http(s) URLs get this far
        state = self._robots.get(origin)
        if state is None:
            state = self._robots[origin] = _RobotsState()
        return state

    def _client(self, host: str, verify: bool) -> httpx.AsyncClient:
        """One client (one connection pool) per host: pools stay small, hosts never queue behind each other."""
        client = self._clients.get((host, verify))
        if client is None:
            s = self.settings
            transport = self._transport
            if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
                transport = transport()
            client = httpx.AsyncClient(
                transport=transport,
                # Per-host semaphores bound the connections; httpx's default pool of 100
                # would make many portals queue behind each other.
                limits=http_limits(),
                verify=verify,
                follow_redirects=False,  # followed by hand, only to allowed hosts
                timeout=httpx.Timeout(s.read_timeout_s, connect=s.connect_timeout_s),
                headers={"User-Agent": s.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
            )
            self._clients[(host, verify)] = client
        return client

    # -- logging

    def _record(
        self, url: str, purpose: str, status: int | None, size: int, started: float | None, error: str | None
    ) -> None:
        sink = _RECORDER.get() or self._on_record
        if sink is None:
            return
        elapsed = 0.0 if started is None else self._clock() - started
        sink(
            FetchRecord(
                url=url,
                host=host_of(url),
                purpose=purpose,
                status=status,
                bytes=size,
                duration_ms=int(elapsed * 1000),
                error=error,
                # When the request started: per-host spacing is checked on these.
                requested_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=elapsed),
            )
        )

    # -- politeness

    async def _wait_turn(self, state: _HostState) -> None:
        # Reserve the next start slot synchronously (no await in between), then sleep until it.
        now = self._clock()
        slot = max(now, state.next_start)
        state.next_start = slot + state.interval
        if slot > now:
            await self._sleep(slot - now)

    def _backoff(self, attempt: int) -> float:
        s = self.settings
        ceiling = min(s.backoff_cap_s, s.backoff_base_s * (2.0**attempt))
        return ceiling * (0.5 + 0.5 * self._rng())  # "equal jitter": never less than half

    async def _robots_for(self, url: str) -> _RobotsState:
        state = self._robots_state(url)
        if state.robots_loaded:
            return state
        async with state.robots_lock:
            if state.robots_loaded:
                return state
            parts = urlsplit(url)
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            parser = urllib.robotparser.RobotFileParser(robots_url)
            try:
                # Its own origin only (and the other scheme on a default port: http -> https).
                origin = AllowedOrigins.of(robots_url)
                resp, _ = await self._follow(robots_url, "robots", {}, origin, check_robots=False)
            except HttpStatusError as exc:
                # RFC 9309: 4xx means there are no rules; 5xx (retried) means "assume disallow".
                if 400 <= exc.status < 500:
                    parser.parse([])
                    state.robots = parser
                else:
                    state.robots_error = f"{robots_url} unavailable (HTTP {exc.status})"
            except (OffsiteRedirect, TooManyRedirects):
                parser.parse([])
                state.robots = parser
            except FetchError as exc:
                state.robots_error = f"{robots_url} unreachable ({exc.message})"
            else:
                if resp.status == 200:
                    text, _ = decode_html(resp.content, resp.headers.get("content-type"))
                    parser.parse(text.splitlines())
                else:
                    parser.parse([])
                state.robots = parser
            if state.robots is not None:
                # Politeness is per host: any of its origins asking for less slows the host.
                host = self._state(host_of(url))
                delay = state.robots.crawl_delay(self.user_agent)
                rate = state.robots.request_rate(self.user_agent)
                waits = [host.interval]
                if delay:
                    waits.append(float(delay))
                if rate and rate.requests:
                    waits.append(rate.seconds / rate.requests)
                host.interval = max(waits)
            state.robots_loaded = True
        return state

    async def _check_address(self, url: str, purpose: str) -> None:
        """On the real network, refuse a host resolving to a non-public address (before any
        request, robots.txt included) unless its policy allows it. A custom transport decides
        itself where requests go (tests, offline fixtures): no check then.

        Checked once per host per Fetcher (one run). The check and the connection resolve
        the name separately: it stops links, redirects and entries pointing inside, not a
        DNS server that answers differently from one second to the next.
        """
        if self._transport is not None:
            return
        host = host_of(url)
        state = self._state(host)
        if state.private_network:
            return
        if not state.address_checked:
            async with state.address_lock:
                if not state.address_checked:
                    refusal, final = await self._address_refusal(host)
                    state.address_refusal, state.address_checked = refusal, final
        if state.address_refusal is not None:
            self._record(url, purpose, None, 0, None, f"refused: private address ({state.address_refusal})")
            raise PrivateAddress(url, f"private address: {state.address_refusal}")

    async def _address_refusal(self, host: str) -> tuple[str | None, bool]:
        """(why the host is refused or None, whether that verdict holds for the run)."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return (f"{host} is not a public address" if refused_address(literal) else None), True
        try:
            async with asyncio.timeout(self.settings.connect_timeout_s):
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError):
            # Unresolvable now: the request fails the same way (and is retried); check again next time.
            return None, False
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if refused_address(address):
                return f"{host} resolves to {address}", True
        return None, True

    async def _check_robots(self, url: str, purpose: str) -> None:
        state = await self._robots_for(url)
        if state.robots_error is not None:
            self._record(url, purpose, None, 0, None, f"refused: {state.robots_error}")
            raise RobotsDisallowed(url, state.robots_error)
        assert state.robots is not None
        if not state.robots.can_fetch(self.user_agent, url):
            self._record(url, purpose, None, 0, None, "refused: disallowed by robots.txt")
            raise RobotsDisallowed(url, "disallowed by robots.txt")

    # -- one request, then retries, then redirects

    async def _attempt(self, url: str, purpose: str, headers: dict[str, str]) -> _Response:
        host = host_of(url)
        state = self._state(host)
        s = self.settings
        async with state.semaphore:
            await self._wait_turn(state)
            started = self._clock()
            size = 0
            status: int | None = None
            try:
                async with asyncio.timeout(s.connect_timeout_s + s.read_timeout_s):
                    async with self._client(host, state.verify_tls).stream("GET", url, headers=headers) as resp:
                        status = resp.status_code
                        declared = resp.headers.get("content-length", "")
                        if declared.isdigit() and int(declared) > s.max_bytes:
                            raise TooLarge(url, f"Content-Length {declared} exceeds {s.max_bytes} bytes")
                        body = bytearray()
                        async for chunk in resp.aiter_bytes():
                            body += chunk
                            size = len(body)
                            if size > s.max_bytes:
                                raise TooLarge(url, f"body exceeds {s.max_bytes} bytes")
                        self._record(url, purpose, status, size, started, None)
                        return _Response(status, resp.headers, bytes(body))
            except TooLarge as exc:
                self._record(url, purpose, status, size, started, exc.message)
                raise
            except TimeoutError:
                self._record(url, purpose, status, size, started, "timeout (attempt deadline)")
                raise _AttemptTimeout() from None
            except httpx.TransportError as exc:
                self._record(url, purpose, status, size, started, f"{type(exc).__name__}: {exc}".strip(": "))
                raise

    async def _get(self, url: str, purpose: str, headers: dict[str, str]) -> _Response:
        attempt = 0
        state = self._state(host_of(url))
        while True:
            try:
                resp = await self._attempt(url, purpose, headers)
            except httpx.UnsupportedProtocol as exc:
                raise UnsupportedScheme(url, "not an http(s) URL") from exc
            except (httpx.TransportError, _AttemptTimeout) as exc:
                reason = "timeout" if isinstance(exc, (_AttemptTimeout, httpx.TimeoutException)) else type(exc).__name__
                if attempt >= self.settings.max_retries:
                    raise RetriesExhausted(url, f"{reason} after {attempt + 1} attempts") from None
                delay = self._backoff(attempt)
            else:
                if resp.status not in RETRY_STATUSES:
                    return resp
                if attempt >= self.settings.max_retries:
                    raise RetriesExhausted(url, f"HTTP {resp.status} after {attempt + 1} attempts")
                retry_after = parse_retry_after(resp.headers.get("retry-after"))
                if retry_after is not None and retry_after > self.settings.backoff_cap_s:
                    raise RetriesExhausted(url, f"HTTP {resp.status}, Retry-After {retry_after:.0f}s exceeds the cap")
                delay = retry_after if retry_after is not None else self._backoff(attempt)
                # The server asked the whole host to slow down, not only this URL.
                state.next_start = max(state.next_start, self._clock() + delay)
            attempt += 1
            await self._sleep(delay)

    async def _follow(
        self,
        url: str,
        purpose: str,
        headers: dict[str, str],
        allowed: AllowedOrigins,
        *,
        check_robots: bool = True,
    ) -> tuple[_Response, str]:
        seen = {url}
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            await self._check_address(current, purpose)
            if check_robots:
                await self._check_robots(current, purpose)
            resp = await self._get(current, purpose, headers)
            if resp.status not in REDIRECT_STATUSES:
                if resp.status >= 400:
                    raise HttpStatusError(current, resp.status)
                return resp, current
            location = resp.headers.get("location")
            if not location:
                raise HttpStatusError(current, resp.status)
            target = canonicalize_url(urljoin(current, location))
            if not allowed.allows(target):
                self._record(target, purpose, None, 0, None, f"refused: offsite redirect from {current}")
                raise OffsiteRedirect(url, f"redirect to {target} leaves the allowed origins ({allowed})")
            if target in seen:
                self._record(target, purpose, None, 0, None, "refused: redirect loop")
                raise TooManyRedirects(url, f"redirect loop at {target}")
            seen.add(target)
            current = target
        self._record(current, purpose, None, 0, None, "refused: too many redirects")
        raise TooManyRedirects(url, f"more than {MAX_REDIRECTS} redirects")

    def admits(self, url: str, allowed: AllowedOrigins, *, purpose: str) -> bool:
        """Whether a link may be followed: an http(s) URL on one of the allowed origins.

        A link to another origin (another host, or the same host on another port) is
        refused here, before any request, and logged once per URL and Fetcher; links of
        other schemes (mailto:, javascript:) are dropped silently.
        """
        if allowed.allows(url):
            return True
        if Origin.of(url) is not None and url not in self._refused_links:
            self._refused_links.add(url)
            self._record(url, purpose, None, 0, None, f"refused: origin not allowed ({allowed})")
        return False

    async def fetch(
        self,
        url: str,
        *,
        purpose: str,
        allowed: AllowedOrigins,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """Fetch one page of the `allowed` origins (redirects too). 304 comes back as a
        result with `not_modified`; failures raise FetchError."""
        url = canonicalize_url(url)
        if urlsplit(url).scheme not in ("http", "https"):
            self._record(url, purpose, None, 0, None, "refused: not an http(s) URL")
            raise UnsupportedScheme(url, "not an http(s) URL")
        if not allowed.allows(url):
            self._record(url, purpose, None, 0, None, f"refused: origin not allowed ({allowed})")
            raise HostNotAllowed(url, f"not one of the portal's origins ({allowed})")
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        resp, final = await self._follow(url, purpose, headers, allowed)
        result = FetchResult(
            url=url,
            final_url=final,
            status=resp.status,
            content_type=resp.headers.get("content-type"),
            etag=resp.headers.get("etag"),
            last_modified=resp.headers.get("last-modified"),
        )
        if resp.status != 304:
            result.content = resp.content
            result.text, result.encoding = decode_html(resp.content, result.content_type)
        return result
