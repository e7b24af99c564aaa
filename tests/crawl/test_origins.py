"""Origins, not hosts (issue 13, "SSRF by port"); private addresses; the politeness bound.

A portal's crawl requests only its origins (scheme, host, port): a link or a redirect to the
same host on another port is refused before any request and logged, the other scheme on its
default port is followed, robots.txt is read per origin. On the real network, a host that
resolves to a loopback/private/link-local address is refused unless the source says
`private_network: true`. Each test counts the requests the loopback servers received.

The crawl tests route origins to loopback servers with a transport (`OriginRouter`): the
"internal service" on port 8080 is a real server that answers whatever it is asked, so a
request that should never be made shows up in its request list.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from stored_queries import fetch_log_rows
from typer.testing import CliRunner

from bantin.cli import app as cli
from bantin.crawl import PortalReport
from bantin.fetch import Fetcher, FetchRecord, HostNotAllowed, OffsiteRedirect, PrivateAddress, refused_address
from bantin.fixtures.routing import LoopbackTransport
from bantin.jobs.crawl import crawl_sources
from bantin.jobs.db import database
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import SourcesError, parse_sources
from bantin.urls import AllowedOrigins, Origin
from storage.models import Article, FetchLog
from tests.crawl.conftest import FAST_FETCH, serve

PORTAL = "https://portal.example"
INTERNAL = "http://portal.example:8080"  # the same host, another port: an internal service


def article_page(title: str) -> str:
    return f"""<html><body><div class="news-detail"><h1 class="detail-title">{title}</h1>
<div class="detail-date">Thứ năm - 09/03/2017 21:41</div>
<div id="noidung"><p>Ngày 9/3, Thường trực Huyện ủy đã làm việc với Đảng ủy xã về {title}, tình hình thực hiện
nhiệm vụ chính trị quý I năm 2017 và phương hướng nhiệm vụ quý II của địa phương.</p>
<p>Đồng chí Bí thư Huyện ủy yêu cầu tập trung chỉ đạo {title}, bảo đảm an ninh trật tự trên địa bàn.</p></div>
</div></body></html>"""


def listing_page(links: list[str]) -> str:
    items = "\n".join(f'<div class="news-title"><a href="{href}">Tin {i}</a></div>' for i, href in enumerate(links))
    return f'<html><body><div class="list-news">{items}</div></body></html>'


class Site:
    """A loopback server that answers what it is given (path -> page, or path -> redirect
    target) and records every request's path."""

    def __init__(self, robots: str = "", pages: dict[str, str] | None = None, redirects: dict[str, str] | None = None):
        self.robots = robots
        self.pages = pages or {}
        self.redirects = redirects or {}
        self.requests: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        path = scope["path"]
        self.requests.append(path)
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        if path == "/robots.txt":
            status, body = 200, self.robots.encode()
        elif path in self.redirects:
            status, body = 302, b""
            headers.append((b"location", self.redirects[path].encode()))
        elif path in self.pages:
            status, body = 200, self.pages[path].encode()
        else:
            status, body = 404, b"not found"
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def articles_requested(self) -> list[str]:
        return [p for p in self.requests if p.startswith("/tin/")]


class OriginRouter(httpx.AsyncBaseTransport):
    """Each origin's requests go to its loopback server (the request keeps its URL and Host);
    a request for an origin without a server fails to connect and is noted in `unrouted`."""

    def __init__(self, routes: dict[Origin, str], unrouted: list[str]) -> None:
        self.routes = {origin: LoopbackTransport(base) for origin, base in routes.items()}
        self.unrouted = unrouted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self.routes.get(Origin.of(str(request.url)))  # type: ignore[arg-type]
        if target is None:
            self.unrouted.append(str(request.url))
            raise httpx.ConnectError(f"no route to {request.url}", request=request)
        return await target.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self.routes.values():
            await transport.aclose()


class World:
    """Loopback servers standing for origins of portal.example, and a crawl through them."""

    def __init__(self, settings: Settings, tmp_path: Path, servers: dict[str, tuple[Site, str]]) -> None:
        self.settings = settings.model_copy(update={"fetch": FAST_FETCH})
        self.tmp_path = tmp_path
        self.routes = {Origin.of(origin): base for origin, (_, base) in servers.items()}
        self.unrouted: list[str] = []

    def transport(self) -> Callable[[], httpx.AsyncBaseTransport]:
        return lambda: OriginRouter(self.routes, self.unrouted)  # type: ignore[arg-type]

    def crawl(self, extra: str = "") -> tuple[PortalReport, dict[str, Article], list[FetchLog]]:
        yaml_text = f"""sources:
  - id: cong-a
    name: "Cổng A"
    province: "Tuyên Quang"
    family: php_static
    base_url: "{PORTAL}"
    listing_urls: ["{PORTAL}/tin-tuc.html"]
{extra}"""
        sources = parse_sources(yaml_text, self.tmp_path / "sources.yaml")
        run_id, (report,) = asyncio.run(crawl_sources(sources, self.settings, transport=self.transport()))
        with database(self.settings)() as session:
            stored = {a.title: a for a in session.execute(select(Article)).scalars()}
            logged = fetch_log_rows(session, run_id)
            session.expunge_all()
        return report, stored, logged


@pytest.fixture
def servers() -> Iterator[Callable[..., tuple[Site, str]]]:
    with ExitStack() as stack:

        def start(site: Site) -> tuple[Site, str]:
            return site, stack.enter_context(serve(site))

        yield start


# --- links and redirects to another port ----------------------------------------------------------


def test_listing_links_to_another_port_are_refused_and_the_other_scheme_is_followed(
    servers: Callable[[Site], tuple[Site, str]], sqlite_settings: Settings, tmp_path: Path
) -> None:
    links = [
        "/tin/1.html",  # the portal itself
        "http://portal.example/tin/2.html",  # http on port 80 inside the https site: followed
        f"{INTERNAL}/tin/3.html",  # the same host on port 8080: refused
        "https://portal.example:8443/tin/4.html",  # https on another port: refused
    ]
    portal = Site(
        pages={
            "/tin-tuc.html": listing_page(links),
            "/tin/1.html": article_page("Bài một"),
            "/tin/2.html": article_page("Bài hai"),
        }
    )
    internal = Site(pages={f"/tin/{n}.html": article_page(f"Bài nội bộ {n}") for n in (3, 4)})
    a, b = servers(portal), servers(internal)
    world = World(
        sqlite_settings,
        tmp_path,
        {PORTAL: a, "http://portal.example": a, INTERNAL: b, "https://portal.example:8443": b},
    )

    report, stored, logged = world.crawl()

    assert internal.requests == []  # never asked, not even for robots.txt
    assert world.unrouted == []
    assert sorted(stored) == ["Bài hai", "Bài một"]
    assert stored["Bài hai"].url == "http://portal.example/tin/2.html"
    assert sorted(portal.articles_requested()) == ["/tin/1.html", "/tin/2.html"]
    # robots.txt per origin: https://portal.example and http://portal.example each once.
    assert portal.requests.count("/robots.txt") == 2
    assert sorted(r.url for r in logged if r.purpose == "robots") == [
        "http://portal.example/robots.txt",
        "https://portal.example/robots.txt",
    ]
    refused = {r.url: r for r in logged if (r.error or "").startswith("refused:")}
    assert set(refused) == {f"{INTERNAL}/tin/3.html", "https://portal.example:8443/tin/4.html"}
    assert all(r.status is None and "origin not allowed" in (r.error or "") for r in refused.values())
    assert report.ok and report.new_articles == 2, report.errors


def test_a_redirect_to_another_port_is_refused_before_any_request(
    servers: Callable[[Site], tuple[Site, str]], sqlite_settings: Settings, tmp_path: Path
) -> None:
    portal = Site(
        pages={
            "/tin-tuc.html": listing_page(["/tin/1.html", "/tin/6.html", "/tin/7.html"]),
            "/tin/1.html": article_page("Bài một"),
            "/tin/7b.html": article_page("Bài bảy"),
        },
        redirects={
            "/tin/6.html": f"{INTERNAL}/tin/6.html",  # to the internal service: refused
            "/tin/7.html": "http://portal.example/tin/7b.html",  # to http on port 80: followed
        },
    )
    internal = Site(pages={"/tin/6.html": article_page("Bài nội bộ")})
    a, b = servers(portal), servers(internal)
    world = World(sqlite_settings, tmp_path, {PORTAL: a, "http://portal.example": a, INTERNAL: b})

    report, stored, logged = world.crawl()

    assert internal.requests == []
    assert world.unrouted == []
    assert sorted(stored) == ["Bài bảy", "Bài một"]  # the internal page is not stored
    assert portal.articles_requested().count("/tin/6.html") == 1  # asked once, its redirect not followed
    (refusal,) = [r for r in logged if r.url == f"{INTERNAL}/tin/6.html"]
    assert refusal.status is None
    assert refusal.error == "refused: offsite redirect from https://portal.example/tin/6.html"
    assert any("/tin/6.html" in e and "leaves the allowed origins" in e for e in report.errors)


def test_robots_txt_of_a_second_allowed_origin_is_obeyed(
    servers: Callable[[Site], tuple[Site, str]], sqlite_settings: Settings, tmp_path: Path
) -> None:
    links = [
        "/tin/1.html",
        "/tin/secret/8.html",  # disallowed on the internal origin only: fetched here
        f"{INTERNAL}/tin/b-only.html",  # disallowed by the portal's robots.txt only: fetched there
        f"{INTERNAL}/tin/secret/9.html",  # disallowed by the internal origin's robots.txt
    ]
    portal = Site(
        robots="User-agent: *\nDisallow: /tin/b-only.html\n",
        pages={
            "/tin-tuc.html": listing_page(links),
            "/tin/1.html": article_page("Bài một"),
            "/tin/secret/8.html": article_page("Bài tám"),
        },
    )
    internal = Site(
        robots="User-agent: *\nDisallow: /tin/secret/\n",
        pages={"/tin/b-only.html": article_page("Bài chỉ ở cổng 8080"), "/tin/secret/9.html": article_page("Bài chín")},
    )
    a, b = servers(portal), servers(internal)
    world = World(sqlite_settings, tmp_path, {PORTAL: a, INTERNAL: b})

    # The internal origin named in allowed_hosts: allowed, with robots.txt of its own.
    report, stored, logged = world.crawl(f'    allowed_hosts: ["{INTERNAL}"]\n')

    assert internal.requests == ["/robots.txt", "/tin/b-only.html"]
    assert sorted(portal.articles_requested()) == ["/tin/1.html", "/tin/secret/8.html"]
    assert sorted(stored) == ["Bài chỉ ở cổng 8080", "Bài một", "Bài tám"]
    (refusal,) = [r for r in logged if r.url == f"{INTERNAL}/tin/secret/9.html"]
    assert refusal.status is None and refusal.error == "refused: disallowed by robots.txt"
    assert report.skipped == 1


async def test_the_issue_scenario_on_two_real_ports() -> None:
    """127.0.0.1 on another port, no transport: neither a link nor a redirect reaches it."""
    other = Site(pages={"/admin": "<p>internal</p>"})
    with serve(other) as other_base:
        portal = Site(pages={"/page": article_page("Bài một")}, redirects={"/go": f"{other_base}/admin"})
        with serve(portal) as base:
            records: list[FetchRecord] = []
            async with Fetcher(FAST_FETCH, on_record=records.append) as fetcher:
                fetcher.set_host_policy("127.0.0.1", private_network=True)  # the test portal is on loopback
                allowed = AllowedOrigins.of(base)
                assert (await fetcher.fetch(f"{base}/page", purpose="article", allowed=allowed)).status == 200
                with pytest.raises(OffsiteRedirect):
                    await fetcher.fetch(f"{base}/go", purpose="article", allowed=allowed)
                with pytest.raises(HostNotAllowed):
                    await fetcher.fetch(f"{other_base}/admin", purpose="article", allowed=allowed)
    assert other.requests == []
    assert portal.requests == ["/robots.txt", "/page", "/go"]
    assert [r.error for r in records if r.url == f"{other_base}/admin"] == [
        f"refused: offsite redirect from {base}/go",
        f"refused: origin not allowed ({base})",
    ]


# --- what a sources entry allows ------------------------------------------------------------------


def _source(extra: str, base_url: str = PORTAL) -> Any:
    text = f"""sources:
  - id: cong-a
    name: "Cổng A"
    province: "Tuyên Quang"
    base_url: "{base_url}"
    listing_urls: ["{base_url}/tin-tuc.html"]
{extra}"""
    (source,) = parse_sources(text, Path("sources.yaml"))
    return source


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://portal.example/a", True),
        ("http://portal.example/a", True),  # the other scheme on its default port
        ("http://portal.example:443/a", False),
        ("https://portal.example:8443/a", False),
        ("http://portal.example:8080/a", False),
        ("https://cdn.example/a.jpg", True),  # "cdn.example": base_url's scheme and default port
        ("http://cdn.example/a.jpg", True),
        ("https://cdn.example:8443/a.jpg", False),
        ("https://old.example:8443/a", True),  # "old.example:8443": https (base_url's scheme) on 8443
        ("http://old.example:8443/a", False),
        ("http://old.example/a", False),
        ("http://media.example:8080/a", True),  # named with its scheme and port
        ("https://media.example:8080/a", False),
        ("https://other.example/a", False),
        ("ftp://portal.example/a", False),
    ],
)
def test_allowed_hosts_entries_are_origins(url: str, allowed: bool) -> None:
    source = _source('    allowed_hosts: ["cdn.example", "old.example:8443", "http://media.example:8080"]\n')
    assert source.origins.allows(url) is allowed
    assert source.hosts == {"portal.example", "cdn.example", "old.example", "media.example"}


def test_a_base_url_on_another_port_allows_that_port_only() -> None:
    source = _source("", base_url="http://portal.example:8000")
    assert source.origins.allows("http://portal.example:8000/tin/1.html")
    assert not source.origins.allows("http://portal.example/tin/1.html")
    assert not source.origins.allows("https://portal.example/tin/1.html")
    assert not source.origins.allows("https://portal.example:8000/tin/1.html")


@pytest.mark.parametrize("entry", ["ftp://cdn.example", "cdn.example/anh", "cdn.example:99999", "https://", "a b.example"])
def test_bad_allowed_hosts_entry_names_line_and_item(entry: str) -> None:
    text = f"""sources:
  - id: cong-a
    name: "Cổng A"
    province: "Tuyên Quang"
    base_url: "{PORTAL}"
    listing_urls: ["{PORTAL}/tin-tuc.html"]
    allowed_hosts:
      - "portal-cu.example"
      - "{entry}"
"""
    with pytest.raises(SourcesError) as info:
        parse_sources(text, Path("sources.yaml"))
    (issue,) = info.value.issues
    assert issue.line == 9 and issue.where == "sources[0] (id=cong-a).allowed_hosts[1]"
    assert "not a host or origin" in issue.message


# --- private addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.10", True),
        ("169.254.169.254", True),  # cloud metadata
        ("100.64.0.1", True),  # carrier-grade NAT
        ("0.0.0.0", True),
        ("224.0.0.251", True),  # multicast
        ("240.0.0.1", True),  # reserved
        ("::1", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("ff02::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", True),
        ("203.113.131.1", False),  # a Vietnamese public address
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
    ],
)
def test_which_addresses_are_private(address: str, refused: bool) -> None:
    assert refused_address(ipaddress.ip_address(address)) is refused


async def test_a_private_address_is_refused_before_any_request_unless_allowed() -> None:
    site = Site(pages={"/page": article_page("Bài một")})
    with serve(site) as base:  # http://127.0.0.1:PORT: answers whoever asks
        port = int(base.rsplit(":", 1)[1])
        records: list[FetchRecord] = []
        async with Fetcher(FAST_FETCH, on_record=records.append) as fetcher:
            # An IP literal, and a name that resolves to loopback.
            for url in (f"{base}/page", f"http://localhost:{port}/page"):
                with pytest.raises(PrivateAddress):
                    await fetcher.fetch(url, purpose="article", allowed=AllowedOrigins.of(url))
        assert site.requests == []  # not even robots.txt
        assert [(r.url, r.status, r.error) for r in records] == [
            (f"{base}/page", None, "refused: private address (127.0.0.1 is not a public address)"),
            (f"http://localhost:{port}/page", None, "refused: private address (localhost resolves to 127.0.0.1)"),
        ]

        # The source's flag (`private_network: true`) is a host policy: the same fetch goes through.
        async with Fetcher(FAST_FETCH) as fetcher:
            fetcher.set_host_policy("127.0.0.1", private_network=True)
            result = await fetcher.fetch(f"{base}/page", purpose="article", allowed=AllowedOrigins.of(base))
            assert result.status == 200 and "Bài một" in result.text
            # A redirect hop to a private host without the flag is refused too.
            site.redirects["/go"] = f"http://localhost:{port}/page"
            allowed = AllowedOrigins.of(base, f"http://localhost:{port}")
            with pytest.raises(PrivateAddress):
                await fetcher.fetch(f"{base}/go", purpose="article", allowed=allowed)
        assert site.requests == ["/robots.txt", "/page", "/go"]


@pytest.mark.parametrize(
    "form",
    [
        "[::1]",  # IPv6 literals
        "[fd00::1]",
        "[::ffff:7f00:1]",  # 127.0.0.1 as an IPv4-mapped IPv6 literal
        "2130706433",  # 127.0.0.1 spelt as one number, in hex, shortened: resolved by the system
        "0x7f000001",
        "127.1",
    ],
)
async def test_other_spellings_of_a_private_address_are_refused(form: str) -> None:
    site = Site(pages={"/page": article_page("Bài một")})
    with serve(site) as base:
        url = f"http://{form}:{base.rsplit(':', 1)[1]}/page"
        records: list[FetchRecord] = []
        async with Fetcher(FAST_FETCH, on_record=records.append) as fetcher:
            with pytest.raises(PrivateAddress):
                await fetcher.fetch(url, purpose="article", allowed=AllowedOrigins.of(url))
    assert site.requests == []
    ((status, error),) = [(r.status, r.error) for r in records]
    assert status is None and (error or "").startswith("refused: private address (")


def test_a_portal_on_a_private_address_is_crawled_only_with_private_network(sqlite_settings: Settings, tmp_path: Path) -> None:
    site = Site(
        pages={
            "/tin-tuc.html": listing_page(["/tin/1.html", "/tin/2.html"]),
            "/tin/1.html": article_page("Bài một"),
            "/tin/2.html": article_page("Bài hai"),
        }
    )
    settings = sqlite_settings.model_copy(update={"fetch": FAST_FETCH})
    with serve(site) as base:
        entry = f"""sources:
  - id: noi-bo
    name: "Cổng nội bộ"
    province: "Tuyên Quang"
    family: php_static
    base_url: "{base}"
    listing_urls: ["{base}/tin-tuc.html"]
"""
        sources = parse_sources(entry, tmp_path / "sources.yaml")
        run_id, (report,) = asyncio.run(crawl_sources(sources, settings))  # the real network: no transport
        assert site.requests == []
        assert not report.ok and any("private address" in e for e in report.errors)
        with database(settings)() as session:
            assert session.execute(select(Article)).first() is None
            logged = fetch_log_rows(session, run_id)
        assert [r.error for r in logged] == ["refused: private address (127.0.0.1 is not a public address)"]

        sources = parse_sources(entry + "    private_network: true\n", tmp_path / "sources.yaml")
        _, (report,) = asyncio.run(crawl_sources(sources, settings))
        assert report.ok and report.new_articles == 2, report.errors
        assert sorted(p for p in site.requests if p.startswith("/tin/")) == ["/tin/1.html", "/tin/2.html"]


def test_probe_refuses_a_private_address_unless_told(tmp_path: Path) -> None:
    site = Site(pages={"/tin-tuc.html": listing_page(["/tin/1.html"]), "/tin/1.html": article_page("Bài một")})
    with serve(site) as base:
        result = CliRunner().invoke(cli, ["sources", "probe", f"{base}/tin-tuc.html"])
        assert result.exit_code == 1
        assert "private address" in result.output and "--private-network" in result.output
        assert site.requests == []
        result = CliRunner().invoke(cli, ["sources", "probe", f"{base}/tin-tuc.html", "--private-network"])
        assert "private address" not in result.output
        assert site.requests[:2] == ["/robots.txt", "/tin-tuc.html"]
        assert "private_network: true" in result.output.split("deploy/sources.yaml entry")[1]


# --- the politeness bound -------------------------------------------------------------------------

POLITE = """\
sources:
  - id: cong-a
    name: "Cổng A"
    province: "Tuyên Quang"
    base_url: "https://portal.example"
    listing_urls: ["https://portal.example/tin-tuc.html"]
    politeness:
      requests_per_second: {rate}
      concurrency: {concurrency}
"""


def test_a_politeness_of_1e_7_is_refused_by_the_crawl_naming_file_line_field(tmp_path: Path) -> None:
    """The issue's case: accepted before, the crawl then waited four months between requests.
    In a child process with a deadline, so a regression fails instead of hanging the suite."""
    path = tmp_path / "sources.yaml"
    path.write_text(POLITE.format(rate="1e-7", concurrency="1"), encoding="utf-8")
    env = {**os.environ, "BANTIN_DATA_DIR": str(tmp_path), "COLUMNS": "300"}
    env.pop("BANTIN_DATABASE_URL", None)
    script = "from bantin.cli import app; app()"
    done = subprocess.run(
        [sys.executable, "-c", script, "crawl", "--offline", "--sources-file", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert f"{path}:8: sources[0] (id=cong-a).politeness.requests_per_second: 1e-07 requests/s is out of bounds" in output
    assert not (tmp_path / "bantin.sqlite3").exists()  # refused before anything was written or fetched


@pytest.mark.parametrize(
    ("rate", "concurrency", "line", "field"),
    [
        ("0.001", "1", 8, "requests_per_second"),
        ("0", "1", 8, "requests_per_second"),
        ("-1", "1", 8, "requests_per_second"),
        ("51", "1", 8, "requests_per_second"),
        (".nan", "1", 8, "requests_per_second"),
        (".inf", "1", 8, "requests_per_second"),
        ("1", "0", 9, "concurrency"),
        ("1", "17", 9, "concurrency"),
    ],
)
def test_politeness_out_of_bounds_is_refused_naming_line_and_field(rate: str, concurrency: str, line: int, field: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(POLITE.format(rate=rate, concurrency=concurrency), Path("sources.yaml"))
    (issue,) = info.value.issues
    assert (issue.line, issue.where) == (line, f"sources[0] (id=cong-a).politeness.{field}")
    assert "out of bounds" in issue.message
    assert f"sources.yaml:{line}: sources[0] (id=cong-a).politeness.{field}: " in str(info.value)


@pytest.mark.parametrize(("rate", "concurrency"), [("0.01", "1"), ("50", "16"), ("0.5", "2")])
def test_politeness_within_bounds_is_accepted(rate: str, concurrency: str) -> None:
    (source,) = parse_sources(POLITE.format(rate=rate, concurrency=concurrency), Path("sources.yaml"))
    assert source.politeness.requests_per_second == float(rate)
    assert source.politeness.concurrency == int(concurrency)
