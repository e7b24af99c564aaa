"""The digest in a real browser (Debian chromium, headless, driven over the DevTools
protocol): no horizontal overflow on a phone or a desk, hostile article content shown
as text and never run."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from bantin.digest.links import link_to_quote
from bantin.digest.model import DigestDistrict, DigestItem, DigestMeeting, DigestWeek, OtherCopy, PortalHealth
from bantin.digest.render import render

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCRIPT_TITLE = "<script>document.title='pwned';document.body.insertAdjacentHTML('beforeend','<p id=xss>x</p>')</script>"
IMG_ATTACK = "\"><img src=x onerror=\"document.title='pwned'\">"


class Page:
    """One tab of a headless chromium, spoken to over the DevTools websocket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=30))
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def eval(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def open(self, url: str, width: int, height: int = 900) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=width < 600)
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 20
        while self.eval("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load")
            time.sleep(0.05)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    if CHROMIUM is None:
        pytest.fail("Debian chromium is required: apt-get install -y chromium")
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("chromium did not start")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            target = next(t for t in json.load(response) if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
            page = Page(ws)
            page.call("Page.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def hostile_digest() -> DigestWeek:
    url = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/tin-tuc/1720229563000"
    long_quote = (
        "Bám sát chủ đề năm 2024 Phát huy truyền thống - Đẩy mạnh thi đua - Tăng tốc bứt phá, các Nghị quyết, "
        "Chỉ thị chuyên đề của Trung ương, của tỉnh và nhất là của huyện để bổ sung, cập nhật chương trình, kế hoạch"
    )

    def item(kind: str, text: str, topic: str | None) -> DigestItem:
        return DigestItem(kind, text, topic, link_to_quote(url, text))

    published = dt.datetime(2024, 7, 6, 2, 30, tzinfo=dt.timezone.utc)
    meeting = DigestMeeting(
        title="Huyện ủy Vĩnh Linh làm việc với Ban Thường vụ Đảng ủy xã Vĩnh Lâm " + SCRIPT_TITLE,
        url=url,
        portal_name="Cổng TTĐT huyện Vĩnh Linh",
        published_at=published,
        first_seen_at=published,
        meeting_date=dt.date(2024, 7, 5),
        kind="working_session",
        host_body="Huyện ủy Vĩnh Linh",
        chair_name="Trần Nhật Quang",
        chair_title="Bí thư Huyện ủy",
        communes=["Vĩnh Lâm"],
        period="6 tháng đầu năm 2024",
        shortfalls=[
            item("shortfall", "công tác xây dựng nông thôn mới nâng cao còn chậm", "new_rural"),
            item("shortfall", "Tỷ lệ phát triển đảng viên mới chưa bắt kịp xu thế chung " + IMG_ATTACK, "party_building"),
        ],
        directives=[item("directive", long_quote, "party_building"), item("directive", "Thực hiện tốt nhiệm vụ diễn tập chiến đấu cấp xã", "security")],
        also_published=[OtherCopy("https://tuyenquang.gov.vn/tin-tuc/" + "rat-dai-" * 30 + ".html", "Cổng TTĐT tỉnh Tuyên Quang", published)],
    )
    second = DigestMeeting(
        **{**meeting.__dict__, "title": "Hội nghị Ban Chấp hành Đảng bộ huyện Hữu Lũng lần thứ 15", "chair_name": None, "chair_title": None,
           "communes": [], "also_published": [], "url": "https://huuluong.langson.gov.vn/Pages/" + "x" * 120 + ".aspx"}
    )
    return DigestWeek(
        label="2024-W27",
        start=dt.date(2024, 7, 1),
        end=dt.date(2024, 7, 7),
        districts=[DigestDistrict("Hữu Lũng", "Lạng Sơn", [second]), DigestDistrict("Vĩnh Linh", "Quảng Trị", [meeting])],
        stale_portals=[PortalHealth("lb", "Cổng TTĐT huyện Lâm Bình", "Lâm Bình", dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc))],
        failing_portals=[PortalHealth("hy", "Cổng TTĐT huyện Hàm Yên", "Hàm Yên", None, 3, "ConnectTimeout (https://hamyen.tuyenquang.gov.vn/" + "a" * 200 + ")")],
    )


def test_scripts_run_in_this_browser(page: Page, tmp_path: Path) -> None:
    # The control: without it, "no script ran" below could mean JavaScript is simply off.
    control = tmp_path / "control.html"
    control.write_text("<html><head><title>before</title></head><body><script>document.title='ran'</script></body></html>")
    page.open(control.as_uri(), 375)
    assert page.eval("document.title") == "ran"


def test_digest_fits_phone_and_desk_and_runs_no_article_script(page: Page, tmp_path: Path) -> None:
    rendered = render(hostile_digest(), unsubscribe="mailto:bantin@example.org?subject=unsubscribe")
    path = tmp_path / "2024-W27.html"
    path.write_text(rendered.html, encoding="utf-8")
    for width in (375, 1200):
        page.open(path.as_uri(), width)
        assert page.eval("document.documentElement.scrollWidth <= window.innerWidth"), f"horizontal overflow at {width}px"
        page.screenshot(tmp_path / f"digest-{width}.png")
        assert page.eval("document.title") == "Bản tin tuần 2024-W27"
        assert page.eval("document.getElementById('xss') === null")
        assert page.eval("document.querySelectorAll('script, img, iframe').length") == 0
        text = page.eval("document.body.innerText")
        assert "<script>document.title='pwned'" in text  # shown as text
        assert IMG_ATTACK in text
        assert "Chủ trì" in text and "Trần Nhật Quang, Bí thư Huyện ủy" in text
    container = page.eval("document.querySelector('.container').getBoundingClientRect().width")
    assert 600 <= container <= 640  # max-width holds on a desk
    assert (tmp_path / "digest-375.png").stat().st_size > 10_000
    shots = Path("/tmp/bantin-digest-screenshots")  # kept for a human look (see docs/digest.md)
    shots.mkdir(exist_ok=True)
    for png in tmp_path.glob("digest-*.png"):
        shutil.copy(png, shots / png.name)
