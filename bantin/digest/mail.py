"""Subscribers, the digest as a MIME message, and its transport (SMTP or .eml files)."""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from bantin import yamlfile
from bantin.digest.render import RenderedDigest
from bantin.places import UnknownPlaceError, resolve_places
from bantin.settings import SmtpSettings

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+$")


class SubscribersError(ValueError):
    """The subscribers file is missing, not YAML, or has an invalid entry (message names file:line and field)."""


class MailError(RuntimeError):
    """A message could not be handed to the SMTP server or written to the outbox."""


def _known_place(value: str) -> str:
    """A legacy district, a 2025 commune/ward or a province of vietnam-provinces."""
    try:
        resolve_places([value])
    except UnknownPlaceError as exc:
        raise ValueError(str(exc)) from None
    return value


# Validated per item, so an error names the item (and its line): places[1].
PlaceName = Annotated[str, AfterValidator(_known_place)]


class Subscriber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    email: str
    places: list[PlaceName] = Field(
        default_factory=list,
        description="legacy districts, 2025 communes/wards or provinces (\"Vĩnh Linh, Quảng Trị\"); empty: everywhere",
    )
    districts: list[PlaceName] = Field(default_factory=list, description="the older name of `places`")

    @property
    def followed(self) -> list[str]:
        """Every place followed (`places` and the older `districts` alike)."""
        return [*self.places, *self.districts]

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        value = value.strip()
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


class SubscribersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscribers: list[Subscriber]

    @field_validator("subscribers")
    @classmethod
    def _unique(cls, value: list[Subscriber]) -> list[Subscriber]:
        seen: set[str] = set()
        for s in value:
            if s.email.casefold() in seen:
                raise ValueError(f"{s.email} is listed twice")
            seen.add(s.email.casefold())
        return value


def load_subscribers(path: Path) -> list[Subscriber]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SubscribersError(f"{path}: cannot read subscribers file ({exc.strerror})") from exc
    try:
        root, data = yamlfile.load(text)
    except yamlfile.YamlSyntaxError as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise SubscribersError(f"{where}: not valid YAML: {exc.problem}") from exc
    try:
        return SubscribersFile.model_validate(data).subscribers
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{path}:{yamlfile.node_line(root, loc) or 1}: {field}: {error['msg']}")
        raise SubscribersError("invalid subscribers file:\n  " + "\n  ".join(problems)) from exc


def default_unsubscribe(sender: str) -> str:
    return f"mailto:{parseaddr(sender)[1] or 'bantin@localhost'}?subject=unsubscribe"


def new_message_id(sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return make_msgid("digest", domain=domain)


def build_message(
    rendered: RenderedDigest,
    *,
    sender: str,
    recipient: Subscriber,
    message_id: str,
    unsubscribe: str,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """multipart/alternative: text/plain first, text/html last (the preferred part)."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = rendered.subject  # non-ASCII: RFC 2047 encoded by the policy
    message["From"] = sender
    user, _, domain = recipient.email.rpartition("@")
    message["To"] = Address(display_name=recipient.name, username=user, domain=domain)
    message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    if unsubscribe.startswith("https:"):
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message


def send_smtp(smtp: SmtpSettings, message: EmailMessage, password: SecretStr | None = None) -> None:
    """Hand `message` to the SMTP server; raises MailError on any failure.

    `password` defaults to the settings' (BANTIN_SMTP_PASSWORD); a Prefect flow passes the
    one of its Secret block.
    """
    secret = password or smtp.password
    if not smtp.host:
        raise MailError("no SMTP host configured")
    security = smtp.security.lower()
    try:
        client: smtplib.SMTP
        context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
        if security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
        elif security in {"starttls", "none"}:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        else:
            raise MailError(f"SMTP security {smtp.security!r}: expected starttls, ssl or none")
        with client:
            if security == "starttls":
                client.starttls(context=context)
            if smtp.username:
                client.login(smtp.username, secret.get_secret_value() if secret else "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException, UnicodeEncodeError) as exc:  # smtplib: ASCII credentials only
        raise MailError(f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}") from exc


def write_eml(outbox_dir: Path, week: str, recipient: str, message: EmailMessage) -> Path:
    outbox_dir.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9@._-]+", "_", recipient)
    path = outbox_dir / f"{week}__{safe}.eml"
    try:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(message.as_bytes(policy=SMTP_POLICY))
        tmp.replace(path)
    except OSError as exc:
        raise MailError(f"{path}: cannot write the message ({exc})") from exc
    return path
