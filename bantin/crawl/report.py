"""What one portal's crawl did: the crawl report's row, the flow artifact's, the CLI's line."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("bantin.crawl")


@dataclass
class PortalReport:
    portal_id: str
    listing_requests: int = 0
    not_modified: int = 0
    article_requests: int = 0
    new_articles: int = 0
    duplicates: int = 0  # duplicate links made: a new copy, or a stored copy re-linked to a new original
    skipped: int = 0  # robots.txt disallowed article URLs
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    generic: bool = False
    families: dict[str, int] = field(default_factory=dict)  # family used -> articles parsed with it
    notices: int = 0  # articles whose content is an attached document
    failed: str | None = None  # why the portal yielded nothing usable (no article link, only empty bodies)
    duration_s: float = 0.0
    incomplete_listings: list[str] = field(default_factory=list)  # walk broke off: resume next run
    retrying: int = 0  # article URLs that failed and are tried again next time (the URL ledger)
    given_up: list[str] = field(default_factory=list)  # article URLs that failed for good this run

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, reason: str) -> None:
        """The portal is a failed portal: nothing usable came out of it (red, non-zero exit)."""
        self.failed = reason
        self.add_error(f"failed portal: {reason}")

    def add_error(self, message: str) -> None:
        """Record a failure in the report, and log it with the portal and URL for the run's log."""
        self.errors.append(message)
        logger.warning("portal %s: %s", self.portal_id, message)

    def warn(self, message: str) -> None:
        """Record a warning once (the same layout problem on every page is one warning)."""
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def unreachable(self) -> bool:
        """Nothing at all could be listed (robots/listing failures): worth a task retry."""
        return bool(self.errors) and self.listing_requests == self.not_modified == 0 and self.new_articles == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "portal": self.portal_id,
            "listing_requests": self.listing_requests,
            "not_modified": self.not_modified,
            "article_requests": self.article_requests,
            "new_articles": self.new_articles,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "generic": self.generic,
            "families": dict(self.families),
            "notices": self.notices,
            "failed": self.failed,
            "duration_s": round(self.duration_s, 2),
            "incomplete_listings": list(self.incomplete_listings),
            "retrying": self.retrying,
            "given_up": list(self.given_up),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortalReport:
        """The inverse of as_dict (a Prefect task returns the dict; the flow reads it back)."""
        return cls(
            portal_id=data["portal"],
            listing_requests=data["listing_requests"],
            not_modified=data["not_modified"],
            article_requests=data["article_requests"],
            new_articles=data["new_articles"],
            duplicates=data["duplicates"],
            skipped=data["skipped"],
            errors=list(data["errors"]),
            warnings=list(data["warnings"]),
            generic=data["generic"],
            families=dict(data.get("families", {})),
            notices=data.get("notices", 0),
            failed=data.get("failed"),
            duration_s=data["duration_s"],
            incomplete_listings=list(data.get("incomplete_listings", [])),
            retrying=data.get("retrying", 0),
            given_up=list(data.get("given_up", [])),
        )
