"""Add article pages of the open static portal copies to tests/pages/real/ (run once; kept for the record).

    python tests/pages/collect_articles.py

The expected values below were written by reading each page's HTML (title, the date as the
page prints it, the verbatim start of the first and end of the last body paragraph, chrome
that must not be in the text), not from bantin's output. Every expected string is checked to
occur in the page's text before the page is written. These pages are in the "untuned" split:
they were added after the parser was written and scored once before any change made for them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from tests.pages.realpages import norm

HERE = Path(__file__).parent / "real"
MIRRORS = Path("/work/.mirror")

XEM = "Xem chi tiết"
PAGES: list[dict[str, Any]] = [
    {
        "id": "120",
        "repo": "ewh-support/stp.daknong",
        "host": "stp.daknong.gov.vn",
        "slug": "phat-dong-thang-hanh-dong-vi-an-toan-thuc-pham-nam-2019",
        "family": "easywebhub-sharepoint",
        "layout": "SP-A article: td.Time / p.Title / div.asset-content, photo captions in table cells",
        "title": "Phát động Tháng hành động vì an toàn thực phẩm năm 2019",
        "published": "2019-08-05T16:32",
        "published_text": "(05.08.2019 16:32)",
        "body_first": 'Với chủ đề: "Nói không với thực phẩm giả, thực phẩm kém chất lượng.',
        "body_last": "vi phạm về chất lượng, vệ sinh an toàn thực phẩm của các cơ sở sản xuất, chế biến, kinh doanh thực phẩm.",
        "body_last_alternatives": ['biểu thị quyết tâm hưởng ứng Tháng hành động "Vì An toàn thực phẩm" năm 2019.'],
        "chrome_samples": [
            "TIN MỚI HƠN",
            "Vinh danh 150 gương thanh niên công an tiêu biểu",
            "SỐ LƯỢT TRUY CẬP",
            "Liên kết Website",
            "Đại diện Siêu thị Co.opMart Gia Nghĩa phát biểu hưởng ứng Tháng hành động",
        ],
        "traps": [
            "the site's re-deploy stamp is the only date (the annotation keeps it, as for 019-023)",
            "the last sentence sits alone in a photo's table cell (caption or paragraph: arguable)",
        ],
    },
    {
        "id": "121",
        "repo": "ewh-support/stp.daknong",
        "host": "stp.daknong.gov.vn",
        "slug": "nhieu-hoat-dong-ky-niem-60-nam-ngay-mo-duong-ho-chi-minh",
        "family": "easywebhub-sharepoint",
        "layout": "SP-A article: td.Time / p.Title / div.asset-content, captions as plain paragraphs",
        "title": "Nhiều hoạt động kỷ niệm 60 năm Ngày mở đường Hồ Chí Minh",
        "published": "2019-08-05T16:32",
        "published_text": "(05.08.2019 16:32)",
        "body_first": "Ngày 3/4, tại Hà Nội, Bộ Quốc phòng tổ chức Họp báo quý I năm 2019",
        "body_last": "phục vụ tốt hơn cho nhân dân trong nước và khách quốc tế đến viếng Bác./.",
        "chrome_samples": ["TIN MỚI HƠN", "Thường trực HĐND tỉnh họp phiên thường kỳ tháng 3", "SỐ LƯỢT ĐANG ONLINE"],
        "traps": ['captions are ordinary <p> inside the body ("Các đại biểu và phóng viên tại buổi Họp báo.")'],
    },
    {
        "id": "122",
        "repo": "ewh-support/hdnd.daknong",
        "host": "hdnd.daknong.gov.vn",
        "slug": "xa-dak-mol-nguy-co-thieu-nuoc-tuoi-cho-cay-trong",
        "family": "easywebhub-sharepoint",
        "layout": "SP-C article: td.dv-title > div > h2 (title) / h3 (sapo) / p; a 'Xem chi tiết tại đây' row after the text",
        "title": "Xã Đak Mol nguy cơ thiếu nước tưới cho cây trồng",
        "published": None,
        "published_text": None,
        "body_first": "Thời gian qua, trong khi các địa phương khác trên địa bàn huyện mưa liên tiếp nhiều đợt",
        "body_last": "giải pháp khả thi nhất để giữ ổn định sản xuất trong lúc nguồn nước tưới không bảo đảm.",
        "chrome_samples": [XEM, "TIN ĐÃ ĐƯA", "VĂN BẢN MỚI", "V/v cung cấp danh sách người phát ngon"],
        "traps": [
            "no date on the article; the 'TIN ĐÃ ĐƯA' list dates itself (31/07/2019) and a 'VĂN BẢN MỚI' box has 22/08/2016",
            "the sapo is an <h3> under the title",
        ],
    },
    {
        "id": "123",
        "repo": "ewh-support/ubmttq.daknong",
        "host": "ubmttq.daknong.gov.vn",
        "slug": "cong-an-huyen-dak-song-tong-ket-cong-tac-nam-2018-va-trien-khai-nhiem-vu-nam-2019",
        "family": "easywebhub-bootstrap",
        "layout": "Bootstrap article: #contentdetail h4#title / view and comment counters / #detail p; comment form after",
        "title": "Công an huyện Đắk Song tổng kết công tác năm 2018 và triển khai nhiệm vụ năm 2019",
        "published": None,
        "published_text": None,
        "body_first": "Chiều 22-1-2019, Công an huyện tổ chức hội nghị tổng kết công tác năm 2018",
        "body_last": "tặng cờ thi đua ví an ninh tổ quốc cấp cơ sở năm 2018.",
        "chrome_samples": [XEM, "Gửi bình luận", "Không có bình luận", "lần xem", "Chia sẻ:"],
        "traps": [
            "no publication date (only 'Admin', a view counter and the meeting day in the text)",
            "captions are <strong> lines inside <p> between paragraphs",
        ],
    },
    {
        "id": "124",
        "repo": "ewh-support/ubmttq.daknong",
        "host": "ubmttq.daknong.gov.vn",
        "slug": "thanh-lap-lien-hiep-htx-hop-luc-dak-nong",
        "family": "easywebhub-bootstrap",
        "layout": "Bootstrap article: #contentdetail h4#title / #detail p",
        "title": "Thành lập Liên hiệp HTX Hợp Lực Đắk Nông",
        "published": None,
        "published_text": None,
        "body_first": "Sáng 22/11, tại Cửa hàng Trưng bày, giới thiệu và bán sản phẩm",
        "body_last": "mang lại lợi ích lớn hơn cho thành viên và người lao động.",
        "chrome_samples": [XEM, "Gửi bình luận", "Vui lòng đợi", "Mã xác thực"],
        "traps": ["three paragraphs only; the comment form's editor labels are long text lists"],
    },
    {
        "id": "125",
        "repo": "ewh-support/svhttdl.daknong",
        "host": "svhttdl.daknong.gov.vn",
        "slug": "le-khanh-thanh-nha-trien-lam-am-thanh-cong-vien-dia-chat-dak-nong",
        "family": "easywebhub-sharepoint",
        "layout": "SP-D article: div.noiDung > div.title (font > b) / div.moTaNgan / div.contents",
        "title": "Lễ khánh thành nhà triển lãm âm thanh - Công viên địa chất Đắk Nông",
        "published": None,
        "published_text": None,
        "body_first": "Ngày 31/7/2019, tại Trung tâm Văn hóa tỉnh, Ủy ban nhân dân tỉnh Đắk Nông tổ chức",
        "body_last": "tại Đắk Nông, đến với “Xứ sở của những giai điệu”.",
        "byline_or_source": "Xô Na",
        "chrome_samples": [XEM, "TIN ĐÃ ĐƯA", "HUYỆN ĐẮK MIL TỔ CHỨC HỘI THI KỂ CHUYỆN SÁCH HÈ 2019", "Thông tin cần biết"],
        "traps": [
            "no publication date; the header marquee carries a date range",
            "byline: a bare name in <strong> after the text",
        ],
    },
    {
        "id": "126",
        "repo": "ewh-support/sldtbxh.daknong",
        "host": "sldtbxh.daknong.gov.vn",
        "slug": "doan-dai-bieu-quoc-hoi-tinh-tiep-xuc-voi-cu-tri-krong-no",
        "family": "easywebhub-sharepoint",
        "layout": "SP-B article: td.Time / p.Title / div#part1 with photo tables; read counter, print and back links after",
        "title": "Đoàn đại biểu Quốc hội tỉnh tiếp xúc với cử tri Krông Nô",
        "published": "2019-04-25T10:00",
        "published_text": "thứ năm, Ngày 25/04/2019, 10:00",
        "body_first": "Sáng 23/4, tại UBND xã Đắk Nang, Đoàn đại biểu Quốc hội (ĐBQH) tỉnh",
        "body_last": "Đoàn ĐBQH tỉnh cũng đang thực hiện quyền giám sát quá trình giải quyết của tỉnh.",
        "byline_or_source": "Theo daknong.gov.vn",
        "chrome_samples": [
            "Số lượt người xem",
            "Bản in",
            "Quay lại",
            "Xem theo ngày:",
            "Chủ tịch UBND huyện Krông Nô Ngô Xuân Đông trả lời ý kiến của cử tri",
        ],
        "traps": ["the first paragraph is all <strong>", "a photo caption follows the last paragraph, then the source line"],
    },
    {
        "id": "127",
        "repo": "ewh-support/sldtbxh.daknong",
        "host": "sldtbxh.daknong.gov.vn",
        "slug": "hoi-thao-xay-dung-ke-hoach-hanh-dong-quoc-gia-phong-chong-bao-luc-xam-hai-tre-em",
        "family": "easywebhub-sharepoint",
        "layout": "SP-B article: td.Time / p.Title / p > span > span paragraphs, italic captions",
        "title": "Hội thảo Xây dựng Kế hoạch hành động Quốc gia phòng, chống bạo lực, xâm hại trẻ em",
        "published": "2019-04-22T10:00",
        "published_text": "thứ hai, Ngày 22/04/2019, 10:00",
        "body_first": "Khai mạc hội thảo, Thứ trưởng Bộ LĐ-TBXH Nguyễn Thị Hà cho biết",
        "body_last": "liên quan đến bạo lực, xâm hại trẻ em”, Thứ trưởng Nguyễn Thị Hà nhấn mạnh.",
        "byline_or_source": "Theo: http://molisa.gov.vn",
        "chrome_samples": ["Số lượt người xem", "Bản in", "Bàn chủ trì Hội thảo", "Xem theo ngày:"],
        "traps": ["italic captions between paragraphs", "the source is a link to another site"],
    },
]


def git_dir(repo: str) -> str:
    base = MIRRORS / repo.replace("/", "+", 1) / "repo"
    return str(base / ".git") if (base / ".git").is_dir() else str(base)


def main() -> None:
    for page in PAGES:
        gd = git_dir(page["repo"])
        commit = subprocess.run(
            ["git", "--git-dir", gd, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        path = f"{page['slug']}/index.html"
        raw = subprocess.run(["git", "--git-dir", gd, "show", f"HEAD:{path}"], capture_output=True, check=True).stdout
        text = norm(LexborHTMLParser(raw.decode("utf-8", "replace")).body.text(separator=" "))  # type: ignore[union-attr]
        wanted = [
            page["title"],
            page["body_first"],
            page["body_last"],
            *page.get("body_last_alternatives", []),
            *page["chrome_samples"],
        ]
        missing = [w for w in wanted if norm(w) not in text]
        assert not missing, (page["id"], missing)
        url = f"https://{page['host']}/{page['slug']}/"
        data = {
            "id": page["id"],
            "url": url,
            "portal": page["host"],
            "kind": "article",
            "layout": page["layout"],
            "title": page["title"],
            "published": page["published"],
            "published_text": page["published_text"],
            "body_first": page["body_first"],
            "body_last": page["body_last"],
            **({"body_last_alternatives": page["body_last_alternatives"]} if page.get("body_last_alternatives") else {}),
            "byline_or_source": page.get("byline_or_source"),
            "chrome_samples": page["chrome_samples"],
            "traps": page["traps"],
            "family": page["family"],
            "split": "untuned",
            "origin": f"{page['repo']} {path} @ {commit} (annotated by hand from the HTML)",
            "sha256": hashlib.sha256(raw).hexdigest(),
        }
        (HERE / f"{page['id']}.html.gz").write_bytes(gzip.compress(raw, mtime=0))
        (HERE / f"{page['id']}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(page["id"], url)


if __name__ == "__main__":
    main()
