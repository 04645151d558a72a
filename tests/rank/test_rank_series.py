"""Series discovery from folders (incl. the authors' layout), capture times and feature similarity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fgaesq.rank.series import (
    Series,
    discover_series,
    folder_series,
    group_by_similarity,
    group_by_time,
    normalise_name,
)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_authors_layout_ids_and_pair_ids(tmp_path):
    files = [_touch(tmp_path / "000009" / f"000009-{i}.jpg") for i in (10, 2, 1)]
    files += [_touch(tmp_path / "beach" / n) for n in ("IMG_10.jpg", "IMG_9.jpg")]
    series = folder_series(files, tmp_path)
    assert [s.name for s in series] == ["9", "beach"]
    nine, beach = series
    assert [p.name for p in nine.images] == ["000009-1.jpg", "000009-2.jpg", "000009-10.jpg"]
    assert nine.ids == [1, 2, 10]
    assert nine.pair_id(2, 0) == "9_1_10"
    assert [p.name for p in beach.images] == ["IMG_9.jpg", "IMG_10.jpg"] and beach.ids == [1, 2]
    assert beach.pair_id(0, 1) == "beach_1_2"


def test_flat_root_is_one_series_named_after_it(tmp_path):
    root = tmp_path / "3"
    files = [_touch(root / f"3-{i}.png") for i in (1, 2)]
    (s,) = folder_series(files, root)
    assert s.name == "3" and s.pair_id(0, 1) == "3_1_2"
    assert normalise_name("0042") == "42" and normalise_name("a-1") == "a-1"
    with pytest.raises(ValueError):
        Series("x", [Path("a"), Path("b")], [1, 1])


def test_time_gaps():
    assert group_by_time([0, 1, 2.5, 100, 101, 400], gap=30) == [[0, 1, 2], [3, 4], [5]]
    assert group_by_time([0, 1, 2.5, 100], gap=1.2) == [[0, 1], [2], [3]]


def test_similarity_clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    feats = np.concatenate([c + 0.05 * rng.normal(size=(4, 16)) for c in centres])
    perm = np.array([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    groups = group_by_similarity(feats[perm], threshold=0.8)
    assert sorted(sorted(perm[g] // 4) for g in groups) == [[0] * 4, [1] * 4, [2] * 4]
    assert len(group_by_similarity(feats, threshold=-1.0)) == 1


def test_discover_modes(tmp_path):
    files = [_touch(tmp_path / f"p{i}.jpg") for i in range(6)]
    times = [0.0, 1.0, 2.0, 200.0, 201.0, 500.0]
    series, used = discover_series(files, tmp_path, times=times, exif_times=[True] * 6)
    assert used == "time" and [len(s) for s in series] == [3, 2, 1]
    assert [s.name for s in series] == ["series-001", "series-002", "series-003"]
    feats = np.array([[1, 0], [1, 0.05], [0, 1], [1, 0], [0, 1], [0, 1]], dtype=float)

    def embed(paths):
        return feats[[files.index(p) for p in paths]]

    series, used = discover_series(files, tmp_path, times=times, exif_times=[True] * 6, embed=embed)
    assert used == "time+similarity" and [[p.name for p in s.images] for s in series] == [
        ["p0.jpg", "p1.jpg"], ["p2.jpg"], ["p3.jpg"], ["p4.jpg"], ["p5.jpg"]]
    series, used = discover_series(files, tmp_path, times=times, exif_times=[False] * 6, embed=embed)
    assert used == "similarity" and [len(s) for s in series] == [3, 3]
    sub = [_touch(tmp_path / "a" / "x.jpg"), _touch(tmp_path / "b" / "y.jpg")]
    assert discover_series(sub, tmp_path)[1] == "folder"
    with pytest.raises(ValueError):
        discover_series(files, tmp_path, series_by="colour")
