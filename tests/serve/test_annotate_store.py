"""Serving pairs and recording votes on SQLite and PostgreSQL: target, leases, active selection, races."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fgaesq.serve.annotate import db as dbm
from fgaesq.serve.annotate.active import bt_params, priority, win_probability
from fgaesq.serve.annotate.catalog import Catalog
from fgaesq.serve.annotate.db import make_engine
from fgaesq.serve.annotate.store import AnnotationStore, PairUnavailable, VoteRejected, utcnow

from .conftest import SAME, TRUTH


class Clock:
    """A clock the test moves forward (lease expiry without sleeping)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def truthful(series: str, left: str, right: str) -> str:
    """What an honest annotator answers: the better image by construction, tie for identical images."""
    if series == SAME[0]:
        return "tie"
    order = TRUTH[series]
    return "a" if order.index(left) < order.index(right) else "b"


def judge_all(store: AnnotationStore, who: str) -> list[tuple[str, str, str]]:
    """Let `who` judge until nothing is left; returns the (series, left, right) they were served."""
    seen = []
    while (pair := store.next_pair(who)) is not None:
        seen.append((pair.series, pair.left, pair.right))
        store.record_vote(who, truthful(pair.series, pair.left, pair.right), token=pair.token)
    return seen


def n_votes(store: AnnotationStore) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(dbm.votes)).scalar_one()


@pytest.fixture
def make_store(series_root: Path, db_url: str):
    engines = []

    def _make(**kw) -> AnnotationStore:
        engine = make_engine(db_url)
        engines.append(engine)
        return AnnotationStore(engine, Catalog.scan(series_root), **kw)

    yield _make
    for e in engines:
        e.dispose()


def test_one_annotator_sees_every_pair_once(make_store) -> None:
    store = make_store(target_votes=3)
    seen = judge_all(store, "ann")
    keys = [(s, *sorted((a, b))) for s, a, b in seen]
    assert len(keys) == len(set(keys)) == store.catalog.n_pairs
    assert store.next_pair("ann") is None
    prog = store.progress("ann")
    assert (prog.votes_total, prog.mine, prog.left_for_me, prog.pairs_done) == (10, 10, 0, 0)
    assert prog.votes == 10 and prog.votes_needed == 30 and round(prog.percent, 1) == 33.3
    # both sides are used: position bias averages out over annotators
    lefts = {a for _, a, _ in seen}
    assert any(TRUTH["astronaut"][0] == a for a in lefts) and any(TRUTH["astronaut"][-1] == a for a in lefts)


def test_pairs_stop_at_the_target(make_store) -> None:
    store = make_store(target_votes=2)
    assert len(judge_all(store, "ann")) == 10
    assert len(judge_all(store, "bob")) == 10
    assert judge_all(store, "cem") == []
    prog = store.progress()
    assert prog.pairs_done == prog.pairs == 10 and prog.votes_total == 20 and prog.annotators == 2
    assert all(s.pairs_done == s.pairs for s in prog.series)


def test_reload_returns_the_same_open_pair(make_store) -> None:
    store = make_store()
    first = store.next_pair("ann")
    again = store.next_pair("ann")
    assert (again.token, again.series, again.left, again.right) == (
        first.token,
        first.series,
        first.left,
        first.right,
    )


def test_a_leased_pair_is_not_served_beyond_the_target_until_the_lease_expires(make_store) -> None:
    clock = Clock()
    store = make_store(target_votes=1, lease_seconds=60, clock=clock)
    a = store.next_pair("ann")
    others = set()
    while (p := store.next_pair("bob")) is not None:
        others.add((p.series, *sorted((p.left, p.right))))
        store.record_vote("bob", "tie", token=p.token)
    key_a = (a.series, *sorted((a.left, a.right)))
    assert key_a not in others and len(others) == 9
    clock.advance(61)  # ann walked away: the pair goes back to the pool
    p = store.next_pair("bob")
    assert (p.series, *sorted((p.left, p.right))) == key_a
    store.record_vote("bob", "a", token=p.token)
    # ann comes back and answers the stale page: the pair already has its vote
    with pytest.raises(PairUnavailable):
        store.record_vote("ann", "a", token=a.token, series=a.series, left=a.left, right=a.right)
    assert n_votes(store) == 10


def test_a_late_vote_is_kept_while_the_pair_still_needs_votes(make_store) -> None:
    clock = Clock()
    store = make_store(target_votes=2, lease_seconds=60, clock=clock)
    a = store.next_pair("ann")
    clock.advance(120)
    store.next_pair("bob")  # cleans expired leases
    r = store.record_vote("ann", "b", token=a.token, series=a.series, left=a.left, right=a.right)
    assert not r.already and (r.image_a, r.image_b, r.choice) == (a.left, a.right, "b")
    with store.engine.connect() as conn:
        seconds = conn.execute(select(dbm.votes.c.seconds).where(dbm.votes.c.id == r.id)).scalar_one()
    assert seconds is None  # served time unknown without the lease


def test_resubmitting_a_vote_records_it_once(make_store) -> None:
    clock = Clock()
    store = make_store(clock=clock)
    a = store.next_pair("ann")
    clock.advance(4.5)
    r1 = store.record_vote("ann", "a", token=a.token, series=a.series, left=a.left, right=a.right)
    r2 = store.record_vote("ann", "b", token=a.token, series=a.series, left=a.left, right=a.right)
    assert r2.already and r2.id == r1.id and r2.choice == "a"
    assert n_votes(store) == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(dbm.votes.c.seconds)).scalar_one() == pytest.approx(4.5)


def test_votes_must_name_the_served_pair_of_the_catalogue(make_store) -> None:
    store = make_store()
    a = store.next_pair("ann")
    with pytest.raises(VoteRejected):
        store.record_vote("ann", "a", token=a.token, series=a.series, left=a.right, right=a.left)
    with pytest.raises(VoteRejected):
        store.record_vote("ann", "a", series="astronaut", left="p1.jpg", right="../coffee/c1.png")
    with pytest.raises(VoteRejected):
        store.record_vote("ann", "a", series="astronaut", left="p1.jpg", right="p1.jpg")
    with pytest.raises(VoteRejected):
        store.record_vote("ann", "left", token=a.token)
    # bob cannot use ann's token
    with pytest.raises(VoteRejected):
        store.record_vote("bob", "a", token=a.token)
    assert n_votes(store) == 0


def test_the_most_uncertain_least_voted_pair_comes_first(make_store) -> None:
    store = make_store(target_votes=5)
    judge_all(store, "ann")  # one truthful vote on every pair; the identical pair got a tie
    pair = store.next_pair("bob")
    assert pair.series == SAME[0]  # p = 0.5 after a tie: the most uncertain pair
    # independent check: the served pair has the highest priority over all pairs
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(dbm.votes.c.series, dbm.votes.c.image_a, dbm.votes.c.image_b, dbm.votes.c.choice)
        ).all()
    best = {}
    for s in store.catalog.series.values():
        idx = {n: i for i, n in enumerate(s.images)}
        params = bt_params(len(s.images), [(idx[a], idx[b], c) for ser, a, b, c in rows if ser == s.name])
        for lo, hi in s.pairs():
            best[(s.name, lo, hi)] = priority(win_probability(params, idx[lo], idx[hi]), 1)
    top = max(best, key=best.get)
    assert top == (pair.series, *sorted((pair.left, pair.right)))


def test_a_pair_nobody_judged_comes_before_a_judged_one(make_store) -> None:
    store = make_store(target_votes=5)
    a = store.next_pair("ann")
    assert a.votes == 0 and a.probability == pytest.approx(0.5)
    store.record_vote("ann", "tie", token=a.token)  # still p = 0.5, but one vote
    b = store.next_pair("bob")
    assert (b.series, *sorted((b.left, b.right))) != (a.series, *sorted((a.left, a.right)))
    assert b.votes == 0


def test_racing_annotators_on_separate_connections_never_exceed_the_target(make_store) -> None:
    target = 1
    stores = [make_store(target_votes=target), make_store(target_votes=target)]  # like two server processes
    served: dict[str, list] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(store: AnnotationStore, who: str) -> None:
        try:
            barrier.wait()
            mine = served.setdefault(who, [])
            while (p := store.next_pair(who)) is not None:
                mine.append((p.series, *sorted((p.left, p.right))))
                store.record_vote(who, "tie", token=p.token)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(stores[i % 2], f"ann{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    all_served = [k for v in served.values() for k in v]
    assert len(all_served) == len(set(all_served)) == stores[0].catalog.n_pairs
    assert n_votes(stores[0]) == stores[0].catalog.n_pairs


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "v.sqlite"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()
    assert (tmp_path / "v.sqlite").read_bytes()[18:20] == b"\x02\x02"  # WAL recorded in the file header
