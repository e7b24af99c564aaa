"""bantin/jobs/extract.py and flows/extract.py: records for stored articles, batch by batch, and re-extraction from
stored page snapshots. The batch function runs in-process on every backend; the Prefect
flows run for real once, on SQLite (in a subprocess, against the session's Prefect server)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from stored_queries import insert_articles, meeting_record

from bantin.dedup import content_hash
from bantin.extract import EXTRACTOR_VERSION
from bantin.settings import PROJECT_ROOT, Settings
from storage.articles import NewArticle, NewSnapshot, save_snapshots, upsert_portals
from storage.meetings import article_ids_to_extract
from storage.models import Meeting, MeetingItem
from storage.session import make_engine
from tests.prefect_harness.procs import PrefectServer, prefect_env

SEEDS = PROJECT_ROOT / "seeds" / "articles"
ARTICLES = Path(__file__).parent / "articles"
VN = dt.timezone(dt.timedelta(hours=7))
PORTALS = [
    {"id": "vinh-linh", "name": "Huyện Vĩnh Linh", "district": "Vĩnh Linh", "province": "Quảng Trị",
     "base_url": "https://vinhlinh.quangtri.gov.vn", "family": "liferay"},
    {"id": "huu-lung", "name": "Huyện Hữu Lũng", "district": "Hữu Lũng", "province": "Lạng Sơn",
     "base_url": "https://huulung.langson.gov.vn", "family": "sharepoint"},
    {"id": "lam-binh", "name": "Huyện Lâm Bình", "district": "Lâm Bình", "province": "Tuyên Quang",
     "base_url": "https://lambinh.tuyenquang.gov.vn", "family": "php_static"},
]
URL_VL = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/20251/1720408620000"


def _body(path: Path) -> tuple[str, str]:
    """(title, body) of a seed as the crawler stores it: headline apart, no page chrome."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    title = lines[1] if lines[0].startswith(("Chi tiết", "Thứ")) else lines[0]
    body = [line for line in lines if line != title and not line.startswith(("Chi tiết -", "Thứ tư", "Bài viết liên quan"))]
    return title, "\n\n".join(body)


def _store(session: Session, *, truncate_first: bool = False) -> dict[str, int]:
    upsert_portals(session, PORTALS)
    vl_title, vl_body = _body(SEEDS / "000_5c1522404ab5e1ef.txt")
    stored_vl = vl_body
    if truncate_first:
        # the stored text lost the conclusion; the page snapshot still has it
        stored_vl = vl_body[: vl_body.index("Về nhiệm vụ 6 tháng cuối năm")]
    hl_title, hl_body = _body(SEEDS / "004_365b687f6c0b5cba.txt")
    fest = (ARTICLES / "04_le_hoi.txt").read_text(encoding="utf-8")
    ids = insert_articles(session, [
        NewArticle("vinh-linh", URL_VL, vl_title, stored_vl, dt.datetime(2024, 7, 8, 10, 17, tzinfo=VN),
                   content_hash=content_hash(stored_vl)),
        NewArticle("huu-lung", "https://huulung.langson.gov.vn/portal/Pages/ky-hop-15.aspx", hl_title, hl_body,
                   dt.datetime(2023, 4, 10, 9, 0, tzinfo=VN), content_hash=content_hash(hl_body)),
        NewArticle("lam-binh", "https://lambinh.tuyenquang.gov.vn/tin-tuc/le-hoi-long-tong.html", fest.splitlines()[0],
                   fest, dt.datetime(2024, 2, 16, 8, 0, tzinfo=VN), content_hash=content_hash(fest)),
    ])
    paragraphs = "".join(f"<p>{p}</p>" for p in vl_body.split("\n\n"))
    html = (f"<html><head><title>Chi tiết - Huyện Vĩnh Linh</title></head><body><nav>Trang chủ</nav>"
            f"<article><h1>{vl_title}</h1>{paragraphs}</article><footer>Bản quyền</footer></body></html>")
    body = html.encode("utf-8")
    page = NewSnapshot(URL_VL, hashlib.sha256(body).hexdigest(), zlib.compress(body), 200, "text/html; charset=utf-8", "utf-8")
    save_snapshots(session, [(page, ids[0])])
    session.commit()
    return {"vinh-linh": ids[0], "huu-lung": ids[1], "festival": ids[2]}


def test_batches_extract_and_save_records(session: Session, settings: Settings) -> None:
    from bantin.jobs.extract import extract_articles
    from bantin.jobs.extract import load_articles as _load_articles

    ids = _store(session)
    todo = article_ids_to_extract(session, EXTRACTOR_VERSION)
    assert sorted(todo) == sorted(ids.values())
    counts = extract_articles(session, _load_articles(session, todo))
    session.commit()
    assert counts["articles"] == 3 and counts["meetings"] == 2 and not counts["errors"]
    assert article_ids_to_extract(session, EXTRACTOR_VERSION) == []

    vl = meeting_record(session, ids["vinh-linh"])
    assert vl is not None and vl["is_meeting"]
    assert str(vl["meeting_date"]) == "2024-07-05" and vl["communes"] == ["Vĩnh Lâm"]
    assert vl["chair"] and vl["chair"]["name"] == "Trần Nhật Quang"
    hl = meeting_record(session, ids["huu-lung"])
    assert hl is not None and str(hl["meeting_date"]) == "2023-04-07" and hl["chair"] is None
    fest = meeting_record(session, ids["festival"])
    assert fest is not None and fest["is_meeting"] is False
    # quotes index the stored text
    stored = {a.id: a.text for a in _load_articles(session, list(ids.values()))}
    for item in session.execute(select(MeetingItem, Meeting.article_id).join(Meeting)).all():
        assert stored[item[1]][item[0].start : item[0].end] == item[0].text

    # running again changes nothing; an older version's record is redone
    assert extract_articles(session, [])["articles"] == 0
    # (save_meeting never lets an older version overwrite a newer record: age it in place)
    session.execute(update(Meeting).where(Meeting.article_id == ids["festival"]).values(extractor_version="2000.1.1"))
    session.commit()
    assert article_ids_to_extract(session, EXTRACTOR_VERSION) == [ids["festival"]]


def test_reextract_reads_the_stored_snapshot(session: Session, settings: Settings) -> None:
    from bantin.jobs.extract import extract_articles
    from bantin.jobs.extract import load_articles as _load_articles

    ids = _store(session, truncate_first=True)
    articles = _load_articles(session, [ids["vinh-linh"]])
    extract_articles(session, articles)
    session.commit()
    before = meeting_record(session, ids["vinh-linh"])
    assert before is not None and before["directives"] == []
    counts = extract_articles(session, articles, from_snapshots=True)
    session.commit()
    assert counts["reparsed"] == 1 and not counts["errors"]
    after = meeting_record(session, ids["vinh-linh"])
    assert after is not None and len(after["directives"]) >= 5
    assert session.execute(select(Meeting).where(Meeting.article_id == ids["vinh-linh"])).scalars().one()


SCRIPT = r"""
import json, datetime as dt
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId,
)
from flows.extract import extract_new, reextract

states = [
    extract_new(batch_size=2, return_state=True),
    extract_new(batch_size=2, return_state=True),
    reextract(since=dt.date(2024, 1, 1), return_state=True),
]
first, again, redo = (state.result() for state in states)
# The server is shared: read back these three runs only.
ids = [state.state_details.flow_run_id for state in states]
with get_client(sync_client=True) as client:
    mine = FlowRunFilter(id=FlowRunFilterId(any_=ids))
    tasks = sorted(t.name.split("-")[0] + "-" + t.name.split("-")[1] for t in client.read_task_runs(flow_run_filter=mine))
    artifacts = [a.key for a in client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)))]
    runs = sorted(client.read_flow_run(run_id).name for run_id in ids)
print("RESULT " + json.dumps({"first": first, "again": again, "redo": redo, "tasks": tasks, "artifacts": artifacts, "runs": runs}))
"""


@pytest.fixture
def sqlite_session(sqlite_settings: Settings) -> Iterator[Session]:
    engine = make_engine(sqlite_settings.resolved_database_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.mark.server
def test_flows_run_for_real(
    sqlite_session: Session, sqlite_settings: Settings, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    # What the flows add to the batch function (tasks, runs, names, the artifact) does not
    # depend on the database: SQLite only. The batch function runs on every backend above,
    # the flows on PostgreSQL in tests/server/test_server_scale_out.py.
    session, settings = sqlite_session, sqlite_settings
    _store(session, truncate_first=True)
    env = prefect_env(tmp_path / "prefect", prefect_server.api_url)
    env.update(
        PREFECT_LOGGING_LEVEL="WARNING",
        BANTIN_DATA_DIR=str(settings.data_dir),
        BANTIN_DATABASE_URL=settings.resolved_database_url,
        PYTHONPATH=str(PROJECT_ROOT),
    )
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=480)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["first"]["articles"] == 3 and out["first"]["batches"] == 2 and out["first"]["meetings"] == 2
    assert out["again"]["articles"] == 0 and out["again"]["batches"] == 0
    # since 2024-01-01: the Vĩnh Linh and festival articles, the Vĩnh Linh one re-parsed from its page
    assert out["redo"]["articles"] == 2 and out["redo"]["reparsed"] == 1
    assert "extract-report" in out["artifacts"]
    # Run names say what ran, for the UI.
    assert "reextract since 2024-01-01" in out["runs"]
    assert sum(1 for name in out["runs"] if re.fullmatch(r"extract \d{4}-\d{2}-\d{2} \d{2}:\d{2}", name)) == 2
    session.expire_all()
    vl = session.execute(select(Meeting).where(Meeting.is_meeting.is_(True))).scalars().all()
    assert len(vl) == 2
