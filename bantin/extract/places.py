"""Place names against the legacy (pre-July-2025) divisions of `vietnam_provinces.legacy`.

Articles before the 2025 reorganisation name the old districts and communes; two
communes may share a name ("Xã Đức Ninh" in Hàm Yên and elsewhere), so communes are
resolved within the portal's district.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bantin import places as gazetteer
from bantin.extract.textnorm import key


def bare(name: str | None) -> str | None:
    """'Huyện Hàm Yên' -> 'Hàm Yên' (bantin.places.bare); None for no name."""
    return (gazetteer.bare(name) or None) if name else None


@dataclass(frozen=True)
class Unit:
    name: str  # bare
    code: int
    parent: int | None


@dataclass
class _Index:
    provinces: dict[str, list[Unit]]
    districts: dict[str, list[Unit]]
    wards_by_district: dict[int, dict[str, Unit]]


@lru_cache(maxsize=1)
def _index() -> _Index:
    # Loading the tables takes ~1 s: once per process, on first use.
    from vietnam_provinces.legacy import District, Province, Ward

    provinces: dict[str, list[Unit]] = {}
    for p in Province.iter_all():
        u = Unit(bare(p.name) or p.name, int(p.code), None)
        provinces.setdefault(key(u.name), []).append(u)
    districts: dict[str, list[Unit]] = {}
    for d in District.iter_all():
        u = Unit(bare(d.name) or d.name, int(d.code), int(d.province_code))
        districts.setdefault(key(u.name), []).append(u)
    wards: dict[int, dict[str, Unit]] = {}
    for w in Ward.iter_all():
        u = Unit(bare(w.name) or w.name, int(w.code), int(w.district_code))
        wards.setdefault(u.parent or 0, {})[key(u.name)] = u
    return _Index(provinces, districts, wards)


def find_province(name: str | None) -> Unit | None:
    if not name:
        return None
    hits = _index().provinces.get(key(bare(name) or ""), [])
    return hits[0] if hits else None


def find_district(name: str | None, province: str | None = None) -> Unit | None:
    """The legacy district of that name, within the province when given (or unique)."""
    if not name:
        return None
    hits = _index().districts.get(key(bare(name) or ""), [])
    prov = find_province(province)
    if prov is not None:
        hits = [h for h in hits if h.parent == prov.code]
    return hits[0] if len(hits) == 1 else None


def province_of(district: Unit) -> Unit | None:
    for units in _index().provinces.values():
        for u in units:
            if u.code == district.parent:
                return u
    return None


def find_ward(name: str, district: Unit | None) -> Unit | None:
    if district is None:
        return None
    return _index().wards_by_district.get(district.code, {}).get(key(bare(name) or ""))


def ward_names(district: Unit | None) -> set[str]:
    """Keys of the district's commune names (for splitting place names off person names)."""
    if district is None:
        return set()
    return set(_index().wards_by_district.get(district.code, {}))
