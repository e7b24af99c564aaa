"""SMTP security modes against aiosmtpd with a real (self-signed) certificate: STARTTLS
with login, implicit TLS, and a certificate the client does not trust."""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from bantin.digest.mail import MailError, Subscriber, build_message, send_smtp
from bantin.digest.render import RenderedDigest
from bantin.settings import SmtpSettings
from test_delivery import Inbox, free_port

USER, PASSWORD = "bantin", "s3cret-pass"  # smtplib sends credentials as ASCII only


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001 (aiosmtpd hook)
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=_server_context(certificate),
        require_starttls=True, authenticator=_authenticator, auth_required=True,
    )
    controller.start()
    yield inbox, port
    controller.stop()


def _message() -> tuple[Subscriber, email.message.EmailMessage]:
    to = Subscriber(name="Chị Lan", email="lan@example.org")
    rendered = RenderedDigest(subject="Bản tin tuần 2024-W27: thử", html="<p>Xin chào</p>", text="Xin chào")
    return to, build_message(rendered, sender="bantin <bantin@example.org>", recipient=to, message_id="<t@example.org>", unsubscribe="mailto:x@example.org")


def test_starttls_with_login(starttls_server: tuple[Inbox, int], certificate: tuple[Path, Path]) -> None:
    inbox, port = starttls_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, security="starttls", username=USER, ca_file=certificate[0], timeout_s=5)
    _, message = _message()
    send_smtp(smtp, message, SecretStr(PASSWORD))
    (rcpts, received), = inbox.messages
    assert rcpts == ["lan@example.org"] and received["Subject"] == "Bản tin tuần 2024-W27: thử"


def test_wrong_password_and_untrusted_certificate_fail_clearly(starttls_server: tuple[Inbox, int], certificate: tuple[Path, Path]) -> None:
    inbox, port = starttls_server
    _, message = _message()
    with pytest.raises(MailError, match="SMTPAuthenticationError"):
        send_smtp(SmtpSettings(host="127.0.0.1", port=port, username=USER, ca_file=certificate[0], timeout_s=5), message, SecretStr("sai"))
    with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):  # the system CAs do not know it
        send_smtp(SmtpSettings(host="127.0.0.1", port=port, username=USER, timeout_s=5), message, SecretStr(PASSWORD))
    assert inbox.messages == []


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=_server_context(certificate))
    controller.start()
    try:
        _, message = _message()
        send_smtp(SmtpSettings(host="127.0.0.1", port=port, security="ssl", ca_file=certificate[0], timeout_s=5), message)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
