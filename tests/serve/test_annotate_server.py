"""A real `fgaesq annotate` server (uvicorn in a subprocess): SIGKILL durability, racing annotators, raw HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from fgaesq.serve.annotate.db import make_engine
from fgaesq.serve.annotate.export import iter_votes

from .test_annotate_store import truthful


def annotate_via_api(
    base: str, who: str, confirmed: list[int], served: list, stop: threading.Event | None = None
) -> None:
    """Judge truthfully through the JSON API until done (or stopped / the server dies)."""
    with httpx.Client(base_url=base, timeout=30) as c:
        while stop is None or not stop.is_set():
            try:
                n = c.get("/api/next", params={"annotator": who}).json()
                if n["done"]:
                    return
                served.append((who, n["series"], *sorted((n["left"], n["right"]))))
                r = c.post(
                    "/api/vote",
                    json={
                        "annotator": who,
                        "token": n["token"],
                        "choice": truthful(n["series"], n["left"], n["right"]),
                    },
                )
            except httpx.HTTPError:
                return  # the server was killed
            if r.status_code == 200:
                confirmed.append(r.json()["id"])  # the server answered: the vote is confirmed


def stored_votes(db_url: str) -> list[dict]:
    engine = make_engine(db_url)
    try:
        return list(iter_votes(engine))
    finally:
        engine.dispose()


def test_sigkill_mid_session_loses_no_confirmed_vote(series_root: Path, db_url: str, start_server) -> None:
    server = start_server(series_root, db_url, target=3)
    confirmed: list[int] = []
    served: list = []
    worker = threading.Thread(target=annotate_via_api, args=(server.url, "ann", confirmed, served))
    worker.start()
    deadline = time.monotonic() + 60
    while len(confirmed) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # SIGKILL while ann is judging: requests are in flight
    worker.join(60)
    assert len(confirmed) >= 6
    ids = {v["id"] for v in stored_votes(db_url)}
    assert set(confirmed) <= ids, "a vote the server had confirmed was lost"

    server = start_server(series_root, db_url, target=3)  # restart on the same database
    annotate_via_api(server.url, "ann", confirmed, served)
    annotate_via_api(server.url, "bob", confirmed, served)
    votes = stored_votes(db_url)
    assert set(confirmed) <= {v["id"] for v in votes}
    keys = Counter((v["annotator"], v["series"], *sorted((v["image_a"], v["image_b"]))) for v in votes)
    assert len(votes) == 20 and max(keys.values()) == 1  # each of 2 annotators judged each of 10 pairs once


def test_racing_annotators_on_a_two_worker_server_stay_within_the_target(
    series_root: Path, db_url: str, start_server
) -> None:
    server = start_server(series_root, db_url, target=2, workers=2)
    confirmed: list[int] = []
    served: list = []
    threads = [
        threading.Thread(target=annotate_via_api, args=(server.url, who, confirmed, served))
        for who in ("ann", "bob", "cem")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    per_pair = Counter(key[1:] for key in set(served))
    assert len(per_pair) == 10 and set(per_pair.values()) == {2}, (
        per_pair
    )  # served to exactly target annotators
    assert len(served) == len(set(served))  # nobody got a pair twice
    votes = stored_votes(db_url)
    assert len(votes) == len(confirmed) == 20
    assert set(Counter((v["series"], *sorted((v["image_a"], v["image_b"]))) for v in votes).values()) == {2}


def raw_get(port: int, target: str, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """Send a request line exactly as written (no client-side normalisation of `..`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_raw_traversal_requests_and_foreign_hosts_are_refused(
    series_root: Path, tmp_path: Path, start_server
) -> None:
    server = start_server(series_root, f"sqlite:///{tmp_path / 'v.sqlite'}")
    assert raw_get(server.port, "/img/astronaut/p1.jpg")[0] == 200
    secret = series_root.parent / "secret.txt"
    secret.write_text("TOP-SECRET")
    for target in (
        "/img/astronaut/../../secret.txt",
        "/img/../secret.txt",
        "/img/astronaut/..%2f..%2fsecret.txt",
        "/img/./astronaut/../../../secret.txt",
        "/../secret.txt",
        "/img/astronaut/%2e%2e/%2e%2e/secret.txt",
    ):
        status, body = raw_get(server.port, target)
        assert status in (400, 404) and b"TOP-SECRET" not in body, target
    assert raw_get(server.port, "/", host="attacker.example")[0] == 400
    assert raw_get(server.port, "/", host="localhost:1234")[0] == 200
