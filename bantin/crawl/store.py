"""What the crawl asks of the place articles are kept: a protocol, so the crawl itself
needs no database (bantin.jobs.crawl implements it on storage/; tests may use a dict)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bantin.crawl.ledger import FailedUrl, Failure, PortalLedger
from bantin.dedup import Fingerprint, fingerprint
from bantin.fetch import FetchRecord, FetchResult
from bantin.parse import ParsedArticle
from bantin.urls import canonicalize_url


@dataclass(frozen=True, slots=True)
class CompressedPage:
    """The raw page as fetched, compressed at once: the crawler keeps a few KB per page."""

    sha256: str  # of the uncompressed body
    body_zlib: bytes
    status: int
    content_type: str | None
    encoding: str | None

    @classmethod
    def of(cls, result: FetchResult) -> CompressedPage:
        return cls(
            hashlib.sha256(result.content).hexdigest(),
            zlib.compress(result.content, 6),
            result.status,
            result.content_type,
            result.encoding,
        )


@dataclass
class StoreItem:
    """A parsed article ready for the store step, under its canonical URL."""

    url: str
    parsed: ParsedArticle
    fingerprint: Fingerprint
    page: CompressedPage

    @classmethod
    def of(cls, result: FetchResult, parsed: ParsedArticle) -> StoreItem:
        return cls(canonicalize_url(result.url), parsed, fingerprint(parsed.text), CompressedPage.of(result))


@dataclass(frozen=True, slots=True)
class Validators:
    """A listing page's HTTP validators, for a conditional GET next run."""

    url: str
    etag: str | None
    last_modified: str | None


class CrawlStore(Protocol):
    """The crawl's reads and writes. Every URL given is canonical (bantin.urls)."""

    async def known_urls(self, urls: Sequence[str]) -> set[str]: ...

    async def incomplete_listings(self, portal_id: str) -> list[str]: ...

    async def validators(self, url: str) -> Validators | None: ...

    async def save_listings(self, portal_id: str, validators: Sequence[Validators], walked: dict[str, bool]) -> None:
        """Validators of completely handled listing pages, and per listing walked whether it broke off."""
        ...

    async def store(self, portal_id: str, items: list[StoreItem]) -> tuple[int, int]:
        """Insert, deduplicate and link a batch (and drop its URLs from the ledger):
        (articles created, duplicate links made)."""
        ...

    async def ledger(self, portal_id: str) -> PortalLedger:
        """The portal's failed URLs: due for a retry now, waiting, given up."""
        ...

    async def record_failures(self, portal_id: str, failures: Sequence[Failure]) -> list[FailedUrl]:
        """Count the failures in the ledger (bantin.crawl.ledger.after_failure); what became of each."""
        ...

    async def log(self, run_id: int | None, portal_id: str, records: Sequence[FetchRecord]) -> None: ...
