"""The topics a quoted clause is filed under: the extractor assigns them
(bantin.extract.clauses.topic_of), the digest names them in Vietnamese
(bantin.digest.render.TOPIC_LABELS) and lists those raised in several districts.

Pure and import-light: the digest reads the codes without loading the extractor.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Topic = Literal[
    "economy_agriculture",
    "budget_investment",
    "new_rural_development",
    "party_building_personnel",
    "culture_education_health_welfare",
    "defence_security",
    "administration",
    "other",
]
TOPICS: tuple[Topic, ...] = get_args(Topic)

# A clause that matches no topic's keywords: not a subject of its own (never "recurring").
OTHER: Final = "other"
