"""Meeting fields: is it a meeting, date, kind, host body, chair and officials, communes,
reporting period, one module each. Rules are Vietnamese patterns of the genre, matched on
the folded text (one tone-mark placement, NFC), quoted from the original."""

from bantin.extract.fields.dates import meeting_date
from bantin.extract.fields.host import BODY, host_body, lead_subject
from bantin.extract.fields.meeting import is_meeting, meeting_kind
from bantin.extract.fields.people import PersonSpan, chair_and_officials, clean_title, persons
from bantin.extract.fields.period import Period, reporting_period
from bantin.extract.fields.placenames import DISTRICT, PROVINCE, TITLE_PLACE, commune_mentions, place_mentions

__all__ = [
    "BODY", "DISTRICT", "PROVINCE", "TITLE_PLACE", "Period", "PersonSpan", "chair_and_officials", "clean_title",
    "commune_mentions", "host_body", "is_meeting", "lead_subject", "meeting_date", "meeting_kind", "persons",
    "place_mentions", "reporting_period",
]
