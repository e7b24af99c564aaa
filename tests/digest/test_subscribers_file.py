"""The subscribers file read like deploy/sources.yaml: a key written twice is refused with its
line, and so is anything SMTP cannot carry (control characters in a name, a non-ASCII local
part); an internationalised domain goes out in its ASCII form."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bantin.digest.mail import SubscribersError, build_message, load_subscribers, send_smtp
from bantin.digest.render import RenderedDigest
from bantin.settings import SmtpSettings
from test_delivery import Inbox, free_port


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n"
        "  - name: An\n"
        "    email: an@example.org\n"
        "    places: [Vĩnh Linh]\n"
        "    places: [Hàm Yên]\n",
        encoding="utf-8",
    )
    # PyYAML alone keeps the last: An would silently stop following Vĩnh Linh
    with pytest.raises(SubscribersError, match=rf"{path}:5: not valid YAML: duplicate key 'places' \(first on line 4\)"):
        load_subscribers(path)


# ---- what SMTP cannot carry is refused at load, with its line and field --------------------


@pytest.mark.parametrize(
    ("entry", "field", "problem"),
    [
        ('{name: "An\\r\\nBcc: spy@example.org", email: an@example.org}', "name", "line break or control character (U+000D"),
        ('{name: "An\\tNguyễn", email: an@example.org}', "name", "(U+0009 at position 2)"),
        ('{name: "Văn phòng \\u202eHuyện ủy", email: an@example.org}', "name", "(U+202E"),
        ("{name: Nguyễn An, email: nguyễn@example.org}", "email", "the part before @ is not ASCII"),
        ("{name: An, email: an..nguyen@example.org}", "email", "the part before @ may only hold"),
        ("{name: An, email: an@example_org}", "email", "is not a host name"),
        ("{name: An, email: an@example.org, places: [Nowhere-at-all]}", "places.0", ""),
    ],
)
def test_what_smtp_cannot_carry_is_refused_with_line_and_field(tmp_path: Path, entry: str, field: str, problem: str) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(f"subscribers:\n  - {{name: Bình, email: binh@example.org}}\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(SubscribersError) as caught:
        load_subscribers(path)
    assert f"{path}:3: subscribers.1.{field}: Value error" in str(caught.value)
    assert problem in str(caught.value)


def test_an_internationalised_domain_is_sent_in_its_ascii_form(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text("subscribers:\n  - {name: Lan, email: lan@bộcôngthương.vn}\n", encoding="utf-8")
    (lan,) = load_subscribers(path)
    assert lan.email == "lan@xn--bcngthng-53a84oyex696a.vn"
    rendered = RenderedDigest(subject="Bản tin", html="<p>Xin chào</p>", text="Xin chào")
    message = build_message(rendered, sender="bantin <bantin@example.org>", recipient=lan, message_id="<m@example.org>", unsubscribe="mailto:x@example.org")
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        send_smtp(SmtpSettings(host="127.0.0.1", port=port, security="none", timeout_s=5), message)
    finally:
        controller.stop()
    ((rcpts, received),) = inbox.messages
    assert rcpts == ["lan@xn--bcngthng-53a84oyex696a.vn"]
    assert received["To"].addresses[0].display_name == "Lan"
