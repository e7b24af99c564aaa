"""What the bounded near-duplicate lookup misses (not a test): copies among template siblings.

    .venv/bin/python bench/dedup_recall.py [--communes 12] [--days 56]

A district writes one report template for `communes` x `days` meetings (the commune and the
date change, the wording and the figures do not: the hardest case, every report shares
most of its LSH buckets with hundreds of others). The province republishes each report
(tone marks placed otherwise, "Theo ..." appended) some time after the original. For each
delay, every copy's candidates are chosen as the store step chooses them
(`bantin.dedup.choose_candidates` over the members `storage.crawl.bucket_members` would
hand back: the BUCKET_CAP + 1 nearest in date on each side of each bucket), and the copies
whose original is not among them are counted; the exhaustive search (every member of
every bucket, as before issue 16) is beside it. No database: the buckets are built in memory.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bantin.dedup import BUCKET_CAP, THRESHOLD, BucketKey, choose_candidates, fingerprint  # noqa: E402

STORY = [
    "Ngày 21/9/2023, Thường trực Huyện ủy Hàm Yên làm việc với Đảng ủy xã Đức Ninh về kết quả thực hiện nhiệm vụ 8 tháng đầu năm 2023.",
    "Thu ngân sách trên địa bàn xã đạt 1,2 tỷ đồng, bằng 86% dự toán; xây dựng nông thôn mới đạt 17/19 tiêu chí.",
    "Tuy nhiên, công tác giải phóng mặt bằng còn chậm; tỷ lệ thu bảo hiểm y tế đạt thấp so với chỉ tiêu Nghị quyết.",
    "Đồng chí Bí thư Huyện ủy đề nghị Đảng ủy xã tập trung chỉ đạo hoàn thành các chỉ tiêu còn lại trong thời gian tới, nhất là thu ngân sách và giải phóng mặt bằng.",
]
COMMUNES = ("Đức Ninh", "Thái Sơn", "Bình Xa", "Minh Hương", "Yên Thuận", "Phù Lưu", "Tân Thành", "Bạch Xa", "Nhân Mục",
            "Thành Long", "Bằng Cốc", "Yên Phú", "Hùng Đức", "Tân Long", "Phúc Ninh", "Chiêu Yên")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communes", type=int, default=12)
    parser.add_argument("--days", type=int, default=56)
    args = parser.parse_args()

    text = "\n\n".join(STORY)
    first = dt.datetime(2023, 1, 2, 8, 0, tzinfo=dt.UTC)
    reports: list[tuple[str, dt.datetime]] = []
    for d in range(args.days):
        day = first + dt.timedelta(days=5 * d)
        for c, commune in enumerate(COMMUNES[: args.communes]):
            body = text.replace("Đức Ninh", commune).replace("21/9/2023", f"{day.day}/{day.month}/{day.year}")
            reports.append((body, day + dt.timedelta(minutes=c)))
    prints = [fingerprint(body) for body, _ in reports]
    buckets: dict[BucketKey, list[tuple[dt.datetime, int]]] = {}
    for i, fp in enumerate(prints):
        for key in fp.bucket_keys:
            buckets.setdefault(key, []).append((reports[i][1], i))
    for members in buckets.values():
        members.sort()
    sizes = sorted(len(m) for m in buckets.values())
    print(f"{len(reports)} reports, {len(buckets)} buckets, largest {sizes[-1]}, median {sizes[len(sizes) // 2]}")

    def around(key: BucketKey, when: dt.datetime) -> list[tuple[int, dt.datetime]]:
        members = buckets.get(key, [])
        cut = bisect.bisect_right(members, (when, len(reports)))
        near = members[max(0, cut - BUCKET_CAP - 1) : cut + BUCKET_CAP + 1]
        return [(i, at) for at, i in near]

    print("delay | copies | missed (bounded) | candidates / copy | missed (exhaustive) | comparisons / copy")
    for delay in (dt.timedelta(hours=3), dt.timedelta(days=2), dt.timedelta(days=30), dt.timedelta(days=400)):
        missed = candidates = missed_all = compared_all = 0
        for i, (body, at) in enumerate(reports):
            copy = fingerprint(body.replace("ủy", "uỷ") + "\n\nTheo Cổng TTĐT huyện Hàm Yên")
            when = at + delay
            chosen = choose_candidates(copy, when, {key: around(key, when) for key in copy.bucket_keys})
            candidates += len(chosen)
            missed += i not in chosen
            every = {j for key in copy.bucket_keys for _, j in buckets.get(key, [])}
            compared_all += len(every)
            missed_all += not (i in every and copy.minhash.jaccard(prints[i].minhash) >= THRESHOLD)
        n = len(reports)
        print(f"{delay} | {n} | {missed} | {candidates / n:.1f} | {missed_all} | {compared_all / n:.0f}")


if __name__ == "__main__":
    main()
