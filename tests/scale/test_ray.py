"""Ray Data on a local 2-CPU Ray: the same results as one process, and a killed worker loses/duplicates nothing."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")

from fgaesq.integrations import ray as fray  # noqa: E402
from fgaesq.io.sources import Columns, plan_units  # noqa: E402
from fgaesq.rank.outputs import PartsWriter  # noqa: E402
from fgaesq.rank.stream import score_stream  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    fray.init("local", num_cpus=2, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def _scores(path: Path) -> dict[str, float]:
    return {r["key"]: r["score"] for r in _rows(path)}


@pytest.fixture(scope="module")
def scorer():
    """fgaesq-lite as `fgaesq score -w fgaesq-lite` loads it (the same batch size as the Ray actors)."""
    return fray.load_scorer("fgaesq-lite", device="cpu")


@pytest.fixture(scope="module")
def single(tmp_path_factory, packed, scorer):
    """The single-process run over the shards and the Parquet file (the reference)."""
    out = tmp_path_factory.mktemp("single") / "scores.parquet"
    units = plan_units([str(packed["root"] / "shards" / "{00000..00001}.tar"), str(packed["parquet"])])[:3]
    score_stream(units, scorer, PartsWriter(out), columns=Columns(series="prompt_id"))
    return units, out


def _our_processes(text: str) -> list[int]:
    """Pids of processes started under this test process whose command line contains text."""
    me, found = os.getpid(), []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if text not in (d / "cmdline").read_bytes().decode(errors="replace"):
                continue
            pid = int(d.name)
            while pid > 1:  # walk up to see whether we started it
                pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if pid == me:
                    found.append(int(d.name))
                    break
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_ray_run_is_identical_to_the_single_process_run(local_ray, tmp_path, single):
    units, reference = single
    out = tmp_path / "ray.parquet"
    summary = fray.score_units_ray(units, PartsWriter(out), weights="fgaesq-lite", device="cpu", actors=2,
                                   columns=Columns(series="prompt_id"))
    assert (summary.scored, summary.failed) == (26, 0)  # two shards of 8, a row group of 10
    assert sorted(_rows(out), key=lambda r: (r["source"])) == sorted(_rows(reference), key=lambda r: r["source"])
    assert sorted(p.name for p in (out).iterdir()) == sorted(p.name for p in reference.iterdir())
    again = fray.score_units_ray(units, PartsWriter(out), weights="fgaesq-lite", device="cpu", actors=2)
    assert again.skipped_units == len(units) and again.scored == 0  # resumed: nothing left to do


def test_killing_a_worker_mid_run_loses_and_duplicates_nothing(local_ray, tmp_path, items, scorer):
    from scale_data import write_shards

    items = items[:16]
    shards = write_shards(tmp_path / "shards", items, per_shard=4)  # 4 units, so work is left when we strike
    units = plan_units([str(p) for p in shards])
    out = tmp_path / "killed.parquet"
    killed: list[int] = []

    def strike() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            if any(out.glob("part-*.parquet")):
                pids = _our_processes("ScoreUnits")
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    return
            time.sleep(0.05)

    t = threading.Thread(target=strike, daemon=True)
    t.start()
    summary = fray.score_units_ray(units, PartsWriter(out), weights="fgaesq-lite", device="cpu", actors=2)
    t.join(5)
    assert killed, "no scoring actor was found to kill"
    rows = _rows(out)
    keys = [r["key"] for r in rows]
    assert sorted(keys) == sorted(it.key for it in items)  # every key exactly once
    assert summary.scored + summary.failed == len(items)
    reference = tmp_path / "ref.parquet"
    score_stream(units, scorer, PartsWriter(reference))
    assert _scores(out) == _scores(reference)


def test_score_images_in_map_batches_on_image_bytes(local_ray, items, lite):
    items = items[:8]
    ds = ray.data.from_items([{"key": it.key, "image": it.jpeg} for it in items])
    out = ds.map_batches(fray.ScoreImages, fn_constructor_kwargs={"weights": "fgaesq-lite", "device": "cpu"},
                         batch_size=8, compute=ray.data.ActorPoolStrategy(size=1), batch_format="numpy").take_all()
    got = {r["key"]: r["score"] for r in out}
    from fgaesq.io import load_image

    decoded = [load_image(it.jpeg, lite.preprocess.max_size) for it in items]
    want = dict(zip([it.key for it in items], lite.score(decoded), strict=True))
    assert got.keys() == want.keys()
    assert [got[k] for k in want] == pytest.approx(list(want.values()), abs=1e-5)
    assert {r["model"] for r in out} == {lite.name} and all(not r["error"] for r in out)


def test_rank_series_groupby_matches_ranking_each_series_alone(local_ray, items, lite):
    from fgaesq.io import load_image
    from fgaesq.rank.series_rank import rank_images

    items = items[:12]
    shuffled = list(items)
    random.Random(0).shuffle(shuffled)  # rows of a series arrive scattered
    ds = ray.data.from_items([{"key": it.key, "series": it.series, "image": it.jpeg} for it in shuffled])
    rows = fray.rank_series(ds, weights="fgaesq-lite", device="cpu", concurrency=1).take_all()
    assert sorted(r["key"] for r in rows) == sorted(it.key for it in items)
    for series in {it.series for it in items}:
        mine = sorted((it for it in items if it.series == series), key=lambda it: it.key)
        decoded = [load_image(it.jpeg, lite.preprocess.max_size) for it in mine]
        alone = rank_images(series, [it.key for it in mine], decoded, lite)
        got = sorted((r for r in rows if r["series"] == series), key=lambda r: r["rank"])
        assert [r["key"] for r in got] == [r["key"] for r in alone]
        assert [r["best"] for r in got] == [True] + [False] * (len(mine) - 1)
        assert [r["score"] for r in got] == pytest.approx([r["score"] for r in alone], abs=1e-5)


def test_cli_score_with_ray_on_the_running_local_ray(local_ray, tmp_path, packed, single):
    from typer.testing import CliRunner

    from fgaesq.cli import app

    out = tmp_path / "cli.csv"
    r = CliRunner().invoke(app, ["score", str(packed["shards"][0]), "--ray", "auto", "--out", str(out),
                                 "-w", "fgaesq-lite", "--device", "cpu"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "on Ray (auto)" in r.output and "scored 8 images (0 skipped) in 1 units" in r.output
    import csv

    got = {row["key"]: float(row["score"]) for row in csv.DictReader(out.open())}
    want = _scores(single[1])
    assert got == {k: round(want[k], 6) for k in got}
