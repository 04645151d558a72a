"""Hostile folders through `fgaesq score` / `fgaesq rank`: every bad input is one clear line, the run goes on,
nothing is written outside the folder and no partial output is left behind."""

from __future__ import annotations

import csv
import json
import os
import socket
from pathlib import Path

import pyexiv2
import pytest
from PIL import Image
from skimage import data
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.io import ImageError, capture_time, load_image
from rank_cli_helpers import bad_files, save_tiny_weights

ROOT = os.geteuid() == 0  # root writes anywhere: read-only checks then run as 'nobody'


def _run(*args):
    return CliRunner().invoke(app, [os.fspath(a) for a in args], catch_exceptions=False)


def _photo(path: Path, source=data.astronaut, side: int = 160, **save) -> Path:
    img = Image.fromarray(source())
    img.thumbnail((side, side))
    img.save(path, **save)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return save_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture
def shoot(tmp_path) -> Path:
    folder = tmp_path / "shoot"
    folder.mkdir()
    for i, src in enumerate((data.astronaut, data.coffee, data.chelsea), 1):
        _photo(folder / f"IMG_000{i}.png", src)
    return folder


def _read_xmp(path: Path) -> dict:
    img = pyexiv2.Image(str(path))
    try:
        return img.read_xmp()
    finally:
        img.close()


# --- 1. nothing is written outside the folder -------------------------------------------------------------


def test_symlinked_temporary_name_is_never_followed(shoot, weights, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (shoot / "IMG_0003.png.xmp.tmp").symlink_to(victim)
    res = _run("rank", shoot, "--weights", weights, "--xmp", "-q")
    assert res.exit_code == 0, res.output
    assert victim.read_text() == "precious\n"
    side = shoot / "IMG_0003.png.xmp"
    assert side.is_file() and not side.is_symlink()
    assert _read_xmp(side)["Xmp.xmp.Rating"] in {"5", "4", "1"}
    assert not [p for p in shoot.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]


def test_sidecar_that_is_a_symlink_is_refused(shoot, weights, tmp_path):
    victim = tmp_path / "victim.xmp"
    victim.write_text("precious\n")
    (shoot / "IMG_0002.png.xmp").symlink_to(victim)
    res = _run("rank", shoot, "--weights", weights, "--xmp", "-q")
    assert res.exit_code == 1
    lines = [ln for ln in res.stderr.splitlines() if "IMG_0002.png.xmp" in ln]
    assert len(lines) == 1 and "symbolic link" in lines[0]
    assert victim.read_text() == "precious\n"
    assert (shoot / "IMG_0001.png.xmp").is_file() and (shoot / "IMG_0003.png.xmp").is_file()


# --- 2. one photo never aborts the run ----------------------------------------------------------------------


def test_huge_subsecond_exif_field_is_ignored(shoot, weights, tmp_path):
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[36867] = "2024:06:01 09:30:00"
    ifd[37521] = "7" * 5000
    path = _photo(shoot / "IMG_0004.jpg", data.rocket, exif=exif)
    t = capture_time(path)
    assert t.source == "exif" and t.isoformat().startswith("2024-06-01T09:30:00.7")
    out = tmp_path / "r.json"
    res = _run("rank", shoot, "--weights", weights, "--out", out, "-q")
    assert res.exit_code == 0, res.output
    ranked = [r["path"] for s in json.loads(out.read_text())["series"] for r in s["ranking"]]
    assert str(path) in ranked and len(ranked) == 4


def test_empty_exif_block_does_not_crash_the_starter_model(shoot, tmp_path):
    path = _photo(shoot / "IMG_0004.png", data.rocket, exif=b"Exif\x00\x00II")
    load_image(path)  # the decoder accepts it
    out = tmp_path / "r.json"
    res = _run("rank", shoot, "--weights", "fgaesq-lite", "--out", out, "-q")
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    ranked = {r["path"] for s in doc["series"] for r in s["ranking"]}
    errors = {e["path"] for e in doc["errors"]}
    assert {str(shoot / f"IMG_000{i}.png") for i in (1, 2, 3)} <= ranked
    assert str(path) in ranked | errors


# --- 3. unreadable existing sidecars are reported, left untouched, and the run goes on ----------------------

HOSTILE_SIDECARS = {
    "malformed": "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF",
    "billion-laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><x>&lol2;</x>',
    "xxe": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
}


def test_hostile_sidecars_are_reported_and_left_untouched(shoot, weights):
    sides = {}
    for (kind, text), i in zip(HOSTILE_SIDECARS.items(), (1, 2, 3), strict=True):
        sides[kind] = shoot / f"IMG_000{i}.png.xmp"
        sides[kind].write_text(text)
    _photo(shoot / "IMG_0004.png", data.rocket)
    res = _run("rank", shoot, "--weights", weights, "--xmp", "-q")
    assert res.exit_code == 1
    for kind, side in sides.items():
        assert side.read_text() == HOSTILE_SIDECARS[kind]
        lines = [ln for ln in res.stderr.splitlines() if str(side) in ln]
        assert len(lines) == 1 and lines[0].startswith("no sidecar for") and "untouched" in lines[0], res.stderr
    assert "root:" not in res.stderr
    assert _read_xmp(shoot / "IMG_0004.png.xmp")["Xmp.xmp.Rating"]


# --- 4. odd file names ---------------------------------------------------------------------------------------


def test_non_utf8_name_is_kept_exact_in_json_and_csv(shoot, weights, tmp_path):
    odd = shoot / os.fsdecode(b"bad_\xff.png")
    _photo(odd, data.rocket)
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    for out in (out_json, out_csv):
        res = _run("rank", shoot, "--weights", weights, "--out", out)
        assert res.exit_code == 0, res.output
        assert "\\xff" in res.stderr + res.stdout or res.stdout == ""
    doc = json.loads(out_json.read_bytes().decode("utf-8"))
    paths = {r["path"] for s in doc["series"] for r in s["ranking"]}
    assert str(odd) in paths and os.fsencode(str(odd)).endswith(b"bad_\xff.png")
    raw = out_csv.read_bytes()
    assert b"bad_\xff.png" in raw
    rows = list(csv.reader(raw.decode("utf-8", "surrogateescape").splitlines()))
    assert str(odd) in {r[2] for r in rows}


def test_control_characters_in_names_are_escaped_on_the_terminal(shoot, weights, tmp_path):
    forged = shoot / "x.jpg\nskipped forged.jpg"
    forged.write_bytes(b"not an image")
    (shoot / "esc\x1b[31mred.jpg").write_bytes(b"")
    out = tmp_path / "r.json"
    res = _run("rank", shoot, "--weights", weights, "--out", out)
    assert res.exit_code == 1
    assert "\x1b" not in res.stderr
    assert not any(ln.startswith("skipped forged.jpg") for ln in res.stderr.splitlines())
    assert sum(ln.startswith("skipped ") for ln in res.stderr.splitlines()) == 2
    assert str(forged) in {e["path"] for e in json.loads(out.read_text())["errors"]}


# --- 8. silent or misleading cases ----------------------------------------------------------------------------


def _patch_jpeg_size(raw: bytes, w: int, h: int) -> bytes:
    i = raw.index(b"\xff\xc0")
    return raw[: i + 5] + h.to_bytes(2, "big") + w.to_bytes(2, "big") + raw[i + 9 :]


def test_jpeg_with_mostly_missing_data_is_refused(tmp_path):
    src = _photo(tmp_path / "src.jpg", data.astronaut, side=200, quality=80)
    bad = tmp_path / "huge_header.jpg"
    bad.write_bytes(_patch_jpeg_size(src.read_bytes(), 13000, 13000))
    with pytest.raises(ImageError, match="missing"):
        load_image(bad)
    cut = tmp_path / "cut.jpg"
    raw = src.read_bytes()
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ImageError):
        load_image(cut)
    load_image(src)  # the intact photo is fine


def test_image_just_under_the_limit_is_not_called_a_bomb(tmp_path):
    path = bad_files._png_header_bomb(tmp_path / "big.png", 13400, 13373)  # 179.2 MP, header only
    try:
        load_image(path, 64)
    except ImageError as e:  # its data is missing, but it is not over the limit
        assert "MP" not in e.reason and "bomb" not in e.reason, e.reason
    over = bad_files._png_header_bomb(tmp_path / "over.png", 13400, 13500)  # 180.9 MP
    with pytest.raises(ImageError, match=r"180\.9 MP exceeds the 180 MP limit"):
        load_image(over)


def test_special_files_each_get_a_line(shoot, weights, tmp_path):
    os.mkfifo(shoot / "pipe.jpg")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(shoot / "sock.jpg"))
    (shoot / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    (shoot / "loop.jpg").symlink_to(shoot / "loop.jpg")
    try:
        res = _run("rank", shoot, "--weights", weights, "-q")
    finally:
        sock.close()
    assert res.exit_code == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(lines) == 4, res.stderr
    text = "\n".join(lines)
    assert "FIFO" in text and "socket" in text and "dangling" in text and "link" in text


def test_named_missing_file_does_not_abort_score(shoot, weights):
    res = _run("score", shoot / "IMG_0001.png", shoot / "nope.jpg", "--weights", weights, "--json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert [im["path"] for im in doc["images"]] == [str(shoot / "IMG_0001.png")]
    assert doc["errors"][0]["path"] == str(shoot / "nope.jpg")


def test_missing_folder_and_text_file_messages(shoot, weights, tmp_path):
    res = _run("rank", tmp_path / "nope", "--weights", weights)
    assert res.exit_code == 2 and "no such folder" in res.stderr
    readme = tmp_path / "readme.txt"
    readme.write_text("hello")
    res = _run("score", readme, "--weights", weights)
    assert res.exit_code == 1
    assert "0 images" not in res.stdout and "no images could be scored" in res.stderr


def test_unwritable_outputs_are_refused_before_any_work(shoot, weights, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    for args in (("--out", blocker / "r.json"), ("--copy-best", blocker), ("--copy-best", blocker / "best")):
        res = _run("rank", shoot, "--weights", weights, *args)
        assert res.exit_code == 2, res.output
        assert len(res.stderr.strip().splitlines()) == 1 and res.stderr.startswith("error: ")
    assert blocker.read_text() == "x"


@pytest.fixture
def unprivileged(weights):
    """Run the CLI as an ordinary user (root writes into read-only folders), in a folder that user can read."""
    import shutil
    import subprocess
    import sys
    import tempfile

    if ROOT and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv to drop privileges")
    base = Path(tempfile.mkdtemp(prefix="fgaesq-ro-"))
    base.chmod(0o755)
    w = base / "w"
    w.mkdir()
    for f in weights.parent.iterdir():
        shutil.copy(f, w / f.name)
    shoot = base / "shoot"
    shoot.mkdir()
    for i, src in enumerate((data.astronaut, data.coffee), 1):
        _photo(shoot / f"IMG_000{i}.png", src)
    for p in (w, shoot):
        p.chmod(0o755)
        for f in p.iterdir():
            f.chmod(0o644)
    src_dir = Path(__file__).parents[1] / "src"

    def run(*args):
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if ROOT else []
        cmd = [*drop, sys.executable, "-m", "fgaesq.cli", *map(os.fspath, args), "--weights", str(w / weights.name)]
        env = {"PYTHONPATH": str(src_dir), "PATH": os.environ.get("PATH", "/usr/bin"), "HOME": str(base)}
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)

    yield base, shoot, run
    for p in (base, shoot):
        p.chmod(0o755)
    shutil.rmtree(base, ignore_errors=True)


def test_read_only_places_give_one_line(unprivileged):
    base, shoot, run = unprivileged
    shoot.chmod(0o555)
    res = run("rank", shoot, "--xmp", "-q")
    assert res.returncode == 1, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if "sidecar" in ln]
    assert len(lines) == 1 and "not writable" in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    locked = base / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    res = run("rank", shoot, "--out", locked / "r.json")  # refused before any work (--copy-best alike)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not any(locked.iterdir())


# --- 9. options out of range -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("--time-gap", "-5"), ("--time-gap", "nan"), ("--similarity", "3"), ("--similarity", "-0.5"),
             ("--k", "0"), ("--batch-size", "0"), ("--max-size", "-1"), ("--workers", "-2")]
)
def test_out_of_range_options_are_usage_errors(shoot, weights, args):
    res = _run("rank", shoot, "--weights", weights, *args)
    assert res.exit_code == 2
    assert args[0] in res.output


def test_html_report_with_odd_names_and_a_planted_link(shoot, weights, tmp_path):
    _photo(shoot / os.fsdecode(b"bad_\xff.png"), data.rocket)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    report = tmp_path / "out" / "report.html"
    report.parent.mkdir()
    (report.parent / "report.html.part").symlink_to(victim)
    res = _run("rank", shoot, "--weights", weights, "--report", report, "-q")
    assert res.exit_code == 0, res.output
    assert victim.read_text() == "precious\n"
    text = report.read_text(encoding="utf-8")
    assert "bad_" in text and not report.is_symlink()
    res = _run("rank", shoot, "--weights", weights, "--report", tmp_path / "victim.txt" / "r.html")
    assert res.exit_code == 2 and res.stderr.startswith("error: --report")
