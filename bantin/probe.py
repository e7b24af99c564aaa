"""Probe a portal before adding it: one listing page and its first articles, as bantin reads them.

`probe(url)` fetches the listing page and up to `articles` of its article pages with the
crawler's Fetcher (robots.txt obeyed, the per-host rate limit kept) and returns what the
parsers found: the links, the next page, per article its title, date, first and last
sentence and warnings, the family recognised, and a ready deploy/sources.yaml entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import yaml

from bantin.fetch import Fetcher, FetchError, PrivateAddress, TransportLike
from bantin.parse import ParsedArticle, detect_family, parse_article, parse_listing_page
from bantin.settings import FetchSettings
from bantin.urls import AllowedOrigins, canonicalize_url, host_of

_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


@dataclass
class ProbedArticle:
    url: str
    parsed: ParsedArticle | None
    error: str | None = None

    @property
    def first_sentence(self) -> str:
        if self.parsed is None or not self.parsed.paragraphs:
            return ""
        return _SENTENCE.split(self.parsed.paragraphs[0])[0]

    @property
    def last_sentence(self) -> str:
        if self.parsed is None or not self.parsed.paragraphs:
            return ""
        return _SENTENCE.split(self.parsed.paragraphs[-1])[-1]


@dataclass
class ProbeResult:
    url: str
    family: str | None
    family_reason: str
    links: list[str] = field(default_factory=list)
    next_url: str | None = None
    articles: list[ProbedArticle] = field(default_factory=list)
    error: str | None = None
    private_network: bool = False  # the portal was reached on a private address, as allowed

    @property
    def ok(self) -> bool:
        """Links found and at least one article with text (or a notice): the portal can be crawled."""
        return bool(self.links) and any(
            a.parsed is not None and (a.parsed.paragraphs or a.parsed.notice) for a in self.articles
        )

    def yaml_entry(self) -> str:
        parts = urlsplit(self.url)
        host = host_of(self.url)
        slug = re.sub(r"[^a-z0-9]+", "-", host.removesuffix(".gov.vn").lower()).strip("-")[:60] or "portal"
        entry: dict[str, object] = {
            "id": slug,
            "name": f"TODO: the portal's name ({host})",
            "province": "TODO",
            "base_url": f"{parts.scheme}://{parts.netloc}/",
            "listing_urls": [canonicalize_url(self.url)],
        }
        if self.private_network:
            entry["private_network"] = True
        return yaml.safe_dump({"sources": [entry]}, allow_unicode=True, sort_keys=False)


async def probe(
    url: str,
    settings: FetchSettings,
    *,
    articles: int = 3,
    transport: TransportLike = None,
    private_network: bool = False,
) -> ProbeResult:
    """`private_network`: the portal may resolve to a private address (sources.yaml's field)."""
    url = canonicalize_url(url)
    allowed = AllowedOrigins.of(url)  # the listing's origin (and the other scheme on a default port)
    async with Fetcher(settings, transport=transport) as fetcher:
        fetcher.set_host_policy(host_of(url), private_network=private_network)
        try:
            page = await fetcher.fetch(url, purpose="listing", allowed=allowed)
        except PrivateAddress as exc:
            hint = "a portal on a private network? --private-network allows it (sources.yaml: private_network: true)"
            return ProbeResult(url, None, "", error=f"listing {exc.url}: {exc.message}; {hint}")
        except FetchError as exc:
            return ProbeResult(url, None, "", error=f"listing {exc.url}: {exc.message}")
        detection = detect_family(page.text, page.final_url)
        listing = parse_listing_page(page.text, page.final_url, None)
        result = ProbeResult(
            url, detection.name, detection.reason, listing.urls, listing.next_url, private_network=private_network
        )
        for link in listing.urls[:articles]:
            try:
                fetched = await fetcher.fetch(link, purpose="article", allowed=allowed)
            except FetchError as exc:
                result.articles.append(ProbedArticle(link, None, exc.message))
                continue
            parsed = parse_article(fetched.text, link, None)
            if parsed.published_at is None:
                listed = next((x.published_at for x in listing.links if x.url == link), None)
                parsed.published_at = listed
            result.articles.append(ProbedArticle(link, parsed))
        return result
