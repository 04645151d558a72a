"""The `fgaesq` shell: light `--help`/`--version`, every command reachable, one line for a missing extra."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fgaesq import __version__
from fgaesq.cli import COMMANDS, app

runner = CliRunner()
HEAVY = ("torch", "scipy", "fastapi", "sqlalchemy", "lightning", "cv2", "open_clip", "numpy")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["version"]])
def test_help_and_version_import_nothing_heavy(args):
    code = (
        "import sys, json\n"
        "from fgaesq.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(r.stderr.strip().splitlines()[-1]) == []
    if args != ["--help"]:
        assert __version__ in r.stdout


def test_help_lists_every_command_and_version_flag():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for name in (*COMMANDS, "version", "--version"):
        assert name in r.output
    assert runner.invoke(app, ["--version"]).output.strip() == f"fgaesq {__version__}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_loads_its_own_help(name):
    r = runner.invoke(app, [name, "--help"])
    assert r.exit_code == 0, r.output
    assert "Usage:" in r.output and "--install-completion" not in r.output


@pytest.mark.parametrize(
    ("args", "module", "extra"),
    [
        (["train", "--config", "run.yaml"], "lightning", "train"),
        (["annotate", "serve", "ROOT"], "fastapi", "serve"),
    ],
)
def test_missing_extra_is_one_line_naming_the_install(monkeypatch, tmp_path, args, module, extra):
    """A dependency that is not installed (simulated: None in sys.modules) ends in one line and exit code 2."""
    for name in list(sys.modules):
        if name == module or name.startswith(module + ".") or name.startswith("fgaesq.train.") or name.startswith(
            "fgaesq.serve.annotate."
        ):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    (tmp_path / "ROOT").mkdir()
    (tmp_path / "run.yaml").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"pip install 'fgaesq[{extra}]'" in lines[0] and module in lines[0], r.output


OPTIONAL = ("lightning", "tensorboard", "fastapi", "uvicorn", "starlette", "jinja2", "multipart",
            "sqlalchemy", "psycopg", "cv2", "skimage", "choix", "onnx", "onnxruntime", "ray", "webdataset", "pyarrow")

_BLOCKER = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # what Python does for a package that is not installed: import fails, find_spec is None
from fgaesq.cli import app
for args in {commands!r}:
    try:
        app(args)
    except SystemExit as e:
        print("EXIT", e.code)
"""


@pytest.mark.slow
def test_score_and_rank_need_only_the_core_dependencies(tmp_path):
    """`fgaesq score` and `fgaesq rank` run with every optional dependency unimportable."""
    from PIL import Image
    from skimage import data

    from rank_cli_helpers import save_tiny_weights

    weights = save_tiny_weights(tmp_path / "weights")
    photos = tmp_path / "burst"
    photos.mkdir()
    base = Image.fromarray(data.chelsea())
    for k in range(3):
        base.rotate(k, resample=Image.Resampling.BICUBIC).save(photos / f"IMG_{k}.jpg", quality=90)
    common = ["--weights", str(weights), "--device", "cpu", "--max-size", "256", "--quiet"]
    commands = [["score", str(photos), *common, "--out", str(tmp_path / "s.csv")],
                ["rank", str(photos), *common, "--out", str(tmp_path / "r.json")]]
    code = _BLOCKER.format(blocked=OPTIONAL, commands=commands)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.stdout.split() == ["EXIT", "0", "EXIT", "0"], r.stdout + r.stderr
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 4
    assert len(json.loads((tmp_path / "r.json").read_text())["series"]) >= 1
