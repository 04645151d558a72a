"""Review decisions on a real ranked shoot: flags, stars, best-of-series, judgements, sidecars, previews, why."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyexiv2
import pytest
from PIL import Image
from typer.testing import CliRunner

from fgaesq.cli import app as cli_app
from fgaesq.serve.annotate.db import make_engine
from fgaesq.serve.annotate.export import export_votes
from fgaesq.serve.review.cache import PreviewCache
from fgaesq.serve.review.shoot import ShootError, load_rank_json, shoot_from_doc
from fgaesq.serve.review.sidecars import write_decision
from fgaesq.serve.review.store import FrameState, ReviewStore

from .review_shoot import make_shoot, rank_shoot


@pytest.fixture(scope="module")
def shoot_src(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    folder = tmp_path_factory.mktemp("review") / "shoot"
    bursts = make_shoot(folder)
    return folder, bursts, rank_shoot(folder)


@pytest.fixture
def shoot_dir(shoot_src, tmp_path: Path) -> tuple[Path, dict, dict]:
    """A fresh copy of the shoot (sidecars are written next to the photos) and its ranking document."""
    src, bursts, doc = shoot_src
    folder = tmp_path / "shoot"
    shutil.copytree(src, folder)
    doc = json.loads(json.dumps(doc).replace(str(src), str(folder)))
    return folder, {k: [folder / p.name for p in v] for k, v in bursts.items()}, doc


def _store(folder: Path, doc: dict, db: Path) -> ReviewStore:
    return ReviewStore(make_engine(f"sqlite:///{db}"), shoot_from_doc(doc, folder), annotator="ann")


def test_the_shoot_is_the_bursts_in_rank_order(shoot_dir) -> None:
    folder, bursts, doc = shoot_dir
    shoot = shoot_from_doc(doc, folder)
    assert sorted(sorted(f.path.name for f in s.frames) for s in shoot.series) == sorted(
        sorted(p.name for p in b) for b in bursts.values()
    )
    for s in shoot.series:
        scores = [f.score for f in s.frames]
        assert scores == sorted(scores, reverse=True) and [f.rank for f in s.frames] == list(range(1, len(s.frames) + 1))
        assert s.near_tie == (s.frames[0].score - s.frames[1].score < 0.1)


def test_a_missing_photo_is_skipped_and_a_wrong_json_is_named(shoot_dir, tmp_path: Path) -> None:
    folder, bursts, doc = shoot_dir
    bursts["coffee"][0].unlink()
    shoot = shoot_from_doc(doc, folder)
    assert len(shoot.frames) == 4 and any("IMG_0004.jpg: file not found" in s for s in shoot.skipped)
    bad = tmp_path / "scores.json"
    bad.write_text(json.dumps({"schema": "fgaesq.scores/1", "images": []}))
    with pytest.raises(ShootError, match="scores.json: not a `fgaesq rank --out"):
        load_rank_json(bad, folder)


def test_decisions_persist_across_a_restart(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    store = _store(folder, doc, tmp_path / "r.sqlite")
    s = store.shoot.series[0]
    a, b, c = (f.rel for f in s.frames)
    store.decide(a, "pick")
    store.decide(a, "stars", 4)
    store.decide(b, "reject")
    store.decide(c, "pick")
    store.decide(c, "unflag")
    store.engine.dispose()
    again = _store(folder, doc, tmp_path / "r.sqlite")  # a new process would do exactly this
    st = again.series_state(s)
    assert st.frames[a] == FrameState("pick", 4) and st.frames[b] == FrameState("reject", None)
    assert st.frames[c] == FrameState("", None)
    assert not st.decided(s) and st.best is None and not st.override
    assert again.judgements() == []  # the user's pick is the model's best: nothing to learn


def test_b_on_another_frame_is_an_override_that_calibrate_reads(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    store = _store(folder, doc, tmp_path / "r.sqlite")
    s = store.shoot.series[0]
    model_best, second, third = (f.rel for f in s.frames)
    changed = store.decide(second, "best")
    assert sorted(changed) == sorted([model_best, second, third])
    st = store.series_state(s)
    assert st.best == second and st.override and st.decided(s)
    assert {r: st.frames[r].flag for r in (model_best, second, third)} == {
        model_best: "reject", second: "pick", third: "reject"}
    votes = store.judgements()
    assert sorted((v["image_a"], v["image_b"], v["choice"]) for v in votes) == sorted(
        [(second, model_best, "a"), (second, third, "a")])
    assert {v["series"] for v in votes} == {s.name}

    # exported in the annotate format, `fgaesq calibrate` turns them into a ranking with the user's best first
    out = tmp_path / "votes.csv"
    assert export_votes(store.engine, out, bare_names=True) == 2
    rows = list(csv.DictReader(out.open()))
    assert {r["annotator"] for r in rows} == {"ann"} and all((folder / r["image_a"]).is_file() for r in rows)
    series_out = tmp_path / "series.jsonl"
    res = CliRunner().invoke(cli_app, ["calibrate", str(out), "--root", str(folder), "--out", str(series_out),
                                       "--threshold", "0"])
    assert res.exit_code == 0, res.output
    rec = json.loads(series_out.read_text().splitlines()[0])
    assert rec["series"] == s.name and rec["ranking"][0] == second, rec

    # choosing the model's best again withdraws the override
    store.decide(model_best, "best")
    assert store.judgements() == [] and not store.series_state(s).override


def _xmp(path: Path) -> dict:
    img = pyexiv2.Image(str(path))
    try:
        return img.read_xmp()
    finally:
        img.close()


def test_sidecars_carry_rating_and_label_and_keep_what_was_there(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    store = _store(folder, doc, tmp_path / "r.sqlite")
    shoot = store.shoot
    best, other, third = shoot.series[0].frames
    existing = best.path.with_name(best.path.name + ".xmp")
    existing.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Houston">'
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Launch day</rdf:li></rdf:Alt></dc:title>'
        '</rdf:Description></rdf:RDF></x:xmpmeta>', encoding="utf-8")
    write_decision(shoot, best, FrameState("pick", None), is_best=True)
    write_decision(shoot, other, FrameState("reject", None), is_best=False)
    write_decision(shoot, third, FrameState("reject", 2), is_best=False, reject_minus_one=True)
    x = _xmp(existing)
    assert x["Xmp.xmp.Rating"] == "5" and x["Xmp.xmp.Label"] == "Green"
    assert x["Xmp.photoshop.City"] == "Houston" and "Launch day" in str(x["Xmp.dc.title"])
    assert 'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"' in existing.read_text()
    y = _xmp(other.path.with_name(other.path.name + ".xmp"))
    assert y["Xmp.xmp.Rating"] == "0" and y["Xmp.xmp.Label"] == "Red" and y["Xmp.fgaesq.Decision"] == "reject"
    assert _xmp(third.path.with_name(third.path.name + ".xmp"))["Xmp.xmp.Rating"] == "-1"
    # an undecided frame without a sidecar gets none
    lone = shoot.series[1].frames[0]
    assert write_decision(shoot, lone, FrameState(), is_best=False) is None


def test_previews_are_made_once_into_the_cache_folder(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    cache = PreviewCache(tmp_path / "cache")
    photo = shoot_from_doc(doc, folder).frames[0].path
    before = sorted(p.name for p in folder.iterdir())
    thumb = cache.get(photo, "thumb")
    full = cache.get(photo, "full")
    assert thumb.is_relative_to(tmp_path / "cache") and sorted(p.name for p in folder.iterdir()) == before
    made = thumb.stat().st_mtime_ns
    assert cache.get(photo, "thumb") == thumb and thumb.stat().st_mtime_ns == made
    with Image.open(photo) as src, Image.open(full) as big, Image.open(thumb) as small:
        assert big.size == src.size and max(small.size) <= 320


def test_an_existing_sidecar_keeps_its_namespace_prefixes(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    shoot = shoot_from_doc(doc, folder)
    frame = shoot.series[0].frames[0]
    side = frame.path.with_name(frame.path.name + ".xmp")
    side.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Houston"/>'
        '</rdf:RDF></x:xmpmeta>', encoding="utf-8")
    write_decision(shoot, frame, FrameState("pick", 3), is_best=True)
    text = side.read_text()
    assert 'photoshop:City="Houston"' in text and _xmp(side)["Xmp.xmp.Rating"] == "3"


def _client(folder: Path, doc: dict, tmp_path: Path, **kw):
    from fastapi.testclient import TestClient

    from fgaesq.serve.review.app import ReviewSession, create_app

    shoot = shoot_from_doc(doc, folder)
    store = ReviewStore(make_engine(f"sqlite:///{tmp_path / 'r.sqlite'}"), shoot)
    session = ReviewSession(shoot=shoot, store=store, cache=PreviewCache(tmp_path / "cache"), **kw)
    return TestClient(create_app(session, allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1"), shoot


def store_flags(client, series: int) -> list[str]:
    return [f["flag"] for f in client.get(f"/api/series/{series}").json()["frames"]]


def test_the_api_refuses_what_it_cannot_do(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    client, shoot = _client(folder, doc, tmp_path)
    a, b = shoot.series[0].frames[0].id, shoot.series[1].frames[0].id
    assert client.get(f"/api/why?a={a}&b={b}").status_code == 422  # two series
    assert client.post("/api/decide", json={"frame": a, "action": "delete"}).status_code == 422
    assert client.post("/api/decide", json={"frame": a, "action": "stars"}).status_code == 422
    assert client.post("/api/decide", json={"frame": 999, "action": "pick"}).status_code == 404
    # a cross-site form cannot post JSON: a text/plain body is refused (no CORS, so no preflighted JSON either)
    forged = client.post("/api/decide", content=f'{{"frame": {a}, "action": "reject"}}', headers={"content-type": "text/plain"})
    assert forged.status_code == 422 and store_flags(client, 0)[0] == ""
    assert client.get("/thumb/999.jpg").status_code == 404
    assert client.get("/api/why?a=0&b=1").status_code == 409  # no model in this session
    assert client.post("/api/export-picks").status_code == 409  # not started with --copy-picks
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400  # DNS-rebinding guard
    page = client.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert page.text.count('class="scard') == len(shoot.series)
    thumb = client.get(f"/thumb/{a}.jpg")
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"


def test_picks_are_copied_with_their_sidecars(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    picks = tmp_path / "picks"
    client, shoot = _client(folder, doc, tmp_path, picks_to=picks)
    for s in shoot.series:
        assert client.post("/api/decide", json={"frame": s.frames[-1].id, "action": "best"}).status_code == 200
    assert client.get("/?filter=undecided").text.count('class="scard') == 0
    assert client.get("/?filter=decided").text.count('class="scard') == len(shoot.series)
    r = client.post("/api/export-picks").json()
    assert r["done"] == len(shoot.series) and not r["moved"] and r["problems"] == []
    got = sorted(p.name for p in picks.iterdir())
    want = sorted(n for s in shoot.series for n in (s.frames[-1].path.name, s.frames[-1].path.name + ".xmp"))
    assert got == want and all(s.frames[-1].path.is_file() for s in shoot.series)  # copied, not moved
    assert _xmp(picks / (shoot.series[0].frames[-1].path.name + ".xmp"))["Xmp.xmp.Label"] == "Green"


def test_review_command_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli_app, ["review", str(tmp_path / "nope"), "--no-browser"])
    assert res.exit_code == 2 and "not a folder" in res.output
    res = runner.invoke(cli_app, ["review", str(tmp_path), "--from", str(tmp_path / "rank.json"), "--no-browser",
                                  "--db", str(tmp_path / "r.sqlite"), "--cache", str(tmp_path / "c")])
    assert res.exit_code == 2 and "rank.json: no such file" in res.output
    res = runner.invoke(cli_app, ["review", str(tmp_path), "--copy-picks", "a", "--move-picks", "b"])
    assert res.exit_code == 2 and "not both" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(cli_app, ["review", str(tmp_path / "empty"), "--no-browser", "--weights", "fgaesq-lite",
                                  "--db", str(tmp_path / "r.sqlite"), "--cache", str(tmp_path / "c")])
    assert res.exit_code == 2 and "no image files found" in res.output, res.output


def test_decisions_and_judgements_in_each_database(shoot_dir, db_url: str) -> None:
    folder, _, doc = shoot_dir
    shoot = shoot_from_doc(doc, folder)
    store = ReviewStore(make_engine(db_url), shoot, annotator="ann")
    s = shoot.series[1]
    store.decide(s.frames[1].rel, "best")
    store.decide(s.frames[0].rel, "stars", 2)
    store.engine.dispose()
    again = ReviewStore(make_engine(db_url), shoot, annotator="ann")
    st = again.series_state(s)
    assert st.best == s.frames[1].rel and st.frames[s.frames[0].rel] == FrameState("reject", 2)
    assert again.judgements() == [{"series": s.name, "image_a": s.frames[1].rel, "image_b": s.frames[0].rel, "choice": "a"}]
    again.engine.dispose()


def test_a_broken_sidecar_does_not_lose_the_decision(shoot_dir, tmp_path: Path) -> None:
    folder, _, doc = shoot_dir
    client, shoot = _client(folder, doc, tmp_path)
    f = shoot.series[0].frames[1]
    side = f.path.with_name(f.path.name + ".xmp")
    side.write_text("<x:xmpmeta this is not XML", encoding="utf-8")
    r = client.post("/api/decide", json={"frame": f.id, "action": "pick"})
    assert r.status_code == 200
    assert [w.split(":")[0] for w in r.json()["warnings"]] == [f"decision saved, but no sidecar for {f.rel}"]
    assert store_flags(client, 0)[1] == "pick" and side.read_text() == "<x:xmpmeta this is not XML"
