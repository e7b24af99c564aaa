#!/usr/bin/env python3
"""Is a file of easywebhub/daksong_website held out? (../shared/corpus/README.md)

usage: holdout.py PATH [PATH ...]   e.g. holdout.py content/some-slug.md
Prints "HELD OUT <path>" or "open <path>" per path; exits 1 when any is held out.
Held-out files must never be read, copied or tested on: check before reading.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

REPO = "easywebhub/daksong_website"
LIST = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "holdout-sha256.txt"


def held_out_hashes() -> set[str]:
    return {line.split()[0] for line in LIST.read_text().splitlines() if line.strip()}


def is_held_out(path: str, hashes: set[str]) -> bool:
    return hashlib.sha256(f"{REPO}:{path}".encode()).hexdigest() in hashes


def main(argv: list[str]) -> int:
    hashes = held_out_hashes()
    bad = 0
    for path in argv:
        held = is_held_out(path, hashes)
        bad += held
        print(("HELD OUT " if held else "open ") + path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
