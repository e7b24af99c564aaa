"""Subscribers, the digest as a MIME message, and its transport (SMTP or .eml files)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from bantin import yamlfile
from bantin.digest.render import RenderedDigest
from bantin.localtime import LOCAL_TZ
from bantin.places import UnknownPlaceError, resolve_places
from bantin.settings import SettingsError, SmtpSettings

# RFC 5321 without SMTPUTF8 (smtplib's, and most relays'): an ASCII dot-atom before the
# "@", a host name after it (an internationalised one is sent in its ASCII "xn--" form).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL_PART = re.compile(rf"^{_ATEXT}+(?:\.{_ATEXT}+)*$")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# Characters a header cannot carry as text: C0/C1 controls (CR, LF, TAB, NUL...), format
# characters (bidi overrides, zero-width), line and paragraph separators, surrogates.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


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
    empty_weeks: bool = Field(
        False, description="also mail a week with no meeting in these places (default: no mail, the ledger says 'nothing to send')"
    )

    @property
    def followed(self) -> list[str]:
        """Every place followed (`places` and the older `districts` alike)."""
        return [*self.places, *self.districts]

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        for position, char in enumerate(value):
            if unicodedata.category(char) in _UNPRINTABLE:
                raise ValueError(
                    f"{value!r} has a line break or control character (U+{ord(char):04X} at position {position}); "
                    "it cannot go into the To header"
                )
        if not value.strip():
            raise ValueError("a name must have visible characters")
        return value

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return smtp_address(value)


def smtp_address(value: str) -> str:
    """`value` as an SMTP envelope can carry it (local part as given, host name in ASCII);
    raises ValueError saying what is wrong."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an e-mail address")
    if not local.isascii():
        raise ValueError(
            f"{value!r}: the part before @ is not ASCII; SMTP cannot carry it (no SMTPUTF8), ask the reader for an ASCII address"
        )
    if not _LOCAL_PART.match(local):
        raise ValueError(f"{value!r}: the part before @ may only hold letters, digits, dots (not first, last or doubled) and !#$%&'*+/=?^_`{{|}}~-")
    if len(local) > 64:
        raise ValueError(f"{value!r}: the part before @ is longer than 64 characters")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{value!r}: {domain!r} is not a valid internationalised domain name") from None
    labels = domain.removesuffix(".").split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError(f"{value!r}: {domain!r} is not a host name (letters, digits and hyphens between dots)")
    address = f"{local}@{domain}"
    if len(address) > 254:
        raise ValueError(f"{value!r} is longer than 254 characters")
    return address


class SubscribersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscribers: list[Subscriber]


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
        people = SubscribersFile.model_validate(data).subscribers
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{path}:{yamlfile.node_line(root, loc) or 1}: {field}: {error['msg']}")
        raise SubscribersError("invalid subscribers file:\n  " + "\n  ".join(problems)) from exc
    # One ledger row per address: an address listed twice is refused on the repeat's line.
    first: dict[str, int] = {}
    problems = []
    for index, person in enumerate(people):
        earlier = first.setdefault(person.email.casefold(), index)
        if earlier != index:
            line = yamlfile.node_line(root, ("subscribers", index, "email")) or 1
            first_line = yamlfile.node_line(root, ("subscribers", earlier, "email")) or 1
            problems.append(
                f"{path}:{line}: subscribers.{index}.email: {person.email} is listed twice (first on line {first_line})"
            )
    if problems:
        raise SubscribersError("invalid subscribers file:\n  " + "\n  ".join(problems))
    return people


def check_mail_settings(smtp: SmtpSettings, password: SecretStr | None = None) -> None:
    """Refuse, before anything is written, the mail settings every send would fail on;
    SettingsError names the variable."""
    problems = []
    sender = parseaddr(smtp.sender)[1]
    try:
        smtp_address(sender)
    except ValueError as exc:
        problems.append(f"BANTIN_SMTP_SENDER={smtp.sender!r}: {exc}")
    target = smtp.list_unsubscribe
    if target is not None and not target.startswith(("mailto:", "https:")):
        problems.append(f"BANTIN_LIST_UNSUBSCRIBE={target!r}: expected a mailto: or https: URL")
    if smtp.host:
        if smtp.security.lower() not in {"starttls", "ssl", "none"}:
            problems.append(f"BANTIN_SMTP_SECURITY={smtp.security!r}: expected starttls, ssl or none")
        if not 0 < smtp.port < 65536:
            problems.append(f"BANTIN_SMTP_PORT={smtp.port}: not a TCP port")
        if smtp.timeout_s <= 0:
            problems.append(f"BANTIN_SMTP_TIMEOUT={smtp.timeout_s}: must be more than 0 seconds")
        if smtp.ca_file is not None and not smtp.ca_file.is_file():
            problems.append(f"BANTIN_SMTP_CA_FILE={str(smtp.ca_file)!r}: no such file")
        # smtplib encodes credentials as ASCII: anything else fails at every login.
        if smtp.username and not smtp.username.isascii():
            problems.append(f"BANTIN_SMTP_USER={smtp.username!r}: smtplib sends only ASCII user names")
        secret = password or smtp.password
        if smtp.username and secret is not None and not secret.get_secret_value().isascii():
            where = "BANTIN_SMTP_PASSWORD" if password is None else "the SMTP password (Secret block)"
            problems.append(f"{where}: smtplib sends only ASCII passwords; this one has other characters")
    if problems:
        raise SettingsError("; ".join(problems))


def default_unsubscribe(sender: str) -> str:
    return f"mailto:{parseaddr(sender)[1] or 'bantin@localhost'}?subject=unsubscribe"


def new_message_id(sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return make_msgid("digest", domain=domain)


_ENCODED_WORD_BYTES = 39  # 52 base64 characters: "Subject: " and a word fit 78 (not refolded)


def encoded_header(text: str) -> str:
    """`text` as an RFC 2047 header value: as it is when ASCII, else base64 encoded words of
    whole characters, spaces inside the words (whitespace between encoded words is ignored
    by readers), one per folded line."""
    text = " ".join(text.split())  # no line breaks in a header
    if text.isascii():
        return text
    words, chunk = [], ""
    for char in text:
        if len((chunk + char).encode("utf-8")) > _ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = ""
        chunk += char
    words.append(chunk)
    encoded = ["=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words if w]
    return "\n ".join(encoded)


def build_message(
    rendered: RenderedDigest,
    *,
    sender: str,
    recipient: Subscriber,
    message_id: str,
    unsubscribe: str,
    date: dt.datetime | None = None,
    timezone: str = LOCAL_TZ.key,
) -> EmailMessage:
    """multipart/alternative: text/plain first, text/html last (the preferred part)."""
    message = EmailMessage(policy=SMTP_POLICY)
    # Encoded here, not by the policy: its folding drops the space where it splits a long
    # subject between two encoded words ("3 hạn chế" arrived as "3 hạnchế").
    message.set_raw("Subject", encoded_header(rendered.subject))
    message["From"] = sender
    user, _, domain = recipient.email.rpartition("@")
    message["To"] = Address(display_name=recipient.name, username=user, domain=domain)
    # Vietnam's time (the readers'): "+0700", not UTC.
    message["Date"] = format_datetime((date or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(timezone)))
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    if unsubscribe.startswith("https:"):
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    # base64 for both parts: quoted-printable (the library's pick for long lines that start in
    # ASCII) triples every Vietnamese letter, and the mail must stay under Gmail's 102 KB.
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
    return message


class MailUncertainError(RuntimeError):
    """The message data went out but the server's answer did not come back (connection lost,
    timeout, a reply that is no SMTP status): the server may have accepted the message.

    Not a MailError: retrying it could mail the reader twice (docs/digest.md, "Delivery
    guarantees").
    """


@dataclass
class Handover:
    """How far `send_smtp` got: `data_sent` once the whole message, up to its final ".",
    was written to the server (from then on the server may have it)."""

    data_sent: bool = False


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """The SMTP envelope of a message: MAIL FROM (the From address) and RCPT TO (every To/Cc)."""
    sender = parseaddr(str(message["From"]))[1]
    recipients = [address for _, address in getaddresses([str(v) for v in message.get_all("To", []) + message.get_all("Cc", [])])]
    return sender, recipients


def _quote_periods(payload: bytes) -> bytes:
    """RFC 5321 4.5.2: a line starting with "." gets another one; the message ends in CRLF.CRLF."""
    quoted = re.sub(rb"(?m)^\.", b"..", payload)
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"


def send_smtp(
    smtp: SmtpSettings, message: EmailMessage, password: SecretStr | None = None, handover: Handover | None = None
) -> None:
    """Hand `message` to the SMTP server.

    Each step is driven here (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) so that what went
    wrong is known: anything up to and including the sending of the message data raises
    MailError (the server does not have the message: safe to send again), as does a 4xx/5xx
    answer to the data (the server refused it). After the data's final "." was written,
    a lost connection, a timeout or a reply that is no status raises MailUncertainError:
    the server may have accepted it. `handover.data_sent` tells the caller which side of
    that line an interruption (KeyboardInterrupt, a kill) fell on.

    `password` defaults to the settings' (BANTIN_SMTP_PASSWORD); a Prefect flow passes the
    one of its Secret block.
    """
    handover = handover if handover is not None else Handover()
    secret = password or smtp.password
    if not smtp.host:
        raise MailError("no SMTP host configured")
    where = f"SMTP {smtp.host}:{smtp.port}"
    security = smtp.security.lower()
    if security not in {"starttls", "ssl", "none"}:
        raise MailError(f"SMTP security {smtp.security!r}: expected starttls, ssl or none")
    sender, recipients = envelope(message)
    payload = _quote_periods(message.as_bytes(policy=SMTP_POLICY))
    client: smtplib.SMTP | None = None
    try:
        try:
            context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
            if security == "ssl":
                client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
            else:
                client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
            client.ehlo_or_helo_if_needed()
            if security == "starttls":
                client.starttls(context=context)
                client.ehlo_or_helo_if_needed()
            if smtp.username:
                client.login(smtp.username, secret.get_secret_value() if secret else "")
            options = [f"SIZE={len(payload)}"] if client.has_extn("size") else []
            code, reply = client.mail(sender, options)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused = {}
            for recipient in recipients:
                code, reply = client.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, reply)
            if refused or not recipients:
                raise smtplib.SMTPRecipientsRefused(refused)
            code, reply = client.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            # A failure while writing leaves the final "." unsent: the server cannot have
            # accepted the message.
            client.send(payload)
        except (OSError, smtplib.SMTPException, UnicodeEncodeError) as exc:  # smtplib: ASCII credentials only
            raise MailError(f"{where}: {type(exc).__name__}: {exc}") from exc
        handover.data_sent = True
        try:
            code, reply = client.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUncertainError(
                f"{where}: the message data was sent, then {type(exc).__name__}: {exc} "
                "(no answer to the data: the server may have accepted it)"
            ) from exc
        text = reply.decode("utf-8", "replace")
        if 400 <= code < 600:  # the server says it did not take the message
            raise MailError(f"{where}: SMTPDataError: ({code}, {text!r})")
        if not 200 <= code < 300:
            raise MailUncertainError(
                f"{where}: the message data was sent, then the server answered {text!r} (code {code}), "
                "which is neither acceptance nor refusal: it may have accepted it"
            )
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()  # the server has the message: how the goodbye goes does not matter
    finally:
        if client is not None:
            client.close()


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
