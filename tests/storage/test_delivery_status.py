"""The delivery ledger's status column (migration 0005): `uncertain` is a status the
database accepts, a status nobody defined is refused by its CHECK, and going back to 0004
keeps an uncertain row out of the automatic retries (it becomes `sending`, as before)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from storage.session import downgrade, upgrade

INSERT = text(
    "INSERT INTO digest_deliveries (week, recipient, status, attempts, created_at) "
    "VALUES ('2024-W27', :recipient, :status, 1, CURRENT_TIMESTAMP)"
)


def statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT recipient, status FROM digest_deliveries")).all()
    return {str(recipient): str(status) for recipient, status in rows}


def test_uncertain_is_a_status_and_an_unknown_one_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(INSERT, {"recipient": "an@example.org", "status": "uncertain"})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(INSERT, {"recipient": "binh@example.org", "status": "lost"})
    assert statuses(engine) == {"an@example.org": "uncertain"}


def test_downgrade_keeps_an_uncertain_row_away_from_retries(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(INSERT, {"recipient": "an@example.org", "status": "uncertain"})
        connection.execute(INSERT, {"recipient": "binh@example.org", "status": "failed"})
    downgrade(engine, "0004")
    # 0004's statuses: "sending" was what a row of unknown fate stayed in (never re-sent).
    assert statuses(engine) == {"an@example.org": "sending", "binh@example.org": "failed"}
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(INSERT, {"recipient": "chi@example.org", "status": "uncertain"})
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(INSERT, {"recipient": "chi@example.org", "status": "uncertain"})
    assert statuses(engine)["chi@example.org"] == "uncertain"
