"""URL canonicalisation: one spelling per page, so "known URL" and dedup mean something.

Portals link the same article as `/tin-tức/a.html`, `/tin-t%E1%BB%A9c/a.html` (NFC or
not), with `?utm_source=...` from a share button, or `#top`. All become one string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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


OTHER_SCHEME = {"http": "https", "https": "http"}


@dataclass(frozen=True, order=True)
class Origin:
    """Scheme, host and port of a URL (RFC 6454): what "the same site" means to the crawler.

    The port is always given (the scheme's default when the URL names none).
    """

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an http(s) URL; None for another scheme, no host or a bad port."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:  # "[::1" or a port out of range
            return None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, _host(parts.hostname), DEFAULT_PORTS[scheme] if port is None else port)

    @property
    def default_port(self) -> bool:
        return self.port == DEFAULT_PORTS[self.scheme]

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" if self.default_port else f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class AllowedOrigins:
    """The origins a portal's crawl may request: links and redirects anywhere else are refused.

    Rule for the other scheme: an origin on its scheme's default port also allows the
    other scheme on *that* scheme's default port (portals link `http://` pages inside an
    `https://` site and redirect them), so `https://x.gov.vn` allows `http://x.gov.vn`
    (port 80) and the reverse. A non-default port is allowed only when named itself:
    `http://x.gov.vn:8080` allows neither `https://x.gov.vn:8080` nor `http://x.gov.vn`.
    """

    origins: frozenset[Origin]

    @classmethod
    def of(cls, *urls: str) -> AllowedOrigins:
        """The origins of some http(s) URLs (a page, a base URL, "https://host:port")."""
        found = set()
        for url in urls:
            origin = Origin.of(url)
            if origin is None:
                raise ValueError(f"not an http(s) URL: {url!r}")
            found.add(origin)
        return cls(frozenset(found))

    def allows(self, url: str) -> bool:
        origin = Origin.of(url)
        if origin is None:
            return False
        if origin in self.origins:
            return True
        if not origin.default_port:
            return False
        other = OTHER_SCHEME[origin.scheme]
        return Origin(other, origin.host, DEFAULT_PORTS[other]) in self.origins

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset(o.host for o in self.origins)

    def __str__(self) -> str:
        return ", ".join(str(o) for o in sorted(self.origins))
