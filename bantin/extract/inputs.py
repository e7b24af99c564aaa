"""Reading articles for `bantin extract`: .txt as is, .html through the parser, and
the portal (district, province, publication date) from seeds/manifest.yaml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass
class ArticleInput:
    text: str
    title: str | None = None
    published: dt.date | None = None


@dataclass
class PortalInfo:
    district: str | None = None
    province: str | None = None
    published: dt.date | None = None


def read_article(path: Path) -> ArticleInput:
    """UTF-8 text, or an HTML page reduced to its article (title, paragraphs, date)."""
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    if path.suffix.lower() not in (".html", ".htm"):
        return ArticleInput(text)
    from bantin.parse import parse_article

    parsed = parse_article(text, path.resolve().as_uri(), None)
    published = parsed.published_at.date() if parsed.published_at else None
    # The title goes first so the extractor reads it as the headline.
    body = "\n\n".join(([parsed.title] if parsed.title else []) + parsed.paragraphs)
    return ArticleInput(body, parsed.title or None, published)


def _manifests(path: Path) -> list[Path]:
    from bantin.settings import PROJECT_ROOT

    found = []
    for folder in [path.resolve().parent, *path.resolve().parents[:3]]:
        cand = folder / "manifest.yaml"
        if cand.is_file() and cand not in found:
            found.append(cand)
    default = PROJECT_ROOT / "seeds" / "manifest.yaml"
    if default.is_file() and default not in found:
        found.append(default)
    return found


def _load(manifest: Path) -> list[dict[str, Any]]:
    try:
        stamp = manifest.stat().st_mtime_ns
    except OSError:
        return []
    return _load_cached(manifest, stamp)


@lru_cache(maxsize=8)
def _load_cached(manifest: Path, stamp: int) -> list[dict[str, Any]]:
    """A manifest's entries, parsed once per process (and again only when the file changes):
    `bantin extract` on many files used to spend most of its time re-reading the YAML."""
    import yaml

    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    seeds = data.get("seeds") if isinstance(data, dict) else data
    return [s for s in seeds or [] if isinstance(s, dict) and s.get("file")]


def portal_of(path: Path) -> PortalInfo:
    """District, province and publication date of a seed file, from its manifest entry."""
    for manifest in _manifests(path):
        for entry in _load(manifest):
            entry_path = (manifest.parent / str(entry["file"])).resolve()
            if entry_path == path.resolve() or Path(str(entry["file"])).name == path.name:
                published = entry.get("published_at")
                if isinstance(published, str):
                    try:
                        published = dt.datetime.fromisoformat(published)
                    except ValueError:
                        published = None
                if isinstance(published, dt.datetime):
                    published = published.date()
                return PortalInfo(entry.get("district"), entry.get("province"), published)
    return PortalInfo()
