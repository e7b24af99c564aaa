"""The meeting record: the gold shape of /work/shared/gold/README.md plus a few extras."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from bantin.topics import Topic

Kind = Literal["working_session", "committee_conference"]


class Person(BaseModel):
    name: str
    title: str | None = None


class Clause(BaseModel):
    """A clause quoted verbatim: `text == source_text[start:end]`."""

    text: str
    start: int
    end: int
    topic: Topic
    figures: list[str] = Field(default_factory=list)


class MeetingRecord(BaseModel):
    source: str | None = None
    is_meeting: bool = False
    title: str | None = None
    meeting_date: dt.date | None = None
    district: str | None = None
    province: str | None = None
    kind: Kind | None = None
    host_body: str | None = None
    chair: Person | None = None
    officials: list[Person] = Field(default_factory=list)
    communes: list[str] = Field(default_factory=list)
    # legacy (pre-2025) ward codes of `communes`, same order; null where unresolved
    commune_codes: list[int | None] = Field(default_factory=list)
    period: str | None = None
    achievements: list[Clause] = Field(default_factory=list)
    shortfalls: list[Clause] = Field(default_factory=list)
    directives: list[Clause] = Field(default_factory=list)
    extractor_version: str = ""
