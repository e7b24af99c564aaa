"""The operator's report of a digest run: portal health (stale portals, fetch errors with
their URLs, given-up articles) and what became of each delivery. Kept out of the readers'
mail (they see one line per quiet or failing portal); written beside the digest in the
archive (`<label>.operator.html`) and mailed to BANTIN_OPERATOR_EMAIL by a sending run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bantin.digest.delivery import DeliveryOutcome, DeliveryResult
from bantin.digest.model import DigestWeek
from bantin.digest.render import TEMPLATES_DIR, RenderedDigest, environment, inline_css, week_name
from bantin.localtime import LOCAL_TZ

# The ledger key of the operator's mail of a week: its own row beside the readers' rows.
OPERATOR_PREFIX = "operator:"


def operator_key(address: str) -> str:
    return OPERATOR_PREFIX + address


@dataclass(frozen=True)
class Attention:
    """A delivery only an operator can settle, with the command that re-sends it."""

    description: str
    command: str


@dataclass(frozen=True)
class OperatorReport:
    digest: DigestWeek  # the whole week's (unfiltered): its portal health
    deliveries: Sequence[DeliveryResult] = ()
    attention: Sequence[Attention] = field(default_factory=tuple)
    digest_page: str | None = None  # the readers' page in the archive

    @property
    def problems(self) -> int:
        failed = sum(d.status in (DeliveryOutcome.FAILED, DeliveryOutcome.UNCERTAIN) for d in self.deliveries)
        return len(self.digest.stale_portals) + len(self.digest.failing_portals) + failed + len(self.attention)


def operator_subject(report: OperatorReport) -> str:
    d = report.digest
    parts = [f"{len(d.failing_portals)} portal(s) with errors", f"{len(d.stale_portals)} stale"]
    if report.deliveries:
        counts: dict[str, int] = {}
        for r in report.deliveries:
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
        parts.append("deliveries: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    if report.attention:
        parts.append(f"{len(report.attention)} need(s) an operator")
    return f"bantin operator report {d.label}: " + "; ".join(parts)


def render_operator(report: OperatorReport, timezone: str = LOCAL_TZ.key) -> RenderedDigest:
    env = environment(TEMPLATES_DIR, timezone)
    context = {
        "report": report,
        "digest": report.digest,
        "period": week_name(report.digest.start, report.digest.end),
        "subject": operator_subject(report),
    }
    html = inline_css(env.get_template("operator.html").render(context))
    return RenderedDigest(subject=operator_subject(report), html=html, text=env.get_template("operator.txt").render(context))
