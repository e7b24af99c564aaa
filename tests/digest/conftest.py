"""Fixtures of the digest tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from digest_world import World
from test_delivery import inbox, smtp_port  # noqa: F401 (a real SMTP server on loopback, for every digest test)


@pytest.fixture
def world(session: Session) -> World:
    return World(session)
