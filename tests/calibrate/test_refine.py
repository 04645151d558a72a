"""Series Refinement on real photos: dissimilar, indiscernible, defect, crop overlap, MLLM hook."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data as skd
from calib_photos import exposed, save, shifted

from fgaesq.calibrate.defaults import Thresholds
from fgaesq.calibrate.mllm import run_mllm
from fgaesq.calibrate.refine import RefineError, check_series, load_series, read_crops, refine_all
from fgaesq.calibrate.refine_checks import box_iou, defect_reason, feature_matches, ssim_mad

JUDGE = Path(__file__).with_name("mllm_judge.py")


@pytest.fixture(scope="module")
def results(series_root: Path) -> dict:
    res, notices = refine_all(load_series(series_root))
    assert notices == []  # no prompts: CLIP is not needed, nothing to say
    return {r.series: r for r in res}


def test_clean_near_duplicate_series_are_kept(results: dict) -> None:
    for sid in ("coffee", "motorcycle"):
        r = results[sid]
        assert (r.verdict, r.flags) == ("keep", []), r.reasons
    moto = results["motorcycle"].pair_checks[0]
    assert moto["matches"] >= 25  # the stereo pair matches geometrically although its SSIM is low


def test_injected_dissimilar_image_is_flagged(results: dict) -> None:
    r = results["cat-injected"]
    assert r.verdict == "drop" and r.flags == ["dissimilar"]
    assert any(x.startswith("dissimilar: 3.jpg") for x in r.reasons)
    same = next(p for p in r.pair_checks if {p["a"], p["b"]} == {"1.jpg", "2.jpg"})
    assert "dissimilar" not in same


def test_duplicated_image_is_indiscernible(results: dict) -> None:
    r = results["rocket-dup"]
    assert r.verdict == "drop" and r.flags == ["indiscernible"]
    dup = next(p for p in r.pair_checks if p.get("indiscernible"))
    assert {dup["a"], dup["b"]} == {"1.jpg", "3.jpg"} and dup["ssim"] == pytest.approx(1.0)


def test_black_frame_is_a_defect(results: dict) -> None:
    r = results["astro-black"]
    assert r.verdict == "drop" and r.flags == ["defect"]
    info = {i["image"]: i["defect"] for i in r.image_checks}
    assert info["3.jpg"].startswith("black frame") and info["1.jpg"] == info["2.jpg"] == ""


def test_defect_kinds_on_real_photo() -> None:
    img = skd.astronaut()
    assert defect_reason(img) == ""
    assert defect_reason(np.full_like(img, 255)).startswith("white frame")
    assert defect_reason(np.full_like(img, 128)).startswith("blank frame")
    broken = img.copy()
    broken[300:] = 128  # grey fill of a cut-off decode
    assert defect_reason(broken).startswith("broken frame")


def test_unreadable_file_is_a_defect(tmp_path: Path) -> None:
    d = tmp_path / "s"
    save(skd.coffee(), d / "1.jpg")
    data = (d / "1.jpg").read_bytes()
    (d / "2.jpg").write_bytes(data[: len(data) // 3])  # truncated JPEG
    (res,) = refine_all(load_series(tmp_path))[0]
    assert res.flags == ["defect"] and "2.jpg: unreadable" in res.reasons[0]


def test_similarity_measures_on_real_photos() -> None:
    a = shifted(skd.camera()[..., None].repeat(3, -1), 0, 0)
    s_same, mad_same = ssim_mad(a, a)
    assert s_same == pytest.approx(1.0) and mad_same == 0.0
    s_exp, mad_exp = ssim_mad(a, exposed(a, 1.1))
    assert s_exp > 0.95 and mad_exp > 5  # similar but not indiscernible
    b = shifted(skd.coffee(), 0, 0)
    s_diff, _ = ssim_mad(a, b)
    moved = shifted(skd.camera()[..., None].repeat(3, -1), 10, 10)
    for matcher in ("sift", "orb"):
        assert s_diff < 0.35 and feature_matches(a, b, matcher) < 25
        assert feature_matches(a, moved, matcher) > 100


def test_crop_overlap(tmp_path: Path) -> None:
    src = skd.astronaut()
    boxes = {"a.png": (0, 0, 400, 400), "b.png": (8, 8, 408, 408), "c.png": (100, 100, 500, 500)}
    for name, (x0, y0, x1, y1) in boxes.items():
        save(src[y0:y1, x0:x1], tmp_path / "root" / "crops" / name)
    csv = tmp_path / "crops.csv"
    csv.write_text(
        "series,image,x0,y0,x1,y1\n" + "".join(f"crops,{n},{','.join(map(str, b))}\n" for n, b in boxes.items())
    )
    assert box_iou(boxes["a.png"], boxes["b.png"]) == pytest.approx(392**2 / (2 * 400**2 - 392**2))
    (s,) = load_series(tmp_path / "root", crops=csv)
    r = check_series(s, Thresholds())
    assert r.flags == ["crop_overlap"] and len(r.reasons) == 1 and "a.png and b.png" in r.reasons[0]
    ious = {(p["a"], p["b"]): p["iou"] for p in r.pair_checks}
    assert ious[("a.png", "c.png")] == pytest.approx(300**2 / (2 * 400**2 - 300**2), abs=1e-4)
    assert check_series(s, Thresholds(crop_iou_max=0.99)).flags == []


def test_crop_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "c.csv"
    bad.write_text("series,image,x0,y0,x1,y1\ns,a.png,0,0,10,10\ns,b.png,5,5,2,20\n")
    with pytest.raises(RefineError, match=r"c.csv:3: box needs x1 > x0"):
        read_crops(bad)
    bad.write_text("series,image,x,y\n")
    with pytest.raises(RefineError, match=r"c.csv:1: header must have columns"):
        read_crops(bad)


def test_mllm_hook_runs_a_real_command(series_root: Path, tmp_path: Path) -> None:
    cmd = f"{sys.executable} {JUDGE}"
    res, _ = refine_all(load_series(series_root), mllm_cmd=cmd)
    by = {r.series: r for r in res}
    assert by["coffee"].verdict == "keep" and by["coffee"].mllm["reason"] == "4 images of one scene"
    assert by["rocket-dup"].mllm is None  # metrics already dropped it: the MLLM is not asked
    # a series of images of different sizes is dropped by the judge
    save(shifted(skd.coffee(), 0, 0), tmp_path / "r" / "sizes" / "1.jpg")
    save(shifted(skd.coffee(), 0, 0, margin=160), tmp_path / "r" / "sizes" / "2.jpg")
    (r,) = refine_all(load_series(tmp_path / "r"), mllm_cmd=cmd)[0]
    assert r.verdict == "drop" and r.flags == ["mllm"] and "image sizes differ" in r.reasons[0]


def test_mllm_failures_ask_for_review() -> None:
    payload = {"series": "s", "images": []}
    bad = run_mllm(f"{sys.executable} {JUDGE} --fail", payload)
    assert bad["verdict"] == "review" and "exited 3: model endpoint unreachable" in bad["reason"]
    junk = run_mllm(f"{sys.executable} {JUDGE} --garbage", payload)
    assert junk["verdict"] == "review" and "no JSON verdict" in junk["reason"]
    missing = run_mllm("/nonexistent/judge", payload)
    assert missing["verdict"] == "review" and "could not start" in missing["reason"]


def test_load_series_errors(tmp_path: Path) -> None:
    with pytest.raises(RefineError, match="no such file or folder"):
        load_series(tmp_path / "nope")
    with pytest.raises(RefineError, match="no series sub-folders"):
        load_series(tmp_path)
