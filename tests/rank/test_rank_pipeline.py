"""The ranking pipeline on real-photo bursts with a seeded tiny FGAesQ model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from rank_burst_photos import make_bursts
from skimage import data

from fgaesq.io import list_images
from fgaesq.rank.pipeline import rank_paths, score_paths, series_key
from fgaesq.rank.report import rank_dict


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shoot")
    return folder, make_bursts(folder, (4, 3, 3), max_side=320)


@pytest.fixture(scope="module")
def ranked(shoot, tiny_scorer):
    folder, _ = shoot
    return rank_paths(list_images(folder), tiny_scorer, root=folder, mode="pairs")


def test_flat_shoot_is_grouped_into_its_three_bursts(shoot, ranked):
    _, bursts = shoot
    assert ranked.series_by == "time+similarity"
    got = [[p.path for p in sorted(s.ranking, key=lambda r: r.path)] for s in ranked.series]
    assert got == [[str(p) for p in paths] for paths in bursts.values()]
    assert [s.series for s in ranked.series] == ["series-001", "series-002", "series-003"]


def test_each_series_has_a_ranking_and_best_pick(ranked):
    for s in ranked.series:
        assert s.strategy == "all-pairs"
        n = len(s.ranking)
        assert s.pairs == n * (n - 1) // 2 and s.forward_passes == 2 * s.pairs
        assert [r.rank for r in s.ranking] == list(range(1, n + 1))
        scores = [r.score for r in s.ranking]
        assert scores == sorted(scores, reverse=True) and s.best == s.ranking[0].path
        assert all(r.pairs == n - 1 and 1 <= r.score <= 10 for r in s.ranking)
    assert ranked.errors == []
    assert ranked.forward_passes == sum(s.forward_passes for s in ranked.series) + ranked.embedded


def test_scores_are_the_means_of_the_pair_scores(shoot, ranked, tiny_scorer):
    """Recompute one series by hand: pair ids `{series}_{i}_{j}`, each image's mean over its pairs."""
    s = ranked.series[1]  # 3 images: no adjustment, score = raw mean
    files = sorted((r.path for r in s.ranking), key=lambda p: p)
    pairs = [(files[0], files[1], f"{s.series}_1_2"), (files[0], files[2], f"{s.series}_1_3"),
             (files[1], files[2], f"{s.series}_2_3")]
    ps = tiny_scorer.score_pairs(pairs)
    expect = {files[0]: (ps[0, 0] + ps[1, 0]) / 2, files[1]: (ps[0, 1] + ps[2, 0]) / 2,
              files[2]: (ps[1, 1] + ps[2, 1]) / 2}
    for r in s.ranking:
        assert r.score == pytest.approx(expect[r.path], abs=1e-5)


def test_series_mode_scores_each_image_once(shoot, tiny_scorer):
    """Series mode: one forward per image, each tokenized against the rest of its burst."""
    folder, bursts = shoot
    result = rank_paths(list_images(folder), tiny_scorer, root=folder, mode="series")
    assert result.settings["mode"] == "series"
    assert [len(s.ranking) for s in result.series] == [len(p) for p in bursts.values()]
    for s in result.series:
        assert s.strategy == "series" and s.pairs == 0 and s.forward_passes == len(s.ranking)
        scores = [r.score for r in s.ranking]
        assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    # grouping (time + similarity) embeds each burst in series mode: its forwards are the ranking's forwards
    assert result.series_by == "time+similarity" and result.forward_passes == 10
    s = result.series[1]
    files = sorted((r.path for r in s.ranking), key=lambda p: p)
    (direct,) = tiny_scorer.score_series([(files, series_key(files))])
    assert {r.path: r.score for r in s.ranking} == pytest.approx(dict(zip(files, direct, strict=True)), abs=1e-6)
    # the same images alone score differently: the series changes which cells are fine
    assert not np.allclose(direct, tiny_scorer.score(files), atol=1e-4)
    again = rank_paths(list_images(folder), tiny_scorer, root=folder, mode="series")
    assert rank_dict(again) == rank_dict(result)


def test_same_run_twice_gives_identical_output(shoot, ranked, tiny_scorer):
    folder, _ = shoot
    again = rank_paths(list_images(folder), tiny_scorer, root=folder, mode="pairs")
    assert rank_dict(again) == rank_dict(ranked)


def test_large_series_uses_k_references(tmp_path, tiny_scorer):
    base = data.chelsea()
    for i in range(10):  # one burst of 10 frames with graded exposure
        arr = np.clip(base.astype(float) * (0.7 + 0.06 * i), 0, 255).astype(np.uint8)[::2, ::2]
        Image.fromarray(arr).save(tmp_path / f"f{i:02d}.png")
    result = rank_paths(list_images(tmp_path), tiny_scorer, root=tmp_path, series_by="folder", k=2,
                        references="nearest", mode="pairs")
    (s,) = result.series
    assert s.strategy == "k-reference" and len(s.ranking) == 10
    assert 10 <= s.pairs <= 20 < 45  # O(n k), not all 45 pairs
    assert all(r.pairs >= 2 for r in s.ranking)
    assert result.embedded == 10 and result.forward_passes == 2 * s.pairs + 10
    balanced = rank_paths(list_images(tmp_path), tiny_scorer, root=tmp_path, series_by="folder", k=2, mode="pairs")
    (b,) = balanced.series
    assert b.strategy == "k-reference" and balanced.embedded == 0 and b.pairs <= 20
    assert balanced.settings["references"] == "balanced"


def test_bad_files_are_reported_and_the_rest_ranked(tmp_path, tiny_scorer):
    make_bursts(tmp_path, (2,), max_side=200)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "empty.png").write_bytes(b"")
    result = rank_paths(list_images(tmp_path), tiny_scorer, root=tmp_path, series_by="folder")
    assert sorted(e.path.split("/")[-1] for e in result.errors) == ["broken.jpg", "empty.png"]
    assert len(result.series) == 1 and len(result.series[0].ranking) == 2


def test_single_image_series_and_score_paths(tmp_path, tiny_scorer):
    make_bursts(tmp_path, (1,), max_side=200)
    (tmp_path / "notes.jpg").write_text("not a photo")
    result = rank_paths(list_images(tmp_path), tiny_scorer, root=tmp_path, series_by="time")
    (s,) = result.series
    assert s.strategy == "single" and s.ranking[0].pairs == 0
    scored = score_paths(list_images(tmp_path), tiny_scorer)
    assert len(scored.images) == 1 and scored.images[0].score == pytest.approx(s.ranking[0].score)
    assert [e.path.split("/")[-1] for e in scored.errors] == ["notes.jpg"]


def _truncate_when(stage: str, victim):
    """A progress factory that truncates `victim` when `stage` starts (a file changing under a running job)."""

    def factory(description, total):
        if description == stage:
            data_ = victim.read_bytes()
            victim.write_bytes(data_[: len(data_) // 3])
        return lambda n: None

    return factory


@pytest.mark.parametrize(("mode", "stage", "pairs"), [("pairs", "ranking pairs", 2), ("series", "ranking series", 0)])
def test_file_broken_during_the_run_is_reported_not_fatal(tmp_path, tiny_scorer, mode, stage, pairs):
    bursts = make_bursts(tmp_path, (4,), max_side=200)
    victim = next(iter(bursts.values()))[1]
    files = list_images(tmp_path)
    result = rank_paths(files, tiny_scorer, root=tmp_path, series_by="folder", mode=mode,
                        progress=_truncate_when(stage, victim))
    assert [e.path for e in result.errors] == [str(victim)] and "truncated" in result.errors[0].error
    (s,) = result.series
    assert sorted(r.path for r in s.ranking) == sorted(str(p) for p in files if p != victim)
    assert all(r.pairs == pairs for r in s.ranking)  # pairs mode: only the pairs among the three intact frames


def test_score_paths_survives_a_file_broken_during_the_run(tmp_path, tiny_scorer):
    bursts = make_bursts(tmp_path, (3,), max_side=200)
    victim = next(iter(bursts.values()))[0]
    result = score_paths(list_images(tmp_path), tiny_scorer, progress=_truncate_when("scoring", victim))
    assert [e.path for e in result.errors] == [str(victim)]
    assert len(result.images) == 2
