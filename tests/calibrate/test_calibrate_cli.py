"""`fgaesq calibrate` and `fgaesq refine` end to end through the Typer app."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from fgaesq.calibrate.simulate import SimAnnotator, make_orders, simulate_votes
from fgaesq.cli import app
from fgaesq.data.series_jsonl import read_series_jsonl, series_to_dict

runner = CliRunner()
JUDGE = Path(__file__).with_name("mllm_judge.py")


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def write_votes_csv(path: Path, seed: int = 1) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    orders = make_orders(20, [3, 4], rng)
    anns = [SimAnnotator(f"good{i}", "bt", spacing=2.0) for i in range(6)] + [SimAnnotator("careless", "random")]
    votes = simulate_votes(orders, anns, 7, rng)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["series", "image_a", "image_b", "choice", "annotator", "time"])
        for v in votes:
            w.writerow([v.series, v.image_a, v.image_b, v.choice, v.annotator, "1.5"])
    return orders


def test_calibrate_writes_loadable_series_and_report(tmp_path: Path) -> None:
    votes = tmp_path / "votes.csv"
    orders = write_votes_csv(votes)
    before = digest(votes)
    out, rep = tmp_path / "series.jsonl", tmp_path / "report.json"
    r = runner.invoke(app, ["calibrate", str(votes), "--out", str(out), "--report", str(rep), "--category", "natural"])
    assert r.exit_code == 0, r.output
    assert "careless annotators: careless" in r.output
    assert digest(votes) == before  # input untouched
    recs = [series_to_dict(rec) for rec in read_series_jsonl(out)]
    assert len(recs) == 20 and all(rec["category"] == "natural" for rec in recs)
    exact = sum(rec["ranking"] == orders[rec["series"]] for rec in recs)
    assert exact >= 16
    for rec in recs:
        rk = rec["ranking"]
        assert sorted(rec["images"]) == sorted(orders[rec["series"]])
        assert all(p["p"] >= 0.6 and rk.index(p["a"]) < rk.index(p["b"]) for p in rec["pairs"])
    report = json.loads(rep.read_text())
    assert report["summary"]["careless_annotators"] == ["careless"]
    assert report["settings"]["threshold"] == 0.1
    md = tmp_path / "report.md"
    r = runner.invoke(app, ["calibrate", str(votes), "-o", str(out), "-r", str(md), "--drop-careless"])
    assert r.exit_code == 0, r.output
    text = md.read_text()
    assert "# Rank calibration report" in text and "votes excluded: careless" in text


def test_calibrate_jsonl_votes_and_default_outputs(tmp_path: Path) -> None:
    votes = tmp_path / "v.jsonl"
    rows = [{"series": "s", "image_a": "x.jpg", "image_b": "y.jpg", "choice": c, "annotator": f"u{k}"} for k, c in enumerate("bbbta")]
    for row in rows:
        row["choice"] = {"t": "tie"}.get(row["choice"], row["choice"])
    votes.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = runner.invoke(app, ["calibrate", str(votes)])
    assert r.exit_code == 0, r.output
    (rec,) = read_series_jsonl(tmp_path / "v.series.jsonl")
    assert [rec.names[i] for i in rec.ranking] == ["y.jpg", "x.jpg"] and rec.pairs[0].p == round(4.0 / 6.0, 4)  # 3.5 wins + 0.5 of 6
    assert (tmp_path / "v.series.report.md").is_file()


def test_calibrate_malformed_input_one_clear_line(tmp_path: Path) -> None:
    votes = tmp_path / "votes.csv"
    votes.write_text("series,image_a,image_b,choice,annotator\ns,a,b,a,u\ns,a,b,left,u\n")
    before = digest(votes)
    r = runner.invoke(app, ["calibrate", str(votes), "-o", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 2
    assert f"{votes}:3: choice must be one of a|b|tie, got 'left'" in r.output
    assert not (tmp_path / "o.jsonl").exists() and digest(votes) == before
    r = runner.invoke(app, ["calibrate", str(votes), "-o", str(votes)])
    assert r.exit_code == 2 and "would overwrite an input" in r.output


def test_refine_cli_report_kept_list_and_csv(series_root: Path, tmp_path: Path) -> None:
    rep, kept = tmp_path / "refine.json", tmp_path / "kept.txt"
    r = runner.invoke(app, ["refine", str(series_root), "--out", str(rep), "--kept", str(kept)])
    assert r.exit_code == 0, r.output
    assert kept.read_text().split() == ["coffee", "motorcycle"]
    data = json.loads(rep.read_text())
    verdicts = {s["series"]: (s["verdict"], s["flags"]) for s in data["series"]}
    assert verdicts["astro-black"] == ("drop", ["defect"])
    assert verdicts["cat-injected"] == ("drop", ["dissimilar"])
    assert verdicts["rocket-dup"] == ("drop", ["indiscernible"])
    out_csv = tmp_path / "refine.csv"
    r = runner.invoke(app, ["refine", str(series_root), "--out", str(out_csv), "--mllm-cmd", f"{sys.executable} {JUDGE}"])
    assert r.exit_code == 0, r.output
    rows = {row["series"]: row for row in csv.DictReader(out_csv.open())}
    assert rows["coffee"]["verdict"] == "keep" and rows["rocket-dup"]["flags"] == "indiscernible"


def test_refine_reads_a_series_jsonl_and_reports_prompt_notice(series_root: Path, tmp_path: Path) -> None:
    jl = tmp_path / "s.jsonl"
    jl.write_text(json.dumps({"series": "coffee", "root": str(series_root / "coffee"), "images": ["1.jpg", "2.jpg"]}) + "\n")
    prompts = tmp_path / "prompts.csv"
    prompts.write_text("series,prompt\ncoffee,a cup of coffee on a table\n")
    rep = tmp_path / "r.json"
    r = runner.invoke(app, ["refine", str(jl), "--prompts", str(prompts), "--out", str(rep)])
    assert r.exit_code == 0, r.output
    assert "text misalignment not checked" in r.output
    data = json.loads(rep.read_text())
    assert data["series"][0]["verdict"] == "keep" and data["notices"][0].startswith("text misalignment")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"series": "x", "images": []}\n')
    r = runner.invoke(app, ["refine", str(bad), "--out", str(rep)])
    assert r.exit_code == 2 and f"{bad}:1:" in r.output
