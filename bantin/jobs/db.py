"""The database as the jobs see it: sessions on the settings' URL, and schema revisions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bantin.settings import Settings, SettingsError
from storage import session as storage_session


def database(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the settings' database (its schema upgraded once per process).

    A database bantin cannot use (unsupported URL, a folder it cannot write, a schema newer
    than this code) raises SettingsError naming the variable, before anything is written.
    """
    url = settings.resolved_database_url
    variable = "BANTIN_DATABASE_URL" if settings.database_url else "BANTIN_DATA_DIR"
    shown = _describe(url) if settings.database_url else str(settings.data_dir)
    try:
        path = storage_session.sqlite_path(storage_session.normalise_url(url))
        if path is not None:
            _check_writable(path.parent)
        return storage_session.session_factory(url)
    except storage_session.DatabaseUrlError as exc:
        raise SettingsError(f"{variable}={shown}: {exc}") from None
    except (storage_session.SchemaNewerError, OSError) as exc:
        raise SettingsError(f"{variable}={shown}: {exc}") from None


def _check_writable(folder: Path) -> None:
    """The folder of a SQLite file: made when missing, and writable (SQLite needs its journal there)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create the data folder {folder} ({exc.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"the data folder {folder} is not writable")


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
    try:
        engine = storage_session.make_engine(url)
    except storage_session.DatabaseUrlError as exc:
        raise SettingsError(f"BANTIN_DATABASE_URL: {exc}") from None
    try:
        before = storage_session.current_revision(engine)
        if upgrade_to is not None:
            storage_session.upgrade(engine, upgrade_to)
        after = storage_session.current_revision(engine)
    except storage_session.SchemaNewerError as exc:
        raise SettingsError(f"{_describe(url)}: {exc}") from None
    finally:
        engine.dispose()
    return Revisions(_describe(url), before, after, storage_session.head_revision())
