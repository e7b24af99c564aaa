"""Duplicate detection: exact (same canonical URL, same normalised body) and near (MinHash).

Provincial portals republish district stories with a new title or a trimmed sentence,
and one portal serves a story under two URLs. Such copies are stored and linked to the
earliest original (`articles.duplicate_of`), never dropped: the digest shows a story once
but the record of where it appeared stays.

Near duplicates: MinHash over 3-syllable shingles (Vietnamese words are written as
space-separated syllables, so syllables are the natural token), 128 permutations, Jaccard
threshold 0.8. Signatures are stored in `articles.minhash` so runs and portals compare.

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
from collections.abc import Callable, Iterable
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


def _contained(a: set[str], b: set[str], share: float) -> bool:
    if not a or not b:
        return not a and not b
    return len(a & b) / min(len(a), len(b)) >= share


def same_figures(a: str, b: str) -> bool:
    """Near-duplicate guard: a republished copy keeps the original's dates, figures and
    names (a trimmed copy keeps a subset); two meetings written from one template, for
    another commune or another day, do not."""
    return _contained(numbers_of(a), numbers_of(b), NUMBERS_CONTAINMENT) and _contained(
        names_of(a), names_of(b), NAMES_CONTAINMENT
    )


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


@dataclass
class Fingerprint:
    """What dedup needs of one article body."""

    content_hash: str
    minhash: Signature
    shingle_count: int

    @property
    def minhash_bytes(self) -> bytes:
        return signature_to_bytes(self.minhash)

    @property
    def near_comparable(self) -> bool:
        return self.shingle_count >= MIN_SHINGLES_FOR_NEAR


def fingerprint(text: str) -> Fingerprint:
    sh = shingles(text)
    return Fingerprint(content_hash(text), _sign(sh), len(sh))


@dataclass
class Known:
    """An article already stored, as dedup sees it."""

    id: int
    published_at: dt.datetime | None
    duplicate_of: int | None
    content_hash: str


@dataclass(frozen=True)
class Decision:
    """Where a new article goes: `duplicate_of` an existing root, or it becomes the root of `adopt`."""

    duplicate_of: int | None  # link the new article to this root
    adopt: int | None  # the new article is earlier: this old root (and its copies) point to it
    kind: str | None  # "exact" or "near"


def _earlier(a: dt.datetime | None, a_id: int, b: dt.datetime | None, b_id: int) -> bool:
    """Is (a, a_id) the earlier original? Unknown dates sort last; ids break ties (first stored wins)."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return (a or far, a_id) < (b or far, b_id)


class DedupIndex:
    """Exact-hash map plus an LSH index over every stored article's signature.

    Loaded incrementally from the database (`add_known` for rows past a high-water mark),
    updated as articles are stored. Not thread-safe: the caller serialises the store step.
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._bands: list[dict[bytes, list[int]]] = [{} for _ in range(BANDS)]
        self._minhash: dict[int, Signature] = {}
        self._by_hash: dict[str, int] = {}
        self.known: dict[int, Known] = {}
        self.high_water = 0  # largest article id loaded

    def add(self, known: Known, minhash: Signature | None) -> None:
        if known.id in self.known:
            return
        self.known[known.id] = known
        self.high_water = max(self.high_water, known.id)
        if known.content_hash:
            current = self._by_hash.get(known.content_hash)
            if current is None or known.id < current:
                self._by_hash[known.content_hash] = known.id
        if minhash is not None:
            self._minhash[known.id] = minhash
            for table, key in zip(self._bands, minhash.bands(), strict=True):
                table.setdefault(key, []).append(known.id)

    def root(self, article_id: int) -> int:
        seen = set()
        while True:
            parent = self.known[article_id].duplicate_of
            if parent is None or parent not in self.known or parent in seen:
                return article_id
            seen.add(article_id)
            article_id = parent

    def matches(self, fp: Fingerprint, verify: Callable[[int], bool] | None = None) -> tuple[set[int], str | None]:
        """Stored articles `fp` duplicates: same body hash, or MinHash Jaccard >= threshold
        and `verify(candidate id)` (e.g. same_figures on the two texts)."""
        exact = self._by_hash.get(fp.content_hash)
        if exact is not None:
            return {exact}, "exact"
        if not fp.near_comparable:
            return set(), None
        candidates: set[int] = set()
        for table, key in zip(self._bands, fp.minhash.bands(), strict=True):
            candidates.update(table.get(key, ()))
        found = {i for i in candidates if fp.minhash.jaccard(self._minhash[i]) >= self.threshold}
        if verify is not None:
            found = {i for i in found if verify(i)}
        return found, ("near" if found else None)

    def decide(
        self,
        fp: Fingerprint,
        published_at: dt.datetime | None,
        new_id_hint: int,
        verify: Callable[[int], bool] | None = None,
    ) -> Decision:
        """`new_id_hint` orders the new article after every stored one on equal dates."""
        found, kind = self.matches(fp, verify)
        if not found:
            return Decision(None, None, None)
        roots = {self.root(i) for i in found}
        best = min(roots, key=lambda r: (
            self.known[r].published_at or dt.datetime.max.replace(tzinfo=dt.UTC), r))
        if _earlier(published_at, new_id_hint, self.known[best].published_at, best):
            return Decision(None, best, kind)
        return Decision(best, None, kind)

    def relink(self, old_root: int, new_root: int) -> list[int]:
        """Point every member of old_root's cluster at new_root; returns the ids changed."""
        changed = [i for i in self.known if i != new_root and self.root(i) == old_root]
        for i in changed:
            self.known[i].duplicate_of = new_root
        return changed


def add_rows(index: DedupIndex, rows: Iterable[tuple[int, dt.datetime | None, int | None, str, bytes | None]]) -> None:
    """Load (id, published_at, duplicate_of, content_hash, minhash bytes) rows into the index."""
    for article_id, published_at, duplicate_of, chash, mh in rows:
        index.add(Known(article_id, published_at, duplicate_of, chash or ""), signature_from_bytes(mh) if mh else None)
