"""Review decisions (flag, stars, best of series) in the database, and the pairwise judgements an override implies.

The database is the one `fgaesq annotate` uses (SQLite by default, PostgreSQL by URL): decisions live in two
tables of their own; judgements go into the annotate `votes` table, so `fgaesq annotate export` and
`fgaesq calibrate` read them like any other votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    select,
    update,
)

from fgaesq.serve.annotate import db as annotate_db
from fgaesq.serve.review.shoot import Shoot, ShootSeries

FLAGS = ("pick", "reject", "")
ACTIONS = ("pick", "reject", "unflag", "stars", "best")
PATH_LEN = 1024

metadata = MetaData()

#: One row per photo that has a decision: pick/reject flag ('' = none) and 0-5 stars (NULL = not set).
frames = Table(
    "review_frames",
    metadata,
    Column("root", String(PATH_LEN), primary_key=True),
    Column("path", String(PATH_LEN), primary_key=True),
    Column("series", String(annotate_db.NAME_LEN), nullable=False),
    Column("flag", String(6), nullable=False, default=""),
    Column("stars", Integer, nullable=True),
    Column("updated_at", DateTime(timezone=False), nullable=False),
)

#: One row per series the user named a best for (B), and whether it differs from the model's best.
series_best = Table(
    "review_series",
    metadata,
    Column("root", String(PATH_LEN), primary_key=True),
    Column("series", String(annotate_db.NAME_LEN), primary_key=True),
    Column("best", String(PATH_LEN), nullable=True),
    Column("override", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=False), nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class FrameState:
    """A frame's decision: flag ('pick' | 'reject' | '') and stars (None = not set)."""

    flag: str = ""
    stars: int | None = None


@dataclass
class SeriesState:
    """Decisions of one series: per-frame states (by rel path) and the user's best (None = not chosen)."""

    frames: dict[str, FrameState]
    best: str | None
    override: bool

    def decided(self, series: ShootSeries) -> bool:
        """Every frame has a flag, or a best was chosen."""
        return self.best is not None or all(self.frames.get(f.rel, FrameState()).flag for f in series.frames)


class ReviewStore:
    """Decisions of one shoot in a database; every change is committed before the call returns."""

    def __init__(self, engine: Engine, shoot: Shoot, *, annotator: str = "review") -> None:
        self.engine, self.shoot, self.annotator = engine, shoot, annotator
        self.root = str(shoot.root)
        metadata.create_all(engine)

    # --- reading -------------------------------------------------------------------------------

    def series_state(self, s: ShootSeries) -> SeriesState:
        """The stored decisions of series `s`."""
        f, b = frames.c, series_best.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(f.path, f.flag, f.stars).where(f.root == self.root, f.series == s.name))
            states = {r.path: FrameState(r.flag, r.stars) for r in rows}
            row = conn.execute(select(b.best, b.override).where(b.root == self.root, b.series == s.name)).first()
        return SeriesState(states, row.best if row else None, bool(row.override) if row else False)

    def all_states(self) -> dict[str, SeriesState]:
        """Decisions of every series of the shoot, by series name."""
        f, b = frames.c, series_best.c
        out = {s.name: SeriesState({}, None, False) for s in self.shoot.series}
        with self.engine.connect() as conn:
            for r in conn.execute(select(f.series, f.path, f.flag, f.stars).where(f.root == self.root)):
                if r.series in out:
                    out[r.series].frames[r.path] = FrameState(r.flag, r.stars)
            for r in conn.execute(select(b.series, b.best, b.override).where(b.root == self.root)):
                if r.series in out:
                    out[r.series].best, out[r.series].override = r.best, bool(r.override)
        return out

    # --- deciding ------------------------------------------------------------------------------

    def decide(self, rel: str, action: str, stars: int | None = None) -> list[str]:
        """Apply one key press to frame `rel`; returns the rel paths whose decision changed."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        frame = self.shoot.frame_by_rel(rel)
        if frame is None:
            raise KeyError(rel)
        series = self.shoot.series[frame.series]
        if action == "stars" and (stars is None or not 0 <= stars <= 5):
            raise ValueError("stars must be 0-5")
        with self.engine.begin() as conn:
            annotate_db.lock(conn)
            state = self._state_in(conn, series)
            changes: dict[str, FrameState] = {}
            best = state.best
            if action == "pick":
                changes[rel] = FrameState("pick", state.frames.get(rel, FrameState()).stars)
            elif action in ("reject", "unflag"):
                changes[rel] = FrameState("reject" if action == "reject" else "",
                                          state.frames.get(rel, FrameState()).stars)
                if best == rel:
                    best = None
            elif action == "stars":
                changes[rel] = FrameState(state.frames.get(rel, FrameState()).flag, stars or None)
            else:  # best: pick this one, reject the rest
                best = rel
                for f in series.frames:
                    old = state.frames.get(f.rel, FrameState())
                    changes[f.rel] = FrameState("pick" if f.rel == rel else "reject", old.stars)
            for path, st in changes.items():
                self._put_frame(conn, series.name, path, st)
            new_frames = {**state.frames, **changes}
            effective = best or next((f.rel for f in series.frames if new_frames.get(f.rel, FrameState()).flag == "pick"),
                                     None)
            override = effective is not None and effective != series.best.rel
            self._put_best(conn, series.name, best, override)
            self._write_judgements(conn, series, effective if override else None)
        return list(changes)

    def _state_in(self, conn, s: ShootSeries) -> SeriesState:
        f, b = frames.c, series_best.c
        rows = conn.execute(select(f.path, f.flag, f.stars).where(f.root == self.root, f.series == s.name))
        states = {r.path: FrameState(r.flag, r.stars) for r in rows}
        row = conn.execute(select(b.best, b.override).where(b.root == self.root, b.series == s.name)).first()
        return SeriesState(states, row.best if row else None, bool(row.override) if row else False)

    def _put_frame(self, conn, series: str, path: str, st: FrameState) -> None:
        f = frames.c
        key = and_(f.root == self.root, f.path == path)
        values = {"series": series, "flag": st.flag, "stars": st.stars, "updated_at": _now()}
        if conn.execute(update(frames).where(key).values(**values)).rowcount == 0:
            conn.execute(insert(frames).values(root=self.root, path=path, **values))

    def _put_best(self, conn, series: str, best: str | None, override: bool) -> None:
        b = series_best.c
        key = and_(b.root == self.root, b.series == series)
        values = {"best": best, "override": override, "updated_at": _now()}
        if conn.execute(update(series_best).where(key).values(**values)).rowcount == 0:
            conn.execute(insert(series_best).values(root=self.root, series=series, **values))

    # --- judgements ----------------------------------------------------------------------------

    def _write_judgements(self, conn, series: ShootSeries, winner: str | None) -> None:
        """Replace this reviewer's votes on the series: when the user's best is not the model's, it beats every other
        frame (image_a = the user's best, choice a)."""
        v = annotate_db.votes.c
        conn.execute(delete(annotate_db.votes).where(v.series == series.name, v.annotator == self.annotator))
        if winner is None:
            return
        now = _now()
        for f in series.frames:
            if f.rel == winner:
                continue
            lo, hi = sorted((winner, f.rel))
            conn.execute(insert(annotate_db.votes).values(
                series=series.name, image_a=winner, image_b=f.rel, pair_lo=lo, pair_hi=hi, choice="a",
                annotator=self.annotator, created_at=now, seconds=None, token=None,
            ))

    def judgements(self) -> list[dict]:
        """This reviewer's stored votes: series, image_a, image_b, choice (oldest first)."""
        v = annotate_db.votes.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(v.series, v.image_a, v.image_b, v.choice)
                                .where(v.annotator == self.annotator).order_by(v.id))
            return [dict(r._mapping) for r in rows]
