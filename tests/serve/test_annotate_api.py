"""The app through FastAPI's TestClient: pages, votes, images (and traversal attempts), JSON API, export."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as skdata
from sqlalchemy import select

from fgaesq.serve.annotate import db as dbm
from fgaesq.serve.annotate.app import COOKIE, build_store, create_app
from fgaesq.serve.annotate.export import COLUMNS, export_votes

from .conftest import SAME, TRUTH
from .test_annotate_store import truthful

SECRET = b"TOP-SECRET-NOT-AN-IMAGE"


@pytest.fixture
def root(series_root: Path, tmp_path: Path) -> Path:
    """A copy of the photo series plus bait outside ROOT reachable only by traversal or symlinks."""
    root = tmp_path / "root"
    shutil.copytree(series_root, root)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(SECRET)
    (outside / "secret2.jpg").write_bytes(SECRET)
    os.symlink(outside, root / "linked")
    os.symlink(tmp_path / "secret.txt", root / "astronaut" / "zz-link.jpg")
    return root


@pytest.fixture
def client(root: Path, db_url: str):
    store = build_store(root, db_url, target_votes=2)
    with TestClient(create_app(store)) as c:
        c.store = store
        yield c
    store.engine.dispose()


def login(client: TestClient, name: str = "Ann Example") -> None:
    r = client.post("/login", data={"name": name}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/judge"


def form_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def test_index_shows_the_series_and_a_login_form(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    for name in (*TRUTH, SAME[0]):
        assert f"<td>{name}</td>" in r.text
    assert 'id="login"' in r.text and "0/20" in r.text  # 10 pairs × target 2


@pytest.mark.parametrize("name", ["", "   ", "_x", "a" * 65, "<script>", "ann\nbob", "a,b", "=cmd"])
def test_bad_annotator_names_are_refused(client: TestClient, name: str) -> None:
    r = client.post("/login", data={"name": name}, follow_redirects=False)
    assert r.status_code == 400 and 'id="error"' in r.text
    assert COOKIE not in r.cookies
    assert "<script>" not in r.text.split("<main>")[1]


def test_login_sets_a_strict_cookie_and_judge_needs_it(client: TestClient) -> None:
    assert client.get("/judge", follow_redirects=False).headers["location"] == "/"
    r = client.post("/login", data={"name": "  José Ñ-1 "}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/judge")
    assert page.status_code == 200 and 'id="who">José Ñ-1<' in page.text


def test_judging_through_the_forms_records_each_vote_before_confirming(client: TestClient) -> None:
    login(client)
    store = client.store
    page = client.get("/judge").text
    confirmed = []
    while 'id="vote-form"' in page:
        f = form_of(page)
        assert f"/img/{f['series']}/{f['left']}" in page and f"/img/{f['series']}/{f['right']}" in page
        choice = {"a": "left", "b": "right", "tie": "tie"}[truthful(f["series"], f["left"], f["right"])]
        r = client.post("/vote", data={**f, "choice": choice}, follow_redirects=False)
        assert r.status_code == 303
        vote_id = int(r.headers["location"].split("saved=")[1])
        with store.engine.connect() as conn:  # committed: visible from another connection
            row = conn.execute(select(dbm.votes).where(dbm.votes.c.id == vote_id)).mappings().one()
        assert (row["series"], row["image_a"], row["image_b"], row["annotator"]) == (
            f["series"],
            f["left"],
            f["right"],
            "Ann Example",
        )
        assert row["choice"] == {"left": "a", "right": "b", "tie": "tie"}[choice]
        confirmed.append(vote_id)
        page = client.get(r.headers["location"]).text
        assert f"Vote #{vote_id} saved" in page
    assert len(confirmed) == 10 and 'id="done"' in page
    assert (
        'id="saved"' not in client.get("/judge", params={"saved": 999}).text
    )  # no confirmation for a vote not stored
    assert "10/10" not in page and "10/20" in page  # target 2: half of the votes are in


def test_bad_votes_are_refused(client: TestClient) -> None:
    login(client)
    f = form_of(client.get("/judge").text)
    assert client.post("/vote", data={**f, "choice": "maybe"}).status_code == 400
    swapped = {**f, "left": f["right"], "right": f["left"], "choice": "left"}
    assert client.post("/vote", data=swapped).status_code == 400
    bogus = {"series": "astronaut", "left": "p1.jpg", "right": "../coffee/c1.png", "choice": "left"}
    assert client.post("/vote", data=bogus).status_code == 400
    with client.store.engine.connect() as conn:
        assert conn.execute(select(dbm.votes)).first() is None


def test_images_are_served_byte_for_byte(client: TestClient, root: Path) -> None:
    for series, name in [("astronaut", "p1.jpg"), ("coffee", "c2.png")]:
        r = client.get(f"/img/{series}/{name}")
        assert r.status_code == 200 and r.content == (root / series / name).read_bytes()
        assert r.headers["content-type"] in ("image/jpeg", "image/png")
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/img/astronaut/..%2F..%2Fsecret.txt",
        "/img/astronaut/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/img/astronaut/..%252F..%252Fsecret.txt",
        "/img/%2e%2e/secret.txt",
        "/img/..%2F..%2F/secret.txt",
        "/img/astronaut/..%5C..%5Csecret.txt",
        "/img/astronaut/%2Fetc%2Fpasswd",
        "/img/astronaut/p1.jpg%00.png",
        "/img/astronaut/zz-link.jpg",
        "/img/linked/secret.jpg",
        "/img/linked/secret2.jpg",
        "/static/..%2F..%2F..%2Fsecret.txt",
        "/static/%2e%2e/annotate/app.py",
    ],
)
def test_traversal_and_links_out_of_root_are_refused(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert SECRET not in r.content and b"import" not in r.content


def test_tiff_is_converted_losslessly_for_the_browser(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "s").mkdir(parents=True)
    pixels = skdata.chelsea()
    Image.fromarray(pixels).save(root / "s" / "a.tif")
    Image.fromarray(pixels[::-1]).save(root / "s" / "b.tif")
    store = build_store(root, f"sqlite:///{tmp_path / 'v.sqlite'}")
    with TestClient(create_app(store)) as c:
        r = c.get("/img/s/a.tif")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")), pixels)


def test_security_headers_and_host_check(root: Path, db_url: str) -> None:
    store = build_store(root, db_url)
    with TestClient(
        create_app(store, allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1"
    ) as c:
        r = c.get("/")
        assert r.status_code == 200
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert c.get("/", headers={"host": "attacker.example"}).status_code == 400  # DNS rebinding guard
    store.engine.dispose()


def test_json_api(client: TestClient) -> None:
    assert client.get("/api/next", params={"annotator": "<bad>"}).status_code == 422
    nxt = client.get("/api/next", params={"annotator": "bot"}).json()
    assert nxt["done"] is False and nxt["left_url"].startswith("/img/")
    body = {"annotator": "bot", "token": nxt["token"], "choice": "right"}
    # not JSON → refused (a cross-site form cannot post votes)
    assert (
        client.post("/api/vote", content=json.dumps(body), headers={"content-type": "text/plain"}).status_code
        == 422
    )
    assert client.post("/api/vote", json={**body, "choice": "up"}).status_code == 422
    r = client.post("/api/vote", json=body).json()
    assert (r["image_a"], r["image_b"], r["choice"], r["already"]) == (nxt["left"], nxt["right"], "b", False)
    assert client.post("/api/vote", json=body).json()["already"] is True
    prog = client.get("/api/progress", params={"annotator": "bot"}).json()
    assert (prog["votes_total"], prog["mine"], prog["left_for_me"], prog["pairs"]) == (1, 1, 9, 10)
    assert sum(s["votes"] for s in prog["series"]) == 1


def test_export_is_the_calibrate_input_format(client: TestClient, root: Path, tmp_path: Path) -> None:
    for who in ("ann", "bob"):
        while not (n := client.get("/api/next", params={"annotator": who}).json())["done"]:
            choice = truthful(n["series"], n["left"], n["right"])
            assert (
                client.post(
                    "/api/vote", json={"annotator": who, "token": n["token"], "choice": choice}
                ).status_code
                == 200
            )
    out = tmp_path / "votes.csv"
    assert export_votes(client.store.engine, out) == 20
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 20
    for r in rows:
        assert (root / r["image_a"]).is_file() and (root / r["image_b"]).is_file()  # relative to ROOT
        a, b = (r[k].removeprefix(r["series"] + "/") for k in ("image_a", "image_b"))
        assert r["choice"] == truthful(r["series"], a, b)
        assert r["annotator"] in ("ann", "bob") and float(r["time"]) >= 0
    lines = (
        export_votes(client.store.engine, tmp_path / "votes.jsonl"),
        (tmp_path / "votes.jsonl").read_text().splitlines(),
    )
    first = json.loads(lines[1][0])
    assert set(first) == {*COLUMNS, "voted_at"} and first["voted_at"].endswith("Z")
    assert export_votes(client.store.engine, tmp_path / "bare.csv", bare_names=True) == 20
    with (tmp_path / "bare.csv").open(newline="") as fh:
        assert all((root / r["series"] / r["image_a"]).is_file() for r in csv.DictReader(fh))
