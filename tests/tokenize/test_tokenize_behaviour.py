"""DiffToken behaviour on real photos: budget, determinism, replay, compat vs fixed mode, interpolation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import data

from fgaesq.tokenize import DiffTokenizer, PositionalTable, collate_tokens, pad_or_crop_32
from fgaesq.tokenize.plan import KIND_FINE


def _pos_source(g: int = 14, d: int = 32, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(1 + g * g, d, generator=gen) * 0.02


def _photo(w: int, h: int, name: str = "astronaut") -> Image.Image:
    return Image.fromarray(getattr(data, name)()).resize((w, h), Image.Resampling.BICUBIC)


@pytest.fixture(scope="module")
def tok() -> DiffTokenizer:
    return DiffTokenizer(_pos_source())


def _same(a, b) -> bool:
    return (torch.equal(a.patches, b.patches) and torch.equal(a.pos, b.pos) and torch.equal(a.scale, b.scale)
            and torch.equal(a.pad, b.pad))


@pytest.mark.parametrize(("hw", "out", "decision"), [((3000, 4000), (3008, 4000), "pad"),
                                                      ((600, 800), (608, 800), "pad"),
                                                      ((362, 362), (352, 352), "crop"),
                                                      ((768, 1024), (768, 1024), "none")])
def test_pad_or_crop_rule(hw, out, decision):
    assert pad_or_crop_32(*hw) == (*out, decision)


@pytest.mark.parametrize(("wh", "real"), [((224, 224), 197), ((384, 256), 385), ((512, 384), 235),
                                          ((640, 480), 343), ((800, 600), 512), ((1024, 768), 512)])
def test_worked_token_counts(tok, wh, real):
    t = tok.single(_photo(*wh, "coffee"), seed=1)
    assert len(t) == 512
    assert int((~t.pad).sum()) == real
    assert t.info["pre_drop_len"] == (real if wh[0] * wh[1] < 800 * 600 else {800: 518, 1024: 811}[wh[0]])


def test_same_image_twice_gives_identical_tokens(tok):
    img = _photo(1024, 768, "chelsea")
    a, b = tok.single(img), tok.single(np.asarray(img).copy())
    assert _same(a, b) and a.info["seed"] == b.info["seed"]
    other = tok.single(img, seed=a.info["seed"] + 1)
    assert other.info["fine_cells"] != a.info["fine_cells"]


def test_different_images_get_different_seeds(tok):
    assert tok.single(_photo(1024, 768)).info["seed"] != tok.single(_photo(1024, 768, "rocket")).info["seed"]


def test_12mp_image_gives_exactly_512_tokens(tok):
    img = _photo(4000, 3000, "retina")
    t = tok.single(img)
    assert t.patches.shape == (512, 3, 16, 16) and t.pos.shape == (512, 32)
    assert not t.pad.any()
    assert t.info["work_hw"] == (3008, 4000) and t.info["pre_drop_len"] == 11750 + 43
    fixed = DiffTokenizer(_pos_source(), compat=False).single(img)
    assert not fixed.pad.any() and int(fixed.scale.sum()) == 56


def test_native_edge_case_drops_one(tok):
    t = tok.single(_photo(512, 256), seed=3)  # 32 x 16 = 512 patches -> 513 slots
    assert t.info["path"] == "native" and t.info["pre_drop_len"] == 513
    assert not t.pad.any() and len(t.info["kept_index"]) == 512 and t.info["kept_index"][0] == 0


def test_native_edge_case_fixed_mode():
    t = DiffTokenizer(_pos_source(), compat=False).single(_photo(512, 256), seed=3)
    assert not t.pad.any() and t.info["removed_index"].size == 1 and t.info["removed_index"][0] > 0


def test_forced_fills_must_match_the_grid(tok):
    with pytest.raises(ValueError, match="fills for image 1"):
        tok.pair(_photo(640, 480), _photo(640, 480, "coffee"), pair_id="f", fills=(np.zeros(5), None))


def test_native_tokens_are_normalised_pixels(tok):
    img = _photo(300, 200, "chelsea")
    t = tok.single(img)
    arr = np.asarray(img).astype(np.float32) / 255
    mean = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
    std = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)
    block = (arr[16:32, 32:48] - mean) / std  # grid row 1, column 2 -> slot 1 + 19 + 2
    assert np.array_equal(t.patches[22].permute(1, 2, 0).numpy(), block)
    # the last column is zero-padded (300 = 18*16 + 12): padded pixels are 0 after normalisation
    assert torch.all(t.patches[19][:, :, 12:] == 0) and torch.any(t.patches[19][:, :, :12] != 0)
    assert t.mask().tolist() == [0.0] * 248 + [9.0] * 264


def test_coarse_token_is_bicubic_downscale(tok):
    """A coarse token equals torch's bicubic (a=-0.75, no antialias) 32->16 resize of the normalised cell."""
    img = _photo(1024, 768, "rocket")
    t = tok.single(img, seed=5)
    slot = int(np.nonzero(t.info["tok_kind"] == 2)[0][10])
    y, x = int(t.info["tok_y"][slot]), int(t.info["tok_x"][slot])
    cell = torch.from_numpy(np.asarray(img)[y:y + 32, x:x + 32].astype(np.float32) / 255).permute(2, 0, 1)
    cell = (cell - torch.tensor([0.48145466, 0.4578275, 0.40821073])[:, None, None]) / torch.tensor(
        [0.26862954, 0.26130258, 0.27577711])[:, None, None]
    ref = F.interpolate(cell[None].double(), size=(16, 16), mode="bicubic", align_corners=False, antialias=False)[0]
    assert torch.allclose(t.patches[slot].double(), ref, atol=1e-6)


def test_replay_reproduces_and_forcing_changes_only_that(tok):
    img = _photo(1024, 768, "coffee")
    first = tok.single(img)
    replay = tok.single(img, seed=999, fine_cells=first.info["fine_cells_sample_order"],
                        kept_index=first.info["kept_index"])
    assert _same(first, replay)
    forced = tok.single(img, fine_cells=list(range(14)))
    assert forced.info["fine_cells"] == list(range(14)) and forced.info["removed_index"] is not None
    assert not np.array_equal(forced.info["tok_cell"], first.info["tok_cell"])


def test_compat_false_positions_and_protection():
    src = _pos_source()
    img = _photo(1024, 768, "astronaut")
    a = DiffTokenizer(src, compat=True).single(img, seed=201)
    b = DiffTokenizer(src, compat=False).single(img, seed=201)
    assert a.info["fine_cells"] == b.info["fine_cells"]
    fine_a = a.info["tok_kind"] == KIND_FINE
    assert np.any(a.info["pos_index"][fine_a] != a.info["true_pos_index"][fine_a])
    assert np.array_equal(b.info["pos_index"], b.info["true_pos_index"])
    assert int(b.scale.sum()) == 56 and int(a.scale.sum()) < 56
    # every fine token of the fixed mode sits at its own position of the 16-px table
    table = PositionalTable(src).table(48, 64)
    fine_b = np.nonzero(b.info["tok_kind"] == KIND_FINE)[0]
    assert torch.equal(b.pos[fine_b], table[b.info["true_pos_index"][fine_b]])


def test_pair_same_id_is_deterministic_and_replayable(tok):
    a = _photo(640, 480, "chelsea")
    arr = np.asarray(a).copy()
    arr[100:200, 150:300] = np.clip(arr[100:200, 150:300].astype(int) + 60, 0, 255).astype(np.uint8)
    b = Image.fromarray(arr)
    t1, t2 = tok.pair(a, b, pair_id="s_1_2")
    u1, u2 = tok.pair(a, b, pair_id="s_1_2")
    assert _same(t1, u1) and _same(t2, u2)
    # the brightened region has the highest importance: candidates start inside it
    imp = t1.info["importance"]
    r, c = np.unravel_index(int(t1.info["candidates"][0]), imp.shape)
    assert imp[r, c] == np.nanmax(imp) > 0.05
    h_scale = t1.info["geometry"]["final_wh"][0][1] / 480
    assert 100 * h_scale - 32 <= 32 * r <= 200 * h_scale and 150 * h_scale - 32 <= 32 * c <= 300 * h_scale
    r1, r2 = tok.pair(a, b, pair_id="other", seed=7, alignment=t1.info["alignment"],
                      fills=(t1.info["importance_used"], t2.info["importance_used"]),
                      fine_cells=(t1.info["fine_cells_sample_order"], t2.info["fine_cells_sample_order"]),
                      kept_index=(t1.info["kept_index"], t2.info["kept_index"]))
    assert _same(t1, r1) and _same(t2, r2)


def test_pair_without_id_uses_pixels(tok):
    a, b = _photo(320, 240), _photo(320, 240, "chelsea")
    assert _same(tok.pair(a, b)[0], tok.pair(a, b)[0])


def test_paper_rule_makes_all_candidates_fine():
    src = _pos_source()
    a = _photo(576, 384, "coffee")
    arr = np.asarray(a).copy()
    arr[:, :200] = 255 - arr[:, :200]
    paper = DiffTokenizer(src, compat=False, fine_rule="paper")
    t1, _ = paper.pair(a, Image.fromarray(arr), pair_id="p")
    n = t1.info["grid32"][0] * t1.info["grid32"][1]
    assert len(t1.info["fine_cells"]) == min(n // 2, 127)
    assert int(t1.scale.sum()) == 4 * len(t1.info["fine_cells"]) and len(t1) == 512
    with pytest.raises(ValueError, match="compat=False"):
        DiffTokenizer(src, fine_rule="paper")


@pytest.mark.parametrize(("g", "hw"), [(14, (24, 32)), (14, (7, 9)), (4, (6, 10)), (7, (48, 64))])
def test_interpolation_matches_torch_scale_factor(g, hw):
    """Any source grid g and width D: equal to torch bicubic called with scale factors ((h+0.1)/g, (w+0.1)/g)."""
    src = _pos_source(g, 24, seed=g)
    h, w = hw
    grid = src[1:].reshape(1, g, g, -1).permute(0, 3, 1, 2).double()
    ref = F.interpolate(grid, scale_factor=((h + 0.1) / g, (w + 0.1) / g), mode="bicubic", align_corners=False)
    assert ref.shape[-2:] == (h, w)
    ours = PositionalTable(src).table(h, w).reshape(h, w, -1).permute(2, 0, 1)
    assert torch.allclose(ours.double(), ref[0], atol=1e-6)


def test_tiny_width_table_in_tokens():
    src = _pos_source(5, 8)
    t = DiffTokenizer(src).single(_photo(320, 240), seed=0)
    assert t.pos.shape == (512, 8) and torch.equal(t.pos[0], src[0])


def test_collate_and_to():
    src = _pos_source()
    tk = DiffTokenizer(src)
    items = [tk.single(_photo(224, 224)), tk.single(_photo(1024, 768, "rocket"), seed=2)]
    batch = collate_tokens(items)
    assert batch.patches.shape == (2, 512, 3, 16, 16) and batch.pos.shape == (2, 512, 32)
    assert batch.scale.dtype == torch.int64 and batch.pad.dtype == torch.bool
    assert torch.equal(batch.mask()[1], items[1].mask())
    half = batch.to("cpu", torch.float16)
    assert half.patches.dtype == torch.float16 and half.scale.dtype == torch.int64
    short = DiffTokenizer(src, seq_len=256).single(_photo(224, 224))
    with pytest.raises(ValueError, match="same length"):
        collate_tokens([items[0], short])


def test_bad_inputs(tok):
    with pytest.raises(ValueError, match="RGB image"):
        tok.single(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="1 \\+ g\\*g"):
        DiffTokenizer(torch.zeros(11, 4))
    with pytest.raises(ValueError, match="alignment"):
        tok.pair(_photo(64, 64), _photo(64, 64), pair_id="x", alignment="diagonal")


def test_fixed_mode_pair_keeps_all_fine_tokens(golden_dir):
    """On a 1024x768 pair (811 -> 512 slots) compat=False keeps all 56 fine tokens; decisions stay the same."""
    imgs = [Image.open(golden_dir / "images" / f"series1_{i}.webp").convert("RGB") for i in (1, 2)]
    src = _pos_source()
    a1, a2 = DiffTokenizer(src).pair(*imgs, pair_id="1_1_2")
    b1, b2 = DiffTokenizer(src, compat=False).pair(*imgs, pair_id="1_1_2")
    for a, b in ((a1, a2), (b1, b2)):
        assert len(a) == len(b) == 512 and not a.pad.any()
    for a, b in ((a1, b1), (a2, b2)):
        assert np.array_equal(a.info["candidates"], b.info["candidates"])
        assert int(a.scale.sum()) < 56 == int(b.scale.sum())
    # image 1 draws its fine cells before any drop; image 2's draws follow image 1's (mode-dependent) drop
    assert a1.info["fine_cells"] == b1.info["fine_cells"]


def test_tokenizer_and_tokens_pickle(tok):
    """DataLoader workers need both to pickle."""
    import pickle

    t = tok.single(_photo(1024, 768), seed=4)
    t2 = pickle.loads(pickle.dumps(t))
    assert _same(t, t2)
    tok2 = pickle.loads(pickle.dumps(tok))
    assert _same(tok2.single(_photo(1024, 768), seed=4), t)


def test_global_rngs_untouched(tok):
    import random

    py, npy, th = random.getstate(), np.random.get_state(), torch.get_rng_state()
    tok.single(_photo(1024, 768))
    tok.pair(_photo(640, 480), _photo(640, 480, "coffee"), pair_id="g_1_2")
    assert random.getstate() == py and torch.equal(torch.get_rng_state(), th)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), npy, strict=True))


@pytest.mark.parametrize("hw", [(213, 320), (200, 300), (250, 333)])
def test_pair_tokens_of_sizes_off_the_grid(hw):
    """Pair mode pads to 32 px: blocks that lie wholly in the margin are zeros, not an indexing error."""
    h, w = hw
    a = np.ascontiguousarray(data.astronaut()[:h, :w])
    b = np.ascontiguousarray(np.clip(a.astype(np.int16) + 9, 0, 255).astype(np.uint8))
    tk = DiffTokenizer(torch.randn(197, 16) * 0.02, compat=False)
    t1, t2 = tk.pair(a, b, pair_id="off-grid")
    for t in (t1, t2):
        assert len(t) == 512 and torch.isfinite(t.patches).all()
        assert t.info["work_hw"][0] % 32 == 0 and t.info["work_hw"][1] % 32 == 0


def test_compat_false_drops_a_uniform_subset_of_coarse_tokens():
    """Compat off, a 12 MP-class image keeps every fine token and exactly seq_len slots; the coarse survivors are
    drawn (the fewer draws) from the seed, so another seed keeps other cells and the same seed the same ones."""
    src = _pos_source()
    img = _photo(2048, 1536, "coffee")
    tk = DiffTokenizer(src, compat=False)
    a, b, c = tk.single(img, seed=7), tk.single(img, seed=7), tk.single(img, seed=8)
    n_cells = 64 * 48
    for t in (a, c):
        assert len(t) == 512 and not bool(t.pad.any()) and int(t.scale.sum()) == 56
        removed = set(t.info["removed_index"].tolist())
        assert len(removed) == t.info["pre_drop_len"] - 512 == n_cells - 14 + 56 + 1 - 512
        assert 0 not in removed  # CLS stays; all 56 fine tokens stay (scale above)
    assert np.array_equal(a.info["kept_index"], b.info["kept_index"])
    assert not np.array_equal(a.info["kept_index"], c.info["kept_index"])
    coarse_cells = a.info["tok_cell"][a.info["tok_kind"] == 2]
    rows = coarse_cells // 64
    assert rows.min() < 8 and rows.max() > 40  # survivors spread over the whole photo, not one band
