"""The crawl, one portal at a time, without Prefect or a database.

    robots.txt -> listing pages (conditional GET, newest first, stop at the first page
    with no new URL) -> new article URLs (known ones skipped) -> fetch -> parse -> store
    in batches (article, compressed page) -> fetch log

`crawl_portal` crawls one portal with a shared Fetcher and a `CrawlStore` (the protocol
of what the crawl reads and writes; bantin.jobs.crawl implements it on storage/ and runs
many portals). Listing validators (ETag / Last-Modified) are saved only once every new
article a page listed is stored (or failed for good): a portal that times out half-way
gets the full listing again next run instead of a 304 hiding the articles it missed.
"""

from __future__ import annotations

from collections.abc import Sequence

from bantin.crawl.portal import STORE_BATCH, PortalCrawl, crawl_portal
from bantin.crawl.report import PortalReport
from bantin.crawl.store import CompressedPage, CrawlStore, StoreItem, Validators
from bantin.fetch import Fetcher, TransportLike
from bantin.settings import Settings
from bantin.sources import Source

__all__ = [
    "STORE_BATCH",
    "CompressedPage",
    "CrawlStore",
    "PortalCrawl",
    "PortalReport",
    "StoreItem",
    "Validators",
    "configure_fetcher",
    "crawl_portal",
    "make_transport",
]


def configure_fetcher(fetcher: Fetcher, sources: Sequence[Source]) -> None:
    """Each source's politeness, TLS and private-network policy on each of its hosts."""
    for source in sources:
        for host in source.hosts:
            fetcher.set_host_policy(
                host,
                requests_per_second=source.politeness.requests_per_second,
                concurrency=source.politeness.concurrency,
                verify_tls=source.verify_tls,
                private_network=source.private_network,
            )


def make_transport(settings: Settings, offline: bool = False) -> TransportLike:
    """None online; offline, the fixture portals (settings.fixtures_url when set, else in-process)."""
    if not (offline or settings.offline):
        return None
    from bantin.fetch import loopback_transport
    from bantin.fixtures.routing import offline_transport

    return loopback_transport(settings.fixtures_url) if settings.fixtures_url else offline_transport()
