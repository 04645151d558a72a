"""`fgaesq score` / `fgaesq rank` on shards and Parquet, through the command line."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
from typer.testing import CliRunner

from fgaesq.cli import app


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_score_shards_to_parquet_then_resume(tmp_path, packed, items):
    out = tmp_path / "scores.parquet"
    pattern = str(packed["root"] / "shards" / "{00000..00002}.tar")
    r = _run("score", pattern, "--out", out, "-w", "fgaesq-lite")
    assert r.exit_code == 0, r.output
    assert f"scored 24 images (0 skipped) in 3 units -> {out}" in r.output
    table = pq.read_table(out)
    assert sorted(table.column("key").to_pylist()) == sorted(it.key for it in items)
    r = _run("score", pattern, "--out", out, "-w", "fgaesq-lite")
    assert r.exit_code == 0 and "3 already done" in r.output
    assert pq.read_table(out).num_rows == 24


def test_rank_parquet_series_to_csv(tmp_path, packed, items):
    out = tmp_path / "ranking.csv"
    r = _run("rank", packed["parquet"], "--series-column", "prompt_id", "--out", out, "-w", "fgaesq-lite", "-q")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert sorted(r["key"] for r in rows) == sorted(it.key for it in items)
    for series in {it.series for it in items}:
        mine = [r for r in rows if r["series"] == series]
        assert sorted(int(r["rank"]) for r in mine) == [1, 2, 3, 4]
        best = [r for r in mine if r["best"] == "true"]
        assert len(best) == 1 and best[0]["rank"] == "1"
        assert float(best[0]["score"]) == max(float(r["score"]) for r in mine)
    assert (tmp_path / "ranking.csv.parts").is_dir()


def test_rank_needs_a_series_and_grouped_input(tmp_path, packed, items):
    from scale_data import write_parquet

    r = _run("rank", packed["parquet"], "--out", tmp_path / "r.parquet", "-w", "fgaesq-lite")
    assert r.exit_code == 2 and "no series; name the field that holds it with --series-column" in r.output
    scattered = write_parquet(tmp_path / "scattered.parquet", items[4:6] + items[:4] + items[6:8], 8)
    r = _run("rank", scattered, "--series-column", "prompt_id", "--out", tmp_path / "s.parquet", "-w", "fgaesq-lite")
    assert r.exit_code == 2 and "appears again after other series" in r.output


def test_stream_inputs_need_out_and_a_known_suffix(tmp_path, packed):
    shard = packed["shards"][0]
    r = _run("score", shard, "-w", "fgaesq-lite")
    assert r.exit_code == 2 and "need --out" in r.output
    r = _run("score", shard, "--out", tmp_path / "x.txt")
    assert r.exit_code == 2 and "--out" in r.output and ".parquet" in r.output
    r = _run("score", str(tmp_path / "{00001..00002}.tar"), "--out", tmp_path / "x.parquet")
    assert r.exit_code == 2 and "no such shard or Parquet file" in r.output
    assert not (tmp_path / "x.parquet").exists()


def test_score_a_folder_to_jsonl_goes_through_the_parts(tmp_path, packed, items):
    import json

    folder = packed["folder"] / items[0].series
    out = tmp_path / "scores.jsonl"
    r = _run("score", folder, "--out", out, "-w", "fgaesq-lite", "-q")
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(row["key"] for row in rows) == sorted(str(p) for p in folder.iterdir())
    assert all(1 <= row["score"] <= 10 and row["error"] is None for row in rows)
