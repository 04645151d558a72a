"""Fixtures for the annotation app: real photo series, a real PostgreSQL server, a real uvicorn server.

System parts (PostgreSQL server binaries, Debian Chromium) must be installed (`.ci/system-deps.sh`); when
they are missing the tests FAIL with a message, unless FGAESQ_SKIP_SYSTEM_TESTS=1 is set.
FGAESQ_CHROMIUM and FGAESQ_PG_BINDIR point at other installations.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageFilter
from skimage import data as skdata

import fgaesq

SRC_DIR = Path(fgaesq.__file__).resolve().parents[1]
CHROMIUM = os.environ.get("FGAESQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

#: Known quality order of each test series, best first (graded blur / noise of one real photo).
TRUTH = {
    "astronaut": ["p3.jpg", "p1.jpg", "p4.jpg", "p2.jpg"],
    "coffee": ["c2.png", "c3.png", "c1.png"],
}
#: A series of two identical images: the only honest answer is "can't tell".
SAME = ("camera", ("x1.png", "x2.png"))


def system_missing(what: str) -> None:
    """Fail (or skip when FGAESQ_SKIP_SYSTEM_TESTS=1) because a system package is missing."""
    msg = f"{what} is missing: run .ci/system-deps.sh (Debian packages postgresql, chromium)"
    if os.environ.get("FGAESQ_SKIP_SYSTEM_TESTS") == "1":
        pytest.skip(msg + " [skipped: FGAESQ_SKIP_SYSTEM_TESTS=1]")
    pytest.fail(msg, pytrace=False)


def wait_until_healthy(proc: subprocess.Popen, url: str, log: Path, *, seconds: float) -> None:
    """Poll url/healthz until it answers 200; raise with the server's log if it exits or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer in {seconds:g} s:\n{log.read_text()}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_series(root: Path) -> Path:
    """Write the TRUTH series (+ the identical pair) from skimage photos into sub-folders of root."""
    root.mkdir(parents=True, exist_ok=True)
    astro = Image.fromarray(skdata.astronaut())
    d = root / "astronaut"
    d.mkdir()
    for name, radius in zip(TRUTH["astronaut"], (0.0, 1.2, 2.5, 5.0), strict=True):
        img = astro.filter(ImageFilter.GaussianBlur(radius)) if radius else astro
        img.save(d / name, quality=93)
    coffee = skdata.coffee().astype(np.float64)
    rng = np.random.default_rng(7)
    d = root / "coffee"
    d.mkdir()
    for name, sigma in zip(TRUTH["coffee"], (0.0, 14.0, 40.0), strict=True):
        noisy = np.clip(coffee + rng.normal(0.0, sigma, coffee.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(d / name)
    d = root / SAME[0]
    d.mkdir()
    cam = Image.fromarray(skdata.camera())
    for name in SAME[1]:
        cam.save(d / name)
    return root


@pytest.fixture(scope="session")
def series_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ROOT with series astronaut (4 JPEGs, graded blur), coffee (3 PNGs, graded noise), camera (2 identical)."""
    return build_series(tmp_path_factory.mktemp("photos") / "root")


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_bindir() -> Path | None:
    if os.environ.get("FGAESQ_PG_BINDIR"):
        d = Path(os.environ["FGAESQ_PG_BINDIR"])
        return d if (d / "pg_ctl").is_file() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server: initdb into a temp dir, pg_ctl start on a free port; stopped at teardown."""
    bindir = _pg_bindir()
    if bindir is None:
        system_missing("PostgreSQL server (/usr/lib/postgresql/*/bin/pg_ctl)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg 3 is missing: pip install 'fgaesq[postgres]'", pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="fgaesq-pg-"))
    datadir, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockdir, "postgres")
    port = free_port()
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        **run,
    )
    opts = f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=on"
    subprocess.run(
        _as_postgres(
            [str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(base / "log"), "-w", "start"]
        ),
        **run,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


def _pg_admin(server: str, sql: str) -> None:
    import psycopg

    dsn = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh, empty database: a SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'votes.sqlite'}"
        return
    server = request.getfixturevalue("pg_server")
    name = "t_" + uuid.uuid4().hex[:12]
    _pg_admin(server, f"CREATE DATABASE {name}")
    yield f"{server}/{name}"
    _pg_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- a real server in a subprocess ----------------------------------------------------------------


class Server:
    """`fgaesq annotate ROOT --db URL` run as a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, root: Path, db: str, *, target: int = 3, workers: int = 1, log: Path) -> None:
        self.root, self.db, self.target, self.workers, self.log = root, db, target, workers, log
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        """Start the server and wait until /healthz answers."""
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC_DIR), os.environ.get("PYTHONPATH", "")])}
        cmd = [
            sys.executable,
            "-m",
            "fgaesq.cli",
            "annotate",
            str(self.root),
            "--db",
            self.db,
            "--port",
            str(self.port),
            "--target-votes",
            str(self.target),
            "--workers",
            str(self.workers),
        ]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until_healthy(self.proc, self.url, self.log, seconds=60)
        return self

    def kill(self) -> None:
        """SIGKILL the server (and its workers) — no shutdown code runs."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), SIGKILL after 20 s."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_server(tmp_path: Path):
    """Factory: start_server(root, db, target=…, workers=…) → a running Server; all stopped at teardown."""
    servers: list[Server] = []

    def _start(root: Path, db: str, **kw) -> Server:
        server = Server(root, db, log=tmp_path / "server.log", **kw).start()
        servers.append(server)
        return server

    yield _start
    for s in servers:
        s.stop()
