"""Handing out pairs and recording votes, safely under concurrency (see `db.py` for the lock)."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from fgaesq.calibrate.votes import CHOICES
from fgaesq.serve.annotate import db
from fgaesq.serve.annotate.active import bt_params, priority, stable_hash, win_probability
from fgaesq.serve.annotate.catalog import Catalog

PairKey = tuple[str, str, str]  # (series, lo, hi)


def utcnow() -> datetime:
    """The current UTC time, naive (as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


class PairUnavailable(Exception):
    """The vote cannot be taken: the lease is gone and the pair already has its target votes."""


class VoteRejected(ValueError):
    """The posted vote names no pair of the catalogue, or not the pair that was served."""


@dataclass(frozen=True)
class Assignment:
    """A pair served to one annotator: `left` is stored as image_a, `right` as image_b."""

    token: str
    series: str
    left: str
    right: str
    votes: int
    probability: float  # current Bradley–Terry P(left ≻ right)
    expires_at: datetime


@dataclass(frozen=True)
class Receipt:
    """A recorded (committed) vote; `already` when this annotator had judged the pair before."""

    id: int
    series: str
    image_a: str
    image_b: str
    choice: str
    annotator: str
    already: bool = False


@dataclass(frozen=True)
class SeriesProgress:
    """Progress of one series: pairs at the target, and votes counted up to the target per pair."""

    name: str
    images: int
    pairs: int
    pairs_done: int
    votes: int
    votes_needed: int

    @property
    def percent(self) -> float:
        """Share of the needed votes that are in, 0–100."""
        return 100.0 * self.votes / self.votes_needed if self.votes_needed else 100.0


@dataclass(frozen=True)
class Progress:
    """Progress per series and overall; `mine`/`left_for_me` only when asked for one annotator."""

    series: list[SeriesProgress]
    target: int
    votes_total: int
    annotators: int
    mine: int = 0
    left_for_me: int = 0

    @property
    def pairs(self) -> int:
        """Pairs over all series."""
        return sum(s.pairs for s in self.series)

    @property
    def pairs_done(self) -> int:
        """Pairs that have the target number of votes."""
        return sum(s.pairs_done for s in self.series)

    @property
    def votes(self) -> int:
        """Votes counted towards the target (at most `target` per pair)."""
        return sum(s.votes for s in self.series)

    @property
    def votes_needed(self) -> int:
        """pairs × target."""
        return sum(s.votes_needed for s in self.series)

    @property
    def percent(self) -> float:
        """Share of the needed votes that are in, 0–100."""
        return 100.0 * self.votes / self.votes_needed if self.votes_needed else 100.0


class AnnotationStore:
    """Pairs for annotators (active selection under a lease) and their votes, in one SQL database."""

    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        *,
        target_votes: int = 3,
        lease_seconds: float = 600.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if target_votes < 1:
            raise ValueError("target_votes must be ≥ 1")
        self.engine = engine
        self.catalog = catalog
        self.target = target_votes
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self._bt: dict[str, tuple[int, np.ndarray]] = {}
        self._bt_lock = threading.Lock()

    # --- reading -------------------------------------------------------------------------------

    @staticmethod
    def _vote_counts(conn: Connection) -> Counter[PairKey]:
        v = db.votes.c
        rows = conn.execute(
            select(v.series, v.pair_lo, v.pair_hi, func.count()).group_by(v.series, v.pair_lo, v.pair_hi)
        )
        return Counter({(s, lo, hi): n for s, lo, hi, n in rows})

    def _params(self, conn: Connection, series: str, n_votes: int) -> np.ndarray:
        """Bradley–Terry strengths of a series' images, refitted only when its vote count changed (votes are append-only)."""
        with self._bt_lock:
            hit = self._bt.get(series)
        if hit is not None and hit[0] == n_votes:
            return hit[1]
        images = self.catalog.series[series].images
        index = {name: i for i, name in enumerate(images)}
        v = db.votes.c
        comps = [
            (index[a], index[b], choice)
            for a, b, choice in conn.execute(select(v.image_a, v.image_b, v.choice).where(v.series == series))
            if a in index and b in index
        ]
        params = bt_params(len(images), comps)
        with self._bt_lock:
            self._bt[series] = (n_votes, params)
        return params

    def probability(self, series: str, a: str, b: str) -> float:
        """Current Bradley–Terry P(a ≻ b) from the series' votes."""
        with self.engine.connect() as conn:
            counts = self._vote_counts(conn)
            n = sum(c for (s, _, _), c in counts.items() if s == series)
            params = self._params(conn, series, n)
        images = self.catalog.series[series].images
        return win_probability(params, images.index(a), images.index(b))

    # --- serving pairs -------------------------------------------------------------------------

    def next_pair(self, annotator: str) -> Assignment | None:
        """The pair this annotator should judge now (their open lease if any), or None when nothing is left for them."""
        L = db.leases.c
        v = db.votes.c
        with self.engine.begin() as conn:
            db.lock(conn)
            now = self.clock()
            conn.execute(delete(db.leases).where(L.expires_at < now))
            mine = {
                (s, lo, hi)
                for s, lo, hi in conn.execute(
                    select(v.series, v.pair_lo, v.pair_hi).where(v.annotator == annotator)
                )
            }
            counts = self._vote_counts(conn)
            own = conn.execute(select(db.leases).where(L.annotator == annotator)).mappings().first()
            if own is not None:
                key = (own["series"], own["pair_lo"], own["pair_hi"])
                if self.catalog.has_pair(*key) and key not in mine:
                    expires = now + self.lease
                    conn.execute(update(db.leases).where(L.token == own["token"]).values(expires_at=expires))
                    return self._assignment(
                        conn, own["token"], own["series"], own["image_a"], own["image_b"], counts, expires
                    )
                conn.execute(delete(db.leases).where(L.token == own["token"]))
            held = Counter(
                {
                    (s, lo, hi): n
                    for s, lo, hi, n in conn.execute(
                        select(L.series, L.pair_lo, L.pair_hi, func.count()).group_by(
                            L.series, L.pair_lo, L.pair_hi
                        )
                    )
                }
            )
            series_votes = Counter()
            for (s, _, _), n in counts.items():
                series_votes[s] += n
            best: tuple[tuple[float, int, int], PairKey] | None = None
            for series in self.catalog.series.values():
                params = None
                index = {name: i for i, name in enumerate(series.images)}
                for lo, hi in series.pairs():
                    key = (series.name, lo, hi)
                    n = counts[key] + held[key]
                    if key in mine or n >= self.target:
                        continue
                    if params is None:
                        params = self._params(conn, series.name, series_votes[series.name])
                    p = win_probability(params, index[lo], index[hi])
                    rank = (priority(p, n), -n, stable_hash(annotator, *key))
                    if best is None or rank > best[0]:
                        best = (rank, key)
            if best is None:
                return None
            series_name, lo, hi = best[1]
            left, right = (lo, hi) if stable_hash(series_name, lo, hi, annotator) & 1 else (hi, lo)
            token = secrets.token_hex(16)
            expires = now + self.lease
            conn.execute(
                insert(db.leases).values(
                    token=token,
                    annotator=annotator,
                    series=series_name,
                    image_a=left,
                    image_b=right,
                    pair_lo=lo,
                    pair_hi=hi,
                    served_at=now,
                    expires_at=expires,
                )
            )
            return self._assignment(conn, token, series_name, left, right, counts, expires)

    def _assignment(
        self,
        conn: Connection,
        token: str,
        series: str,
        left: str,
        right: str,
        counts: Counter,
        expires: datetime,
    ) -> Assignment:
        lo, hi = sorted((left, right))
        n_series = sum(c for (s, _, _), c in counts.items() if s == series)
        images = self.catalog.series[series].images
        p = win_probability(self._params(conn, series, n_series), images.index(left), images.index(right))
        return Assignment(token, series, left, right, counts[(series, lo, hi)], p, expires)

    # --- recording votes -----------------------------------------------------------------------

    def record_vote(
        self,
        annotator: str,
        choice: str,
        *,
        token: str | None = None,
        series: str | None = None,
        left: str | None = None,
        right: str | None = None,
    ) -> Receipt:
        """Record `choice` (a|b|tie) on the leased pair (or on series/left/right when the lease has expired).

        Returns only after the vote is committed. Raises VoteRejected for a pair that is not in the
        catalogue or does not match the lease, PairUnavailable when the lease is gone and the pair has
        meanwhile reached its target.
        """
        if choice not in CHOICES:
            raise VoteRejected("choice must be a, b or tie")
        L = db.leases.c
        v = db.votes.c
        with self.engine.begin() as conn:
            db.lock(conn)
            now = self.clock()
            lease = None
            if token:
                lease = conn.execute(select(db.leases).where(L.token == token)).mappings().first()
                if lease is not None and lease["annotator"] != annotator:
                    lease = None
            if lease is None and token:
                answered = (
                    conn.execute(select(db.votes).where(v.token == token, v.annotator == annotator))
                    .mappings()
                    .first()
                )
                if answered is not None:  # the same page posted again
                    return Receipt(
                        answered["id"],
                        answered["series"],
                        answered["image_a"],
                        answered["image_b"],
                        answered["choice"],
                        annotator,
                        True,
                    )
            if lease is not None:
                shown = (lease["series"], lease["image_a"], lease["image_b"])
                if series is not None and (series, left, right) != shown:
                    raise VoteRejected("the posted pair is not the pair that was served with this token")
                series, left, right = shown
                seconds = max(0.0, (now - lease["served_at"]).total_seconds())
            else:
                if (
                    series is None
                    or left is None
                    or right is None
                    or not self.catalog.has_pair(series, left, right)
                ):
                    raise VoteRejected("no such pair: series and both images must be in the catalogue")
                seconds = None
            lo, hi = sorted((left, right))
            earlier = (
                conn.execute(
                    select(db.votes).where(
                        v.series == series, v.pair_lo == lo, v.pair_hi == hi, v.annotator == annotator
                    )
                )
                .mappings()
                .first()
            )
            if earlier is not None:  # a resubmission (double click, retry after a lost answer)
                if lease is not None:
                    conn.execute(delete(db.leases).where(L.token == lease["token"]))
                return Receipt(
                    earlier["id"],
                    series,
                    earlier["image_a"],
                    earlier["image_b"],
                    earlier["choice"],
                    annotator,
                    True,
                )
            if lease is None:
                taken = conn.execute(
                    select(func.count())
                    .select_from(db.votes)
                    .where(v.series == series, v.pair_lo == lo, v.pair_hi == hi)
                ).scalar_one()
                held = conn.execute(
                    select(func.count())
                    .select_from(db.leases)
                    .where(
                        L.series == series,
                        L.pair_lo == lo,
                        L.pair_hi == hi,
                        L.annotator != annotator,
                        L.expires_at >= now,
                    )
                ).scalar_one()
                if taken + held >= self.target:
                    raise PairUnavailable(
                        "this pair was given to someone else and has all its votes; here is the next one"
                    )
            vote_id = conn.execute(
                insert(db.votes)
                .values(
                    series=series,
                    image_a=left,
                    image_b=right,
                    pair_lo=lo,
                    pair_hi=hi,
                    choice=choice,
                    annotator=annotator,
                    created_at=now,
                    seconds=None if seconds is None else round(seconds, 3),
                    token=None if lease is None else lease["token"],
                )
                .returning(v.id)
            ).scalar_one()
            if lease is not None:
                conn.execute(delete(db.leases).where(L.token == lease["token"]))
        return Receipt(vote_id, series, left, right, choice, annotator)

    def is_vote_of(self, vote_id: int, annotator: str) -> bool:
        """True when vote `vote_id` is stored and was cast by `annotator` (the page's confirmation checks this)."""
        v = db.votes.c
        with self.engine.connect() as conn:
            row = conn.execute(select(v.id).where(v.id == vote_id, v.annotator == annotator)).first()
        return row is not None

    def release(self, annotator: str) -> None:
        """Give back the annotator's open pair (on logout)."""
        with self.engine.begin() as conn:
            db.lock(conn)
            conn.execute(delete(db.leases).where(db.leases.c.annotator == annotator))

    # --- progress ------------------------------------------------------------------------------

    def progress(self, annotator: str | None = None) -> Progress:
        """Votes per series and overall against the target; with `annotator`, their own count and what is left for them."""
        v = db.votes.c
        with self.engine.connect() as conn:
            counts = self._vote_counts(conn)
            total = conn.execute(select(func.count()).select_from(db.votes)).scalar_one()
            people = conn.execute(select(func.count(func.distinct(v.annotator)))).scalar_one()
            mine: set[PairKey] = set()
            if annotator is not None:
                mine = {
                    tuple(r)
                    for r in conn.execute(
                        select(v.series, v.pair_lo, v.pair_hi).where(v.annotator == annotator)
                    )
                }
        rows = []
        left_for_me = 0
        for s in self.catalog.series.values():
            done = got = 0
            for lo, hi in s.pairs():
                n = counts[(s.name, lo, hi)]
                got += min(n, self.target)
                done += n >= self.target
                if annotator is not None and n < self.target and (s.name, lo, hi) not in mine:
                    left_for_me += 1
            rows.append(SeriesProgress(s.name, len(s.images), s.n_pairs, done, got, s.n_pairs * self.target))
        return Progress(rows, self.target, total, people, len(mine), left_for_me)
