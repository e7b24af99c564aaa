"""The rendered digest: e-mail-safe HTML, the same content as text, and the archive."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from bantin.digest.archive import rebuild_index, write_digest
from bantin.digest.model import DigestItem, DigestWeek
from bantin.digest.render import TOPIC_LABELS, render
from bantin.topics import TOPICS
from digest_world import IMG_ATTACK, SCRIPT_TITLE, hostile_digest

ATOM = "{http://www.w3.org/2005/Atom}"


def test_html_is_inlined_escaped_and_script_free() -> None:
    html = render(hostile_digest()).html
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert re.search(r"<script\b", html, re.I) is None and "<img" not in html
    assert "&lt;script&gt;document.title=" in html
    # Text nodes: '<' and '>' escaped (the inliner re-serialises '"' plainly, harmless there).
    assert '"&gt;&lt;img src=x onerror=' in html
    # Styles live on the elements; only the phone media query stays in <head>.
    assert re.search(r'class="container"[^>]*style="[^"]*max-width:640px', html)
    head_style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert head_style and head_style.group(1).strip().startswith("@media")
    assert "#8b1d1d" not in head_style.group(1)  # the masthead colour was inlined, not kept
    assert 'role="presentation"' in html  # layout tables, not CSS layout
    assert "Hủy đăng ký" not in html  # no unsubscribe link unless given one


def test_text_alternative_carries_the_same_content() -> None:
    digest = hostile_digest()
    rendered = render(digest, unsubscribe="mailto:bantin@example.org?subject=unsubscribe")
    for district in digest.districts:
        assert district.name in rendered.text
        for meeting in district.meetings:
            assert meeting.title in rendered.text and meeting.url in rendered.text
            for item in (*meeting.shortfalls, *meeting.directives):
                assert item.text in rendered.text and item.link in rendered.text
                assert item.link in rendered.html
    assert SCRIPT_TITLE in rendered.text and IMG_ATTACK in rendered.text  # plain text: shown as is
    assert "Hủy đăng ký: mailto:bantin@example.org?subject=unsubscribe" in rendered.text
    assert rendered.subject == "Tuần 27 (01–07/07/2024): 2 cuộc họp tại 2 địa phương"


def test_every_extractor_topic_has_a_vietnamese_label() -> None:
    assert set(TOPICS) <= set(TOPIC_LABELS)


def test_a_quote_of_no_topic_is_labelled_other_and_topics_make_no_recurring_problem() -> None:
    digest = hostile_digest()
    general = "Thực hiện tốt những nhiệm vụ đã đề ra"
    for district in digest.districts:  # both districts: "other" would otherwise recur
        meeting = district.meetings[0]
        meeting.directives = [*meeting.directives, DigestItem("directive", general, "other", "https://example.vn/#:~:text=x")]
    rendered = render(digest)
    assert f'"{general}" [Khác]' in rendered.text
    assert re.search(re.escape(general) + r"”\s*<span style=\"[^\"]*\">Khác</span>", rendered.html)
    # Recurring problems come from "named before" matches, never from topic labels shared by places.
    recurring = rendered.text.split("HẠN CHẾ ĐƯỢC NÊU LẠI")[1].split("=" * 60)[0]
    assert "Không có hạn chế nào đã được cùng địa phương nêu trong 8 tuần qua." in recurring
    assert "Xây dựng Đảng" not in recurring and "Khác" not in recurring
    assert "Quản lý hành chính" not in rendered.text


def test_archive_index_and_atom_feed(tmp_path: Path) -> None:
    week = hostile_digest()
    empty = DigestWeek("2024-W28", dt.date(2024, 7, 8), dt.date(2024, 7, 14), [])
    filtered = DigestWeek("2024-W28", dt.date(2024, 7, 8), dt.date(2024, 7, 14), [], district_filter=("Vĩnh Linh",))
    for digest in (week, empty, filtered):
        written = write_digest(tmp_path, digest, render(digest))
        assert written.html_path.exists() and written.text_path.exists()
    assert sorted(p.name for p in tmp_path.glob("*.html")) == [
        "2024-W27.html", "2024-W28--vinh-linh.html", "2024-W28.html", "index.html",
    ]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index.index("2024-W28") < index.index("2024-W27")  # newest first
    assert 'href="2024-W27.html"' in index and "Tuần 27 (01–07/07/2024): 2 cuộc họp" in index

    feed = ET.parse(tmp_path / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = set()
    for entry in entries:
        ids.add(entry.findtext(f"{ATOM}id"))
        assert entry.findtext(f"{ATOM}title")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.findtext(f"{ATOM}updated") or "")
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("rel") == "alternate"
        href = link.get("href") or ""
        assert href.startswith("file://") and Path(href.removeprefix("file://")).exists()
    assert len(ids) == 3


def test_archive_index_page_lists_every_digest_with_its_period_and_text(tmp_path: Path) -> None:
    rebuild_index(tmp_path)
    empty = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert empty.startswith("<!DOCTYPE html>") and "<title>Lưu trữ bản tin</title>" in empty
    assert "Chưa có bản tin nào." in empty and 'href="feed.xml"' in empty

    write_digest(tmp_path, hostile_digest(), render(hostile_digest()))
    # a digest archived by hand (or by an older bantin) whose title carries markup
    (tmp_path / "2024-W26.html").write_text("<p>x</p>", encoding="utf-8")
    meta = {"name": "2024-W26", "title": "<b>Tuần 26</b>", "start": "2024-06-24", "end": "2024-06-30",
            "meetings": 0, "districts": [], "generated_at": "2024-07-01T00:00:00+00:00"}
    (tmp_path / "2024-W26.json").write_text(json.dumps(meta), encoding="utf-8")
    rebuild_index(tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Chưa có bản tin nào." not in index
    items = re.findall(r"<li>.*?</li>", index, re.S)
    assert len(items) == 2 and "2024-W27" in items[0] and "2024-W26" in items[1]  # newest first
    assert 'href="2024-W27.html"' in items[0] and 'href="2024-W27.txt"' in items[0]
    assert "2024-07-01 – 2024-07-07" in items[0]
    assert "&lt;b&gt;Tuần 26&lt;/b&gt;" in items[1] and "<b>" not in index

