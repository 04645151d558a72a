"""`fgaesq train`: config precedence, --print-config, clear errors, a short run with CTAlign (tiny text tower)."""

from __future__ import annotations

import csv

import yaml
from train_photo_series import make_coarse, make_series
from typer.testing import CliRunner

from fgaesq.cli import app
from fgaesq.train.config import TrainConfig, load_config, section_fields

runner = CliRunner()


def test_every_field_is_an_option_and_names_are_unique():
    names = [f.name for _, f in section_fields()]
    assert len(names) == len(set(names))
    res = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert res.exit_code == 0
    for n in names:
        assert "--" + n.replace("_", "-") in res.output, n


def test_precedence_defaults_yaml_cli(tmp_path):
    cfg_file = tmp_path / "run.yaml"
    cfg_file.write_text(yaml.safe_dump({"optim": {"lr": 1e-4, "weight_decay": 0.01}, "data": {"flip": True}}))
    res = runner.invoke(app, ["train", "--config", str(cfg_file), "--lr", "3e-4", "--no-flip", "--print-config"])
    assert res.exit_code == 0, res.output
    printed = yaml.safe_load(res.output)
    assert printed["optim"] == {"lr": 3e-4, "weight_decay": 0.01, "grad_clip": None}
    assert printed["data"]["flip"] is False
    assert printed["loss"]["align_weight"] == 10.0 and printed["trainer"]["epochs"] == 10  # paper defaults
    # the printed YAML is itself a valid config giving the same run
    again = tmp_path / "again.yaml"
    again.write_text(res.output)
    assert load_config(again).to_dict() == load_config(cfg_file, {"lr": 3e-4, "flip": False}).to_dict()
    assert TrainConfig().optim.lr == 2e-5 and TrainConfig().optim.weight_decay == 5e-5


def test_config_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim:\n  learning_rate: 1\n")
    res = runner.invoke(app, ["train", "--config", str(bad), "--print-config"])
    assert res.exit_code == 2 and "unknown option optim.learning_rate" in res.output
    bad.write_text("optim:\n  lr: fast\n")
    res = runner.invoke(app, ["train", "--config", str(bad), "--print-config"])
    assert res.exit_code == 2 and "optim.lr: expected a number" in res.output
    res = runner.invoke(app, ["train", "--model", "fgaesq-tiny", "--init", "random"])
    assert res.exit_code == 2 and "no training data" in res.output
    broken = tmp_path / "s.jsonl"
    broken.write_text('{"series": "x", "images": ["a.jpg", "b.jpg"], "ranking": ["a.jpg", "b.jpg"]}\n')
    res = runner.invoke(app, ["train", "--fine-train", str(broken), "--model", "fgaesq-tiny", "--init", "random"])
    assert res.exit_code == 2 and "image not found" in res.output and str(broken) in res.output


def test_short_run_with_ctalign_and_coarse(tmp_path, clive_dir):
    fine = make_series(tmp_path / "fine", n_series=2, texts=True, darken=0.3)
    coarse = make_coarse(tmp_path / "coarse", clive_dir, 4)
    out = tmp_path / "run"
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": {"fine_train": [str(fine)], "coarse_train": str(coarse), "coarse_val": str(coarse),
                 "stage1_epochs": 0, "coarse_batch": 2, "fine_batch_images": 4, "num_workers": 0},
        "model": {"model": "fgaesq-tiny", "init": "random"},
        "loss": {"text_tower": "tiny", "soft_bt": 1.0},
        "trainer": {"epochs": 1, "accelerator": "cpu", "devices": "1", "progress": False, "log_every": 1},
    }))
    res = runner.invoke(app, ["train", "--config", str(cfg), "--out-dir", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(out / "logs" / "metrics.csv")))
    logged = {k for r in rows for k, v in r.items() if v}
    assert {"train/align_step", "train/listmle_step", "train/soft_bt_step", "train/emd_step", "val/coarse_srcc"} <= logged
    align = [float(r["train/align_step"]) for r in rows if r.get("train/align_step")]
    assert all(0.0 <= a <= 2.0 for a in align)  # 1 − cos ∈ [0, 2]
    assert (out / "best.safetensors").is_file() and '"exported"' in res.output


def test_select_both_weighs_the_coarse_srcc_and_bad_rules_are_refused(tmp_path, clive_dir):
    fine = make_series(tmp_path / "fine", n_series=2, darken=0.3)
    coarse = make_coarse(tmp_path / "coarse", clive_dir, 6)
    out = tmp_path / "run"
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": {"fine_train": [str(fine)], "fine_val": [str(fine)], "coarse_train": str(coarse),
                 "coarse_val": str(coarse), "stage1_epochs": 0, "coarse_batch": 3, "fine_batch_images": 4,
                 "num_workers": 0},
        "model": {"model": "fgaesq-tiny", "init": "random"},
        "loss": {"align_weight": 0.0},
        "trainer": {"epochs": 2, "accelerator": "cpu", "devices": "1", "progress": False, "select": "both"},
    }))
    res = runner.invoke(app, ["train", "--config", str(cfg), "--out-dir", str(out)])
    assert res.exit_code == 0, res.output
    rows = [r for r in csv.DictReader(open(out / "logs" / "metrics.csv")) if r.get("val/select")]
    assert len(rows) == 2
    for r in rows:
        parts = [float(r[k]) for k in ("val/pair", "val/series", "val/coarse_srcc")]
        assert abs(float(r["val/select"]) - sum(parts) / 3) < 1e-6
    res = runner.invoke(app, ["train", "--config", str(cfg), "--out-dir", str(tmp_path / "x"), "--select", "best"])
    assert res.exit_code == 2 and "trainer.select must be one of fine, both, coarse" in res.output
    assert not (tmp_path / "x" / "checkpoints").exists()  # refused before any work
    res = runner.invoke(app, ["train", "--config", str(cfg), "--out-dir", str(tmp_path / "y"), "--emd-weight", "-1"])
    assert res.exit_code == 2 and "loss.emd_weight must be a number >= 0" in res.output
