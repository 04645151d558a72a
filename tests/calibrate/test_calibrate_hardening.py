"""Hostile votes files through `fgaesq calibrate`: one line naming the file and line, no partial output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.data.series_jsonl import read_series_jsonl

HEADER = "series,image_a,image_b,choice,annotator\n"
GOOD = "s1,a.jpg,b.jpg,a,ann\ns1,b.jpg,c.jpg,a,ann\ns1,a.jpg,c.jpg,a,ann\n"


def _calibrate(tmp_path: Path, votes: Path, *extra: str):
    out = tmp_path / "out" / "series.jsonl"
    out.parent.mkdir(exist_ok=True)
    r = CliRunner().invoke(app, ["calibrate", str(votes), "--out", str(out), "-q", *extra])
    return r, out


def _jsonl(rows: list[str]) -> str:
    return "".join(r + "\n" for r in rows)


GOOD_JSON = [json.dumps({"series": "s1", "image_a": a, "image_b": b, "choice": "a", "annotator": "ann"})
             for a, b in (("a.jpg", "b.jpg"), ("b.jpg", "c.jpg"), ("a.jpg", "c.jpg"))]

BAD = {
    "long-field.csv": HEADER + GOOD + 's1,a.jpg,"' + "x" * 140_000 + '",a,ann\n',
    "deep.jsonl": _jsonl(GOOD_JSON + ["[" * 100_000 + "]" * 100_000]),
    "digits.jsonl": _jsonl(GOOD_JSON + ['{"series": "s1", "image_a": "a.jpg", "image_b": "b.jpg", "choice": "a", '
                                        '"annotator": "ann", "time": ' + "9" * 5000 + "}"]),
    "surrogate.jsonl": _jsonl(GOOD_JSON + ['{"series": "s\\ud800", "image_a": "a.jpg", "image_b": "b.jpg", '
                                           '"choice": "a", "annotator": "ann"}']),
    "nan.jsonl": _jsonl(GOOD_JSON + ['{"series": NaN, "image_a": "a.jpg", "image_b": "b.jpg", "choice": "a", '
                                     '"annotator": "ann"}']),
    "dict.jsonl": _jsonl(GOOD_JSON + ['{"series": {"x": 1}, "image_a": "a.jpg", "image_b": "b.jpg", "choice": "a", '
                                      '"annotator": "ann"}']),
    "list.jsonl": _jsonl(GOOD_JSON + ['{"series": "s1", "image_a": ["a"], "image_b": "b.jpg", "choice": "a", '
                                      '"annotator": "ann"}']),
    "bool.jsonl": _jsonl(GOOD_JSON + ['{"series": "s1", "image_a": "a.jpg", "image_b": "b.jpg", "choice": "a", '
                                      '"annotator": true}']),
    "dupe-columns.csv": "series,image_a,image_b,choice,annotator,series\n" + "s1,a.jpg,b.jpg,a,ann,s2\n",
    "nul.csv": HEADER + GOOD + "s1,a\x00.jpg,b.jpg,a,ann\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_votes_give_one_line_and_no_output(tmp_path, name):
    votes = tmp_path / name
    votes.write_text(BAD[name], encoding="utf-8", errors="surrogatepass")
    r, out = _calibrate(tmp_path, votes)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    text = " ".join(r.output.split())
    assert text.startswith("error:") and str(votes.name) in text
    assert not out.exists() and not list(out.parent.iterdir())


def test_non_utf8_error_names_the_line_and_the_real_byte_offset(tmp_path):
    rows = GOOD_JSON * 3000
    body = _jsonl(rows).encode()
    votes = tmp_path / "v.jsonl"
    votes.write_bytes(body + b'{"series": "s\xff"}\n')
    r, out = _calibrate(tmp_path, votes)
    assert r.exit_code == 2
    text = " ".join(r.output.split())
    assert f"v.jsonl:{len(rows) + 1}:" in text and f"byte {len(body) + 13}" in text
    csv_votes = tmp_path / "v.csv"
    csv_votes.write_bytes((HEADER + GOOD).encode() + b"s1,\xe9.jpg,b.jpg,a,ann\n")
    r, _ = _calibrate(tmp_path, csv_votes)
    assert r.exit_code == 2 and "v.csv:5:" in " ".join(r.output.split())


def test_missing_output_folders_fail_before_writing(tmp_path):
    votes = tmp_path / "v.csv"
    votes.write_text(HEADER + GOOD)
    for opt in ("--out", "--report"):
        target = tmp_path / "nodir" / ("s.jsonl" if opt == "--out" else "r.md")
        r = CliRunner().invoke(app, ["calibrate", str(votes), opt, str(target), "-q"])
        assert r.exit_code == 2 and "does not exist" in r.output, r.output
        assert not (tmp_path / "nodir").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.csv"]


def test_relative_root_still_resolves_when_the_output_is_elsewhere(tmp_path, monkeypatch):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (photos / name).write_bytes(b"")
    votes = tmp_path / "v.csv"
    votes.write_text(HEADER + GOOD)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "deep" / "er" / "series.jsonl"
    out.parent.mkdir(parents=True)
    r = CliRunner().invoke(app, ["calibrate", str(votes), "--out", str(out), "--root", "photos", "-q"])
    assert r.exit_code == 0, r.output
    rec = read_series_jsonl(out)[0]
    assert Path(os.path.normpath(rec.images[0])).parent == photos


def test_refine_has_quiet(tmp_path):
    r = CliRunner().invoke(app, ["refine", "--help"], env={"COLUMNS": "200"})
    assert "--quiet" in r.output and "-q" in r.output
