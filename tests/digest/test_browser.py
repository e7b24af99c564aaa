"""The digest in a real browser (Debian chromium, headless, driven over the DevTools
protocol): no horizontal overflow on a phone or a desk, hostile article content shown
as text and never run."""

from __future__ import annotations

import base64
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

from bantin.digest.render import render
from digest_world import IMG_ATTACK, hostile_digest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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
