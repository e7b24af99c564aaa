"""Parsing portal pages, one module per job.

- `text`: normalised text of nodes; `blocks`: a page as text blocks and its main container;
- `dates`: Vietnamese dates; `article`: article pages; `listing`: listing pages;
- `detect`: which portal software (family) made a page.
"""

from bantin.parse.article import ParsedArticle, parse_article
from bantin.parse.dates import date_from_url, has_time, parse_vietnamese_date
from bantin.parse.detect import Detection, detect_family
from bantin.parse.listing import Listing, ListingLink, parse_listing, parse_listing_page
from bantin.parse.text import clean, node_text

__all__ = [
    "Detection",
    "Listing",
    "ListingLink",
    "ParsedArticle",
    "clean",
    "date_from_url",
    "detect_family",
    "has_time",
    "node_text",
    "parse_article",
    "parse_listing",
    "parse_listing_page",
    "parse_vietnamese_date",
]
