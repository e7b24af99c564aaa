"""The polite fetcher against a real loopback HTTP server.

Politeness and retries are timed on a fake clock (`FakeClock`: the Fetcher's clock and
sleep), so the waits are asserted exactly and cost no wall-clock time; the site records
each request's arrival on the same clock. Only the timeout test waits for real (the
attempt deadline is the event loop's).
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bantin.fetch import (
    Fetcher,
    FetchRecord,
    OffsiteRedirect,
    RetriesExhausted,
    RobotsDisallowed,
    TooLarge,
    TooManyRedirects,
    decode_html,
    parse_retry_after,
)
from bantin.settings import FetchSettings
from bantin.urls import AllowedOrigins
from tests.crawl.conftest import FakeClock, serve

TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Vietnamese in windows-1258: base letters precomposed, tone marks as combining characters."""
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
        out.append(base + "".join(c for c in decomposed if c in TONES))
    return "".join(out).encode("cp1258")


VIETNAMESE = "<html><body><p>Huyện ủy Vĩnh Linh làm việc với Đảng ủy xã</p></body></html>"


class Site:
    """A tiny portal whose behaviour each test adjusts; records every request it gets."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.hits: list[tuple[str, float, dict[str, str]]] = []
        self.robots = "User-agent: *\nDisallow: /private\n"
        self.fail_429 = 1
        self.fail_503 = 2

    def app(self) -> Starlette:
        async def record(request: Request) -> None:
            self.hits.append((request.url.path, self.clock(), dict(request.headers)))

        async def robots(request: Request) -> Response:
            await record(request)
            return PlainTextResponse(self.robots)

        async def page(request: Request) -> Response:
            await record(request)
            return Response(VIETNAMESE, media_type="text/html; charset=utf-8")

        async def listing(request: Request) -> Response:
            await record(request)
            if request.headers.get("if-none-match") == '"v1"':
                return Response(status_code=304, headers={"ETag": '"v1"'})
            return Response(VIETNAMESE, media_type="text/html", headers={"ETag": '"v1"'})

        async def limited(request: Request) -> Response:
            await record(request)
            if self.fail_429 > 0:
                self.fail_429 -= 1
                return PlainTextResponse("slow down", status_code=429, headers={"Retry-After": "1"})
            return Response(VIETNAMESE, media_type="text/html")

        async def flaky(request: Request) -> Response:
            await record(request)
            if self.fail_503 > 0:
                self.fail_503 -= 1
                return PlainTextResponse("busy", status_code=503)
            return Response(VIETNAMESE, media_type="text/html")

        async def big(request: Request) -> Response:
            await record(request)
            return Response(b"<p>" + b"a" * 1_000_000 + b"</p>", media_type="text/html")

        async def slow(request: Request) -> Response:
            await record(request)
            await asyncio.sleep(0.4)  # well past the tests' read timeout
            return Response(VIETNAMESE, media_type="text/html")

        async def cp1258(request: Request) -> Response:
            await record(request)
            # The server lies: the bytes are windows-1258, the header says UTF-8.
            return Response(to_cp1258(VIETNAMESE), media_type="text/html; charset=utf-8")

        async def redirect(request: Request) -> Response:
            await record(request)
            return RedirectResponse(request.query_params["to"], status_code=302)

        async def loop(request: Request) -> Response:
            await record(request)
            return RedirectResponse("/loop2" if request.url.path == "/loop" else "/loop", status_code=301)

        return Starlette(
            routes=[
                Route("/robots.txt", robots),
                Route("/page", page),
                Route("/page{n:int}", page),
                Route("/private", page),
                Route("/listing", listing),
                Route("/limited", limited),
                Route("/flaky", flaky),
                Route("/big", big),
                Route("/slow", slow),
                Route("/cp1258", cp1258),
                Route("/redirect", redirect),
                Route("/loop", loop),
                Route("/loop2", loop),
            ]
        )


@pytest.fixture
def site(fake_clock: FakeClock) -> Iterator[tuple[Site, str]]:
    s = Site(fake_clock)
    with serve(s.app()) as base:
        yield s, base


def _paths(site: Site) -> list[str]:
    return [p for p, _, _ in site.hits]


def _fetcher(settings: FetchSettings, clock: FakeClock, rng: float = 1.0, **kwargs: Any) -> Fetcher:
    """A Fetcher on the fake clock, on the real network to the loopback site (its address
    allowed, as a source's `private_network: true` does); jitter at its maximum by default
    (backoff = base * 2**attempt)."""
    fetcher = Fetcher(settings, clock=clock, sleep=clock.sleep, rng=lambda: rng, **kwargs)
    fetcher.set_host_policy("127.0.0.1", private_network=True)
    return fetcher


def _starts(site: Site, path: str) -> list[float]:
    """When each request for `path` arrived, on the fake clock."""
    return [t for p, t, _ in site.hits if p == path]


async def test_robots_disallow_is_obeyed_and_logged(
    site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock
) -> None:
    s, base = site
    records: list[FetchRecord] = []
    async with _fetcher(fast_fetch, fake_clock, on_record=records.append) as fetcher:
        allowed = AllowedOrigins.of(base)
        result = await fetcher.fetch(f"{base}/page", purpose="article", allowed=allowed)
        assert "Huyện ủy Vĩnh Linh" in result.text
        with pytest.raises(RobotsDisallowed):
            await fetcher.fetch(f"{base}/private", purpose="article", allowed=allowed)
    assert "/private" not in _paths(s)  # never requested
    assert _paths(s).count("/robots.txt") == 1  # fetched once per host
    refusal = [r for r in records if r.url.endswith("/private")]
    assert refusal and refusal[0].status is None and "robots.txt" in (refusal[0].error or "")
    assert [r.purpose for r in records][:2] == ["robots", "article"]
    # The user agent names the project and a contact URL.
    assert all(h["user-agent"] == fast_fetch.user_agent for _, _, h in s.hits)
    assert "http" in fast_fetch.user_agent and "bantin" in fast_fetch.user_agent


async def test_429_retry_after_is_waited_out(
    site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock
) -> None:
    s, base = site
    async with _fetcher(fast_fetch, fake_clock) as fetcher:
        result = await fetcher.fetch(f"{base}/limited", purpose="article", allowed=AllowedOrigins.of(base))
        assert result.status == 200
        first, second = _starts(s, "/limited")
        assert second - first == pytest.approx(1.0)  # Retry-After: 1, not the 0.05 s backoff
        # The whole host waits it out, not only the URL: the next page starts after it too.
        await fetcher.fetch(f"{base}/page", purpose="article", allowed=AllowedOrigins.of(base))
    assert _starts(s, "/page")[0] >= second + 1.0 / fast_fetch.requests_per_second - 1e-9


async def test_retry_after_beyond_the_cap_gives_up_at_once(
    site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock
) -> None:
    s, base = site
    settings = fast_fetch.model_copy(update={"backoff_cap_s": 0.5})  # Retry-After: 1 exceeds it
    async with _fetcher(settings, fake_clock) as fetcher:
        with pytest.raises(RetriesExhausted, match="Retry-After 1s exceeds the cap"):
            await fetcher.fetch(f"{base}/limited", purpose="article", allowed=AllowedOrigins.of(base))
    assert len(_starts(s, "/limited")) == 1
    assert max(fake_clock.sleeps, default=0.0) < 0.5  # it did not sleep the hour a server might ask for


async def test_503_is_retried_with_backoff_then_gives_up(
    site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock
) -> None:
    s, base = site
    base_s = fast_fetch.backoff_base_s
    async with _fetcher(fast_fetch, fake_clock) as fetcher:
        result = await fetcher.fetch(f"{base}/flaky", purpose="article", allowed=AllowedOrigins.of(base))
        assert result.status == 200
        starts = _starts(s, "/flaky")
        assert len(starts) == 3
        # Exponential backoff: base, then twice the base, between the attempts.
        assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == pytest.approx([base_s, 2 * base_s])
        s.fail_503 = 10
        s.hits.clear()
        with pytest.raises(RetriesExhausted, match="HTTP 503 after 3 attempts"):
            await fetcher.fetch(f"{base}/flaky", purpose="article", allowed=AllowedOrigins.of(base))
        starts = _starts(s, "/flaky")
        assert len(starts) == 3  # 1 + max_retries, never more
        assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == pytest.approx([base_s, 2 * base_s])


async def test_backoff_is_capped_and_never_below_half(site: tuple[Site, str], fake_clock: FakeClock) -> None:
    s, base = site
    s.fail_503 = 10
    settings = FetchSettings(requests_per_second=50.0, max_retries=4, backoff_base_s=1.0, backoff_cap_s=2.5)
    lowest_jitter = _fetcher(settings, fake_clock, rng=0.0)
    async with lowest_jitter as fetcher:
        with pytest.raises(RetriesExhausted, match="HTTP 503 after 5 attempts"):
            await fetcher.fetch(f"{base}/flaky", purpose="article", allowed=AllowedOrigins.of(base))
    starts = _starts(s, "/flaky")
    # Half of min(cap, base * 2**attempt): 1, 2, then capped at 2.5.
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == pytest.approx([0.5, 1.0, 1.25, 1.25])


async def test_per_host_rate_limit(site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock) -> None:
    s, base = site
    settings = fast_fetch.model_copy(update={"requests_per_second": 10.0})
    async with _fetcher(settings, fake_clock) as fetcher:
        await asyncio.gather(
            *(fetcher.fetch(f"{base}/page{i}", purpose="article", allowed=AllowedOrigins.of(base)) for i in range(6))
        )
    assert len([p for p, _, _ in s.hits if p.startswith("/page")]) == 6
    # robots.txt at 0, then the 6 pages at 10/s: start slots 0.1 s apart, the last at 0.6 s.
    assert sorted(fake_clock.wakes) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert fake_clock.now == pytest.approx(0.6)


async def test_crawl_delay_slows_the_host_down(
    site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock
) -> None:
    s, base = site
    s.robots = "User-agent: *\nCrawl-delay: 1\nDisallow: /private\n"
    async with _fetcher(fast_fetch, fake_clock) as fetcher:
        for i in range(3):
            await fetcher.fetch(f"{base}/page{i}", purpose="article", allowed=AllowedOrigins.of(base))
    starts = [t for p, t, _ in s.hits if p.startswith("/page")]
    assert len(starts) == 3
    # Pages 1 s apart: Crawl-delay beats the configured 50/s.
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == pytest.approx([1.0, 1.0])


async def test_conditional_get_returns_not_modified(
    site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock
) -> None:
    s, base = site
    async with _fetcher(fast_fetch, fake_clock) as fetcher:
        first = await fetcher.fetch(f"{base}/listing", purpose="listing", allowed=AllowedOrigins.of(base))
        assert first.status == 200 and first.etag == '"v1"'
        second = await fetcher.fetch(
            f"{base}/listing", purpose="listing", allowed=AllowedOrigins.of(base), etag=first.etag
        )
    assert second.not_modified and second.text == ""


async def test_size_cap_stops_the_download(site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock) -> None:
    s, base = site
    records: list[FetchRecord] = []
    async with _fetcher(fast_fetch, fake_clock, on_record=records.append) as fetcher:
        with pytest.raises(TooLarge):
            await fetcher.fetch(f"{base}/big", purpose="article", allowed=AllowedOrigins.of(base))
    assert _paths(s).count("/big") == 1  # not retried
    assert any(r.url.endswith("/big") and "exceeds" in (r.error or "") for r in records)


async def test_timeout_is_retried_then_reported(site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock) -> None:
    s, base = site
    settings = fast_fetch.model_copy(update={"read_timeout_s": 0.1, "max_retries": 1})
    records: list[FetchRecord] = []
    async with _fetcher(settings, fake_clock, on_record=records.append) as fetcher:
        with pytest.raises(RetriesExhausted, match="timeout"):
            await fetcher.fetch(f"{base}/slow", purpose="article", allowed=AllowedOrigins.of(base))
    assert _paths(s).count("/slow") == 2
    assert [r.error is not None for r in records if r.url.endswith("/slow")] == [True, True]


async def test_redirects_only_within_allowed_origins(site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock) -> None:
    s, base = site
    allowed = AllowedOrigins.of(base)
    async with _fetcher(fast_fetch, fake_clock) as fetcher:
        result = await fetcher.fetch(f"{base}/redirect?to=/page", purpose="article", allowed=allowed)
        assert result.final_url == f"{base}/page" and "Vĩnh Linh" in result.text
        with pytest.raises(OffsiteRedirect):
            await fetcher.fetch(f"{base}/redirect?to=https://example.org/x", purpose="article", allowed=allowed)
        with pytest.raises(TooManyRedirects):
            await fetcher.fetch(f"{base}/loop", purpose="article", allowed=allowed)


async def test_wrong_charset_header_is_detected(site: tuple[Site, str], fast_fetch: FetchSettings, fake_clock: FakeClock) -> None:
    s, base = site
    async with _fetcher(fast_fetch, fake_clock) as fetcher:
        result = await fetcher.fetch(f"{base}/cp1258", purpose="article", allowed=AllowedOrigins.of(base))
    assert "Huyện ủy Vĩnh Linh làm việc với Đảng ủy xã" in result.text  # NFC, not mojibake
    assert result.encoding == "cp1258"


def test_charset_order_header_meta_detection() -> None:
    page = "<html><head><meta charset='windows-1258'></head><body>Đảng ủy xã Vĩnh Hanh</body></html>"
    text, enc = decode_html(to_cp1258(page), "text/html")
    assert "Đảng ủy xã Vĩnh Hanh" in text and enc == "cp1258"
    text, enc = decode_html(page.encode("utf-8"), "text/html; charset=windows-1258")
    assert "Đảng ủy xã Vĩnh Hanh" in text and enc == "utf-8"  # valid UTF-8 beats a wrong label


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert parse_retry_after("soon") is None
