"""Folding for matching, quoting from the original: both tone placements and non-NFC pages."""

from __future__ import annotations

import unicodedata

from bantin.extract import extract_meeting
from bantin.extract.textnorm import key, normalise


def test_both_tone_placements_compare_equal() -> None:
    assert key("Huyện ủy  Hòa Bình") == key("HUYỆN UỶ Hoà Bình") == "huyện uỷ hoà bình"


def test_offsets_map_back_into_decomposed_text() -> None:
    original = unicodedata.normalize("NFD", "Đảng ủy xã Đức Ninh: công tác phát triển đảng viên còn chậm.")
    nt = normalise(original)
    assert nt.norm.startswith("Đảng uỷ xã Đức Ninh")  # NFC and one tone placement
    start = nt.norm.index("công tác")
    end = nt.norm.index(" còn chậm") + len(" còn chậm")
    text, s, e = nt.quote(start, end)
    assert original[s:e] == text
    assert unicodedata.normalize("NFC", text) == "công tác phát triển đảng viên còn chậm"


def test_mixed_placements_and_nfd_give_the_same_record() -> None:
    nfc = (
        "Thường trực Huyện ủy làm việc với Đảng uỷ xã Vĩnh Giang\n\n"
        "Ngày 5/9/2023, đồng chí Hoàng Văn Hải, Phó Bí thư Thường trực Huyện uỷ chủ trì buổi làm việc "
        "với Đảng ủy xã Vĩnh Giang về kết quả 8 tháng đầu năm 2023.\n\n"
        "Tuy nhiên, công tác quản lý đất đai còn nhiều bất cập.\n\n"
        "Kết luận buổi làm việc, đồng chí đề nghị Đảng uỷ xã tập trung xử lý dứt điểm vi phạm trật tự xây dựng.\n"
    )
    a = extract_meeting(nfc, district="Vĩnh Linh", province="Quảng Trị")
    nfd = unicodedata.normalize("NFD", nfc)
    b = extract_meeting(nfd, district="Vĩnh Linh", province="Quảng Trị")
    for r, text in ((a, nfc), (b, nfd)):
        assert r.meeting_date is not None and r.meeting_date.isoformat() == "2023-09-05"
        assert r.chair is not None and r.chair.name == "Hoàng Văn Hải"
        assert r.communes == ["Vĩnh Giang"] and r.commune_codes == [19423]
        for c in [*r.shortfalls, *r.directives]:
            assert text[c.start : c.end] == c.text
    assert [unicodedata.normalize("NFC", c.text) for c in b.directives] == [c.text for c in a.directives]
    assert a.directives[0].text == "tập trung xử lý dứt điểm vi phạm trật tự xây dựng"
    assert a.shortfalls[0].text == "công tác quản lý đất đai còn nhiều bất cập"
