"""Fixtures of the digest tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from digest_world import World


@pytest.fixture
def world(session: Session) -> World:
    return World(session)
