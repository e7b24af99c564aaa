"""URL canonicalisation: one spelling per page, so "known URL" and dedup mean something.

Portals link the same article as `/tin-tức/a.html`, `/tin-t%E1%BB%A9c/a.html` (NFC or
not), with `?utm_source=...` from a share button, or `#top`. All become one string.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_ga", "zarsrc"})
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 sub-delims plus ':' and '@' are legal raw in a path segment; keep them readable.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _normalise_segment(segment: str) -> str:
    # Decode, NFC, re-encode: "%E1%BB%A9", "ứ" and the decomposed "ư"+"\u0301" all end the same.
    decoded = unquote(segment, errors="surrogateescape")
    try:
        decoded.encode("utf-8")
    except UnicodeEncodeError:
        # Not UTF-8 percent-escapes (e.g. a legacy cp1258 URL): keep the escapes, only uppercase them.
        return _PERCENT_RUN.sub(lambda m: m.group(0).upper(), segment)
    return quote(unicodedata.normalize("NFC", decoded), safe=_SEGMENT_SAFE)


def _host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        host = host.encode("idna").decode("ascii")
    return host


def canonicalize_url(url: str, base: str | None = None) -> str:
    """The canonical form of `url` (resolved against `base` when relative).

    Lowercase scheme and host, no default port, no fragment, no tracking parameters,
    query sorted, path percent-encoded from its NFC form, empty path as "/".
    """
    url = unicodedata.normalize("NFC", url.strip())
    if base is not None:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = ""
    if parts.hostname:
        netloc = _host(parts.hostname)
        if ":" in netloc:  # IPv6 literal
            netloc = f"[{netloc}]"
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is not None and port != DEFAULT_PORTS.get(scheme):
            netloc = f"{netloc}:{port}"
    path = "/".join(_normalise_segment(seg) for seg in (parts.path or "/").split("/"))
    query_items = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query = urlencode(sorted(query_items), quote_via=quote, safe="-._~")
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    hostname = urlsplit(url).hostname or ""
    return _host(hostname) if hostname else ""


def is_allowed(url: str, allowed_hosts: frozenset[str] | set[str]) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and host_of(url) in allowed_hosts


def origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "", "", ""))
