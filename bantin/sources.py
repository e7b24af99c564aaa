"""The sources registry: deploy/sources.yaml, validated before any request is made.

A portal is one YAML entry; what its pages look like comes from its `family`
(bantin/families.py), defined once per portal software, or, when `family` is omitted
(`auto`, the default), from the pages themselves: bantin recognises the software page by
page and reads unknown software with the generic parser (bantin/parse/). Every mistake in the file is
reported with the file, the line and the entry/field it concerns, all of them at once,
so an operator fixes the file in one pass.

Decision on unknown families: accepted, not rejected. The portal is parsed with the
generic fallback (largest text block) and flagged: `Source.generic` is true, the crawl
report carries a warning and every article parsed has `generic=True`. A misspelt family
is therefore visible in every report instead of stopping the whole crawl.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from bantin import yamlfile
from bantin.families import AUTO, FAMILIES
from bantin.places import PlaceCodes, UnknownPlaceError, place_by_code, resolve_one, resolve_place, successor_province
from bantin.urls import AllowedOrigins, canonicalize_url, host_of

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


# Bounds of a portal's politeness: below MIN_RATE a crawl of one listing and a few articles
# would take hours (1e-7 requests/s is one request in four months: the crawl hangs), above
# MAX_RATE no small government server should be asked.
MIN_RATE, MAX_RATE = 0.01, 50.0
MAX_CONCURRENCY = 16


class Politeness(BaseModel):
    """Per-portal overrides of FetchSettings (a slow or fragile server asks for less)."""

    model_config = ConfigDict(extra="forbid")

    requests_per_second: float | None = Field(
        None, description=f"request starts per second on each of the portal's hosts, {MIN_RATE} to {MAX_RATE}"
    )
    concurrency: int | None = Field(None, description=f"requests in flight per host, 1 to {MAX_CONCURRENCY}")

    @field_validator("requests_per_second")
    @classmethod
    def _rate(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and MIN_RATE <= value <= MAX_RATE):
            raise ValueError(
                f"{value:g} requests/s is out of bounds: between {MIN_RATE} (one request every "
                f"{1 / MIN_RATE:.0f} s) and {MAX_RATE:g}"
            )
        return value

    @field_validator("concurrency")
    @classmethod
    def _concurrency(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_CONCURRENCY:
            raise ValueError(f"{value} requests in flight is out of bounds: between 1 and {MAX_CONCURRENCY}")
        return value


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return canonicalize_url(value)


def _allowed_entry(value: str) -> str:
    """An `allowed_hosts` entry: "host", "host:port" or an origin "scheme://host[:port]".

    Returned in one spelling; without a scheme the entry takes base_url's (see Source.origins).
    """
    text = value.strip().lower()
    problem = f"not a host or origin: {value!r} (give 'host', 'host:port' or 'https://host:port', no path)"
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    elif scheme not in ("http", "https"):
        raise ValueError(problem)
    try:
        parts = urlsplit(f"//{rest}")
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc or " " in host:
        raise ValueError(problem)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}" if scheme else netloc


# Validated per item, so an error names the item: listing_urls[2].
HttpUrlStr = Annotated[str, AfterValidator(_http_url)]
AllowedEntry = Annotated[str, AfterValidator(_allowed_entry)]


class Source(BaseModel):
    """One portal of deploy/sources.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="slug, unique; also the Prefect concurrency limit 'portal-<id>'")
    name: str = Field(min_length=1)
    district: str | None = Field(None, description="the legacy (pre-July-2025) district it published for")
    district_code: int | None = Field(None, description="that district's legacy code (vietnam_provinces.legacy)")
    province: str = Field(min_length=1)
    unit: str | None = Field(
        None, description="the 2025 commune/ward (or province) it publishes for since 1 July 2025"
    )
    unit_code: int | None = Field(None, description="that unit's 2025 code (vietnam_provinces)")
    family: str = Field(AUTO, min_length=1, description="a family of bantin/families.py, or 'auto' (default)")
    base_url: str
    listing_urls: list[HttpUrlStr] = Field(min_length=1)
    allowed_hosts: list[AllowedEntry] = Field(
        default_factory=list, description="more hosts (CDN, old domain) or origins the crawl may request"
    )
    verify_tls: bool = True
    private_network: bool = Field(
        False, description="may its hosts resolve to loopback/private/link-local addresses (an intranet portal)"
    )
    politeness: Politeness = Politeness()
    max_listing_pages: int | None = Field(None, ge=1)
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"{value!r} is not a slug (lowercase letters, digits and '-')")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value)

    @property
    def host(self) -> str:
        return host_of(self.base_url)

    @property
    def origins(self) -> AllowedOrigins:
        """Origins (scheme, host, port) the crawl may request for this portal: base_url's,
        each listing URL's and each `allowed_hosts` entry's (an entry without a scheme takes
        base_url's, without a port the scheme's default). On a default port the other scheme
        is allowed too (`bantin.urls.AllowedOrigins`); links and redirects elsewhere are refused."""
        scheme = urlsplit(self.base_url).scheme
        entries = [e if "://" in e else f"{scheme}://{e}" for e in self.allowed_hosts]
        return AllowedOrigins.of(self.base_url, *self.listing_urls, *entries)

    @property
    def hosts(self) -> frozenset[str]:
        """Host names of its origins: politeness (rate, concurrency) and TLS policy are per host."""
        return self.origins.hosts

    @property
    def generic(self) -> bool:
        """True when the family named is unknown (a typo?): pages are parsed by the generic fallback."""
        return self.family != AUTO and self.family not in FAMILIES

    @property
    def auto(self) -> bool:
        """True when the family is recognised from the pages (no family given)."""
        return self.family == AUTO

    @property
    def parse_family(self) -> str | None:
        """What the parsers are given: None to recognise the software from each page."""
        return None if self.auto else self.family

    @property
    def concurrency_limit_name(self) -> str:
        return f"portal-{self.id}"

    @property
    def place_codes(self) -> PlaceCodes:
        """The units it publishes for, as codes (validated when the file was loaded)."""
        return source_place_codes(self.province, self.district, self.district_code, self.unit, self.unit_code)

    # Read by storage.articles.upsert_portals, which stores them on the portal row.
    @property
    def legacy_province_code(self) -> int | None:
        return self.place_codes.legacy_province_code

    @property
    def legacy_district_code(self) -> int | None:
        return self.place_codes.legacy_district_code

    @property
    def province_code(self) -> int | None:
        return self.place_codes.province_code

    @property
    def ward_code(self) -> int | None:
        return self.place_codes.ward_code


@lru_cache(maxsize=256)
def source_place_codes(
    province: str, district: str | None, district_code: int | None, unit: str | None, unit_code: int | None
) -> PlaceCodes:
    """A source's units as codes; raises UnknownPlaceError (with the field in `field`)."""
    legacy_province: int | None = None
    legacy_district: int | None = None
    new_province: int | None = None
    ward: int | None = None
    try:
        provinces = resolve_place(province, kinds=("legacy_province", "province"))
    except UnknownPlaceError as exc:
        raise _FieldError("province", exc) from None
    legacy_province = next((p.code for p in provinces if p.kind == "legacy_province"), None)
    if district or district_code is not None:
        try:
            if district:
                place = resolve_one(district, code=district_code, province=province, kinds=("legacy_district",))
            else:
                assert district_code is not None
                found = place_by_code("legacy_district", district_code)
                if found is None:
                    raise UnknownPlaceError(f"no legacy district has code {district_code}")
                place = found
        except UnknownPlaceError as exc:
            raise _FieldError("district" if district else "district_code", exc) from None
        legacy_district, legacy_province = place.code, place.province_code
    if unit or unit_code is not None:
        try:
            if unit:
                new_unit = resolve_one(unit, code=unit_code, province=province, kinds=("ward", "province"))
            else:
                assert unit_code is not None
                found = place_by_code("ward", unit_code) or place_by_code("province", unit_code)
                if found is None:
                    raise UnknownPlaceError(f"no 2025 commune, ward or province has code {unit_code}")
                new_unit = found
        except UnknownPlaceError as exc:
            raise _FieldError("unit" if unit else "unit_code", exc) from None
        if new_unit.kind == "ward":
            ward, new_province = new_unit.code, new_unit.province_code
        else:
            new_province = new_unit.code
    if new_province is None:
        new_province = next((p.code for p in provinces if p.kind == "province"), None)
        if legacy_province is not None:
            new_province = successor_province(legacy_province) or new_province
    return PlaceCodes(legacy_province, legacy_district, new_province, ward)


class _FieldError(Exception):
    """A place field of a source that names no known unit (reported as a SourceIssue)."""

    def __init__(self, field: str, error: UnknownPlaceError) -> None:
        super().__init__(str(error))
        self.field = field
        self.error = error


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = Field(min_length=1)


@dataclass(frozen=True)
class SourceIssue:
    line: int | None  # 1-based
    where: str  # e.g. "sources[2] (id=ham-yen).listing_urls[0]"
    message: str


class SourcesError(ValueError):
    """deploy/sources.yaml is unusable; nothing has been fetched."""

    def __init__(self, path: Path, issues: list[SourceIssue]) -> None:
        self.path = path
        self.issues = issues
        lines = [f"{path}:{i.line if i.line else '?'}: {i.where}: {i.message}" for i in issues]
        super().__init__("invalid sources file\n" + "\n".join(lines))


def _describe(loc: tuple[int | str, ...], data: Any) -> str:
    out = ""
    entry = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if i == 1 and isinstance(entry, list) and part < len(entry) and isinstance(entry[part], dict):
                sid = entry[part].get("id")
                if sid:
                    out += f" (id={sid})"
        else:
            out += f".{part}" if out else str(part)
        if isinstance(entry, dict):
            entry = entry.get(part)
        elif isinstance(entry, list) and isinstance(part, int) and part < len(entry):
            entry = entry[part]
    return out


def parse_sources(text: str, path: Path) -> list[Source]:
    """Validate the text of a sources file; raise SourcesError naming file, line and field."""
    try:
        root, data = yamlfile.load(text)
    except yamlfile.YamlSyntaxError as exc:
        raise SourcesError(path, [SourceIssue(exc.line, "yaml", exc.problem)]) from None
    if not isinstance(data, dict):
        raise SourcesError(path, [SourceIssue(1, "sources", "the file must be a mapping with a 'sources' list")])
    try:
        registry = Registry.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            # Errors raised by a model validator of an entry carry no field: say so plainly.
            message = err["msg"].removeprefix("Value error, ")
            issues.append(SourceIssue(yamlfile.node_line(root, loc), _describe(loc, data), message))
        raise SourcesError(path, issues) from None
    issues = []
    first: dict[str, int] = {}
    for index, source in enumerate(registry.sources):
        if source.id in first:
            issues.append(
                SourceIssue(
                    yamlfile.node_line(root, ("sources", index, "id")),
                    f"sources[{index}] (id={source.id}).id",
                    f"duplicate id {source.id!r} (also sources[{first[source.id]}])",
                )
            )
        first.setdefault(source.id, index)
        try:
            source.place_codes  # noqa: B018 - validates the place fields against vietnam-provinces
        except _FieldError as exc:
            issues.append(
                SourceIssue(
                    yamlfile.node_line(root, ("sources", index, exc.field)),
                    f"sources[{index}] (id={source.id}).{exc.field}",
                    str(exc.error),
                )
            )
        declared = {source.host, *(host_of(e if "://" in e else f"//{e}") for e in source.allowed_hosts)}
        for j, url in enumerate(source.listing_urls):
            if host_of(url) not in declared:
                issues.append(
                    SourceIssue(
                        yamlfile.node_line(root, ("sources", index, "listing_urls", j)),
                        f"sources[{index}] (id={source.id}).listing_urls[{j}]",
                        f"{url} is on host {host_of(url)!r}, neither base_url's host nor in allowed_hosts",
                    )
                )
    if issues:
        raise SourcesError(path, issues)
    return registry.sources


def load_sources(path: Path, only: list[str] | None = None, include_disabled: bool = False) -> list[Source]:
    """Read and validate the registry; `only` picks ids (unknown ids are an error)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(path, [SourceIssue(None, "file", f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SourcesError(path, [SourceIssue(None, "file", f"not UTF-8: {exc}")]) from None
    sources = parse_sources(text, path)
    if only:
        by_id = {s.id: s for s in sources}
        unknown = [i for i in only if i not in by_id]
        if unknown:
            raise SourcesError(
                path,
                [SourceIssue(None, "--source", f"unknown source id {i!r}; known: {', '.join(sorted(by_id))}") for i in unknown],
            )
        return [by_id[i] for i in only]
    return [s for s in sources if s.enabled or include_disabled]
