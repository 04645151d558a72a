"""Series JSONL reader/writer (docs/contracts.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fgaesq.data.errors import DataFormatError
from fgaesq.data.fine import read_jsonl_series
from fgaesq.data.records import PairLabel, SeriesRecord
from fgaesq.data.series_jsonl import read_series_jsonl, series_to_dict, write_series_jsonl

CONTRACT_LINE = {
    "series": "burst-001",
    "category": "natural",
    "root": "optional/base/dir",
    "images": ["a.jpg", "b.jpg", "c.jpg"],
    "ranking": ["b.jpg", "a.jpg", "c.jpg"],
    "pairs": [{"a": "b.jpg", "b": "a.jpg", "p": 0.8, "text": "optional comparative sentence"}],
}


def test_contract_example_round_trips(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(CONTRACT_LINE) + "\n\n", encoding="utf-8")
    (rec,) = read_series_jsonl(src)
    assert rec.series == "burst-001" and rec.category == "natural"
    assert rec.names == ["a.jpg", "b.jpg", "c.jpg"] and rec.ranking == [1, 0, 2]
    assert rec.pairs == [PairLabel(1, 0, 0.8, "optional comparative sentence")]
    assert rec.images[0] == tmp_path / "optional/base/dir" / "a.jpg"
    dst = tmp_path / "out.jsonl"
    assert write_series_jsonl(dst, [rec]) == 1
    assert json.loads(dst.read_text(encoding="utf-8")) == CONTRACT_LINE


def test_optional_keys_and_unknown_keys(tmp_path: Path) -> None:
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"series": "x", "images": ["p.png", "q.png"], "extra": 1}) + "\n", encoding="utf-8")
    (rec,) = read_series_jsonl(src)
    assert rec.ranking is None and rec.pairs == [] and rec.root is None
    assert rec.images == [tmp_path / "p.png", tmp_path / "q.png"]
    out = series_to_dict(SeriesRecord("x", [Path("p.png"), Path("q.png")]))
    assert "category" not in out and "root" not in out and out["images"] == ["p.png", "q.png"]


def test_ranking_alone_gives_every_pair_once(tmp_path: Path) -> None:
    """The one pair expansion: a series with a ranking and no pairs is labelled with every ranked pair."""
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps({"series": "r", "images": ["a.jpg", "b.jpg", "c.jpg"], "ranking": ["c.jpg", "a.jpg", "b.jpg"]}) + "\n")
    (rec,) = read_jsonl_series(src, check_files=False)
    assert rec.named_pairs() == [("c.jpg", "a.jpg", 1.0), ("c.jpg", "b.jpg", 1.0), ("a.jpg", "b.jpg", 1.0)]
    with pytest.raises(DataFormatError, match="needs a 'ranking' or 'pairs'"):
        src.write_text(json.dumps({"series": "r", "images": ["a.jpg", "b.jpg"]}) + "\n")
        read_jsonl_series(src, check_files=False)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"images": ["a.jpg"]}', "missing or empty 'series'"),
        ('{"series": "s", "images": ["a.jpg", "a.jpg"]}', "twice"),
        ('{"series": "s", "images": ["a.jpg", "b.jpg"], "ranking": ["z.jpg"]}', "'ranking'"),
        ('{"series": "s", "images": ["a.jpg", "b.jpg"], "pairs": [{"a": "a.jpg", "b": "z.jpg", "p": 0.7}]}', "two different images"),
        ('{"series": "s", "images": ["a.jpg", "b.jpg"], "pairs": [{"a": "a.jpg", "b": "b.jpg", "p": 1.5}]}', "'p' in [0, 1]"),
    ],
)
def test_errors_name_file_line_and_reason(tmp_path: Path, line: str, reason: str) -> None:
    src = tmp_path / "bad.jsonl"
    good = json.dumps({"series": "ok", "images": ["a.jpg", "b.jpg"]})
    src.write_text(good + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as exc:
        read_series_jsonl(src)
    assert f"{src}:2:" in str(exc.value) and reason in str(exc.value)


def test_duplicate_series_id_rejected(tmp_path: Path) -> None:
    src = tmp_path / "dup.jsonl"
    line = json.dumps({"series": "s", "images": ["a.jpg", "b.jpg"]})
    src.write_text(line + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r":2: series id 's' appears twice"):
        read_series_jsonl(src)
