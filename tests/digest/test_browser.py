"""The digest in a real browser (Debian chromium, headless, driven over the DevTools
protocol): no horizontal overflow on a phone or a desk, hostile article content shown
as text and never run."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from bantin.digest.render import render
from bantin.settings import Settings
from digest_world import IMG_ATTACK, busy_mail, hostile_digest

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
        # Until the new document is there and loaded: right after navigate, readyState may
        # still be the previous page's. (The :~:text= directive is not kept in location.)
        base = url.split("#", 1)[0]
        loaded = f"location.href.split('#')[0] === {json.dumps(base)} && document.readyState === 'complete'"
        while not self.eval(loaded):
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
        assert page.eval("document.title") == "Tuần 27 (01–07/07/2024)"
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


def test_the_fifty_district_mail_fits_a_phone_without_sideways_scrolling(page: Page, tmp_path: Path, sqlite_settings: Settings) -> None:
    """The mail of a 50-district week (cut to fit under 100 KB), as the reader's client gets it."""
    raw, _ = busy_mail(sqlite_settings.model_copy(update={"archive_url": "https://bantin.example.org/digests/"}))
    assert len(raw) < 100_000
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    (html,) = [p.get_content() for p in message.iter_parts() if p.get_content_type() == "text/html"]
    path = tmp_path / "mail-50.html"
    path.write_text(html, encoding="utf-8")
    for width in (375, 1200):
        page.open(path.as_uri(), width)
        widths = page.eval("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"sideways scrolling at {width}px: {widths}"
        page.screenshot(tmp_path / f"mail-50-{width}.png")
        text = page.eval("document.body.innerText")
        assert "Tuần 27 (01–07/07/2024)" in text and "Xem bản đầy đủ" in text
        assert page.eval("document.querySelectorAll('script, img, iframe').length") == 0
    # Every quote's line wraps inside the phone's width (no element wider than the viewport).
    page.open(path.as_uri(), 375)
    widest = page.eval("Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))")
    assert widest <= 375
    shots = Path("/tmp/bantin-digest-screenshots")
    shots.mkdir(exist_ok=True)
    for png in tmp_path.glob("mail-50-*.png"):
        shutil.copy(png, shots / png.name)


def _seed_pages() -> list[tuple[dict[str, Any], bytes]]:
    """Each seed's article page as the offline portal serves it."""
    import asyncio

    import httpx
    import yaml

    from bantin.fixtures.routing import offline_transport
    from bantin.settings import PROJECT_ROOT

    seeds = yaml.safe_load((PROJECT_ROOT / "seeds" / "manifest.yaml").read_text(encoding="utf-8"))["seeds"]

    async def fetch() -> list[tuple[dict[str, Any], bytes]]:
        async with httpx.AsyncClient(transport=offline_transport()) as client:
            pages = []
            for seed in seeds:
                response = await client.get(seed["url"])
                response.raise_for_status()
                pages.append((seed, response.content))
            return pages

    return asyncio.run(fetch())


# Is an element holding the clause's first words inside the viewport? (a text fragment
# scrolls its match into view; without a match the page stays at the top)
_IN_VIEW = """(words => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.nodeValue.replace(/\\s+/g, ' ').includes(words)) {
      const r = n.parentElement.getBoundingClientRect();
      return r.bottom > 0 && r.top < window.innerHeight;
    }
  }
  return null;
})(%s)"""


def test_quote_links_scroll_to_the_sentence_on_the_portal_page(page: Page, tmp_path: Path) -> None:
    """Every shortfall/directive the extractor quotes from a seed page, linked as the
    digest links it, lands on its sentence in a real browser."""
    from bantin.digest.links import link_to_quote
    from bantin.extract import extract_meeting
    from bantin.parse import parse_article

    checked = scrolled = 0
    for n, (seed, body) in enumerate(_seed_pages()):
        path = tmp_path / f"seed-{n}.html"
        # Without its images: they are not there offline, and a broken image collapsing
        # after the text-fragment scroll would move the page under it. The text is unchanged.
        path.write_bytes(re.sub(rb"<img\b[^>]*>", b"", body))
        parsed = parse_article(body.decode("utf-8", "replace"), seed["url"], seed["family"])
        record = extract_meeting(parsed.text, district=seed["district"], province=seed["province"], title=parsed.title)
        clauses = [*record.shortfalls, *record.directives]
        assert clauses, seed["file"]
        clauses = clauses if len(clauses) <= 6 else [*clauses[:3], *clauses[-3:]]  # keeps the test short
        # The control: a fragment matching nothing leaves the page at its top.
        page.open(link_to_quote(path.as_uri(), "không có câu này trong bài"), 375, 300)
        assert page.eval("window.scrollY") == 0
        for clause in clauses:
            page.open("about:blank", 375, 300)
            page.open(link_to_quote(path.as_uri(), clause.text, parsed.text), 375, 300)
            first_words = " ".join(clause.text.split()[:15])  # enough words to be unique on the page
            deadline = time.monotonic() + 10
            while not page.eval(_IN_VIEW % json.dumps(first_words)) and time.monotonic() < deadline:
                time.sleep(0.05)
            in_view = page.eval(_IN_VIEW % json.dumps(first_words))
            where = page.eval("[window.scrollY, document.documentElement.scrollHeight, location.href.slice(-40)]")
            assert in_view, f"{seed['file']}: {clause.text[:60]!r} not scrolled into view ({where})"
            checked += 1
            scrolled += page.eval("window.scrollY") > 0
    assert checked >= 15 and scrolled >= checked // 3  # many quotes sit below the first screen
