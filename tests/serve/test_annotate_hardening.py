"""The annotation server under hostile requests and files: bounded bodies and memory, no 500s, no echo."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as skdata
from typer.testing import CliRunner

from fgaesq.cli import app as cli_app
from fgaesq.serve.annotate.app import MAX_BODY_BYTES, build_store, create_app

from .conftest import SRC_DIR, build_series


@pytest.fixture
def client(tmp_path: Path):
    root = build_series(tmp_path / "root")
    tiffs = root / "tiffs"
    tiffs.mkdir()
    Image.fromarray(skdata.astronaut()).save(tiffs / "good.tif")
    raw = (tiffs / "good.tif").read_bytes()
    (tiffs / "corrupt.tif").write_bytes(raw[:8] + bytes(range(256)) * 4)
    liar = Image.new("L", (16, 16))
    liar.save(tiffs / "liar.tif")
    data = bytearray((tiffs / "liar.tif").read_bytes())
    (tiffs / "liar.tif").write_bytes(bytes(data).replace((16).to_bytes(2, "little") * 1, (9000).to_bytes(2, "little")))
    store = build_store(root, str(tmp_path / "v.sqlite"), target_votes=1)
    with TestClient(create_app(store)) as c:
        yield c, store


def test_oversized_body_is_refused_without_reading_it(client):
    c, _ = client
    big = b'{"annotator": "ann", "choice": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    r = c.post("/api/vote", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert len(r.content) < 1000


def test_validation_errors_do_not_echo_the_body(client):
    c, _ = client
    r = c.post("/api/vote", json={"annotator": "ann", "choice": "q" * 50, "series": "s" * 5000})
    assert r.status_code == 422
    assert "qqqq" not in r.text and "ssss" not in r.text and len(r.content) < 2000


def test_nan_choice_and_huge_saved_id_are_client_errors(client):
    c, _ = client
    r = c.post("/api/vote", content=b'{"annotator": "ann", "choice": NaN}',
               headers={"content-type": "application/json"})
    assert r.status_code == 422
    c.post("/login", data={"name": "ann"})
    r = c.get("/judge?saved=" + "9" * 40)
    assert r.status_code == 200
    r = c.get("/judge?saved=-1")
    assert r.status_code == 200


def test_corrupt_and_lying_tiffs_are_422_not_500(client):
    c, store = client
    assert c.get("/img/tiffs/good.tif").status_code == 200
    for name in ("corrupt.tif", "liar.tif"):
        r = c.get(f"/img/tiffs/{name}")
        assert r.status_code == 422, (name, r.status_code)
        assert name in r.json()["detail"]


def test_large_tiff_is_served_as_a_reduced_preview(client, tmp_path):
    c, store = client
    big = Image.fromarray(skdata.astronaut()).resize((3000, 3000))
    big.save(store.catalog.root / "tiffs" / "good.tif")
    r = c.get("/img/tiffs/good.tif")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    from io import BytesIO

    assert max(Image.open(BytesIO(r.content)).size) == 2048


def _raw_request(port: int, request: bytes) -> bytes:
    """Send request bytes and read the reply (the server may answer and close before reading everything)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out:
                    break
        except ConnectionResetError:
            pass
    return out


def test_real_server_rejects_ambiguous_framing_and_big_bodies(series_root, tmp_path, start_server):
    server = start_server(series_root, f"sqlite:///{tmp_path / 'v.sqlite'}")
    body = b'{"annotator":"ann","choice":"left"}'
    smuggle = (
        b"POST /api/vote HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        + hex(len(body))[2:].encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    )
    reply = _raw_request(server.port, smuggle)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    request = (  # claims 300 MB, sends 1 KB: the reply comes without waiting for (or storing) the rest
        b"POST /api/vote HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 300000000\r\n\r\n" + b"x" * 1024
    )
    assert _raw_request(server.port, request).startswith(b"HTTP/1.1 413")


def test_port_in_use_fails_before_creating_anything(series_root, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        db = tmp_path / "v.sqlite"
        r = CliRunner().invoke(cli_app, ["annotate", str(series_root), "--db", str(db), "--port", str(port)])
    assert r.exit_code == 2
    assert "cannot listen" in r.output and "open http" not in r.output
    assert not db.exists()


def test_bad_root_leaves_no_database(tmp_path):
    db = tmp_path / "v.sqlite"
    r = CliRunner().invoke(cli_app, ["annotate", str(tmp_path / "nope"), "--db", str(db)])
    assert r.exit_code == 2 and not db.exists()


def test_export_to_a_closed_pipe_ends_quietly(series_root, tmp_path):
    db = tmp_path / "v.sqlite"
    build_store(series_root, str(db), target_votes=1).engine.dispose()
    con = sqlite3.connect(db)
    now = datetime(2026, 1, 1).isoformat(sep=" ")
    rows = [("astronaut", "a.jpg", "b.jpg", "a.jpg", "b.jpg", "a", f"ann{i}", now, 1.0) for i in range(20000)]
    cols = "series, image_a, image_b, pair_lo, pair_hi, choice, annotator, created_at, seconds"
    con.executemany(f"INSERT INTO votes ({cols}) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    cmd = f"{sys.executable} -m fgaesq.cli annotate export --db {db} --out - | head -n 2"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(SRC_DIR), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert len(r.stdout.splitlines()) == 2
    assert "Broken pipe" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_flat_folder_is_grouped_like_rank_and_exports_paths_calibrate_finds(tmp_path):
    import csv
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "burst_photos", Path(__file__).parents[1] / "rank" / "rank_burst_photos.py"
    )
    bursts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bursts)
    root = tmp_path / "flat"
    made = bursts.make_bursts(root, (3, 2), max_side=120)  # two bursts minutes apart, EXIF times
    db_path = tmp_path / "v.sqlite"
    store = build_store(root, str(db_path), target_votes=1)
    groups = sorted(sorted(s.images) for s in store.catalog.series.values())
    assert groups == sorted(sorted(p.name for p in paths) for paths in made.values())
    with TestClient(create_app(store)) as c:
        for s in store.catalog.series.values():
            assert c.get(f"/img/{s.name}/{s.images[0]}").status_code == 200
        pair = store.next_pair("ann")
        store.record_vote("ann", "a", token=pair.token)
    store.engine.dispose()
    out = tmp_path / "votes.csv"
    r = CliRunner().invoke(cli_app, ["annotate", "export", "--db", str(db_path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1 and (root / rows[0]["image_a"]).is_file() and (root / rows[0]["image_b"]).is_file()


def test_export_never_writes_through_a_planted_link(series_root, tmp_path):
    db_path = tmp_path / "v.sqlite"
    build_store(series_root, str(db_path), target_votes=1).engine.dispose()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "votes.csv"
    (tmp_path / "votes.csv.part").symlink_to(victim)
    r = CliRunner().invoke(cli_app, ["annotate", "export", "--db", str(db_path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert victim.read_text() == "precious\n" and out.is_file() and not out.is_symlink()
