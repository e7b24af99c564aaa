"""The database as the jobs see it: sessions on the settings' URL, and schema revisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bantin.settings import Settings
from storage import session as storage_session


def database(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the settings' database (its schema upgraded once per process)."""
    return storage_session.session_factory(settings.resolved_database_url)


@dataclass(frozen=True)
class Revisions:
    database: str  # the URL, password hidden
    before: str | None  # None: an empty database
    after: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        return self.after == self.head


def _describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def revisions(settings: Settings, *, upgrade_to: str | None = None) -> Revisions:
    """The database's schema revision (after upgrading to `upgrade_to` when given) and head."""
    url = settings.resolved_database_url
    engine = storage_session.make_engine(url)
    try:
        before = storage_session.current_revision(engine)
        if upgrade_to is not None:
            storage_session.upgrade(engine, upgrade_to)
        after = storage_session.current_revision(engine)
    finally:
        engine.dispose()
    return Revisions(_describe(url), before, after, storage_session.head_revision())
