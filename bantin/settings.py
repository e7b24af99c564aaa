"""One settings object for the whole product, passed in as an argument.

Defaults live here and are documented here; `Settings.from_env()` reads the few
values that differ between a laptop, CI and a server. Components take a
`Settings` (or the part they need) instead of reading the environment themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

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
    password: str | None = None
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
    timezone: str = "Asia/Ho_Chi_Minh"
    offline: bool = False
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
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {}
        if env.get("BANTIN_DATA_DIR"):
            values["data_dir"] = Path(env["BANTIN_DATA_DIR"])
        if env.get("BANTIN_DATABASE_URL"):
            values["database_url"] = env["BANTIN_DATABASE_URL"]
        if env.get("BANTIN_SOURCES"):
            values["sources_file"] = Path(env["BANTIN_SOURCES"])
        if env.get("BANTIN_SUBSCRIBERS"):
            values["subscribers_file"] = Path(env["BANTIN_SUBSCRIBERS"])
        if env.get("BANTIN_OFFLINE", "").lower() in {"1", "true", "yes"}:
            values["offline"] = True
        smtp = SmtpSettings(
            host=env.get("BANTIN_SMTP_HOST") or None,
            port=int(env.get("BANTIN_SMTP_PORT", "587")),
            security=env.get("BANTIN_SMTP_SECURITY", "starttls"),
            username=env.get("BANTIN_SMTP_USER") or None,
            password=env.get("BANTIN_SMTP_PASSWORD") or None,
            sender=env.get("BANTIN_SMTP_SENDER", SmtpSettings().sender),
            timeout_s=float(env.get("BANTIN_SMTP_TIMEOUT", "30")),
            password_secret_block=env.get("BANTIN_SMTP_SECRET_BLOCK") or None,
            list_unsubscribe=env.get("BANTIN_LIST_UNSUBSCRIBE") or None,
            ca_file=Path(env["BANTIN_SMTP_CA_FILE"]) if env.get("BANTIN_SMTP_CA_FILE") else None,
        )
        values["smtp"] = smtp
        values.update(overrides)
        return cls.model_validate(values)
