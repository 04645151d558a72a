"""Label formats: coarse (AVA, CSV, CLIVE) and fine (FGAesthetics release, JSONL, series folders)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from fgaesq.data import (
    DataFormatError,
    gaussian_bins,
    read_ava,
    read_coarse,
    read_coarse_csv,
    read_fgaesthetics,
    read_fine,
    read_jsonl_series,
    read_series_folders,
)


def _clive_images(clive_dir: Path, n: int) -> list[Path]:
    return sorted((clive_dir / "images").glob("*.jpg"))[:n]


def test_gaussian_bins_hand_values():
    d = gaussian_bins(5.5, 1.0)
    # Φ(0) − Φ(−1) = 0.34134475 for the bins either side of 5.5
    assert d[4] == pytest.approx(0.34134475, abs=1e-7)
    assert d[5] == pytest.approx(0.34134475, abs=1e-7)
    assert d[0] == pytest.approx(0.5 * (1 + math.erf(-4.0 / math.sqrt(2))), rel=1e-6)
    assert d.sum() == pytest.approx(1.0)
    z = gaussian_bins(3.25, 0.0)
    assert z[2] == pytest.approx(0.75) and z[3] == pytest.approx(0.25)
    assert float(np.dot(np.arange(1, 11), z)) == pytest.approx(3.25)


def test_clive_csv_maps_mos_to_1_10(clive_dir):
    recs = read_coarse(clive_dir / "labels.csv")
    rows = (clive_dir / "labels.csv").read_text().splitlines()[1:]
    assert len(recs) == len(rows) == 40
    for rec, row in zip(recs, rows, strict=True):
        name, mos, std = row.split(",")
        assert rec.image == clive_dir / "images" / name and rec.image.is_file()
        score = 1 + 9 * float(mos) / 100
        assert rec.dist.sum() == pytest.approx(1.0)
        assert abs(rec.mean - score) < 0.35  # folding the tails into bins 1/10 shifts the mean slightly
        assert int(np.argmax(rec.dist)) + 1 == round(min(max(score, 1), 10)) or abs(rec.dist.max() - np.sort(rec.dist)[-2]) < 0.05


def test_ava_layout_and_votes_csv(tmp_path, clive_dir):
    imgs = _clive_images(clive_dir, 2)
    for p in imgs:
        shutil.copy(p, tmp_path / f"{p.stem}.jpg")
    ava = tmp_path / "AVA.txt"
    ava.write_text(
        f"1 {imgs[0].stem} 0 0 1 2 3 2 1 1 0 0 10 22 1396\n2 {imgs[1].stem} 1 1 1 1 1 1 1 1 1 1 0 0 1396\n"
    )
    recs = read_ava(ava)
    assert recs[0].dist.tolist() == pytest.approx([0, 0, 0.1, 0.2, 0.3, 0.2, 0.1, 0.1, 0, 0])
    assert recs[0].mean == pytest.approx(5.3)  # (3·1+4·2+5·3+6·2+7+8)/10
    assert recs[1].mean == pytest.approx(5.5)
    votes = tmp_path / "v.csv"
    votes.write_text("image," + ",".join(f"v{k}" for k in range(1, 11)) + f"\n{imgs[0].stem}.jpg,0,0,1,2,3,2,1,1,0,0\n")
    assert read_coarse_csv(votes)[0].dist.tolist() == pytest.approx(recs[0].dist.tolist())
    scores = tmp_path / "s.csv"
    scores.write_text(f"image,score,std\n{imgs[0].stem}.jpg,5.5,1\n{imgs[1].stem}.jpg,7,0\n")
    s = read_coarse_csv(scores)
    assert s[0].dist[4] == pytest.approx(0.34134475, abs=1e-7)
    assert s[1].dist[6] == 1.0


@pytest.mark.parametrize(
    "body, line, reason",
    [
        ("image,score\na.jpg,5\nb.jpg,11\n", 3, "outside 1..10"),
        ("image,score\na.jpg,5\nb.jpg,x\n", 3, "non-numeric"),
        ("image,score\na.jpg,5,1\n", 2, "expected 2 fields"),
        ("img,score\n", 1, "header must start"),
    ],
)
def test_coarse_csv_reports_first_bad_line(tmp_path, clive_dir, body, line, reason):
    for n in ("a.jpg", "b.jpg"):
        shutil.copy(_clive_images(clive_dir, 1)[0], tmp_path / n)
    f = tmp_path / "bad.csv"
    f.write_text(body)
    with pytest.raises(DataFormatError) as e:
        read_coarse_csv(f)
    assert str(e.value).startswith(f"{f}:{line}: ") and reason in str(e.value)


def test_missing_image_is_reported(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("image,score\nnothere.jpg,5\n")
    with pytest.raises(DataFormatError, match=r"s.csv:2: image not found"):
        read_coarse_csv(f)


def _release(tmp_path: Path, clive_dir: Path) -> Path:
    imgs = _clive_images(clive_dir, 5)
    for s, idxs in (("7", [1, 2, 3]), ("0012", [1, 2])):  # zero-padded names match numeric ids
        d = tmp_path / "images" / s
        d.mkdir(parents=True)
        for k, i in enumerate(idxs):
            shutil.copy(imgs[k], d / f"{s}-{i}.JPG")
    return tmp_path / "images"


def test_fgaesthetics_release_rows(tmp_path, clive_dir):
    root = _release(tmp_path, clive_dir)
    f = tmp_path / "natural_train.txt"
    # series a b P x x ; pair (7: 2,1) appears twice, reversed: P(2≻1)=0.9 and P(1≻2)=0.3 -> P(1≻2)=(0.1+0.3)/2
    f.write_text("7 1 3 0.8 0 0\n7 2 1 0.9 0 0\n7 1 2 0.3 0 0\n12 1 2 0.5 1 1\n")
    recs = {r.series: r for r in read_fgaesthetics(f, root)}
    s7 = recs["7"]
    assert s7.category == "natural" and [p.name for p in s7.images] == ["7-1.JPG", "7-2.JPG", "7-3.JPG"]
    ps = {(s7.images[p.a].stem, s7.images[p.b].stem): p.p for p in s7.pairs}
    assert ps == pytest.approx({("7-1", "7-3"): 0.8, ("7-1", "7-2"): 0.2})
    # net preference: g1 = 0.3 − 0.3 = 0, g2 = +0.3, g3 = −0.3 -> order 2, 1, 3
    assert np.argsort(-s7.levels()).tolist() == [1, 0, 2]
    assert recs["12"].pairs[0].p == 0.5 and recs["12"].informative_pairs() == []
    flipped = {r.series: r for r in read_fgaesthetics(f, root, prob_first_better=False)}
    assert flipped["7"].pairs[0].p == pytest.approx(0.2)


def test_fgaesthetics_bad_rows(tmp_path, clive_dir):
    root = _release(tmp_path, clive_dir)
    f = tmp_path / "aigc_val.txt"
    f.write_text("7 1 3 0.8 0 0\n7 1 2 1.3 0 0\n")
    with pytest.raises(DataFormatError, match=r"aigc_val.txt:2: probability 1.3 outside"):
        read_fgaesthetics(f, root)
    f.write_text("7 1 3 0.8 0\n")
    with pytest.raises(DataFormatError, match=r":1: expected 6 numeric fields"):
        read_fgaesthetics(f, root)
    f.write_text("7 1 3 0.8 0 0\n7 1 9 0.8 0 0\n")
    with pytest.raises(DataFormatError, match="image not found"):
        read_fgaesthetics(f, root)


def test_jsonl_series(tmp_path, clive_dir):
    imgs = _clive_images(clive_dir, 3)
    for p in imgs:
        shutil.copy(p, tmp_path / p.name)
    names = [p.name for p in imgs]
    line = {
        "series": "s1",
        "category": "natural",
        "images": names,
        "ranking": [names[1], names[0], names[2]],
        "pairs": [{"a": names[1], "b": names[0], "p": 0.8, "text": "sharper"}, {"a": names[0], "b": names[2], "p": 0.7}],
    }
    f = tmp_path / "series.jsonl"
    f.write_text(json.dumps(line) + "\n\n" + json.dumps({**line, "series": "s2", "pairs": []}) + "\n")
    recs = read_fine(f)
    assert [r.series for r in recs] == ["s1", "s2"]
    assert recs[0].ranking == [1, 0, 2] and recs[0].pairs[0].text == "sharper"
    assert np.argsort(-recs[0].levels()).tolist() == [1, 0, 2]
    assert len(recs[1].pairs) == 3  # hard pairs derived from the ranking
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(line) + "\n" + json.dumps({**line, "pairs": [{"a": names[0], "b": "x.jpg", "p": 0.6}]}) + "\n")
    with pytest.raises(DataFormatError, match=r"bad.jsonl:2: .*pair 0 needs two different images"):
        read_jsonl_series(bad)
    bad.write_text("{not json\n")
    with pytest.raises(DataFormatError, match=r"bad.jsonl:1: not valid JSON"):
        read_jsonl_series(bad)


def test_series_folders(tmp_path, clive_dir):
    imgs = _clive_images(clive_dir, 3)
    d = tmp_path / "burst1"
    d.mkdir()
    for p in imgs:
        shutil.copy(p, d / p.name)
    (d / "ranking.txt").write_text(f"# best first\n{imgs[2].name}\n\n{imgs[0].name}\n")
    (recs,) = read_series_folders(tmp_path)
    assert [p.name for p in recs.images] == [imgs[2].name, imgs[0].name] and recs.ranking == [0, 1]
    assert recs.pairs[0].p == 1.0
    (d / "ranking.txt").write_text(f"{imgs[2].name}\nmissing.jpg\n")
    with pytest.raises(DataFormatError, match=r"ranking.txt:2: image not found"):
        read_series_folders(tmp_path)
