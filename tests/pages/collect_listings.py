"""Add listing pages of the open static portal copies to tests/pages/real/ (run once; kept for the record).

    python tests/pages/collect_listings.py

Each page is annotated with its layout's own selectors, not with bantin's parser: the
category list is `td.TitleFront > a` (SharePoint skin), `div.nd_detail a` (Liferay skin) or
`#boxlist01 a` (Bootstrap skin), hrefs as written, document order; the next page is the
pager's "Trang sau" link, else none. These pages are in the "untuned" split: they were
added after the parser was written and scored once before any change.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from bantin.parse.text import node_text

HERE = Path(__file__).parent / "real"
MIRRORS = Path("/work/.mirror")
# (repository, host, family, listing selector, paths)
SITES = [
    ("ewh-support/thanhtra.daknong", "thanhtra.daknong.gov.vn", "easywebhub-sharepoint", "td.TitleFront > a",
     ["tin-tuc/page/2/index.html", "tin-tuc/tin-hoat-dong-nganh/index.html"]),
    ("ewh-support/stp.daknong", "stp.daknong.gov.vn", "easywebhub-sharepoint", "td.TitleFront > a",
     ["tin-tuc-su-kien/index.html", "tin-tuc-su-kien/thong-tin-nganh/index.html"]),
    ("ewh-support/stc.daknong", "stc.daknong.gov.vn", "easywebhub-sharepoint", "td.TitleFront > a",
     ["tin-tuc/page/3/index.html", "tin-tuc/huong-dan-che-do-chinh-sach-tai-chinh/index.html"]),
    ("ewh-support/hdnd.daknong", "hdnd.daknong.gov.vn", "easywebhub-sharepoint", "td.TitleFront > a",
     ["tin-tuc-su-kien/hoat-dong-hdnd-tinh/index.html", "tin-tuc-su-kien/page/2/index.html"]),
    ("ewh-support/ubmttq.daknong", "ubmttq.daknong.gov.vn", "easywebhub-bootstrap", "#boxlist01 a",
     ["tin-tuc-su-kien/page/2/index.html", "tin-tuc-su-kien/thong-bao/index.html"]),
    ("ewh-support/ldld-1.daknong", "ldld.daknong.gov.vn", "easywebhub-liferay", "div.nd_detail a",
     ["tin-tuc-su-kien/page/2/index.html", "tin-tuc-su-kien/lien-doan-lao-dong-tinh/index.html"]),
    ("ewh-support/svhttdl.daknong", "svhttdl.daknong.gov.vn", "easywebhub-sharepoint", "td.TitleFront > a",
     ["tin-tuc-su-kien/page/2/index.html"]),
    ("ewh-support/sldtbxh.daknong", "sldtbxh.daknong.gov.vn", "easywebhub-sharepoint", "td.TitleFront > a",
     ["tin-tuc-su-kien/page/3/index.html"]),
    ("ewh-support/snnptnt.daknong", "snnptnt.daknong.gov.vn", "easywebhub-sharepoint", "td.TitleFront > a",
     ["tin-tuc-su-kien/index.html", "tin-tuc-su-kien/lam-nghiep/index.html"]),
]


def git_dir(repo: str) -> str:
    base = MIRRORS / repo.replace("/", "+", 1) / "repo"
    return str(base / ".git") if (base / ".git").is_dir() else str(base)


def main() -> None:
    number = 100
    for repo, host, family, selector, paths in SITES:
        gd = git_dir(repo)
        commit = subprocess.run(["git", "--git-dir", gd, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        for path in paths:
            raw = subprocess.run(["git", "--git-dir", gd, "show", f"HEAD:{path}"], capture_output=True, check=True).stdout
            tree = LexborHTMLParser(raw.decode("utf-8", errors="replace"))
            links = list(dict.fromkeys(a.attributes.get("href") or "" for a in tree.css(selector) if a.attributes.get("href")))
            next_page = None
            for a in tree.css("ul.pagination a"):
                if node_text(a).casefold() == "trang sau":
                    next_page = a.attributes.get("href")
            page_id = f"{number:03d}"
            number += 1
            record = {
                "id": page_id,
                "url": f"https://{host}/{path.removesuffix('index.html')}",
                "family": family,
                "split": "untuned",
                "origin": f"{repo} {path} @ {commit} (annotated with the layout's selectors: {selector})",
                "portal": host,
                "kind": "listing",
                "article_links": links,
                "article_links_rule": f"{selector}, document order, exact-string dedupe",
                "next_page": next_page,
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
            (HERE / f"{page_id}.html.gz").write_bytes(gzip.compress(raw, mtime=0))
            (HERE / f"{page_id}.json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
