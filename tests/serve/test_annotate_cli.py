"""`fgaesq annotate` on the command line: one clear error line per bad input; export to CSV/JSONL/stdout."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.serve.annotate.app import build_store

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["annotate", *args])


def test_help_lists_both_uses() -> None:
    r = run("--help")
    assert r.exit_code == 0 and "serve" in r.output and "export" in r.output
    r = run("serve", "--help")
    assert "--target-votes" in r.output and "127.0.0.1" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/folder"], "not a folder"),
        (["{empty}"], "no series found"),
        (["{root}", "--db", "mysql://u@h/db"], "unsupported database"),
        (["{root}", "--db", "sqlite://"], "in-memory SQLite"),
        (["{root}", "--db", "{tmp}/missing/dir/v.sqlite"], "does not exist"),
        (["{root}", "--db", "postgresql://u:hunter2@127.0.0.1:1/db"], "cannot open the database"),
    ],
)
def test_serve_refuses_bad_input_with_one_clear_line(
    series_root: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty" / "s").mkdir(parents=True)
    subst = {"root": str(series_root), "empty": str(tmp_path / "empty"), "tmp": str(tmp_path)}
    r = run(*(a.format(**subst) for a in args))
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert "hunter2" not in r.output  # passwords never printed


@pytest.mark.parametrize("args", [["{root}", "--port", "70000"], ["{root}", "--target-votes", "0"]])
def test_serve_validates_numbers(series_root: Path, args: list[str]) -> None:
    assert run(*(a.format(root=series_root) for a in args)).exit_code == 2


def test_export_writes_csv_jsonl_and_stdout(series_root: Path, tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite"
    store = build_store(series_root, str(db), target_votes=1)
    pair = store.next_pair("ann")
    store.record_vote("ann", "tie", token=pair.token)
    store.engine.dispose()
    r = run("export", "--db", str(db), "--out", str(tmp_path / "votes.csv"))
    assert r.exit_code == 0 and "1 votes written" in r.output
    rows = list(csv.DictReader((tmp_path / "votes.csv").open(newline="")))
    s = pair.series
    assert [(x["series"], x["image_a"], x["image_b"], x["choice"], x["annotator"]) for x in rows] == [
        (s, f"{s}/{pair.left}", f"{s}/{pair.right}", "tie", "ann")
    ]
    assert run("export", "--db", str(db), "--out", str(tmp_path / "bare.csv"), "--bare-names").exit_code == 0
    assert next(csv.DictReader((tmp_path / "bare.csv").open(newline="")))["image_a"] == pair.left
    assert run("export", "--db", f"sqlite:///{db}", "--out", str(tmp_path / "votes.jsonl")).exit_code == 0
    assert '"choice": "tie"' in (tmp_path / "votes.jsonl").read_text()
    r = run("export", "--db", str(db), "--out", "-")
    assert list(csv.reader(io.StringIO(r.stdout)))[0] == [
        "series",
        "image_a",
        "image_b",
        "choice",
        "annotator",
        "time",
    ]


def test_export_refuses_a_missing_database(tmp_path: Path) -> None:
    r = run("export", "--db", str(tmp_path / "nope.sqlite"), "--out", str(tmp_path / "v.csv"))
    assert r.exit_code == 2 and "no such database file" in r.output
    assert not (tmp_path / "nope.sqlite").exists() and not (tmp_path / "v.csv").exists()
