"""Meeting records from district party-committee news articles.

`extract_meeting(text, district=..., province=..., published=..., title=...)` returns a
`MeetingRecord` whose `model_dump(mode="json")` has the gold shape (docs/extraction.md).
"""

from bantin.extract.core import EXTRACTOR_VERSION, extract_meeting
from bantin.extract.model import Clause, MeetingRecord, Person

__all__ = ["EXTRACTOR_VERSION", "Clause", "MeetingRecord", "Person", "extract_meeting"]
