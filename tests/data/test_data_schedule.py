"""The schedule sampler: stages, alternation, whole series, long-series parts, DDP ranks, resume skip."""

from __future__ import annotations

from fgaesq.data.schedule import ScheduleConfig, ScheduleSampler


def _kinds(batches):
    return "".join(b[0][0] for b in batches)


def test_stage1_then_alternating():
    cfg = ScheduleConfig(coarse_batch=4, fine_images=6, stage1_epochs=1)
    s = ScheduleSampler(10, [2, 3, 2, 4, 2], cfg)
    s.set_epoch(0)
    e0 = list(s)
    assert _kinds(e0) == "cc" and all(len(b) == 4 for b in e0)  # floor(10 / 4) coarse batches
    s.set_epoch(1)
    e1 = list(s)
    assert len(e1) == len(s)
    assert _kinds(e1) == "fc" * (len(e1) // 2)
    fine = [k for b in e1 if b[0][0] == "f" for k in b]
    assert sorted(k[1] for k in fine) == [0, 1, 2, 3, 4]  # one pass: every series once, never split
    sizes = [2, 3, 2, 4, 2]
    for b in e1:
        if b[0][0] == "f":
            assert sum(sizes[k[1]] for k in b) <= 6 or len(b) == 1
    # the coarse stream continues across epochs instead of restarting
    c1 = [k for b in e1 if b[0][0] == "c" for k in b]
    assert c1[0][2] == 1  # 2 batches per pass: epoch 0 used pass 0, epoch 1 continues with pass 1


def test_ratio_and_fine_only():
    cfg = ScheduleConfig(coarse_batch=2, fine_images=2, stage1_epochs=0, fine_per_coarse=2, coarse_per_fine=1)
    s = ScheduleSampler(20, [2] * 4, cfg)
    assert _kinds(list(s)) == "ffcffc"
    s2 = ScheduleSampler(0, [2] * 4, ScheduleConfig(fine_images=2, stage1_epochs=3))
    assert _kinds(list(s2)) == "ffff"  # no coarse data: fine-only from the start


def test_long_series_parts_cover_it():
    cfg = ScheduleConfig(max_series_images=4, fine_images=4, stage1_epochs=0, coarse_per_fine=0)
    s = ScheduleSampler(0, [10, 2], cfg)
    batches = list(s)
    parts = [b[0] for b in batches if b[0][1] == 0]
    assert len(parts) == 3 and sorted(p[3] for p in parts) == [0, 1, 2] and all(p[4] == 3 for p in parts)


def test_deterministic_and_epochs_differ():
    cfg = ScheduleConfig(coarse_batch=3, fine_images=4, stage1_epochs=0, seed=7)
    a = ScheduleSampler(30, [2] * 12, cfg)
    b = ScheduleSampler(30, [2] * 12, cfg)
    assert list(a) == list(b)
    a.set_epoch(1)
    assert list(a) != list(b)


def test_ranks_split_each_step():
    cfg = ScheduleConfig(coarse_batch=2, fine_images=2, stage1_epochs=0)
    ranks = [ScheduleSampler(16, [2] * 6, cfg, rank=r, world_size=2) for r in range(2)]
    r0, r1 = list(ranks[0]), list(ranks[1])
    assert len(r0) == len(r1) == len(ranks[0])
    assert _kinds(r0) == _kinds(r1)  # both ranks run the same kind at each step
    assert sorted(k[1] for b in r0 + r1 if b[0][0] == "f" for k in b) == list(range(6))
    for x, y in zip(r0, r1, strict=True):
        assert x != y


def test_skip_resumes_inside_an_epoch():
    cfg = ScheduleConfig(coarse_batch=2, fine_images=2, stage1_epochs=0)
    s = ScheduleSampler(8, [2] * 4, cfg)
    full = list(s)
    s.skip = 3
    assert list(s) == full[3:]
    s.set_epoch(1)
    assert s.skip == 0


def test_validation_pairs_all_or_annotated():
    from pathlib import Path

    from fgaesq.data.records import PairLabel, SeriesRecord
    from fgaesq.data.validation import fine_val_entries

    small = SeriesRecord("a", [Path(f"{i}.jpg") for i in range(3)], [PairLabel(0, 1, 0.9)])
    big = SeriesRecord("b", [Path(f"{i}.jpg") for i in range(10)], [PairLabel(3, 1, 0.8), PairLabel(0, 2, 0.7)])
    e = fine_val_entries([small, big], all_pairs_max=8)
    assert [x for x in e if x[0] == 0] == [(0, 0, 1), (0, 0, 2), (0, 1, 2)]
    big_pairs = {(i, j) for s, i, j in e if s == 1}
    assert {(1, 3), (0, 2)} <= big_pairs
    assert {i for p in big_pairs for i in p} == set(range(10))  # every image scored at least once
