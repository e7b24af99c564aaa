"""One settings object for the whole product, passed in as an argument.

Defaults live here and are documented here; `Settings.from_env()` reads the few
values that differ between a laptop, CI and a server (`ENVIRONMENT` lists them) and is
the only place bantin reads the environment. Components take a `Settings` (or the part
they need). Passwords are `SecretStr`: they print as '**********' in logs, reprs and
Prefect parameters.

A Prefect task receives plain values (ids, dates, flags) and reads `Settings.from_env()`
itself; a Settings object is never a flow or task parameter (it holds secrets, and a
parameter is stored on the server).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError

from bantin.localtime import LOCAL_TZ

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class FetchSettings(BaseModel):
    """Politeness and robustness of the HTTP fetcher."""

    user_agent: str = "bantin/0.1 (+https://github.com/bantin/bantin; digest of public local news)"
    requests_per_second: float = Field(1.0, description="per host, unless robots.txt Crawl-delay is slower")
    concurrency_per_host: int = 2
    max_portals_in_parallel: int = 8
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    max_retries: int = 3
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    max_bytes: int = 5_000_000
    max_listing_pages: int = 20
    verify_tls: bool = True


class SmtpSettings(BaseModel):
    """Mail delivery; with no host, messages go to .eml files in the outbox."""

    host: str | None = None
    port: int = 587
    security: str = Field("starttls", description="starttls, ssl or none")
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "bantin <bantin@localhost>"
    timeout_s: float = 30.0
    # Name of a Prefect Secret block holding the password, read when `password` is unset.
    password_secret_block: str | None = None
    # List-Unsubscribe target (mailto: or https:); default: mailto the sender.
    list_unsubscribe: str | None = None
    # CA bundle to verify the server's certificate (a relay with a private CA); default: the system's.
    ca_file: Path | None = None


class Settings(BaseModel):
    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str | None = Field(None, description="SQLAlchemy URL; SQLite in data_dir when unset")
    sources_file: Path = PROJECT_ROOT / "deploy" / "sources.yaml"
    subscribers_file: Path = PROJECT_ROOT / "deploy" / "subscribers.yaml"
    timezone: str = LOCAL_TZ.key  # the digest's week and the times readers see (bantin.localtime)
    offline: bool = False
    # Offline crawls reach this fixture server (`bantin fixtures serve`) instead of in-process portals.
    fixtures_url: str | None = None
    # Each portal's crawl runs inside the Prefect global concurrency limit "portal-<id>".
    concurrency_limits: bool = False
    # Where the operator mail goes (portal errors, robots.txt refusals, failing portals, the
    # week's deliveries); unset: the operator page in the archive only.
    operator_email: str | None = None
    # The URL the digest archive (archive_dir) is served at, e.g. https://bantin.example.org/digests/:
    # a mail cut to fit links "the rest" there; unset: file:// links (readable on this machine only).
    archive_url: str | None = None
    fetch: FetchSettings = FetchSettings()
    smtp: SmtpSettings = SmtpSettings()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'bantin.sqlite3'}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "digests"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from BANTIN_* variables (`ENVIRONMENT`), then `overrides`.

        A bad value raises SettingsError naming the variable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        source: dict[tuple[str, ...], str] = {}
        for variable, path in ENVIRONMENT.items():
            raw = env.get(variable, "")
            if not raw:
                continue
            target = values
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = raw.lower() in {"1", "true", "yes"} if path in _FLAGS else raw
            source[path] = variable
        for key, value in overrides.items():
            if isinstance(value, BaseModel):
                value = value.model_dump()
            values[key] = value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                path = tuple(str(part) for part in error["loc"])
                name = source.get(path, ".".join(path))
                problems.append(f"{name}={env.get(name, '')!r}: {error['msg']}" if name in env else f"{name}: {error['msg']}")
            raise SettingsError("; ".join(problems)) from None


class SettingsError(ValueError):
    """A setting (environment variable) has a value bantin cannot use; the message names it."""


# The environment variables bantin reads, and the setting each one sets.
ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "BANTIN_DATA_DIR": ("data_dir",),
    "BANTIN_DATABASE_URL": ("database_url",),
    "BANTIN_SOURCES": ("sources_file",),
    "BANTIN_SUBSCRIBERS": ("subscribers_file",),
    "BANTIN_TIMEZONE": ("timezone",),
    "BANTIN_OFFLINE": ("offline",),
    "BANTIN_FIXTURES_URL": ("fixtures_url",),
    "BANTIN_CONCURRENCY_LIMITS": ("concurrency_limits",),
    "BANTIN_OPERATOR_EMAIL": ("operator_email",),
    "BANTIN_ARCHIVE_URL": ("archive_url",),
    "BANTIN_SMTP_HOST": ("smtp", "host"),
    "BANTIN_SMTP_PORT": ("smtp", "port"),
    "BANTIN_SMTP_SECURITY": ("smtp", "security"),
    "BANTIN_SMTP_USER": ("smtp", "username"),
    "BANTIN_SMTP_PASSWORD": ("smtp", "password"),
    "BANTIN_SMTP_SENDER": ("smtp", "sender"),
    "BANTIN_SMTP_TIMEOUT": ("smtp", "timeout_s"),
    "BANTIN_SMTP_SECRET_BLOCK": ("smtp", "password_secret_block"),
    "BANTIN_LIST_UNSUBSCRIBE": ("smtp", "list_unsubscribe"),
    "BANTIN_SMTP_CA_FILE": ("smtp", "ca_file"),
}
_FLAGS = {("offline",), ("concurrency_limits",)}
