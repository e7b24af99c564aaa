"""Walking a portal's listings: which article URLs are new, newest first.

    listing page (conditional GET) -> links -> known ones dropped -> next page, until a
    page lists nothing new (or the page limit), unless the last walk of that listing
    broke off: then it goes on past known pages, so nothing listed below is lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bantin.crawl.report import PortalReport
from bantin.crawl.store import CrawlStore, Validators
from bantin.fetch import Fetcher, FetchError
from bantin.parse import parse_listing_page
from bantin.parse.listing import guess_next_page
from bantin.sources import Source


@dataclass
class ListedPage:
    """A listing page fetched in full, with the new article URLs it showed."""

    validators: Validators
    fresh: list[str]


@dataclass
class ListingWalk:
    """The walk of one portal's listings and what it found.

    `listed` is the date a listing prints beside a link (the article's fallback date);
    `alternatives` the root-relative reading of a bare relative link (tried when the
    browser's reading answers 404).
    """

    source: Source
    fetcher: Fetcher
    store: CrawlStore
    report: PortalReport
    max_pages: int
    not_new: set[str] = field(default_factory=set)  # in the ledger: retried or given up, never "new"
    new_urls: list[str] = field(default_factory=list)
    pages: list[ListedPage] = field(default_factory=list)
    listed: dict[str, dt.datetime] = field(default_factory=dict)
    alternatives: dict[str, str] = field(default_factory=dict)
    walked: dict[str, bool] = field(default_factory=dict)  # listing URL -> its walk broke off
    _seen: set[str] = field(default_factory=set)

    async def run(self) -> None:
        resume = set(await self.store.incomplete_listings(self.source.id))
        for listing in self.source.listing_urls:
            self.walked[listing] = not await self._walk(listing, resuming=listing in resume)

    async def _walk(self, listing: str, *, resuming: bool) -> bool:
        """Walk one listing; False when a page failed before its end."""
        page_url: str | None = listing
        visited: set[str] = set()
        guessed = False  # the current page's URL was guessed (no pager on the page before)
        while page_url and len(visited) < self.max_pages:
            visited.add(page_url)
            known = None if resuming else await self.store.validators(page_url)
            try:
                result = await self.fetcher.fetch(
                    page_url,
                    purpose="listing",
                    allowed=self.source.origins,
                    etag=known.etag if known else None,
                    last_modified=known.last_modified if known else None,
                )
            except FetchError as exc:
                if guessed:
                    return True  # the guessed page does not exist: the listing simply ends
                self.report.add_error(f"listing {exc.url}: {exc.message}")
                # Pages below this one were never seen: keep this listing's validators unsaved
                # so the next run walks it again instead of stopping at a 304 on page 1.
                self.pages = [p for p in self.pages if p.validators.url not in visited]
                self.report.incomplete_listings.append(listing)
                return False
            self.report.listing_requests += 1
            if result.not_modified:
                self.report.not_modified += 1
                return True  # unchanged since the last complete crawl: nothing new below either
            page = parse_listing_page(result.text, result.final_url, self.source.parse_family)
            for link in page.links:
                if link.published_at is not None:
                    self.listed.setdefault(link.url, link.published_at)
                if link.alternative is not None:
                    self.alternatives.setdefault(link.url, link.alternative)
            if not page.urls and not guessed:
                self.report.warnings.append(f"listing {page_url}: no article links found (layout changed?)")
            fresh = await self._fresh(page.urls)
            self.pages.append(ListedPage(Validators(page_url, result.etag, result.last_modified), fresh))
            self.new_urls.extend(fresh)
            if not fresh and not resuming:
                return True
            next_url = page.next_url
            # No pager on the listing's first page (or on a guessed page): try one page further.
            if next_url is None and fresh and (len(visited) == 1 or guessed):
                next_url, guessed = guess_next_page(result.final_url), True
            else:
                guessed = False
            page_url = next_url if next_url not in visited else None
        return True

    async def _fresh(self, urls: list[str]) -> list[str]:
        """The links not seen in this walk and not stored (under either reading)."""
        links = [u for u in urls if u not in self._seen and self.fetcher.admits(u, self.source.origins, purpose="article")]
        self._seen.update(links)
        alts = self.alternatives
        known = await self.store.known_urls(links + [alts[u] for u in links if u in alts])
        return [u for u in links if u not in known and alts.get(u) not in known and u not in self.not_new]

    def complete_pages(self, pending: set[str]) -> list[Validators]:
        """Validators worth keeping: pages whose new articles are all stored or given up."""
        return [
            p.validators
            for p in self.pages
            if not pending.intersection(p.fresh) and (p.validators.etag or p.validators.last_modified)
        ]
