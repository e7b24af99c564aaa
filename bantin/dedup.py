"""Duplicate detection: exact (same canonical URL, same normalised body) and near (MinHash).

Provincial portals republish district stories with a new title or a trimmed sentence,
and one portal serves a story under two URLs. Such copies are stored and linked to the
earliest original (`articles.duplicate_of`), never dropped: the digest shows a story once
but the record of where it appeared stays.

Near duplicates: MinHash over 3-syllable shingles (Vietnamese words are written as
space-separated syllables, so syllables are the natural token), 128 permutations, Jaccard
threshold 0.8, and the same facts (figures and names, `Facts`). Signatures, LSH bands and
facts are stored with each article, so runs, portals and processes compare; the work per
article is bounded (`choose_candidates`: the rarest buckets first, the members nearest in
date, CANDIDATE_BUDGET candidates), and the decision on a batch is a pure function of what
the database handed back (`decide_batch`).

MinHash and the LSH banding are written here with numpy (the classic scheme: 32-bit
hash of each shingle, 128 affine permutations modulo the Mersenne prime 2^61-1, minimum
per permutation; 16 bands of 8 rows). datasketch computes the same kind of signature but
importing it loads scipy and redis (~100 MB, 3 s), a third of the crawler's memory budget.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from bantin.tones import fold

NUM_PERM = 128
SEED = 1
SHINGLE_SYLLABLES = 3
THRESHOLD = 0.8
# Fewer shingles than this and MinHash is noise (a two-line notice matches many others).
MIN_SHINGLES_FOR_NEAR = 12

# Change it (and re-sign) if the scheme below changes. v2: the tone placement of bantin.tones
# ("uỷ", "hoà"; v1 kept "ủy", "hòa"), so content hashes and signatures of v1 differ.
SIGNATURE_VERSION = "bantin-minhash-v2"
BANDS, ROWS = 16, 8  # P(candidate) = 1-(1-s^8)^16: 0.95 at s=0.8, 0.06 at s=0.5
_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
_DTYPE = np.dtype("<u4")
_rng = np.random.RandomState(SEED)
_A = _rng.randint(1, int(_PRIME), size=NUM_PERM, dtype=np.uint64)
_B = _rng.randint(0, int(_PRIME), size=NUM_PERM, dtype=np.uint64)
del _rng


class Signature:
    """A MinHash signature: NUM_PERM uint32 values."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two shingle sets."""
        return float(np.count_nonzero(self.values == other.values)) / NUM_PERM

    def bands(self) -> list[bytes]:
        return [self.values[i * ROWS : (i + 1) * ROWS].tobytes() for i in range(BANDS)]


def _sign(items: Iterable[bytes]) -> Signature:
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(item, digest_size=4).digest(), "little") for item in items), dtype=np.uint64
    )
    if hashes.size == 0:
        return Signature(np.full(NUM_PERM, _MAX_HASH, dtype=_DTYPE))
    # uint64 products wrap around; that is part of the (fixed) hash family, not an error.
    with np.errstate(over="ignore"):
        permuted = ((hashes[:, None] * _A + _B) % _PRIME) & _MAX_HASH
    return Signature(permuted.min(axis=0).astype(_DTYPE))


_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)

def normalise_text(text: str) -> str:
    """Lowercase NFC text with one tone placement (bantin.tones: a retyped copy hashes the
    same), no punctuation, single spaces."""
    text = fold(text).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def content_hash(text: str) -> str:
    """sha256 of the normalised body: equal for copies differing only in spacing, case, marks placement."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


_NUMBER = re.compile(r"\d+(?:[.,/:]\d+)*")
# Share of the smaller article's numbers the other must contain to be the same story.
NUMBERS_CONTAINMENT = 0.8


def numbers_of(text: str) -> set[str]:
    """Dates, figures and percentages: what tells two reports of the same template apart."""
    return set(_NUMBER.findall(text))


_WORD_OR_BREAK = re.compile(r"[^\W\d_]+|[^\w\s]|\d+")
# Share of the smaller article's names (places, people, bodies) the other must hold.
NAMES_CONTAINMENT = 0.95


def names_of(text: str) -> set[str]:
    """Names: runs of capitalised syllables ("Hồng Phong", "Nguyễn Thế Đồi", "Huyện").
    Communes, people and bodies are written in title case; punctuation ends a run."""
    names: set[str] = set()
    run: list[str] = []
    for token in _WORD_OR_BREAK.findall(unicodedata.normalize("NFC", text)):
        if token[0].isupper():
            run.append(token)
            continue
        if run:
            names.add(" ".join(run))
            run = []
    if run:
        names.add(" ".join(run))
    return names


def _contained(a: AbstractSet[str], b: AbstractSet[str], share: float) -> bool:
    if not a or not b:
        return not a and not b
    return len(a & b) / min(len(a), len(b)) >= share


@dataclass(frozen=True, slots=True)
class Facts:
    """What tells two reports of one template apart: their figures and their names.

    Computed once per article and stored with it (`articles.facts`), so a near-duplicate
    candidate is checked without reading its text again."""

    numbers: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Facts:
        return cls(frozenset(numbers_of(text)), frozenset(names_of(text)))

    def agree(self, other: Facts) -> bool:
        """A republished copy keeps the original's dates, figures and names (a trimmed copy
        keeps a subset); two meetings written from one template, for another commune or
        another day, do not."""
        return _contained(self.numbers, other.numbers, NUMBERS_CONTAINMENT) and _contained(
            self.names, other.names, NAMES_CONTAINMENT
        )

    def to_json(self) -> dict[str, list[str]]:
        return {"numbers": sorted(self.numbers), "names": sorted(self.names)}

    @classmethod
    def from_json(cls, data: object) -> Facts | None:
        """The stored form back; None when there is none (an article stored before facts were kept)."""
        if not isinstance(data, dict):
            return None
        numbers, names = data.get("numbers"), data.get("names")
        if not isinstance(numbers, list) or not isinstance(names, list):
            return None
        return cls(frozenset(str(n) for n in numbers), frozenset(str(n) for n in names))


def same_figures(a: str, b: str) -> bool:
    """Near-duplicate guard on two texts: `Facts.agree`."""
    return Facts.of(a).agree(Facts.of(b))


def shingles(text: str, k: int = SHINGLE_SYLLABLES) -> set[bytes]:
    syllables = normalise_text(text).split()
    if len(syllables) < k:
        return {" ".join(syllables).encode("utf-8")} if syllables else set()
    return {" ".join(syllables[i : i + k]).encode("utf-8") for i in range(len(syllables) - k + 1)}


def signature(text: str) -> Signature:
    return _sign(shingles(text))


def signature_to_bytes(m: Signature) -> bytes:
    return m.values.astype(_DTYPE).tobytes()


def signature_from_bytes(data: bytes) -> Signature | None:
    """The stored signature, or None when it was made by another scheme (other length)."""
    if len(data) != NUM_PERM * _DTYPE.itemsize:
        return None
    return Signature(np.frombuffer(data, dtype=_DTYPE).copy())


# LSH buckets: (band number, the band's 8 signature values as bytes). Of a bucket, the
# members dated nearest to the article are read (copies appear within days of their
# original), at most BUCKET_CAP compared; an article's rarest buckets are read first and
# CANDIDATE_BUDGET candidates compared in all. Template-written reports share the buckets
# of their common wording by the thousand, while a copy shares with its original the
# buckets that fall on what is its own (commune, date, figures): few members.
type BucketKey = tuple[int, bytes]
BUCKET_CAP = 8
CANDIDATE_BUDGET = 40


@dataclass
class Fingerprint:
    """What dedup needs of one article body."""

    content_hash: str
    minhash: Signature
    shingle_count: int
    facts: Facts

    @property
    def minhash_bytes(self) -> bytes:
        return signature_to_bytes(self.minhash)

    @property
    def near_comparable(self) -> bool:
        return self.shingle_count >= MIN_SHINGLES_FOR_NEAR

    @property
    def bucket_keys(self) -> list[BucketKey]:
        """Its LSH buckets; none when the text is too short for MinHash to mean anything."""
        return list(enumerate(self.minhash.bands())) if self.near_comparable else []


def fingerprint(text: str) -> Fingerprint:
    sh = shingles(text)
    return Fingerprint(content_hash(text), _sign(sh), len(sh), Facts.of(text))


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored article as the decision sees it."""

    id: int
    published_at: dt.datetime | None
    root: int  # itself, or the original it is linked to (links are flat: one hop)
    minhash: Signature | None
    facts: Facts | None  # None: not known (then it is no near-duplicate candidate)


@dataclass(frozen=True, slots=True)
class Incoming:
    """An article of the batch being stored (already inserted: it has its id)."""

    id: int
    published_at: dt.datetime | None
    fingerprint: Fingerprint
    first_seen_at: dt.datetime  # dates it when the page gives no date

    @property
    def when(self) -> dt.datetime:
        return self.published_at or self.first_seen_at


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a new article goes: `duplicate_of` an existing root, or it becomes the root of `adopt`."""

    duplicate_of: int | None  # link the new article to this root
    adopt: int | None  # the new article is earlier: this old root (and its copies) point to it
    kind: str | None  # "exact" or "near"


@dataclass
class Lookup:
    """What the store read of the database for one batch (under its lock).

    `exact`: content hash -> the first stored article with that body; `candidates`: per
    incoming id, the stored articles `choose_candidates` picked from its buckets; `stored`:
    every id of both, and their roots."""

    exact: Mapping[str, int]
    candidates: Mapping[int, Sequence[int]]
    stored: Mapping[int, Stored]


def choose_candidates(
    fp: Fingerprint, when: dt.datetime, members: Mapping[BucketKey, Sequence[tuple[int, dt.datetime]]]
) -> list[int]:
    """The stored articles worth comparing with `fp` (dated `when`): members of its buckets
    (each given as (id, date), nearest to `when` on both sides, more than BUCKET_CAP of a
    side when there are that many), the rarest buckets first, the BUCKET_CAP members dated
    nearest to `when` of each, CANDIDATE_BUDGET in all."""

    def nearest(found: Sequence[tuple[int, dt.datetime]]) -> list[int]:
        ordered = sorted(found, key=lambda member: (abs((member[1] - when).total_seconds()), -member[0]))
        return [article_id for article_id, _ in ordered[:BUCKET_CAP]]

    chosen: dict[int, None] = {}
    for found in sorted((members.get(key, ()) for key in fp.bucket_keys), key=len):
        for article_id in nearest(found):
            chosen.setdefault(article_id)
            if len(chosen) >= CANDIDATE_BUDGET:
                return list(chosen)
    return list(chosen)


def _earlier(a: dt.datetime | None, a_id: int, b: dt.datetime | None, b_id: int) -> bool:
    """Is (a, a_id) the earlier original? Unknown dates sort last; ids break ties (first stored wins)."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return (a or far, a_id) < (b or far, b_id)


def decide_batch(incoming: Sequence[Incoming], lookup: Lookup, threshold: float = THRESHOLD) -> list[Decision]:
    """Where each article of a batch goes, in order (a copy later in the batch finds its
    original earlier in it): pure, on what `lookup` holds.

    A duplicate has the same body hash as a stored (or earlier) article, or a MinHash
    Jaccard >= threshold with one and the same facts. It is linked to the earliest
    original (publication date, then id) of the clusters it matches; when it is itself the
    earlier one it adopts that cluster (the caller re-points the old root and its copies).
    """
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    adopted: dict[int, int] = {}  # old root -> the article that adopted its cluster
    parent: dict[int, int] = {}  # batch article -> the root it was linked to
    dates: dict[int, dt.datetime | None] = {}
    local: dict[int, Fingerprint] = {}
    local_hash: dict[str, int] = {}
    local_buckets: dict[BucketKey, list[int]] = {}

    def root(article_id: int) -> int:
        found = lookup.stored[article_id].root if article_id in lookup.stored else parent.get(article_id, article_id)
        while found in adopted:
            found = adopted[found]
        return found

    def date(article_id: int) -> dt.datetime | None:
        return lookup.stored[article_id].published_at if article_id in lookup.stored else dates[article_id]

    def near(fp: Fingerprint, article_id: int) -> bool:
        if article_id in local:
            other: Signature | None = local[article_id].minhash
            facts: Facts | None = local[article_id].facts
        else:
            other, facts = lookup.stored[article_id].minhash, lookup.stored[article_id].facts
        return other is not None and facts is not None and fp.minhash.jaccard(other) >= threshold and fp.facts.agree(facts)

    decisions: list[Decision] = []
    for article in incoming:
        fp = article.fingerprint
        found: set[int] = set()
        kind: str | None = None
        same_body = lookup.exact.get(fp.content_hash, local_hash.get(fp.content_hash))
        if same_body is not None:
            found, kind = {same_body}, "exact"
        elif fp.near_comparable:
            batch_candidates = dict.fromkeys(i for key in fp.bucket_keys for i in local_buckets.get(key, ()))
            candidates = [*lookup.candidates.get(article.id, ()), *batch_candidates]
            found = {i for i in candidates if near(fp, i)}
            kind = "near" if found else None
        decision = Decision(None, None, None)
        if found:
            best = min({root(i) for i in found}, key=lambda r: (date(r) or far, r))
            if _earlier(article.published_at, article.id, date(best), best):
                decision = Decision(None, best, kind)
                adopted[best] = article.id
            else:
                decision = Decision(best, None, kind)
                parent[article.id] = best
        decisions.append(decision)
        dates[article.id] = article.published_at
        local[article.id] = fp
        local_hash.setdefault(fp.content_hash, article.id)
        for key in fp.bucket_keys:
            local_buckets.setdefault(key, []).append(article.id)
    return decisions
