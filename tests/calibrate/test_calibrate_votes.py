"""Reading votes: CSV and JSONL, ties, and errors with line number and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fgaesq.calibrate.votes import Vote, read_votes
from fgaesq.data.errors import DataFormatError

HEADER = "series,image_a,image_b,choice,annotator,time\n"


def test_csv_and_jsonl_read_the_same_votes(tmp_path: Path) -> None:
    rows = [("s1", "a.jpg", "b.jpg", "a", "ann1", "2.5"), ("s1", "b.jpg", "a.jpg", "TIE", "ann2", "")]
    csv_path = tmp_path / "v.csv"
    csv_path.write_text(HEADER + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    jl = tmp_path / "v.jsonl"
    keys = ("series", "image_a", "image_b", "choice", "annotator", "time")
    jl.write_text("".join(json.dumps(dict(zip(keys, r, strict=True))) + "\n" for r in rows), encoding="utf-8")
    a, b = read_votes(csv_path), read_votes(jl)
    assert [(v.series, v.image_a, v.image_b, v.choice, v.annotator, v.seconds) for v in a] == [
        ("s1", "a.jpg", "b.jpg", "a", "ann1", 2.5),
        ("s1", "b.jpg", "a.jpg", "tie", "ann2", None),
    ]
    assert [(v.choice, v.seconds) for v in a] == [(v.choice, v.seconds) for v in b]


def test_time_column_is_optional_and_accepts_timestamps(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("annotator,series,image_a,image_b,choice\nu,s,x,y,b\n", encoding="utf-8")
    (v,) = read_votes(p)
    assert (v.choice, v.annotator, v.seconds) == ("b", "u", None)
    p2 = tmp_path / "w.csv"
    p2.write_text(HEADER + "s,x,y,a,u,2026-11-26T07:00:00Z\n", encoding="utf-8")
    assert read_votes(p2)[0].seconds is None


def test_tie_counts_half_to_each_side() -> None:
    v = Vote("s", "x", "y", "tie", "u")
    assert v.score_for("x") == v.score_for("y") == 0.5
    w = Vote("s", "x", "y", "b", "u")
    assert (w.score_for("x"), w.score_for("y")) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("s,a,b,maybe,u,\n", 3, "choice must be one of a|b|tie"),
        ("s,a,a,a,u,\n", 3, "same image"),
        (",a,b,a,u,\n", 3, "missing value for series"),
        ("s,a,b,a,u\n", 3, "expected 6 fields, found 5"),
        ("s,a,b,a,u,soon\n", 3, "'time' must be seconds"),
        ("s,a,b,a,u,-3\n", 3, "finite number"),
    ],
)
def test_csv_errors(tmp_path: Path, body: str, line: int, reason: str) -> None:
    p = tmp_path / "votes.csv"
    p.write_text(HEADER + "s,a,b,a,u,1\n" + body, encoding="utf-8")
    with pytest.raises(DataFormatError) as exc:
        read_votes(p)
    assert f"{p}:{line}:" in str(exc.value) and reason in str(exc.value)


def test_missing_header_column(tmp_path: Path) -> None:
    p = tmp_path / "votes.csv"
    p.write_text("series,image_a,image_b,choice\ns,a,b,a\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"votes.csv:1: header lacks column\(s\) annotator"):
        read_votes(p)


def test_jsonl_errors(tmp_path: Path) -> None:
    p = tmp_path / "votes.jsonl"
    good = json.dumps({"series": "s", "image_a": "a", "image_b": "b", "choice": "a", "annotator": "u"})
    p.write_text(good + "\n\n" + "{oops\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"votes.jsonl:3: not valid JSON"):
        read_votes(p)
    p.write_text(good + "\n" + json.dumps({"series": "s", "image_a": "a", "image_b": "b", "choice": "c", "annotator": "u"}))
    with pytest.raises(DataFormatError, match=r"votes.jsonl:2: choice must be"):
        read_votes(p)
