"""Import the 30 annotated pages of ../shared/pages into tests/pages/real/ (run once; kept for the record).

Each page becomes <id>.html.gz (the bytes as served) and <id>.json (the shared annotation plus the
page's URL, its software family and the split). Usage: python tests/pages/collect_shared.py SHARED_PAGES_DIR
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent / "real"

# Where each page lives in its site (found by identical bytes in the public static copies);
# Wayback homepages without a static copy get the capture URL their own links carry.
LOCATIONS: dict[str, str] = {
    "005": "http://web.archive.org/web/20170614025039/http://thanhtra.daknong.gov.vn/Pages/default.aspx",
    "019": "https://thanhtra.daknong.gov.vn/ket-qua-xu-ly-don-thu-tuan-4-thang-6-nam-2019/",
    "020": "https://thanhtra.daknong.gov.vn/xa-dak-mol-nguy-co-thieu-nuoc-tuoi-cho-cay-trong/",
    "021": "https://thanhtra.daknong.gov.vn/tin-tuc/",
    "022": "https://stp.daknong.gov.vn/sap-xep-to-chuc-bo-may-gan-voi-tinh-gian-bien-che-tao-duoc-su-dong-thuan-thong-nhat-cao/",
    "023": "https://stp.daknong.gov.vn/thuong-truc-hdnd-tinh-hop-phien-thuong-ky-thang-3/",
    "024": "https://stp.daknong.gov.vn/tin-tuc-su-kien/thong-tin-hoat-dong/",
    "025": "https://stp.daknong.gov.vn/tin-tuc-su-kien/page/2/",
    "026": "https://stc.daknong.gov.vn/tinh-lo-2-xuong-cap-nghiem-trong/",
    "027": "https://stc.daknong.gov.vn/ngan-chan-hieu-qua-tinh-trang-nhung-nhieu-gay-phien-ha-cho-nguoi-dan-dn/",
    "028": "https://stc.daknong.gov.vn/tin-tuc/",
    "029": "https://ldld.daknong.gov.vn/hoat-dong-san-xuat-kinh-doanh-ruou-nhieu-van-de-can-giai-quyet/",
    "030": "https://ldld.daknong.gov.vn/dak-song-chan-chinh-tac-phong-le-loi-lam-viec-cua-can-bo-cong-chuc-vien-chuc/",
    "031": "https://ldld.daknong.gov.vn/tin-tuc-su-kien/",
    "032": "https://hdnd.daknong.gov.vn/khai-mac-hoi-nghi-ban-chap-hanh-dang-bo-tinh-lan-thu-15/",
    "033": "https://hdnd.daknong.gov.vn/tin-tuc-su-kien/",
    "034": "https://ubmttq.daknong.gov.vn/hoi-thi-the-thao-cac-dan-toc-thieu-so-tinh-dak-nong-lan-thu-vii-nam-2019/",
    "035": "https://ubmttq.daknong.gov.vn/tin-tuc-su-kien/",
    "036": "https://svhttdl.daknong.gov.vn/be-mac-le-hoi-van-hoa-tho-cam-viet-nam-lan-thu-i/",
    "037": "https://svhttdl.daknong.gov.vn/tin-tuc-su-kien/",
    "038": "https://sldtbxh.daknong.gov.vn/giao-ban-cong-tac-lao-dong-nguoi-co-cong-va-xa-hoi-nam-2019-thuc-day-cong-viec-nhanh-hon-chat-luong-cao-hon/",
    "039": "https://sldtbxh.daknong.gov.vn/tin-tuc-su-kien/",
    "041": "http://web.archive.org/web/20180416192630/http://snnptnt.daknong.gov.vn/Pages/default.aspx",
    "042": "https://hdnd.daknong.gov.vn/hoi-nghi-trao-doi-kinh-nghiem-thuong-truc-hdnd-hai-cap-lan-thu-v/",
    "043": "https://sldtbxh.daknong.gov.vn/chi-bo-i-to-chuc-le-ket-nap-dang-vien/",
    "044": "https://ubmttq.daknong.gov.vn/thanh-nien-dak-nong-phan-khoi-len-duong-nhap-ngu/",
}
MIRRORS: dict[str, tuple[str, str, str]] = {}  # id -> (repository, path, commit): filled from SOURCES.tsv

# Where the shared annotation misses part of the page: added alternatives, each with its reason.
CORRECTIONS: dict[str, dict[str, object]] = {
    "020": {
        "body_last_alternatives": ["giải pháp khả thi nhất để giữ ổn định sản xuất trong lúc nguồn nước tưới không bảo đảm."],
        "correction_note": "the body has one more paragraph ('Theo nhận định của chính quyền địa phương, ...') "
        "after the annotated last one, in the same container, before 'xem chi tiết tại đây'",
    },
}

# Pages of portals whose layouts the generic parser was NOT tuned on (see tests/pages/README.md).
UNTUNED = {"036", "037", "038", "039", "040", "041", "043"}


def family_of(label: str) -> str:
    if label.startswith("LacViet SharePoint 2010"):
        return "lacviet-sharepoint"
    if "Liferay" in label:
        return "easywebhub-liferay"
    if "Bootstrap" in label:
        return "easywebhub-bootstrap"
    return "easywebhub-sharepoint"


def main(shared: Path) -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for line in (shared / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        raw = (shared / item["file"]).read_bytes()
        page_id = item["id"]
        url = LOCATIONS.get(page_id)
        if url is None:  # a Wayback homepage: its own links name the capture
            stamp = re.search(rb"/web/(\d{14})/", raw)
            assert stamp is not None, page_id
            url = f"http://web.archive.org/web/{stamp.group(1).decode()}/http://{item['portal']}/Pages/default.aspx"
        record = {
            "id": page_id,
            "url": url,
            **{k: v for k, v in item.items() if k not in ("id", "file", "source", "family")},
            "family": family_of(item["family"]),
            "family_label": item["family"],
            "split": "untuned" if page_id in UNTUNED else "tuned",
            "origin": "../shared/pages (annotated by hand)",
            "sha256": hashlib.sha256(raw).hexdigest(),
        }
        for key, value in CORRECTIONS.get(page_id, {}).items():
            if isinstance(value, list):
                record[key] = [*record.get(key, []), *value]
            else:
                record[key] = value
        (HERE / f"{page_id}.html.gz").write_bytes(gzip.compress(raw, mtime=0))
        (HERE / f"{page_id}.json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
