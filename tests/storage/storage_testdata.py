"""Test data for the storage tests: real seed articles on their (offline) portals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bantin.dedup import content_hash
from storage.articles import NewArticle

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "articles"
ICT = dt.timezone(dt.timedelta(hours=7))  # Vietnam: portals print local times

PORTALS: list[dict[str, Any]] = [
    {
        "id": "vinh-linh",
        "name": "Cổng TTĐT huyện Vĩnh Linh",
        "district": "Vĩnh Linh",
        "province": "Quảng Trị",
        "family": "liferay",
        "base_url": "https://vinhlinh.quangtri.gov.vn",
        "enabled": True,
    },
    {
        "id": "tuyen-quang",
        "name": "Cổng TTĐT tỉnh Tuyên Quang",
        "district": None,
        "province": "Tuyên Quang",
        "family": "php_static",
        "base_url": "https://tuyenquang.gov.vn",
        "enabled": True,
    },
]


def seed_text(name: str = "000_5c1522404ab5e1ef.txt") -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


def seed_article(
    url: str = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/tin-tuc/1720166400000",
    *,
    portal_id: str = "vinh-linh",
    seed: str = "000_5c1522404ab5e1ef.txt",
    published_at: dt.datetime | None = dt.datetime(2024, 7, 5, 16, 30, tzinfo=ICT),
) -> NewArticle:
    text = seed_text(seed)
    lines = [line for line in text.splitlines() if line.strip()]
    return NewArticle(
        portal_id=portal_id,
        url=url,
        title=lines[1],
        text=text,
        content_hash=content_hash(text),
        published_at=published_at,
        byline="Vân Anh",
        captions=["Quang cảnh buổi làm việc"],
    )


def clause(text: str, words: str) -> dict[str, Any]:
    """An item quoting `words` from `text`, with its real offsets."""
    start = text.index(words)
    return {"text": words, "start": start, "end": start + len(words), "topic": None, "figures": []}


def meeting_record(text: str, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "is_meeting": True,
        "meeting_date": "2024-07-05",
        "district": "Vĩnh Linh",
        "province": "Quảng Trị",
        "kind": "working_session",
        "host_body": "Huyện ủy Vĩnh Linh",
        "chair": {"name": "Trần Nhật Quang", "title": "Bí thư Huyện ủy"},
        "officials": [],
        "communes": ["Vĩnh Lâm"],
        "commune_codes": [],
        "period": "6 tháng đầu năm 2024",
        "achievements": [clause(text, "diện tích và sản lượng gieo trồng lúa vụ Đông Xuân đạt và vượt kế hoạch đề ra")],
        "shortfalls": [
            clause(text, "công tác xây dựng nông thôn mới nâng cao còn chậm"),
            clause(text, "lãnh đạo phát triển kinh tế chưa thực sự đột phá"),
        ],
        "directives": [clause(text, "nghiêm túc thực hiện tốt những nhiệm vụ đã đề ra")],
    }
    record.update(overrides)
    return record
