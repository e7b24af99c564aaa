"""Places by date: the legacy divisions before 1 July 2025, the 2025 units after it.

Vietnam abolished districts on 1 July 2025 and merged 63 provinces into 34. A portal
that published for "huyện Vĩnh Linh" now publishes for "xã Vĩnh Linh"; a meeting is
placed in the unit in force on its date, and a reader following either name must get
both. Every unit and every conversion comes from `vietnam-provinces` (its legacy
tables and its 2025 conversion helpers); bantin keeps no table of its own.

    resolve_place("Vĩnh Linh", province="Quảng Trị")   the units a name can mean
    place_meeting(day, portal_codes)                  the codes a meeting is stored under
    following(places)                                 the codes a reader's places cover
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

#: Districts ceased to exist on this day (Resolution 202/2025/QH15 and the laws with it).
REORGANISATION = dt.date(2025, 7, 1)

PlaceKind = Literal["legacy_province", "legacy_district", "province", "ward"]

_PREFIX = re.compile(r"^(?:tỉnh|thành phố|tp\.?|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)\s+", re.I)
# A prefix says which level a name is of; "thành phố" is a province or a legacy district.
_PREFIX_KINDS: dict[str, frozenset[PlaceKind]] = {
    "tinh": frozenset({"legacy_province", "province"}),
    "thanh-pho": frozenset({"legacy_province", "province", "legacy_district"}),
    "tp": frozenset({"legacy_province", "province", "legacy_district"}),
    "huyen": frozenset({"legacy_district"}),
    "quan": frozenset({"legacy_district"}),
    "thi-xa": frozenset({"legacy_district"}),
    "xa": frozenset({"ward"}),
    "phuong": frozenset({"ward"}),
    "dac-khu": frozenset({"ward"}),
}
KIND_LABELS: dict[PlaceKind, str] = {
    "legacy_province": "tỉnh cũ (trước 7/2025)",
    "legacy_district": "huyện cũ (trước 7/2025)",
    "province": "tỉnh (từ 7/2025)",
    "ward": "xã/phường (từ 7/2025)",
}


class UnknownPlaceError(ValueError):
    """A place name (or code) that no unit of `vietnam-provinces` carries."""

    def __init__(self, message: str, nearest: Sequence[str] = ()) -> None:
        self.nearest = tuple(nearest)
        suffix = f"; nearest known: {', '.join(self.nearest)}" if self.nearest else ""
        super().__init__(message + suffix)


def name_key(name: str) -> str:
    """'Vĩnh Linh', 'vinh-linh' and 'VINH LINH' compare equal."""
    text = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _spelling(name: str) -> str:
    return unicodedata.normalize("NFC", " ".join(name.split())).casefold()


def bare(name: str) -> str:
    """'Huyện Hàm Yên' -> 'Hàm Yên'."""
    return _PREFIX.sub("", name.strip()).strip()


@dataclass(frozen=True)
class Place:
    """One administrative unit of one era."""

    kind: PlaceKind
    code: int
    name: str  # as the package spells it: "Huyện Vĩnh Linh", "Xã Vĩnh Linh", "Tỉnh Quảng Trị"
    province_code: int | None = None  # the province of its era; None for a province
    province_name: str | None = None

    @property
    def label(self) -> str:
        """'Xã Vĩnh Linh, Tỉnh Quảng Trị' (a province alone for a province)."""
        return f"{self.name}, {self.province_name}" if self.province_name else self.name


@dataclass
class _Gazetteer:
    by_key: dict[str, list[Place]] = field(default_factory=dict)
    by_code: dict[tuple[PlaceKind, int], Place] = field(default_factory=dict)
    # 2025 province code of each legacy province (a legacy province went whole into one).
    successor_province: dict[int, int] = field(default_factory=dict)

    def add(self, place: Place) -> None:
        self.by_key.setdefault(name_key(bare(place.name)), []).append(place)
        self.by_code[(place.kind, place.code)] = place


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    # Loading the package's tables takes about a second: once per process, on first use.
    from vietnam_provinces import Province, Ward
    from vietnam_provinces.legacy import District as LegacyDistrict
    from vietnam_provinces.legacy import Province as LegacyProvince

    g = _Gazetteer()
    provinces = {int(p.code): p.name for p in Province.iter_all()}
    legacy_provinces = {int(p.code): p.name for p in LegacyProvince.iter_all()}
    for code, name in provinces.items():
        g.add(Place("province", code, name))
    for code, name in legacy_provinces.items():
        g.add(Place("legacy_province", code, name))
        successors = Province.search_from_legacy(code=code)
        if successors:
            g.successor_province[code] = int(successors[0].province.code)
    for d in LegacyDistrict.iter_all():
        pcode = int(d.province_code)
        g.add(Place("legacy_district", int(d.code), d.name, pcode, legacy_provinces.get(pcode)))
    for w in Ward.iter_all():
        pcode = int(w.province_code)
        g.add(Place("ward", int(w.code), w.name, pcode, provinces.get(pcode)))
    return g


def place_by_code(kind: PlaceKind, code: int) -> Place | None:
    return _gazetteer().by_code.get((kind, code))


def successor_province(legacy_province_code: int) -> int | None:
    """The 2025 province a legacy province was merged into."""
    return _gazetteer().successor_province.get(legacy_province_code)


def nearest_names(name: str, kinds: Iterable[PlaceKind] | None = None, n: int = 3) -> list[str]:
    """Known unit names closest to a misspelt one, for error messages."""
    g = _gazetteer()
    allowed = set(kinds) if kinds is not None else None
    keys = [k for k, places in g.by_key.items() if allowed is None or any(p.kind in allowed for p in places)]
    out: list[str] = []
    for k in difflib.get_close_matches(name_key(bare(name)), keys, n=n, cutoff=0.6):
        place = next(p for p in g.by_key[k] if allowed is None or p.kind in allowed)
        out.append(place.label)
    return out


def resolve_place(
    name: str,
    *,
    province: str | None = None,
    kinds: Iterable[PlaceKind] | None = None,
) -> list[Place]:
    """Every unit `name` can mean, narrowed by its prefix ("huyện", "xã", "tỉnh"), by `kinds`
    and by `province` (a province of either era containing it). "Vĩnh Linh" in Quảng Trị is
    both the legacy district and the 2025 commune. Raises UnknownPlaceError with the nearest
    known names when nothing matches."""
    g = _gazetteer()
    allowed: set[PlaceKind] = set(kinds) if kinds is not None else set(KIND_LABELS)
    match = _PREFIX.match(name.strip())
    if match:
        allowed &= _PREFIX_KINDS.get(name_key(match.group(0)), frozenset(KIND_LABELS))
    hits = [p for p in g.by_key.get(name_key(bare(name)), []) if p.kind in allowed]
    # Accents tell "Quảng Bình" from "Quang Bình": an exactly spelt name wins; a name
    # typed without accents ("vinh-linh") matches them all.
    exact = [p for p in hits if _spelling(bare(p.name)) == _spelling(bare(name))]
    hits = exact or hits
    if province and hits:
        # Codes are per era (legacy 44 is Quảng Bình, 2025 44 is Quảng Trị): compare
        # a unit's province with the provinces of its own era.
        containing: set[tuple[bool, int | None]] = set()
        for p in resolve_place(province, kinds=("legacy_province", "province")):
            containing.add((p.kind == "legacy_province", p.code))
            if p.kind == "legacy_province":
                # A 2025 unit lies in the province its legacy province went into.
                containing.add((False, successor_province(p.code)))
        hits = [
            p
            for p in hits
            if p.province_code is None or (p.kind == "legacy_district", p.province_code) in containing
        ]
        if not hits:
            raise UnknownPlaceError(f"no {_kinds_text(allowed)} named {name!r} in {province!r}", nearest_names(name, allowed))
    if not hits:
        raise UnknownPlaceError(f"no {_kinds_text(allowed)} named {name!r}", nearest_names(name, allowed))
    return hits


def _kinds_text(kinds: Iterable[PlaceKind]) -> str:
    return " or ".join(KIND_LABELS[k] for k in sorted(kinds))


def resolve_one(name: str, *, code: int | None = None, province: str | None = None, kinds: Iterable[PlaceKind]) -> Place:
    """The single unit of `kinds` that `name` (and `code`, when given) names."""
    hits = resolve_place(name, province=province, kinds=kinds)
    if code is not None:
        hits = [p for p in hits if p.code == code]
        if not hits:
            raise UnknownPlaceError(f"{name!r} has no unit with code {code}")
    if len(hits) > 1:
        raise UnknownPlaceError(
            f"{name!r} is ambiguous: {'; '.join(f'{p.label} (code {p.code})' for p in hits)}; give the code or the province"
        )
    return hits[0]


# --- meetings --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceCodes:
    """The codes a portal publishes for, or a meeting is stored under (None: not that era's)."""

    legacy_province_code: int | None = None
    legacy_district_code: int | None = None
    province_code: int | None = None
    ward_code: int | None = None


def predecessor_districts(ward_code: int) -> list[int]:
    """Legacy districts whose communes went (wholly or partly) into a 2025 commune/ward."""
    from vietnam_provinces import Ward
    from vietnam_provinces.codes import WardCode

    try:
        ward = Ward.from_code(WardCode(ward_code))
    except ValueError:
        return []
    return sorted({int(w.district_code) for w in ward.get_legacy_sources()})


@lru_cache(maxsize=512)
def successor_wards(legacy_district_code: int) -> tuple[int, ...]:
    """2025 communes/wards formed (wholly or partly) from a legacy district's communes."""
    from vietnam_provinces import Ward

    return tuple(sorted({int(w.ward.code) for w in Ward.search_from_legacy_district(code=legacy_district_code)}))


def place_meeting(day: dt.date | None, portal: PlaceCodes) -> PlaceCodes:
    """The units in force on `day` for a meeting published by a portal of `portal`'s units:
    before 1 July 2025 the legacy district and province (and the province that succeeded
    it, so a province's reader finds it), from then on the 2025 commune/ward and province.
    An undated meeting is taken as current."""
    if day is not None and day < REORGANISATION:
        district = portal.legacy_district_code
        if district is None and portal.ward_code is not None:
            # A portal known only as its new commune: the district its communes came from,
            # when there is exactly one.
            districts = predecessor_districts(portal.ward_code)
            district = districts[0] if len(districts) == 1 else None
        legacy_province = portal.legacy_province_code
        if district is not None:
            legacy_province = _province_of_district(district) or legacy_province
        province = successor_province(legacy_province) if legacy_province is not None else portal.province_code
        return PlaceCodes(legacy_province, district, province, None)
    province = portal.province_code
    if province is None and portal.legacy_province_code is not None:
        province = successor_province(portal.legacy_province_code)
    return PlaceCodes(None, None, province, portal.ward_code)


def _province_of_district(code: int) -> int | None:
    place = place_by_code("legacy_district", code)
    return place.province_code if place else None


# --- readers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Following:
    """What a reader's places cover, as sets of stored codes: a meeting is theirs when any
    of its codes is in the matching set."""

    legacy_province_codes: frozenset[int] = frozenset()
    legacy_district_codes: frozenset[int] = frozenset()
    province_codes: frozenset[int] = frozenset()
    ward_codes: frozenset[int] = frozenset()

    def covers(self, codes: PlaceCodes) -> bool:
        return (
            codes.legacy_province_code in self.legacy_province_codes
            or codes.legacy_district_code in self.legacy_district_codes
            or codes.province_code in self.province_codes
            or codes.ward_code in self.ward_codes
        )


def following(places: Iterable[Place]) -> Following:
    """A legacy district brings its successor communes; a 2025 commune brings its
    predecessor districts' history; a province of either era brings itself (a legacy
    province also the communes formed from it)."""
    legacy_provinces: set[int] = set()
    districts: set[int] = set()
    provinces: set[int] = set()
    wards: set[int] = set()
    for place in places:
        if place.kind == "legacy_district":
            districts.add(place.code)
            wards.update(successor_wards(place.code))
        elif place.kind == "ward":
            wards.add(place.code)
            districts.update(predecessor_districts(place.code))
        elif place.kind == "province":
            provinces.add(place.code)
        else:
            legacy_provinces.add(place.code)
            from vietnam_provinces.legacy import District as LegacyDistrict
            from vietnam_provinces.legacy.codes import ProvinceCode as LegacyProvinceCode

            for d in LegacyDistrict.iter_by_province(LegacyProvinceCode(place.code)):
                wards.update(successor_wards(int(d.code)))
    return Following(frozenset(legacy_provinces), frozenset(districts), frozenset(provinces), frozenset(wards))


def resolve_places(names: Sequence[str]) -> list[Place]:
    """Every unit each name can mean (a reader naming "Vĩnh Linh" follows the district and
    the commune alike); raises UnknownPlaceError on the first unknown name."""
    out: list[Place] = []
    for name in names:
        # "Vĩnh Linh, Quảng Trị": a province after a comma narrows a name found in several.
        unit, _, province = name.rpartition(",")
        if unit.strip() and province.strip():
            out.extend(resolve_place(unit.strip(), province=province.strip()))
        else:
            out.extend(resolve_place(name))
    return out
