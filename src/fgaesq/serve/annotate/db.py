"""Storage: SQLAlchemy tables and engines for SQLite (default, WAL) and PostgreSQL (psycopg 3).

Durability: SQLite runs in WAL mode with `synchronous=FULL`, so a committed vote survives a killed
process (and a power cut); the app answers only after the commit. Concurrency: every transaction
that hands out or records a pair first takes one global lock — `BEGIN IMMEDIATE` on SQLite (one
writer at a time), `SELECT … FOR UPDATE` on the single row of `assign_lock` on PostgreSQL — so two
annotators (threads or processes) never see a half-made assignment.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

NAME_LEN = 255
ANNOTATOR_LEN = 64

metadata = MetaData()

#: One row per judgement. image_a was shown on the left, image_b on the right; (pair_lo, pair_hi) is
#: the same pair in sorted order, so an annotator can judge a pair once whatever side it was shown on.
votes = Table(
    "votes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series", String(NAME_LEN), nullable=False),
    Column("image_a", String(NAME_LEN), nullable=False),
    Column("image_b", String(NAME_LEN), nullable=False),
    Column("pair_lo", String(NAME_LEN), nullable=False),
    Column("pair_hi", String(NAME_LEN), nullable=False),
    Column("choice", String(3), nullable=False),
    Column("annotator", String(ANNOTATOR_LEN), nullable=False),
    Column("created_at", DateTime(timezone=False), nullable=False),  # UTC
    Column("seconds", Float, nullable=True),  # time from serving the pair to the vote
    Column(
        "token", String(32), nullable=True, index=True
    ),  # the lease it answered: makes resubmission idempotent
    CheckConstraint("choice IN ('a', 'b', 'tie')", name="ck_votes_choice"),
    UniqueConstraint("series", "pair_lo", "pair_hi", "annotator", name="uq_votes_once"),
)

#: Short-lived assignments: the pair each annotator is looking at now. A live lease counts as a vote
#: in flight, so the pair is not handed to more people than the target allows.
leases = Table(
    "leases",
    metadata,
    Column("token", String(32), primary_key=True),
    Column("annotator", String(ANNOTATOR_LEN), nullable=False, unique=True),
    Column("series", String(NAME_LEN), nullable=False),
    Column("image_a", String(NAME_LEN), nullable=False),
    Column("image_b", String(NAME_LEN), nullable=False),
    Column("pair_lo", String(NAME_LEN), nullable=False),
    Column("pair_hi", String(NAME_LEN), nullable=False),
    Column("served_at", DateTime(timezone=False), nullable=False),  # UTC
    Column("expires_at", DateTime(timezone=False), nullable=False),  # UTC
)

#: Where each series' images live under ROOT ("" for series grouped from a flat ROOT), so that the export writes
#: paths `fgaesq calibrate --root ROOT` finds; rewritten from the catalogue each time the server starts.
series_folders = Table(
    "series_folders",
    metadata,
    Column("series", String(NAME_LEN), primary_key=True),
    Column("folder", String(NAME_LEN), nullable=False),
)

#: A single row locked by every assignment/vote transaction on PostgreSQL.
assign_lock = Table("assign_lock", metadata, Column("id", Integer, primary_key=True, autoincrement=False))


class DatabaseError(ValueError):
    """The database URL is unusable; the message names it (password hidden) and the fix."""


def normalise_url(spec: str) -> URL:
    """A SQLAlchemy URL from `spec`: a URL, or a plain file path meaning SQLite; `postgresql://` → psycopg 3."""
    if "://" not in spec:
        return URL.create("sqlite", database=str(Path(spec).expanduser().resolve()))
    try:
        url = make_url(spec)
    except ArgumentError:
        raise DatabaseError(
            f"{spec}: not a database URL; use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if not url.database or url.database == ":memory:":
            raise DatabaseError(
                f"{spec}: in-memory SQLite loses every vote on exit; give a file: sqlite:///votes.sqlite"
            )
        return url.set(drivername="sqlite")
    raise DatabaseError(
        f"{url.render_as_string(hide_password=True)}: unsupported database; "
        "use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
    )


def display_url(url: URL) -> str:
    """The URL for messages, password hidden."""
    return url.render_as_string(hide_password=True)


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (pysqlite's own is deferred and late)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(spec: str | URL) -> Engine:
    """An engine for `spec` with the schema created; SQLite in WAL mode, PostgreSQL through psycopg 3."""
    url = spec if isinstance(spec, URL) else normalise_url(spec)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database or "").parent
        if not folder.is_dir():
            raise DatabaseError(
                f"{display_url(url)}: folder {folder} does not exist; create it or choose another path"
            )
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_events(engine)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError:
            raise DatabaseError(
                f"{display_url(url)}: PostgreSQL needs psycopg 3; install it with pip install 'fgaesq[postgres]'"
            ) from None
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            if conn.execute(select(assign_lock.c.id)).first() is None:
                conn.execute(insert(assign_lock).values(id=1))
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"{display_url(url)}: cannot open the database ({reason})") from None
    return engine


def save_series_folders(engine: Engine, folders: dict[str, str]) -> None:
    """Record series → folder under ROOT (kept for series no longer in ROOT: their votes still export right)."""
    with engine.begin() as conn:
        lock(conn)
        known = {r.series: r.folder for r in conn.execute(select(series_folders.c.series, series_folders.c.folder))}
        for series, folder in folders.items():
            if series not in known:
                conn.execute(insert(series_folders).values(series=series, folder=folder))
            elif known[series] != folder:
                conn.execute(
                    series_folders.update().where(series_folders.c.series == series).values(folder=folder)
                )


def series_folder_map(engine: Engine) -> dict[str, str]:
    """The recorded series → folder under ROOT (empty for databases written before it was recorded)."""
    with engine.connect() as conn:
        return {r.series: r.folder for r in conn.execute(select(series_folders.c.series, series_folders.c.folder))}


def lock(conn: Connection) -> None:
    """Take the global assignment lock for the rest of this transaction (no-op beyond BEGIN IMMEDIATE on SQLite)."""
    if conn.dialect.name != "sqlite":
        conn.execute(select(assign_lock.c.id).where(assign_lock.c.id == 1).with_for_update())
