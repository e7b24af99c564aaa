"""Every digest kept on disk: `<label>.html`, `<label>.txt`, an `index.html` and an Atom `feed.xml`.

A small `<label>.json` beside each digest keeps what the index and the feed list, so
both are rebuilt from the folder alone after each write.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from bantin.digest.model import DigestWeek
from bantin.digest.render import RenderedDigest, environment
from bantin.digest.selection import district_key

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ID = "urn:bantin:digests"


@dataclass(frozen=True)
class ArchivedDigest:
    name: str  # file stem, e.g. "2024-W27" or "2024-W27--vinh-linh"
    html_path: Path
    text_path: Path
    operator_path: Path | None = None  # `<name>.operator.html` (a whole week's digest only)


def archive_name(digest: DigestWeek) -> str:
    """The label, plus the district filter when there is one (a filtered digest never
    overwrites the whole week's)."""
    if not digest.district_filter:
        return digest.label
    return digest.label + "--" + "-".join(sorted(district_key(d) for d in digest.district_filter))


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (made when missing), or None when they can.

    Probes with an anonymous temporary file in the folder or its nearest existing parent
    (permission bits alone say nothing to root, a read-only mount does): nothing is left
    behind, nothing is created.
    """
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return f"cannot write in {existing} ({exc.strerror or exc})"
    return None


def write_digest(archive_dir: Path, digest: DigestWeek, rendered: RenderedDigest, base_url: str | None = None) -> ArchivedDigest:
    archive_dir.mkdir(parents=True, exist_ok=True)
    name = archive_name(digest)
    html_path, text_path = archive_dir / f"{name}.html", archive_dir / f"{name}.txt"
    _write_atomic(html_path, rendered.html)
    _write_atomic(text_path, rendered.text)
    meta = {
        "name": name,
        "title": rendered.subject,
        "start": digest.start.isoformat(),
        "end": digest.end.isoformat(),
        "meetings": digest.meeting_count,
        "districts": [d.name for d in digest.districts],
        "generated_at": digest.generated_at.isoformat(),
    }
    _write_atomic(archive_dir / f"{name}.json", json.dumps(meta, ensure_ascii=False, indent=1))
    rebuild_index(archive_dir, base_url)
    return ArchivedDigest(name, html_path, text_path)


def write_operator_page(archive_dir: Path, name: str, rendered: RenderedDigest) -> Path:
    """`<name>.operator.html` and `.txt` beside the digest: the operator's report (portal
    errors, stale portals, deliveries), kept out of the readers' pages and not listed in the
    index or the feed."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    html_path = archive_dir / f"{name}.operator.html"
    _write_atomic(html_path, rendered.html)
    _write_atomic(archive_dir / f"{name}.operator.txt", rendered.text)
    return html_path


def _write_atomic(path: Path, content: str) -> None:
    # A reader (a web server, the feed reader) never sees half a file.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)


def _entries(archive_dir: Path) -> list[dict[str, object]]:
    entries = []
    for meta_path in archive_dir.glob("*.json"):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not ours, or being written
        if isinstance(meta, dict) and (archive_dir / f"{meta.get('name')}.html").exists():
            entries.append(meta)
    return sorted(entries, key=lambda m: (str(m["start"]), str(m["name"])), reverse=True)


def rebuild_index(archive_dir: Path, base_url: str | None = None) -> None:
    """index.html (templates/archive_index.html) and feed.xml, from the folder's digests."""
    entries = _entries(archive_dir)
    _write_atomic(archive_dir / "index.html", environment().get_template("archive_index.html").render(entries=entries))
    _write_atomic(archive_dir / "feed.xml", atom_feed(entries, base_url or archive_dir.resolve().as_uri() + "/"))


def atom_feed(entries: list[dict[str, object]], base_url: str) -> str:
    """RFC 4287 feed: id, title, updated, author, self link; entries with id, link, updated."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", FEED_ID)
    sub(feed, "title", "Bản tin các cuộc họp cấp huyện (bantin)")
    updated = max((str(e["generated_at"]) for e in entries), default=_rfc3339(dt.datetime.now(dt.UTC)))
    sub(feed, "updated", _rfc3339(dt.datetime.fromisoformat(updated)))
    author = sub(feed, "author")
    sub(author, "name", "bantin")
    sub(feed, "link", rel="self", href=base_url + "feed.xml")
    sub(feed, "link", rel="alternate", type="text/html", href=base_url + "index.html")
    for e in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", f"{FEED_ID}:{e['name']}")
        sub(entry, "title", str(e["title"]))
        sub(entry, "updated", _rfc3339(dt.datetime.fromisoformat(str(e["generated_at"]))))
        sub(entry, "link", rel="alternate", type="text/html", href=f"{base_url}{e['name']}.html")
        listed = e.get("districts")
        districts = ", ".join(map(str, listed if isinstance(listed, list) else [])) or "không có cuộc họp"
        sub(entry, "summary", f"{e['start']} – {e['end']}: {e['meetings']} cuộc họp ({districts})")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _rfc3339(value: dt.datetime | str) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
