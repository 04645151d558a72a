"""Debian Chromium (headless, Playwright) against a real server: keyboard judging → database → export → order."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from urllib.parse import unquote

import choix
import numpy as np
import pytest
from typer.testing import CliRunner

from fgaesq.cli import app as cli_app

from .conftest import CHROMIUM, CHROMIUM_ARGS, SAME, TRUTH, system_missing
from .test_annotate_store import truthful

KEYS = {"a": "ArrowLeft", "b": "ArrowRight", "tie": "ArrowDown"}


def order_from_votes(rows: list[dict], series: str) -> list[str]:
    """Bradley–Terry order (best first) of a series from exported votes, fitted with choix."""
    names = sorted(
        {r["image_a"] for r in rows if r["series"] == series}
        | {r["image_b"] for r in rows if r["series"] == series}
    )
    idx = {n: i for i, n in enumerate(names)}
    comps = []
    for r in rows:
        if r["series"] != series:
            continue
        a, b = idx[r["image_a"]], idx[r["image_b"]]
        comps += {"a": [(a, b)], "b": [(b, a)], "tie": [(a, b), (b, a)]}[r["choice"]]
    params = choix.ilsr_pairwise(len(names), comps, alpha=0.01)
    return [names[i] for i in np.argsort(-params)]


def shown_pair(page) -> tuple[str, str, str]:
    name = lambda sel: unquote(page.get_attribute(sel, "src").rsplit("/", 1)[1])  # noqa: E731
    return page.inner_text("#series"), name("#left"), name("#right")


@pytest.mark.browser
def test_keyboard_judging_in_chromium_lands_in_the_db_and_export_recovers_the_order(
    series_root: Path, db_url: str, start_server, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).is_file():
        system_missing(f"Debian Chromium ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    server = start_server(series_root, db_url, target=1)
    shots = Path(os.environ.get("FGAESQ_SCREENSHOTS", tmp_path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.goto(server.url + "/")
        page.fill("#name", "Ann")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_function(
            "document.getElementById('left').complete && document.getElementById('right').complete"
        )

        # click → both images at 100 % (one image pixel per CSS pixel at DPR 1), Esc → fit again
        size = "['left','right'].map(i => [document.getElementById(i).clientWidth, document.getElementById(i).naturalWidth])"
        fit = page.evaluate(size)
        assert all(shown < natural for shown, natural in fit), fit
        page.click("#left", position={"x": 400, "y": 330})
        assert all(shown == natural for shown, natural in page.evaluate(size))
        scrolled = "['pane-left','pane-right'].map(i => document.getElementById(i).scrollLeft + document.getElementById(i).scrollTop)"
        page.screenshot(path=str(shots / "annotate-zoomed.png"))
        assert all(v > 0 for v in page.evaluate(scrolled)), (
            page.evaluate(scrolled),
            shown_pair(page),
        )  # both panes moved to the clicked spot
        # panning one pane pans the other to the same spot (both images are the same size here)
        page.wait_for_function("() => { const p = ['pane-left','pane-right'].map(i => document.getElementById(i)); "
                               "p[0].scrollLeft = 5; p[0].scrollTop = 0; p[0].dispatchEvent(new Event('scroll')); "
                               "return p[1].scrollLeft === 5 && p[1].scrollTop === 0; }")
        page.screenshot(path=str(shots / "annotate-zoomed.png"))
        page.keyboard.press("Escape")
        assert page.evaluate(size) == fit

        judged = []
        for _ in range(20):
            if page.query_selector("#done"):
                break
            series, left, right = shown_pair(page)
            if not judged:
                page.screenshot(path=str(shots / "annotate-judge.png"))
            with page.expect_navigation():
                page.keyboard.press(KEYS[truthful(series, left, right)])
            assert page.inner_text("#saved").startswith("Vote #")
            judged.append((series, *sorted((left, right))))
        assert page.query_selector("#done") is not None
        page.screenshot(path=str(shots / "annotate-done.png"))
        browser.close()
    assert len(judged) == len(set(judged)) == 10

    out = tmp_path / "votes.csv"
    result = CliRunner().invoke(cli_app, ["annotate", "export", "--db", db_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10 and {r["annotator"] for r in rows} == {"Ann"}
    assert [r["choice"] for r in rows if r["series"] == SAME[0]] == ["tie"]
    # export → `fgaesq calibrate` (issue 6) → the known order of every series
    series_jsonl = tmp_path / "series.jsonl"
    cmd = ["calibrate", str(out), "--out", str(series_jsonl), "--root", str(series_root)]
    result = CliRunner().invoke(cli_app, cmd)
    assert result.exit_code == 0, result.output
    ranked = {s["series"]: s for s in map(json.loads, series_jsonl.read_text().splitlines())}
    for series, truth in TRUTH.items():
        expected = [f"{series}/{name}" for name in truth]
        assert ranked[series]["ranking"] == expected
        assert all(
            (series_root / p).is_file() for p in ranked[series]["images"]
        )  # paths resolve under --root
        assert order_from_votes(rows, series) == expected  # the same with choix directly
