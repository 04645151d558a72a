"""Why a frame won (DiffToken cells / fgaesq-lite views) and the self-contained HTML report, opened in Chromium."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch
from rank_burst_photos import make_bursts
from typer.testing import CliRunner

from fgaesq.cli import app as cli_app
from fgaesq.rank.explain import explain_pair

CHROMIUM = os.environ.get("FGAESQ_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def bursts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("explain") / "shoot"
    return folder, make_bursts(folder, (3, 2), max_side=240)


@pytest.fixture(scope="module")
def tiny_scorer():
    from fgaesq.model import create_model
    from fgaesq.scoring.vit import FGAesQScorer

    torch.manual_seed(0)
    return FGAesQScorer(create_model("fgaesq-tiny"), device="cpu")


def _inside(box: list[float]) -> bool:
    x, y, w, h = box[:4]
    return 0 <= x <= 1 and 0 <= y <= 1 and 0 < w and 0 < h and x + w <= 1.00001 and y + h <= 1.00001


def test_difftoken_why_is_the_importance_map_and_the_fine_cells(bursts, tiny_scorer) -> None:
    _, b = bursts
    a, c = b["astronaut"][0], b["astronaut"][2]
    why = explain_pair(tiny_scorer, a, c, "s_1_3")
    assert why["kind"] == "difftoken"
    want = tiny_scorer.score_pairs([(str(a), str(c), "s_1_3")])[0]
    assert why["scores"] == pytest.approx(list(want), abs=1e-3)
    assert why["margin"] == pytest.approx(why["scores"][0] - why["scores"][1], abs=1e-3)
    for side in ("a", "b"):
        part = why[side]
        assert len(part["fine"]) == 14 and all(_inside(f) for f in part["fine"])
        assert part["cells"] and all(_inside(c) for c in part["cells"])
        values = [c[4] for c in part["cells"]]
        assert max(values) == pytest.approx(1.0) and min(values) >= 0
    # the frames differ by a shift and an exposure change: the map is not flat
    assert len({round(c[4], 2) for c in why["a"]["cells"]}) > 5
    # an identical pair has nothing to tell apart: every cell has importance 0
    same = explain_pair(tiny_scorer, a, a, "s_1_1")
    assert same["a"]["cells"] and max(c[4] for c in same["a"]["cells"]) == 0


def test_lite_why_is_the_views_it_scored(bursts) -> None:
    from fgaesq.scoring import load_scorer

    _, b = bursts
    scorer = load_scorer("fgaesq-lite", device="cpu")
    why = explain_pair(scorer, b["coffee"][0], b["coffee"][1], "c_1_2")
    assert why["kind"] == "views"
    n = scorer.model.config.n_crops
    assert len(why["a"]["views"]) == n == len(why["b"]["views"]) and all(_inside(v) for v in why["a"]["views"])


@pytest.mark.browser
def test_rank_report_is_one_file_that_chromium_shows_with_every_image(bursts, tiny_scorer, tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Debian Chromium ({CHROMIUM}) is missing: run .ci/system-deps.sh", pytrace=False)
    from playwright.sync_api import sync_playwright

    from fgaesq.model import save_checkpoint

    folder, b = bursts
    weights = save_checkpoint(tiny_scorer.model.cpu(), tmp_path / "tiny.safetensors")
    report = tmp_path / "out" / "report.html"
    res = CliRunner().invoke(cli_app, ["rank", str(folder), "--weights", str(weights), "--report", str(report), "-q"])
    assert res.exit_code == 0, res.output
    text = report.read_text()
    assert not re.search(r'(src|href)="(?!data:)', text)  # nothing outside the file
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        loaded = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        sections = page.locator("section").count()
        fine = page.locator(".hero .fine").count()
        browser.close()
    n_frames = sum(len(v) for v in b.values())
    assert len(loaded) == n_frames + sections and all(loaded), loaded  # one hero per series + every frame
    assert sections == 2 and fine == 2 * 14
    assert all(u.startswith(("file:", "data:")) for u in requests), requests


def test_a_report_name_that_is_not_html_is_refused_before_ranking(bursts, tmp_path: Path) -> None:
    folder, _ = bursts
    res = CliRunner().invoke(cli_app, ["rank", str(folder), "--report", str(tmp_path / "report.txt"), "-q"])
    assert res.exit_code == 2 and "--report" in res.output and "use a .html file name" in res.output
    assert not (tmp_path / "report.txt").exists()


def test_a_photo_gone_since_ranking_is_one_line_in_the_report(bursts, tmp_path: Path) -> None:
    from fgaesq.rank.report_html import report_html

    _, b = bursts
    frames = b["coffee"] + [tmp_path / "gone.jpg"]
    doc = {"model": "m", "series_by": "folder", "summary": {"images": 3, "series": 1}, "errors": [],
           "series": [{"series": "coffee", "ranking": [
               {"rank": r, "path": str(p), "score": 7.0 - r, "rating": 5 - r} for r, p in enumerate(frames, 1)]}]}
    text = report_html(doc)
    assert text.count('src="data:image/jpeg;base64,') == 1 + 2  # hero + the two readable frames
    assert "gone.jpg: file not found" in text and "near-tie" not in text
