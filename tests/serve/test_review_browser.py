"""Debian Chromium (headless, Playwright) culls a real shoot with `fgaesq review`, keyboard only: pick, reject, stars,
B, why, compare, zoom, reload, server restart; then the sidecars (read with exiv2) and the judgements (read by
`fgaesq calibrate`)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pyexiv2
import pytest
from typer.testing import CliRunner

from fgaesq.cli import app as cli_app
from rank_cli_helpers import burst_photos

from .conftest import CHROMIUM, CHROMIUM_ARGS, SRC_DIR, free_port, system_missing, wait_until_healthy
from .review_shoot import SIZES, make_shoot, rank_shoot


class ReviewServer:
    """`fgaesq review DIR --no-browser` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, root: Path, state: Path, extra: tuple[str, ...] = (), cwd: Path | None = None) -> None:
        self.root, self.state, self.proc, self.port, self.extra, self.cwd = root, state, None, 0, extra, cwd
        self.log = state / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReviewServer:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC_DIR), os.environ.get("PYTHONPATH", "")])}
        cmd = [sys.executable, "-m", "fgaesq.cli", "review", str(self.root), "--no-browser", "--port", str(self.port),
               "--cache", str(self.state / "cache"), "--db", str(self.state / "review.sqlite"), "--annotator", "ann",
               "--device", "cpu", *self.extra]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=self.cwd)
        wait_until_healthy(self.proc, self.url, self.log, seconds=180)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)


@pytest.fixture
def review_server(tmp_path: Path):
    servers: list[ReviewServer] = []

    def start(root: Path, *extra: str, cwd: Path | None = None) -> ReviewServer:
        (tmp_path / "state").mkdir(exist_ok=True)
        s = ReviewServer(root, tmp_path / "state", extra, cwd).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def _xmp(photo: Path) -> dict:
    img = pyexiv2.Image(str(photo.with_name(photo.name + ".xmp")))
    try:
        return img.read_xmp()
    finally:
        img.close()


def _flags(page) -> list[str]:
    return page.evaluate("Array.from(document.querySelectorAll('#strip .thumb')).map(t => "
                         "t.classList.contains('pick') ? 'pick' : t.classList.contains('reject') ? 'reject' : '')")


@pytest.mark.browser
def test_cull_a_shoot_from_the_keyboard(tmp_path: Path, review_server) -> None:
    if not Path(CHROMIUM).is_file():
        system_missing(f"Debian Chromium ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    shoot = tmp_path / "shoot"
    burst_photos.make_bursts(shoot, SIZES, max_side=1400)
    server = review_server(shoot)
    shots = Path(os.environ.get("FGAESQ_SCREENSHOTS", tmp_path))
    s0 = httpx.get(server.url + "/api/series/0").json()
    s1 = httpx.get(server.url + "/api/series/1").json()
    assert (s0["count"], s1["count"]) == SIZES
    names0 = [f["name"] for f in s0["frames"]]  # model order, best first

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800}, bypass_csp=True)  # lets wait_for_function eval
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/")
        assert page.inner_text("#counts").startswith("0 of 2")
        page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=str(shots / "review-overview.jpg"), quality=80)
        page.keyboard.press("?")
        assert page.is_visible("#help")
        page.keyboard.press("Escape")
        assert not page.is_visible("#help")

        # series 1 of 2: P on the model's best, X on the next, 3 stars on the last, then B on it (an override)
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-ready='1']")
        assert page.inner_text("#series-name") == s0["name"]
        # compare with a pinned reference: R pins frame 2, C shows it first, + adds a third pane
        page.keyboard.press("ArrowRight")
        page.keyboard.press("r")
        page.keyboard.press("c")
        panes = "Array.from(document.querySelectorAll('.pane')).map(p => p.id + (p.classList.contains('ref') ? '*' : ''))"
        assert page.evaluate(panes) == ["pane-1*", "pane-2"]
        page.keyboard.press("+")
        assert page.evaluate(panes) == ["pane-1*", "pane-0", "pane-2"]
        page.keyboard.press("c")
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector("#thumb-0.cur")
        page.keyboard.press("p")  # typed fast: the second decision waits for the first, then takes the next frame
        page.keyboard.press("x")
        page.wait_for_selector("#thumb-2.cur")
        assert _flags(page) == ["pick", "reject", ""]
        page.keyboard.press("3")
        page.wait_for_function("document.querySelector('#thumb-2 .flag').textContent.includes('★★★')")
        with page.expect_navigation():
            page.keyboard.press("b")  # best: reject the rest, on to the next undecided series
        page.wait_for_selector("body[data-ready='1']")
        assert page.inner_text("#series-name") == s1["name"]

        # why: regions over the frame and the reference, and the margin
        page.keyboard.press("w")
        page.wait_for_selector(".overlay .view")
        assert "margin" in page.inner_text("#why-text")
        page.screenshot(path=str(shots / "review-why.jpg"), quality=80)
        page.keyboard.press("w")

        # compare 2 frames, 100 % zoom in both, panning one pans the other
        page.keyboard.press("c")
        page.wait_for_function("document.querySelectorAll('.pane').length === 2")
        page.wait_for_function("Array.from(document.querySelectorAll('.pane img')).every(i => i.complete && i.naturalWidth)")
        page.screenshot(path=str(shots / "review-compare.jpg"), quality=80)
        page.keyboard.press("z")
        sizes = "Array.from(document.querySelectorAll('.pane img')).map(i => [i.clientWidth, i.naturalWidth, i.complete])"
        page.wait_for_function(f"{sizes}.every(([w, n, c]) => c && n >= 1000 && w === n)")
        # pan the first pane (re-sent until the app has settled after the zoom) and wait for the second to follow
        page.wait_for_function("() => { const p = document.querySelectorAll('.pane'); p[0].scrollLeft = 250; "
                               "p[0].scrollTop = 120; p[0].dispatchEvent(new Event('scroll')); "
                               "return Math.abs(p[1].scrollLeft - 250) <= 30 && Math.abs(p[1].scrollTop - 120) <= 30; }")
        lefts = page.evaluate("Array.from(document.querySelectorAll('.pane')).map(p => [p.scrollLeft, p.scrollTop])")
        assert abs(lefts[0][0] - lefts[1][0]) <= 30 and abs(lefts[0][1] - lefts[1][1]) <= 30 and lefts[1][0] > 100, lefts
        page.keyboard.press("z")
        page.keyboard.press("c")

        # B on the model's best: no override; every series decided -> back to the overview
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector("#thumb-0.cur")
        with page.expect_navigation():
            page.keyboard.press("b")
        assert page.inner_text("#counts").startswith("2 of 2")
        with page.expect_navigation():
            page.keyboard.press("f")  # the undecided filter: nothing left
        assert "filter=undecided" in page.url and page.locator(".scard").count() == 0
        assert "Every series is decided" in page.inner_text("main")

        # reload the first series: its decisions are still there
        page.goto(server.url + "/series/0")
        page.wait_for_selector("body[data-ready='1']")
        assert _flags(page) == ["reject", "reject", "pick"]
        assert errors == []

        # restart the server: the same decisions, the ranking not redone
        server.stop()
        server.start()
        page.goto(server.url + "/series/0")
        page.wait_for_selector("body[data-ready='1']")
        assert _flags(page) == ["reject", "reject", "pick"]
        browser.close()
    assert "reused from the cache" in server.log.read_text()

    # sidecars, read back with exiv2
    by_name = {f["name"]: shoot / f["rel"] for f in s0["frames"] + s1["frames"]}
    user_best = _xmp(by_name[names0[2]])
    assert (user_best["Xmp.xmp.Rating"], user_best["Xmp.xmp.Label"]) == ("3", "Green")  # the stars given win
    for n in names0[:2]:
        x = _xmp(by_name[n])
        assert (x["Xmp.xmp.Rating"], x["Xmp.xmp.Label"], x["Xmp.fgaesq.Decision"]) == ("0", "Red", "reject")
    best1 = _xmp(by_name[s1["frames"][0]["name"]])
    assert (best1["Xmp.xmp.Rating"], best1["Xmp.xmp.Label"]) == ("5", "Green")
    assert not list((tmp_path / "shoot").glob("*.jpg.jpg")) and len(list(shoot.glob("*.xmp"))) == sum(SIZES)

    # the override became judgements that `fgaesq calibrate` reads
    runner = CliRunner()
    votes = tmp_path / "votes.csv"
    res = runner.invoke(cli_app, ["review", str(shoot), "--db", str(tmp_path / "state" / "review.sqlite"),
                                  "--export-votes", str(votes)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(votes.open()))
    assert sorted((r["image_a"], r["image_b"], r["choice"]) for r in rows) == sorted(
        [(names0[2], names0[0], "a"), (names0[2], names0[1], "a")])
    out = tmp_path / "series.jsonl"
    res = runner.invoke(cli_app, ["calibrate", str(votes), "--root", str(shoot), "--out", str(out), "--threshold", "0"])
    assert res.exit_code == 0, res.output
    rec = json.loads(out.read_text().splitlines()[0])
    assert rec["ranking"][0] == names0[2]


def test_review_an_earlier_ranking_with_relative_paths(tmp_path: Path, review_server) -> None:
    shoot = tmp_path / "job" / "shoot"
    make_shoot(shoot)
    doc = rank_shoot(shoot)
    for s in doc["series"]:  # as `fgaesq rank shoot --out rank.json` run from the job folder writes them
        for im in s["ranking"]:
            im["path"] = str(Path(im["path"]).relative_to(tmp_path / "job"))
    (tmp_path / "job" / "rank.json").write_text(json.dumps(doc))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    server = review_server(shoot, "--from", str(tmp_path / "job" / "rank.json"), cwd=elsewhere)
    assert httpx.get(server.url + "/healthz").json() == {"ok": True, "series": 2, "frames": sum(SIZES)}
    s0 = httpx.get(server.url + "/api/series/0").json()
    assert [f["name"] for f in s0["frames"]] == [Path(r["path"]).name for r in doc["series"][0]["ranking"]]
    assert httpx.get(server.url + s0["frames"][0]["preview"]).headers["content-type"] == "image/jpeg"
    assert f"ranking {shoot.resolve()}" not in server.log.read_text()  # nothing was ranked again
