"""`extract_meeting`: one article's text (+ its portal's district/province) -> MeetingRecord."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from bantin.extract import fields, labeller, places
from bantin.extract.clauses import FIGURE, find_clauses, topic_of
from bantin.extract.layout import analyse
from bantin.extract.model import Clause, MeetingRecord, Person
from bantin.extract.textnorm import NormText, key, normalise
from bantin.places import REORGANISATION
from bantin.tones import fold

# Bump on any change of the rules: stored records of older versions get re-extracted.
EXTRACTOR_VERSION = "2026.12.03-1"
_OWN_BODY = re.compile(
    fold(r"(?:đảng bộ|đảng uỷ|ubnd|hđnd|uỷ ban nhân dân|hội đồng nhân dân|mttq|mặt trận tổ quốc)\s+(?:xã|phường|thị trấn)\s+$"),
    re.I,
)


def _clause(nt: NormText, span: tuple[int, int], shift: int = 0) -> Clause:
    s, e = span
    text, os_, oe = nt.quote(s, e)
    os_, oe = os_ - shift, oe - shift
    figures = [nt.quote(m.start(), m.end())[0] for m in FIGURE.finditer(nt.norm, s, e)]
    return Clause(text=text, start=os_, end=oe, topic=topic_of(nt.norm[s:e]), figures=figures)


def _nfc(s: str | None) -> str | None:
    return unicodedata.normalize("NFC", s) if s is not None else None


def _dedupe(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if any(a <= s and e <= b for a, b in out):
            continue
        out.append((s, e))
    return out


def extract_meeting(
    text: str,
    *,
    district: str | None = None,
    province: str | None = None,
    published: dt.date | None = None,
    title: str | None = None,
) -> MeetingRecord:
    """Extract a meeting record from an article's cleaned text.

    `district`/`province` are the portal's (the text often doesn't name them);
    `published` helps date a meeting whose year the text leaves out. Offsets of the
    quoted clauses index `text` as given.
    """
    # Stored articles keep the headline apart from the body; the rules read it as the
    # first line, so it is put in front and the offsets are shifted back afterwards.
    shift = 0
    if title and key(title) not in {key(line) for line in text.strip().splitlines()[:4]}:
        prefix = title.strip() + "\n\n"
        text, shift = prefix + text, len(prefix)
    nt = normalise(text)
    norm = nt.norm
    layout = analyse(norm, title)
    record = MeetingRecord(extractor_version=EXTRACTOR_VERSION)
    if layout.title:
        record.title = nt.quote(layout.title.start, layout.title.end)[0].strip()
    elif title:
        record.title = title

    district = places.bare(district)
    province = places.bare(province)
    if not district and layout.title:
        tp = fields.TITLE_PLACE.match(norm, layout.title.start, layout.title.end)
        if tp and places.find_district(tp.group("n"), province):
            district = nt.quote(*tp.span("n"))[0]
    if not district:
        # "huyện X" in the text, X a district of the gazetteer ("HĐND huyện Nguyễn Thị Phương" is a person)
        mentioned = [places.bare(n) for n in fields.place_mentions(fields.DISTRICT, layout, norm)]
        district = next((n for n in mentioned if n and places.find_district(n, province)), None)
    district_unit = places.find_district(district, province) if district else None
    if not province:
        named = fields.place_mentions(fields.PROVINCE, layout, norm)
        if named:
            province = places.bare(named[0])
        elif district_unit is not None:
            p = places.province_of(district_unit)
            province = p.name if p else None
    record.district, record.province = district, province

    record.is_meeting = fields.is_meeting(layout, norm)
    if not record.is_meeting:
        return record

    record.kind = fields.meeting_kind(layout, norm)  # type: ignore[assignment]
    host = fields.host_body(layout, norm)
    if host:
        record.host_body = nt.quote(host.start, host.end)[0].strip()

    known_places = {key(x) for x in (district, province) if x} | places.ward_names(district_unit)
    chair, officials = fields.chair_and_officials(layout, norm, known_places)

    def person(p: fields.PersonSpan) -> Person:
        name = nt.quote(*p.name)[0].strip()
        t = fields.clean_title(norm, p.title)
        return Person(name=name, title=nt.quote(*t)[0].strip() if t else None)

    record.chair = person(chair) if chair else None
    if record.host_body is None and chair and chair.title:
        # "Bí thư Huyện uỷ Lâm Bình Nguyễn Văn Chương làm việc tại xã ...": the chair's body hosts
        m = fields.BODY.search(norm, *chair.title)
        if m:
            record.host_body = nt.quote(m.start(), m.end())[0].strip()
    record.officials = [person(p) for p in officials]

    seen: set[str] = set()
    own_body: set[str] = set()  # communes named as a body ("Đảng uỷ xã X"): the host's own after 2025
    for s, e in fields.commune_mentions(layout, norm):
        name = nt.quote(s, e)[0].strip()
        if _OWN_BODY.search(norm, max(0, s - 40), s):
            own_body.add(key(name))
        unit = places.find_ward(name, district_unit)
        if unit is None and district_unit is not None:
            # "xã Vĩnh Lâm Trần ..." or a name with a following capitalised word: try shorter
            words = name.split()
            for k in range(len(words) - 1, 0, -1):
                unit = places.find_ward(" ".join(words[:k]), district_unit)
                if unit:
                    name = " ".join(words[:k])
                    break
        if unit is None and district_unit is not None and key(name) == key(district or ""):
            continue
        name_key = key(name)
        if name_key in seen:
            continue
        seen.add(name_key)
        record.communes.append(name)
        record.commune_codes.append(unit.code if unit else None)

    period = fields.reporting_period(layout, norm, lambda s, e: nt.quote(s, e)[0])
    record.period = period.text if period else None
    record.meeting_date = fields.meeting_date(layout, norm, period, published)
    when = record.meeting_date or published
    if when is not None and when >= REORGANISATION and record.host_body:
        # after 1 July 2025 a commune meets as itself: its own name in the host is not a commune
        # it reviews ("Đảng uỷ xã Tống Trân tổ chức ...")
        host_key = key(record.host_body)
        kept = [(c, code) for c, code in zip(record.communes, record.commune_codes, strict=True)
                if key(c) not in host_key and key(c) not in own_body]
        record.communes = [c for c, _ in kept]
        record.commune_codes = [code for _, code in kept]

    # Fields are names, not quotes: NFC so that they compare and group equal across pages.
    record.title = _nfc(record.title)
    record.host_body = _nfc(record.host_body)
    record.period = _nfc(record.period)
    record.communes = [unicodedata.normalize("NFC", c) for c in record.communes]
    for who in [record.chair, *record.officials]:
        if who is not None:
            who.name = unicodedata.normalize("NFC", who.name)
            who.title = _nfc(who.title)

    found = find_clauses(layout, norm)
    model = labeller.load_model()
    if model is not None:
        found = labeller.learned_clauses(layout, norm, found, model)
    record.achievements = [_clause(nt, sp, shift) for sp in _dedupe(found.achievements)]
    record.shortfalls = [_clause(nt, sp, shift) for sp in _dedupe(found.shortfalls)]
    record.directives = [_clause(nt, sp, shift) for sp in _dedupe(found.directives)]
    return record
