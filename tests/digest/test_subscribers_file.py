"""The subscribers file read like deploy/sources.yaml: a key written twice is refused with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bantin.digest.mail import SubscribersError, load_subscribers


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n"
        "  - name: An\n"
        "    email: an@example.org\n"
        "    places: [Vĩnh Linh]\n"
        "    places: [Hàm Yên]\n",
        encoding="utf-8",
    )
    # PyYAML alone keeps the last: An would silently stop following Vĩnh Linh
    with pytest.raises(SubscribersError, match=rf"{path}:5: not valid YAML: duplicate key 'places' \(first on line 4\)"):
        load_subscribers(path)
