"""Publication times printed on many articles of one portal: a site-wide stamp, not a date."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bantin.crawl.report import PortalReport
from bantin.crawl.store import StoreItem

SITE_STAMP_MIN = 3  # this many articles of one portal with the very same minute: a deploy stamp


@dataclass
class SiteStamps:
    """Counts the publication times of a portal's articles as they are parsed."""

    counts: Counter[dt.datetime] = field(default_factory=Counter)

    def see(self, value: dt.datetime | None) -> None:
        if value is not None:
            self.counts[value] += 1

    def is_stamp(self, value: dt.datetime) -> bool:
        # Many articles of one day without a time are normal.
        return self.counts[value] >= SITE_STAMP_MIN and (value.hour, value.minute) != (0, 0)

    def replace(self, items: Iterable[StoreItem], listed: Mapping[str, dt.datetime], report: PortalReport) -> None:
        """A stamped article takes the date its listing printed beside the link, else none."""
        for item in items:
            value = item.parsed.published_at
            if value is not None and self.is_stamp(value):
                other = listed.get(item.url)
                item.parsed.published_at = other if other != value else None
                report.warn(
                    f"{value:%Y-%m-%d %H:%M} is printed on {self.counts[value]}+ articles: "
                    "a site-wide stamp, not their date"
                )
