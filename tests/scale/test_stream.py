"""Scoring streams into resumable parts: same scores from shards, Parquet and files; resume; bad samples."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest

from fgaesq.io.sources import Columns, plan_units
from fgaesq.rank.outputs import COLUMNS, OutputError, PartsWriter
from fgaesq.rank.stream import ModelInfo, check_resume, score_stream


def _scores(path) -> dict[str, float]:
    t = pq.read_table(path)
    return dict(zip(t.column("key").to_pylist(), t.column("score").to_pylist(), strict=True))


@pytest.fixture(scope="module")
def shard_run(tmp_path_factory, packed, lite):
    out = tmp_path_factory.mktemp("shard-run") / "scores.parquet"
    units = plan_units([str(packed["root"] / "shards" / "{00000..00002}.tar")])
    summary = score_stream(units, lite, PartsWriter(out))
    return out, summary


def test_parquet_output_round_trips_with_the_documented_schema(shard_run, items, lite):
    out, summary = shard_run
    assert (summary.scored, summary.failed, summary.units) == (24, 0, 3)
    table = pq.read_table(out)
    assert table.schema.names == list(COLUMNS)
    assert str(table.schema.field("score").type) == "double" and str(table.schema.field("rank").type) == "int32"
    rows = table.to_pylist()
    assert sorted(r["key"] for r in rows) == sorted(it.key for it in items)
    assert {r["series"] for r in rows} == {it.series for it in items}
    assert all(1 <= r["score"] <= 10 and r["error"] is None for r in rows)
    assert {r["model"] for r in rows} == {lite.name}
    assert {r["model_version"] for r in rows} == {rows[0]["model_version"]} and rows[0]["model_version"].startswith("sha256:")


def test_same_scores_from_shards_parquet_files_and_the_single_image_scorer(tmp_path, shard_run, packed, items, lite):
    from_shards = _scores(shard_run[0])
    out = tmp_path / "pq.parquet"
    score_stream(plan_units([str(packed["parquet"])]), lite, PartsWriter(out), columns=Columns(series="prompt_id"))
    from_parquet = _scores(out)
    # row groups of 10 batch the images differently from shards of 8: equal up to float rounding of the batch
    assert from_parquet.keys() == from_shards.keys()
    assert [from_parquet[k] for k in from_shards] == pytest.approx(list(from_shards.values()), abs=1e-5)
    out = tmp_path / "files.parquet"
    score_stream(plan_units([str(packed["folder"])], recursive=True, files_per_unit=8), lite, PartsWriter(out))
    by_file = {p.split("/")[-1].removesuffix(".jpg"): s for p, s in _scores(out).items()}
    assert by_file == from_shards  # same units of 8, same pixels: the same numbers
    direct = lite.score([str(p) for p in packed["files"][:8]])  # the scorer on the files, as `fgaesq score` runs it
    assert [from_shards[it.key] for it in items[:8]] == pytest.approx(list(direct), abs=1e-5)


def test_rerun_skips_finished_parts_and_redoes_only_the_missing_one(tmp_path, packed, lite, shard_run):
    out = tmp_path / "resume.parquet"
    units = plan_units([str(packed["root"] / "shards" / "{00000..00002}.tar")])
    writer = PartsWriter(out)
    score_stream(units, lite, writer)
    parts = writer.parts()
    parts[1].unlink()  # as if the run had been killed while scoring the second shard
    (out / f".{parts[1].name}.tmp").write_bytes(b"half a part")
    again = score_stream(units, lite, PartsWriter(out))
    assert (again.skipped_units, again.scored) == (2, 8)
    keys = pq.read_table(out).column("key").to_pylist()
    assert len(keys) == len(set(keys)) == 24
    assert not list(out.glob(".*.tmp"))
    assert _scores(out) == _scores(shard_run[0])


def test_resume_refuses_parts_of_another_model(tmp_path, packed, lite):
    import dataclasses

    out = tmp_path / "mixed.parquet"
    units = plan_units([str(packed["root"] / "shards" / "00000.tar")])
    writer = PartsWriter(out)
    score_stream(units, lite, writer)
    check_resume(writer, ModelInfo.of(lite))  # same weights: fine
    with pytest.raises(OutputError, match="written by another model"):
        check_resume(writer, dataclasses.replace(ModelInfo.of(lite), model_version="sha256:000000000000"))


def test_bad_samples_become_error_rows_and_the_run_goes_on(tmp_path, items, lite):
    from scale_data import write_shards

    broken = [*items[:3]]
    broken.insert(1, type(items[0])("bad-0001", items[0].series, items[0].jpeg[:300]))  # truncated JPEG
    broken.insert(2, type(items[0])("bad-0002", items[0].series, b"not an image at all"))
    shard = write_shards(tmp_path / "shards", broken, per_shard=10)[0]
    reported = []
    out = tmp_path / "scores.csv"
    writer = PartsWriter(out)
    summary = score_stream(plan_units([str(shard)]), lite, writer, on_error=lambda n, r: reported.append((n, r)))
    writer.finish()
    assert (summary.scored, summary.failed) == (3, 2)
    assert [n for n, _ in reported] == [f"{shard}:bad-0001.jpg", f"{shard}:bad-0002.jpg"]
    assert "truncated" in reported[0][1].lower()
    rows = list(csv.DictReader(out.open()))
    assert [r["key"] for r in rows] == [broken[i].key for i in range(5)]
    assert [bool(r["error"]) for r in rows] == [False, True, True, False, False]
    assert rows[1]["score"] == ""


def test_json_and_jsonl_outputs_hold_every_row(tmp_path, shard_run):
    src = PartsWriter(shard_run[0])
    for name in ("s.json", "s.jsonl"):
        from fgaesq.rank.outputs import write_rows

        write_rows(tmp_path / name, src.rows())
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["summary"] == {"scored": 24, "failed": 0} and len(doc["images"]) == 24
    lines = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert {x["key"]: x["score"] for x in lines} == _scores(shard_run[0])


def test_out_must_have_a_known_suffix(tmp_path):
    with pytest.raises(OutputError, match=r"use a \.parquet, \.csv, \.json or \.jsonl name"):
        PartsWriter(tmp_path / "x.txt")
