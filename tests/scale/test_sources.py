"""Reading shards and Parquet as streams of samples: units, brace patterns, columns, bad samples."""

from __future__ import annotations

import io
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fgaesq.io import load_image
from fgaesq.io.sources import Columns, SourceError, input_kind, iter_unit, plan_units


def test_input_kinds(packed):
    assert input_kind("shards/{00000..00099}.tar") == "webdataset"
    assert input_kind("s3://bucket/train/{0000..0009}.tar") == "webdataset"
    assert input_kind("gs://b/x.parquet") == "parquet"
    assert input_kind(packed["folder"]) == "files"
    assert input_kind(packed["root"] / "shards") == "webdataset"


def test_brace_pattern_gives_one_unit_per_shard_and_every_sample(packed, items):
    units = plan_units([str(packed["root"] / "shards" / "{00000..00002}.tar")])
    assert [u.kind for u in units] == ["webdataset"] * 3
    samples = [s for u in units for s in iter_unit(u)]
    assert [s.key for s in samples] == [it.key for it in items]
    assert [s.series for s in samples] == [it.series for it in items]
    assert samples[5].data == items[5].jpeg
    assert samples[5].name.endswith(f"00000.tar:{items[5].key}.jpg")
    # pixels from shard bytes are the pixels of the same file
    assert load_image(samples[5].data, 512, name=samples[5].name).tobytes() == load_image(packed["files"][5], 512).tobytes()


def test_parquet_row_groups_are_units_with_chosen_columns(packed, items):
    units = plan_units([str(packed["parquet"])])
    assert [u.row_group for u in units] == [0, 1, 2]  # 24 rows in row groups of 10
    samples = [s for u in units for s in iter_unit(u, Columns(series="prompt_id"))]
    assert [(s.key, s.series, s.data) for s in samples] == [(it.key, it.series, it.jpeg) for it in items]
    with pytest.raises(SourceError, match="no column 'nope'"):
        list(iter_unit(units[0], Columns(series="nope")))


def test_parquet_paths_and_struct_cells_and_row_keys(tmp_path, packed, items):
    rel = [str(p.relative_to(packed["root"])) for p in packed["files"][:2]]
    table = pa.table({
        "path": rel,
        "other": [1, 2],
    })
    pq.write_table(table, packed["root"] / "paths.parquet")
    got = [s for u in plan_units([str(packed["root"] / "paths.parquet")]) for s in iter_unit(u)]
    assert [s.key for s in got] == ["paths:0", "paths:1"]  # no key column: file stem and row number
    assert got[0].data == str(packed["files"][0])  # relative paths resolve against the Parquet file's folder
    hf = pa.table({"image": [{"bytes": items[0].jpeg, "path": None}, {"bytes": None, "path": None}]})
    pq.write_table(hf, tmp_path / "hf.parquet")
    errors = []
    got = [s for u in plan_units([str(tmp_path / "hf.parquet")]) for s in iter_unit(u, on_error=lambda n, r: errors.append(n))]
    assert [s.data for s in got] == [items[0].jpeg]
    assert errors == [f"{tmp_path / 'hf.parquet'}:hf:1"]


def test_truncated_shard_keeps_the_samples_before_the_damage(tmp_path, packed):
    data = packed["shards"][0].read_bytes()
    bad = tmp_path / "00000.tar"
    bad.write_bytes(data[: len(data) // 2])
    errors = []
    got = list(iter_unit(plan_units([str(bad)])[0], on_error=lambda n, r: errors.append((n, r))))
    assert 0 < len(got) < 8
    assert len(errors) == 1 and errors[0][0] == str(bad) and "the rest of the shard is skipped" in errors[0][1]


def test_member_without_image_is_reported(tmp_path):
    p = tmp_path / "x.tar"
    with tarfile.open(p, "w") as tf:
        info = tarfile.TarInfo("000001.txt")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"hello"))
    errors = []
    assert list(iter_unit(plan_units([str(p)])[0], on_error=lambda n, r: errors.append(n))) == []
    assert errors == [f"{p}:000001"]


def test_missing_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(SourceError, match=r"00002.tar: no such shard or Parquet file \(and 1 more\)"):
        plan_units([str(tmp_path / "{00001..00003}.tar").replace("00001", "00002", 1)])
    with pytest.raises(SourceError, match="cannot open this URL"):
        plan_units(["nosuchproto://bucket/{0..1}.tar"])


def test_a_missing_extra_names_the_install_command():
    from fgaesq.io.sources import MissingExtra, require

    with pytest.raises(MissingExtra, match=r"needs no_such_module_fgaesq: pip install 'fgaesq\[scale\]'"):
        require("no_such_module_fgaesq.sub")


def test_fsspec_urls_with_brace_patterns(packed, items):
    import fsspec

    fs = fsspec.filesystem("memory")
    for p in packed["shards"][:2]:
        fs.pipe(f"/bucket/train/{p.name}", p.read_bytes())
    fs.pipe("/bucket/images.parquet", packed["parquet"].read_bytes())
    units = plan_units(["memory://bucket/train/{00000..00001}.tar", "memory://bucket/images.parquet"])
    assert [u.kind for u in units] == ["webdataset"] * 2 + ["parquet"] * 3
    samples = [s for u in units for s in iter_unit(u, Columns(series="prompt_id") if u.kind == "parquet" else None)]
    assert [s.key for s in samples] == [it.key for it in items[:16]] + [it.key for it in items]
    assert samples[0].name == f"memory://bucket/train/00000.tar:{items[0].key}.jpg"
    assert samples[16].data == items[0].jpeg and samples[16].series == items[0].series
