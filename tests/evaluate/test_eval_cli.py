"""`fgaesq eval` end to end with the shipped fgaesq-lite on real photos."""

from __future__ import annotations

import csv
import json

import skimage.data
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.evaluate.known_order import make_series, prepare_photo

runner = CliRunner()


def _series_file(tmp_path):
    photo = prepare_photo(skimage.data.chelsea())
    recs = [make_series("unit/chelsea", photo, fam, 3, tmp_path) for fam in ("noise", "defocus")]
    path = tmp_path / "series.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path, recs


def test_eval_series_prints_table2_and_writes_json(tmp_path):
    data, recs = _series_file(tmp_path)
    out = tmp_path / "res.json"
    r = runner.invoke(
        app,
        ["eval", "--data", str(data), "--mode", "single", "--out", str(out), "--quiet"],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    for col in ("Acc", "F1", "s-Acc", "s-SRCC", "Pair", "Series", "noise", "defocus"):
        assert col in r.output
    res = json.loads(out.read_text())
    assert set(res["per_category"]) == {"noise", "defocus"}
    assert res["per_category"]["noise"]["n_pairs"] == len(recs[0]["pairs"])
    assert 0.0 <= res["summary"]["pair"] <= 1.0 and res["mode"] == "single"
    assert [s["series"] for s in res["series"]] == [r["series"] for r in recs]


def test_eval_pair_mode_runs(tmp_path):
    data, _ = _series_file(tmp_path)
    lines = data.read_text().splitlines()[:1]
    data.write_text(lines[0] + "\n")
    out = tmp_path / "res.json"
    r = runner.invoke(app, ["eval", "--data", str(data), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["mode"] == "pair"


def test_eval_coarse_csv(tmp_path, clive_dir):
    with (clive_dir / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:6]
    csv_path = tmp_path / "labels.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "mos"])
        for row in rows:
            w.writerow([str(clive_dir / "images" / row["image"]), row["mos"]])
    out = tmp_path / "c.json"
    r = runner.invoke(app, ["eval", "--data", str(csv_path), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    c = json.loads(out.read_text())["coarse"]
    assert c["n"] == 6 and -1.0 <= c["srcc"] <= 1.0 and "SRCC" in r.output


def test_eval_bad_line_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"series": "a", "images": ["x.jpg"], "ranking": ["x.jpg"]}\n{not json\n')
    r = runner.invoke(app, ["eval", "--data", str(bad), "--quiet"])
    assert r.exit_code == 1
    assert f"{bad}:2" in r.output and "not valid JSON" in r.output
    missing = runner.invoke(app, ["eval", "--data", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "file not found" in missing.output


def test_eval_unusable_weights_is_one_clear_error(tmp_path):
    data, _ = _series_file(tmp_path)
    r = runner.invoke(app, ["eval", "--data", str(data), "--weights", str(tmp_path / "missing.safetensors")])
    assert r.exit_code == 2
    assert r.output.startswith("error: --weights") and len(r.output.strip().splitlines()) == 1
