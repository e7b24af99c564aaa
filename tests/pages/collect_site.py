"""Save a slice of a public static copy of a real portal for the loopback crawl test (run once).

    python tests/pages/collect_site.py GIT_DIR HOST OUT_DIR LISTING_PATH...

Copies the listing pages and every article they link (path/index.html, gzipped) from the
repository's HEAD, and writes expected.json: per article its title as the listing prints
it and its date as the article's own date cell (td.Time) prints it, read with this
layout's selectors (not bantin's parser), plus SOURCES (repository, path, commit).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from bantin.parse.dates import parse_vietnamese_date
from bantin.parse.text import node_text


def show(git_dir: str, path: str) -> bytes:
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:{path}"], capture_output=True, check=True).stdout


def main(git_dir: str, host: str, out: Path, listings: list[str]) -> None:
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], capture_output=True, check=True, text=True).stdout.strip()
    repo = next(p for p in Path(git_dir).resolve().parts if "+" in p).replace("+", "/", 1)
    out.mkdir(parents=True, exist_ok=True)
    sources = [f"# repository {repo} at commit {commit}; path in the repository -> file here"]
    expected: dict[str, dict[str, str | None]] = {}
    for listing in listings:
        raw = show(git_dir, listing)
        (out / (listing.replace("/", "__") + ".gz")).write_bytes(gzip.compress(raw, mtime=0))
        sources.append(f"{listing}")
        tree = LexborHTMLParser(raw.decode())
        for a in tree.css("td.TitleFront > a"):
            slug = (a.attributes.get("href") or "").strip("/")
            path = f"{slug}/index.html"
            page = show(git_dir, path)
            (out / (path.replace("/", "__") + ".gz")).write_bytes(gzip.compress(page, mtime=0))
            sources.append(path)
            article = LexborHTMLParser(page.decode())
            cell = article.css_first("td.Time")
            date = parse_vietnamese_date(node_text(cell)) if cell is not None else None
            title = node_text(a)
            for span in a.css("span"):
                title = title.replace(node_text(span), "").strip()
            expected[f"/{slug}"] = {"title": title, "published": date.isoformat() if date else None}
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "SOURCES").write_text("\n".join(sources) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:])
