"""Is a fetched page an article page at all? A failed fetch is not an article.

A page served with 200 can still be useless: a binary body, another content type, or a
document cut short before its body (the connection closed with a consistent length).
Stored, such a page would be an "article" whose text is its date line, never repaired.
"""

from __future__ import annotations

from bantin.fetch import FetchResult

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/plain"})
_WINDOW = 4096


def not_html(result: FetchResult) -> str | None:
    """Why the page is not an HTML document (another content type: a permanent failure)."""
    kind = (result.content_type or "").split(";")[0].strip().lower()
    if kind and kind not in HTML_TYPES:
        return f"not an HTML page ({kind})"
    return None


def damaged(result: FetchResult) -> str | None:
    """Why the HTML cannot be trusted this time (binary bytes, cut short): retried later."""
    head = result.content[:_WINDOW]
    if b"\x00" in head:
        return "not an HTML page (binary content)"
    start, end = result.text[:_WINDOW].lower(), result.text[-_WINDOW:].lower()
    # A document that opened <html>/<body> and never closed them was cut short. (All 107
    # saved real pages end with </body> or </html>; the two fragments without them open neither.)
    if ("<html" in start or "<body" in start) and "</body>" not in end and "</html>" not in end:
        return "page cut short (no </body> or </html>)"
    return None
