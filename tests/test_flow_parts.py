"""The flows' parts an operator meets, without a Prefect server: parameters refused in
parameter words (the schema the server enforces, and the flows' own check), the message
of a crawl with portals down, how many crawls in a row a portal has been down, and the
automations file as Prefect reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools.validation import ValidationError, validate

from bantin.crawl import PortalReport
from bantin.jobs.crawl import finish_run, start_run
from bantin.jobs.runs import failure_streaks
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import load_sources
from flows.automations import read_automations, resolve
from flows.crawl import CrawlOutcome
from flows.digest import weekly_digest
from flows.fanout import crawl_portals
from flows.params import ParameterError, selected_sources

SOURCES = PROJECT_ROOT / "deploy" / "sources.yaml"


def _refusal(flow: object, parameters: dict[str, object]) -> str:
    schema = parameter_schema(flow).model_dump()  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as refused:
        validate(parameters, schema, raise_on_error=True)
    return str(refused.value)


def test_the_schema_refuses_bad_parameters_naming_them() -> None:
    assert "field 'week'" in _refusal(weekly_digest, {"week": "2024-27"})
    assert "field 'week'" in _refusal(weekly_digest, {"week": "2024-W54"})
    message = _refusal(crawl_portals, {"sources": ["ham-yenn"]})
    assert "field 'sources[0]'" in message and "'ham-yenn' is not one of" in message and "'ham-yen'" in message
    assert "field 'batch_size'" in _refusal(crawl_portals, {"batch_size": 0})
    schema = parameter_schema(weekly_digest).model_dump()
    validate({"week": "2024-W27", "districts": ["Hàm Yên"], "send": True}, schema, raise_on_error=True)
    assert all(p.get("description") for p in schema["properties"].values())  # the UI's run form explains each


def test_an_unknown_source_is_refused_naming_the_parameter_and_the_file() -> None:
    settings = Settings(sources_file=SOURCES)
    with pytest.raises(ParameterError) as refused:
        selected_sources(settings, ["ham-yen", "ham-yenn"])
    assert str(refused.value).startswith(f"parameter sources: 'ham-yenn' is not a source id of {SOURCES}; known: ham-yen,")
    assert [s.id for s in selected_sources(settings, ["ham-yen"])] == ["ham-yen"]
    assert [s.id for s in selected_sources(settings, None)] == [s.id for s in load_sources(SOURCES)]


def test_the_message_of_a_crawl_with_portals_down() -> None:
    ok = PortalReport("ham-yen", listing_requests=2, new_articles=7)
    down = PortalReport("lam-binh", errors=["listing https://x/tin: https://x/robots.txt unreachable (HTTP 500 after 4 attempts)"])
    layout = PortalReport("vinh-linh", listing_requests=1)
    layout.fail("no article link on https://y/tin")
    assert CrawlOutcome([1], [ok]).failure_message() is None
    one = CrawlOutcome([1], [ok, down], [down]).failure_message()
    assert one == (
        "portal down: lam-binh (listing https://x/tin: https://x/robots.txt unreachable (HTTP 500 after 4 attempts)). "
        "1 other portal crawled: 7 new articles"
    )
    two = CrawlOutcome([1], [ok, down, layout], [down, layout], ["tuyen-quang (batch run 'x' ended Crashed without a report)"])
    message = two.failure_message()
    assert message is not None and message.startswith("3 portals down: lam-binh (")
    assert "vinh-linh (failed portal: no article link on https://y/tin)" in message and "tuyen-quang (batch run" in message


def test_a_portal_down_counts_its_crawls_in_a_row(settings: Settings) -> None:
    sources = load_sources(SOURCES, only=["ham-yen", "lam-binh", "vinh-linh"])

    def crawl(down: set[str], only: list[str] | None = None) -> None:
        chosen = [s for s in sources if only is None or s.id in only]
        run_id = start_run(settings, chosen)
        reports = [
            PortalReport(s.id, errors=["listing: unreachable"]) if s.id in down else PortalReport(s.id, listing_requests=1)
            for s in chosen
        ]
        finish_run(settings, run_id, reports)

    crawl({"lam-binh"})
    crawl(set())  # everything fine: the streaks end here
    crawl({"lam-binh", "ham-yen"})
    crawl({"lam-binh"}, only=["lam-binh"])  # a crawl of one portal counts for it alone
    crawl({"lam-binh", "ham-yen"})
    assert failure_streaks(settings, ["lam-binh", "ham-yen", "vinh-linh"]) == {"lam-binh": 3, "ham-yen": 2, "vinh-linh": 0}


def test_the_automations_file_is_what_prefect_accepts(tmp_path: Path) -> None:
    entries = read_automations()
    automations = resolve(entries, {"bantin-alerts": "00000000-0000-0000-0000-00000000000a"})
    assert [a.name for a in automations] == [
        "bantin: flow run failed",
        "bantin: portal failing",
        "bantin: run stuck",
        "bantin: crashed runs",
    ]
    # The window of the crashed-run check leaves room for missed heartbeats (deploy/prefect.yaml).
    env = yaml.safe_load((PROJECT_ROOT / "deploy" / "prefect.yaml").read_text(encoding="utf-8"))
    heartbeat = int(env["definitions"]["work_pools"]["bantin"]["job_variables"]["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"])
    crashed = next(e for e in entries if e["name"] == "bantin: crashed runs")
    assert crashed["trigger"]["within"] >= 3 * heartbeat
