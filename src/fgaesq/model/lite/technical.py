"""Deterministic technical measurements of fgaesq-lite's views (the descriptor's "technical block").

Pure functions of the view pixels (torch, no learned part, a few ms per image): exposure and colour from the
global view in linear light, level horizon from the edge orientations of the global view and of the native
crops, compression, sharpness and noise from the native crops at their original pixel grid (the crops are
aligned to the 8-px JPEG grid when the technical block is on). Every value is documented in `NAMES`.
Version 2 adds sensor noise measured where the photo is flat: the last view is then the noise mosaic (16 flat
56² windows of the original pixels, fgaesq.model.lite.views.noise_mosaic), measured tile by tile (`flat_noise`).
Version 3 adds the JPEG quantisation step the native crops' pixels went through (`quantisation`): a decoded JPEG's
8x8 DCT coefficients lie on multiples of its quantisation table, so the coarsest lattice they fit tells how hard
the photo was compressed, whatever it shows (a lossless original: no lattice).
Input: views normalised as the backbone sees them, ``(x - 127) / 128`` (fgaesq.model.lite.views).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: Luminance percentiles of the exposure block (in % of pixels).
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
#: Folded edge-orientation bins (degrees off the nearest axis): centre k covers [k - 0.5, k + 0.5), 0 = [0, 0.5).
TILT_BINS = (0, 1, 2, 3, 4, 5, 6, 7)
EPS = 1e-6
#: Percentiles are read from at most this many pixels per view (a fixed-stride subsample).
SORT_MAX = 8192

NAMES: tuple[str, ...] = (
    *(f"exposure: log2 linear luminance, {p}th percentile" for p in PERCENTILES),
    "exposure: mean linear luminance",
    "exposure: mean log2 linear luminance",
    "exposure: std of log2 linear luminance",
    "exposure: share of crushed shadows (every channel <= 2/255)",
    "exposure: share of clipped highlights (any channel >= 253/255)",
    *(f"exposure: share of clipped {c} channel (>= 253/255)" for c in "RGB"),
    "exposure: 5th percentile of sRGB luma / 255 (shadow level as coded)",
    "exposure: 95th percentile of sRGB luma / 255 (highlight level as coded)",
    "exposure: |median log2 linear luminance - log2 0.18| (distance of the median from mid grey, in EV)",
    "colour: mean CIE a* of the whole view",
    "colour: mean CIE b* of the whole view",
    "colour: mean CIE chroma of the whole view",
    "colour: mean a* of the near-neutral pixels (lowest 30 % chroma)",
    "colour: mean b* of the near-neutral pixels (lowest 30 % chroma)",
    "colour: grey-world log(mean R / mean G), linear light",
    "colour: grey-world log(mean B / mean G), linear light",
    "colour: white-patch log(R / G) of the brightest 5 % pixels",
    "colour: white-patch log(B / G) of the brightest 5 % pixels",
    "colour: |mean (a*, b*)| of the near-neutral pixels (cast strength, any direction)",
    "colour: |grey-world (log R/G, log B/G)| (cast strength, any direction)",
    "colour: |white-patch (log R/G, log B/G)| (cast strength, any direction)",
    "colour: 10th percentile of CIE chroma (greys stay grey without a cast)",
    "colour: 30th percentile of CIE chroma",
    *(f"tilt (global view): share of edge energy {k} deg off axis" for k in TILT_BINS),
    "tilt (global view): log(share at 0 deg / mean share at 1-7 deg)",
    "tilt (global view): log(largest share at 1-7 deg / share at 0 deg) (a shifted axis peak)",
    "tilt (global view): |dominant off-axis angle| in degrees (4-fold circular mean of edge orientations)",
    "tilt (global view): 4-fold orientation concentration (0 = isotropic, 1 = all edges on one rectilinear frame)",
    *(f"tilt (native crops): share of edge energy {k} deg off axis" for k in TILT_BINS),
    "tilt (native crops): log(share at 0 deg / mean share at 1-7 deg)",
    "tilt (native crops): log(largest share at 1-7 deg / share at 0 deg) (a shifted axis peak)",
    "tilt (native crops): |dominant off-axis angle| in degrees",
    "tilt (native crops): 4-fold orientation concentration",
    "compression: log horizontal blockiness (|diff| across 8-px block columns / inside)",
    "compression: log vertical blockiness (|diff| across 8-px block rows / inside)",
    "compression: log(max / median) of |diff| energy over the 8 grid phases (grid-position free)",
    "compression: log mean 8x8 DCT energy, low band (u + v in 1..3)",
    "compression: log mean 8x8 DCT energy, mid band (u + v in 4..7)",
    "compression: log mean 8x8 DCT energy, high band (u + v in 8..14)",
    "compression: share of near-zero (|c| < 1) DCT coefficients in the mid band",
    "compression: share of near-zero (|c| < 1) DCT coefficients in the high band",
    "detail (native crops): log mean squared Laplacian",
    "detail (native crops): log 95th percentile of gradient magnitude",
    "noise (native crops): log noise sigma (Immerkaer residual, flattest 25 % pixels), 8-bit units",
    "detail (global view): log mean squared Laplacian",
    "detail (global view): log 95th percentile of gradient magnitude",
    "noise (global view): log noise sigma (Immerkaer residual, flattest 25 % pixels)",
)
#: Length of the technical block, version 1.
TECH_DIM = len(NAMES)
#: Tiles per side of the noise mosaic (technical block 2; built by fgaesq.model.lite.views.noise_mosaic).
NOISE_TILES = 4
#: Columns technical block 2 appends to version 1's.
NOISE_NAMES: tuple[str, ...] = (
    "noise (native flat windows): log sqrt(sigma^2 + 0.25), median Immerkaer sigma of the 16 mosaic tiles",
    "noise (native flat windows): log sqrt(sigma^2 + 0.25), 4th lowest tile sigma (texture-free estimate)",
    "noise (native flat windows): log sqrt(s^2 + 0.25) of the tiles' luma std (flatness of the chosen windows)",
)


#: Technical block 3: the DCT frequencies (zigzag order, DC first) whose quantisation step is estimated, split
#: into the two bands QUANT_NAMES averages, and the estimator's settings (`quantisation`).
QUANT_ZIGZAG = ((0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0),
                (4, 0), (3, 1), (2, 2), (1, 3), (0, 4), (0, 5), (1, 4), (2, 3), (3, 2), (4, 1), (5, 0))  # fmt: skip
QUANT_LOW = 10  # zigzag 0..9 form the low band, the rest the mid band
QUANT_MAX_STEP = 96  # candidate steps QUANT_MIN_STEP..QUANT_MAX_STEP (IJG quality 30: 27..67 on these frequencies)
QUANT_MIN_STEP = 4  # a step of 2-3 cannot be told from the decoder's rounding
QUANT_FIT = 0.5  # a step q fits when the mean cos(2π c / q) of its coefficients (|c| >= q/2) reaches this ...
QUANT_BEST = 0.95  # ... and this share of the best fit of any step (a near-multiple of the true step fits less)
QUANT_SUPPORT = 0.5  # ... and they are at least this share of the frequency's coefficients with |c| >= 2
QUANT_MIN_COUNT = 30  # coefficients with |c| >= 2 a frequency needs to be measured
QUANT_NAMES: tuple[str, ...] = (
    "compression (native crops): mean log2 JPEG quantisation step of DCT zigzag 0-9 (0 = no lattice: lossless)",
    "compression (native crops): mean log2 JPEG quantisation step of DCT zigzag 10-20 (0 = no lattice)",
)


#: Penalty sets (LiteConfig.penalties by name): measurements that can only make a photo worse as they rise.
PENALTY_SETS: dict[str, tuple[str, ...]] = {
    "noise": NOISE_NAMES[:2],
    "jpeg": (
        "compression: log horizontal blockiness (|diff| across 8-px block columns / inside)",
        "compression: log vertical blockiness (|diff| across 8-px block rows / inside)",
        "compression: log(max / median) of |diff| energy over the 8 grid phases (grid-position free)",
    ),
    "clipping": (
        "exposure: share of crushed shadows (every channel <= 2/255)",
        "exposure: share of clipped highlights (any channel >= 253/255)",
    ),
    "quant": QUANT_NAMES,  # both bands (neither then reaches the head, where CLIVE's q75 JPEGs, rated higher than
    # its PNGs, would teach it to like a lattice)
}


def penalty_columns(version: int, sets: tuple[str, ...]) -> tuple[int, ...]:
    """Technical-block column indices of the named `PENALTY_SETS` (for LiteConfig.penalties)."""
    names = tech_names(version)
    unknown = [k for k in sets if k not in PENALTY_SETS]
    if unknown:
        raise ValueError(f"unknown penalty set(s) {unknown}; known: {sorted(PENALTY_SETS)}")
    return tuple(names.index(n) for k in sets for n in PENALTY_SETS[k])


#: Known technical block versions.
VERSIONS = (0, 1, 2, 3)


def tech_names(version: int) -> tuple[str, ...]:
    """Column names of technical block ``version`` (0: none, 1: `NAMES`, 2: + `NOISE_NAMES`, 3: + `QUANT_NAMES`)."""
    if version not in VERSIONS:
        raise ValueError(f"technical block version must be one of {VERSIONS}, not {version!r}")
    return ((), NAMES, NAMES + NOISE_NAMES, NAMES + NOISE_NAMES + QUANT_NAMES)[version]

_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_LAPLACE = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
_IMMERKAER = torch.tensor([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])


def _dct_matrix(n: int = 8) -> torch.Tensor:
    k = torch.arange(n, dtype=torch.float64)
    m = torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * math.sqrt(2 / n)
    m[0] /= math.sqrt(2)
    return m.float()


_DCT = _dct_matrix()
_UV = torch.arange(8)[:, None] + torch.arange(8)[None, :]


def to_pixels(views: torch.Tensor) -> torch.Tensor:
    """Normalised views -> sRGB pixel values in [0, 255] (float)."""
    return (views * 128.0 + 127.0).clamp(0.0, 255.0)


def srgb_to_linear(p: torch.Tensor) -> torch.Tensor:
    """sRGB values in [0, 255] -> linear light in [0, 1] (IEC 61966-2-1)."""
    u = p / 255.0
    return torch.where(u <= 0.04045, u / 12.92, ((u + 0.055) / 1.055).clamp_min(0.0) ** 2.4)


_LIN_LUT = srgb_to_linear(torch.arange(256, dtype=torch.float32))


def _linear_of_u8(p: torch.Tensor) -> torch.Tensor:
    """srgb_to_linear of 8-bit pixel values (the views hold whole numbers) by table look-up."""
    return _LIN_LUT.to(p.device)[p.round().long()]


def luma(p: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) -> (..., H, W) Rec. 709 weighted sum of the channels."""
    return 0.2126 * p[..., 0, :, :] + 0.7152 * p[..., 1, :, :] + 0.0722 * p[..., 2, :, :]


def _sorted_at(x: torch.Tensor, fractions: tuple[float, ...]) -> torch.Tensor:
    """(N, M) -> (N, len(fractions)) values at the given fractions of each row's sorted values (rows longer than
    SORT_MAX are subsampled with a fixed stride: a few ms instead of tens)."""
    if x.shape[1] > SORT_MAX:
        x = x[:, :: -(-x.shape[1] // SORT_MAX)]
    s = x.sort(dim=1).values
    idx = [min(x.shape[1] - 1, max(0, round(f * (x.shape[1] - 1)))) for f in fractions]
    return s[:, idx]


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.to(x.dtype)
    return (x * m).sum(1) / m.sum(1).clamp_min(1.0)


def _norm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(a * a + b * b)  # not torch.hypot: no ONNX export for it


def _conv(y: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """(N, H, W) -> (N, H-2, W-2) valid 3x3 correlation."""
    return F.conv2d(y[:, None], kernel.to(y)[None, None])[:, 0]


def exposure(p: torch.Tensor, lin: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB pixels and their linear light -> (N, 18) exposure measurements (linear light unless
    said otherwise)."""
    y = luma(lin).flatten(1)
    logy = torch.log2(y + 2.0**-12)
    pct = _sorted_at(logy, tuple(q / 100 for q in PERCENTILES))
    flat = p.flatten(2)
    crushed = (flat.amax(1) <= 2.0).float().mean(1)
    clipped_any = (flat.amax(1) >= 253.0).float().mean(1)
    clipped_ch = (flat >= 253.0).float().mean(2)
    cols = [pct, y.mean(1, keepdim=True), logy.mean(1, keepdim=True), logy.std(1, unbiased=False, keepdim=True),
            crushed[:, None], clipped_any[:, None], clipped_ch, _sorted_at(luma(p).flatten(1), (0.05, 0.95)) / 255.0,
            (pct[:, 3:4] - math.log2(0.18)).abs()]  # fmt: skip
    return torch.cat(cols, dim=1)


def _lab_ab(lin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, H, W) linear sRGB -> CIE a*, b* (D65), each (N, H*W)."""
    r, g, b = (lin[:, i].flatten(1) for i in range(3))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: torch.Tensor) -> torch.Tensor:
        return torch.where(t > 0.008856, t.clamp_min(1e-9) ** (1 / 3), 7.787 * t + 16 / 116)

    fx, fy, fz = f(x), f(y), f(z)
    return 500.0 * (fx - fy), 200.0 * (fy - fz)


def colour(lin: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) linear-light pixels -> (N, 14) colour-cast measurements (signed, then strengths in any
    direction)."""
    a, b = _lab_ab(lin)
    chroma = torch.sqrt(a * a + b * b)
    neutral = chroma <= _sorted_at(chroma, (0.3,))
    means = lin.flatten(2).mean(2) + 1e-4
    y = luma(lin).flatten(1)
    bright = y >= _sorted_at(y, (0.95,))
    r, g, bl = (_masked_mean(lin[:, i].flatten(1), bright) + 1e-4 for i in range(3))
    na, nb = _masked_mean(a, neutral), _masked_mean(b, neutral)
    grg, gbg = torch.log(means[:, 0] / means[:, 1]), torch.log(means[:, 2] / means[:, 1])
    wrg, wbg = torch.log(r / g), torch.log(bl / g)
    low = _sorted_at(chroma, (0.1, 0.3))
    cols = [a.mean(1), b.mean(1), chroma.mean(1), na, nb, grg, gbg, wrg, wbg, _norm(na, nb), _norm(grg, gbg),
            _norm(wrg, wbg), low[:, 0], low[:, 1]]  # fmt: skip
    return torch.stack(cols, dim=1)


def _gradients(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    sx = _SOBEL_X.to(y)
    return _conv(y, sx), _conv(y, sx.T.contiguous())


def tilt(gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """Sobel gradients (N, H, W) -> (N, 12) level-horizon measurements from edge orientations folded mod 90°.

    Edges weighted by squared Sobel magnitude; shares of edge energy 0, 1, ..., 7 degrees off the nearest axis;
    the log ratio of the 0° share to the mean 1–7° share and of the largest 1–7° share to the 0° share; the
    dominant off-axis angle |φ| and the concentration R of the 4-fold circular mean (φ = arg Σ w e^{4iθ} / 4).
    Computed without trigonometry per pixel: tan(off-axis angle) = min(|gx|, |gy|) / max(|gx|, |gy|)."""
    gx, gy = gx.flatten(1), gy.flatten(1)
    xx, yy = gx * gx, gy * gy
    w = xx + yy
    ax, ay = gx.abs(), gy.abs()
    r = torch.minimum(ax, ay) / torch.maximum(ax, ay).clamp_min(EPS)
    total = w.sum(1).clamp_min(EPS)
    edges = [math.tan(math.radians(k + 0.5)) for k in TILT_BINS]
    below = torch.stack([(w * (r < t).to(w.dtype)).sum(1) for t in edges], dim=1) / total[:, None]
    sh = torch.cat([below[:, :1], below[:, 1:] - below[:, :-1]], dim=1)
    ratio = torch.log((sh[:, 0] + 1e-4) / (sh[:, 1:].mean(1) + 1e-4))
    d, p = xx - yy, 2.0 * gx * gy  # w·cos 2θ, w·sin 2θ
    inv = 1.0 / w.clamp_min(EPS)
    c, s = ((d * d - p * p) * inv).sum(1), (2.0 * d * p * inv).sum(1)  # Σ w·cos 4θ, Σ w·sin 4θ
    phi = torch.rad2deg(torch.atan2(s, c)).abs() / 4.0
    conc = torch.sqrt(c * c + s * s) / total
    shifted = torch.log((sh[:, 1:].amax(1) + 1e-4) / (sh[:, 0] + 1e-4))
    return torch.cat([sh, ratio[:, None], shifted[:, None], phi[:, None], conc[:, None]], dim=1)


def compression(y: torch.Tensor) -> torch.Tensor:
    """(N, H, W) grey pixels whose (0, 0) lies on the 8-px JPEG grid -> (N, 8) compression measurements:
    8x8 blockiness across block boundaries vs inside (both directions), its grid-position-free form, log DCT
    energies of low / mid / high frequency bands and the shares of near-zero mid / high coefficients."""
    n, h, w = y.shape
    hb, wb = (h - 1) // 8 * 8, (w - 1) // 8 * 8
    dx = (
        (y[:, :, 1:] - y[:, :, :-1]).abs()[:, :, :wb].reshape(n, h, wb // 8, 8).mean((1, 2))
    )  # (N, 8) by phase
    dy = (y[:, 1:, :] - y[:, :-1, :]).abs()[:, :hb, :].reshape(n, hb // 8, 8, w).mean((1, 3))
    block_h = torch.log((dx[:, 7] + 1e-2) / (dx[:, :7].mean(1) + 1e-2))  # phase 7: between pixels 8k-1 and 8k
    block_v = torch.log((dy[:, 7] + 1e-2) / (dy[:, :7].mean(1) + 1e-2))
    both = dx + dy
    med = both.sort(dim=1).values[:, 3]  # the lower median of the 8 phases (as torch.median; exports to ONNX)
    free = torch.log((both.amax(1) + 1e-2) / (med + 1e-2))
    bh, bw = h // 8 * 8, w // 8 * 8
    blocks = (y[:, :bh, :bw] - 128.0).reshape(n, bh // 8, 8, bw // 8, 8).permute(0, 1, 3, 2, 4)
    d = _DCT.to(y)
    coef = (d @ blocks @ d.T).reshape(n, -1, 8, 8)
    uv = _UV.to(y.device)
    cols = [block_h, block_v, free]
    bands = [(uv >= 1) & (uv <= 3), (uv >= 4) & (uv <= 7), uv >= 8]
    for band in bands:
        cols.append(torch.log((coef[:, :, band] ** 2).mean((1, 2)) + 1e-3))
    for band in bands[1:]:
        cols.append((coef[:, :, band].abs() < 1.0).float().mean((1, 2)))
    return torch.stack(cols, dim=1)


def detail(y: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor) -> torch.Tensor:
    """(N, H, W) grey pixels and their Sobel gradients -> (N, 3): log mean squared Laplacian, log 95th
    percentile gradient magnitude, and log noise σ (Immerkær's residual, mean |r|·√(π/2)/6, over the flattest
    25 % of pixels by Sobel magnitude)."""
    lap = _conv(y, _LAPLACE)
    mag = torch.sqrt(gx * gx + gy * gy).flatten(1)
    res = _conv(y, _IMMERKAER).abs().flatten(1)
    flat = mag <= _sorted_at(mag, (0.25,))
    sigma = _masked_mean(res, flat) * math.sqrt(math.pi / 2) / 6.0
    cols = [torch.log((lap * lap).flatten(1).mean(1) + 1e-2), torch.log(_sorted_at(mag, (0.95,))[:, 0] + 1e-2),
            torch.log(sigma + 1e-2)]  # fmt: skip
    return torch.stack(cols, dim=1)


def flat_noise(mosaic: torch.Tensor) -> torch.Tensor:
    """(N, 3, S, S) noise-mosaic pixels -> (N, 3) `NOISE_NAMES`: Immerkær's σ (mean |r|·√(π/2)/6) inside each of
    the NOISE_TILES² tiles (valid convolution, nothing straddles two tiles), its median and 4th lowest tile,
    and the tiles' median luma std; 8-bit units, floored at 0.5 before the log so that clean tiles agree."""
    y = luma(mosaic)
    n, s = y.shape[0], y.shape[-1] // NOISE_TILES
    k = NOISE_TILES * NOISE_TILES
    tiles = y[:, : s * NOISE_TILES, : s * NOISE_TILES].reshape(n, NOISE_TILES, s, NOISE_TILES, s)
    tiles = tiles.permute(0, 1, 3, 2, 4).reshape(n * k, s, s)
    sigma = (_conv(tiles, _IMMERKAER).abs().flatten(1).mean(1) * math.sqrt(math.pi / 2) / 6.0).view(n, k)
    spread = tiles.flatten(1).std(1).view(n, k)
    ss, sp = sigma.sort(dim=1).values, spread.sort(dim=1).values

    def floored(v: torch.Tensor) -> torch.Tensor:
        return 0.5 * torch.log(v * v + 0.25)

    return torch.stack([floored(ss[:, (k - 1) // 2]), floored(ss[:, 3]), floored(sp[:, (k - 1) // 2])], dim=1)


_HALF = 1024  # coefficient histogram range [-_HALF, _HALF) (an 8-bit 8x8 DCT coefficient lies within ±1024)


def _lattice_tables() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Candidate steps q; per histogram value h and step q: [h counts for q] (|h| >= max(2, q/2)) and
    cos(2π h / q) where it counts; and [|h| >= 2]."""
    q = torch.arange(QUANT_MIN_STEP, QUANT_MAX_STEP + 1, dtype=torch.float64)
    h = torch.arange(-_HALF, _HALF, dtype=torch.float64)
    nonzero = h.abs() >= 2
    counts = ((h.abs()[:, None] >= q[None] / 2) & nonzero[:, None]).double()
    return q.float(), counts.float(), (torch.cos(2 * math.pi * h[:, None] / q[None]) * counts).float(), \
        nonzero.float()[:, None]


_STEPS, _COUNTS, _COS, _NONZERO = _lattice_tables()


def jpeg_luma(p: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) -> (..., H, W) the luma JPEG codes (ITU-R BT.601 weights, as JFIF's YCbCr)."""
    return 0.299 * p[..., 0, :, :] + 0.587 * p[..., 1, :, :] + 0.114 * p[..., 2, :, :]


def quantisation_steps(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, K, H, W) JPEG luma of K crops per image, (0, 0) on the 8-px JPEG grid -> the estimated quantisation step
    of each `QUANT_ZIGZAG` frequency, (B, F) (1 where no lattice fits), and whether it could be measured, (B, F).

    The 8x8 DCT coefficients of all K crops are rounded and counted per frequency. A step q is judged on the
    coefficients with |c| >= q/2 (smaller ones fit every lattice); it fits when their mean cos(2π c / q) reaches
    QUANT_FIT and QUANT_BEST of the best step's, and they are QUANT_SUPPORT of the coefficients with |c| >= 2
    (a multiple of the true step would otherwise be judged on its own multiples only). The estimate is the
    largest fitting step: the divisors of the true step fit less (the decoder's rounding weighs more on a finer
    lattice), its near-multiples less, its multiples not. A frequency is measured when it has QUANT_MIN_COUNT
    coefficients with |c| >= 2 (a flat crop has none)."""
    b, k, h, w = y.shape
    hb, wb = h // 8 * 8, w // 8 * 8
    blocks = (y[:, :, :hb, :wb] - 128.0).reshape(b, k, hb // 8, 8, wb // 8, 8).permute(0, 1, 2, 4, 3, 5)
    d = _DCT.to(y)
    coef = (d @ blocks @ d.T).reshape(b, -1, 64)
    idx = torch.tensor([u * 8 + v for u, v in QUANT_ZIGZAG], device=y.device)
    f = len(QUANT_ZIGZAG)
    val = coef[:, :, idx].round().clamp(-_HALF, _HALF - 1).long() + _HALF  # (B, M, F)
    slot = (val + torch.arange(f, device=y.device) * (2 * _HALF)).flatten(1)
    hist = torch.zeros(b, f * 2 * _HALF, device=y.device).scatter_add_(1, slot, torch.ones_like(slot, dtype=torch.float32))
    hist = hist.view(b, f, 2 * _HALF)
    dev = y.device
    total = hist @ _NONZERO.to(dev)  # (B, F, 1)
    measured = total[..., 0] >= QUANT_MIN_COUNT
    count = hist @ _COUNTS.to(dev)
    fit = (hist @ _COS.to(dev)) / count.clamp_min(1.0)
    judged = (count >= QUANT_SUPPORT * total) & (count >= QUANT_MIN_COUNT)
    fit = torch.where(judged, fit, torch.full_like(fit, -1.0))
    best = fit.amax(-1, keepdim=True)
    fits = (fit >= QUANT_FIT) & (fit >= QUANT_BEST * best)
    step = (fits.float() * _STEPS.to(dev)).amax(-1).clamp_min(1.0)
    return step, measured


def quantisation(y: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W) JPEG luma of K grid-aligned native crops per image -> (B, 2) `QUANT_NAMES`: the mean log2
    estimated quantisation step over the measured frequencies of the low and of the mid band (0 if none)."""
    step, measured = quantisation_steps(y)
    logs = torch.log2(step) * measured
    m = measured.float()

    def band(s: slice) -> torch.Tensor:
        return logs[:, s].sum(1) / m[:, s].sum(1).clamp_min(1.0)

    return torch.stack([band(slice(0, QUANT_LOW)), band(slice(QUANT_LOW, None))], dim=1)


@torch.no_grad()
def technical_block(views: torch.Tensor, version: int = 1) -> torch.Tensor:
    """(B, V, 3, S, S) normalised views -> (B, len(tech_names(version))): the measurements listed in `NAMES`
    (global-view blocks from view 0, crop blocks averaged over views 1..); version 2: the last view is the noise
    mosaic, measured by `flat_noise` and appended; version 3 appends the crops' JPEG `quantisation`."""
    if version >= 3:
        crops = to_pixels(views[:, 1:-1].float()) if views.shape[1] > 2 else to_pixels(views[:, :1].float())
        return torch.cat([technical_block(views, 2), quantisation(jpeg_luma(crops))], dim=1)
    if version >= 2:
        noise = flat_noise(to_pixels(views[:, -1].float()))
        return torch.cat([technical_block(views[:, :-1], 1), noise], dim=1)
    b, v = views.shape[:2]
    p = to_pixels(views.float())
    g = p[:, 0]
    crops = p[:, 1:].flatten(0, 1) if v > 1 else p[:, :1].flatten(0, 1)
    gy, cy = luma(g), luma(crops)
    nc = max(v - 1, 1)

    def crop_mean(t: torch.Tensor) -> torch.Tensor:
        return t.view(b, nc, -1).mean(1)

    ggx, ggy = _gradients(gy)
    cgx, cgy = _gradients(cy)
    lin = _linear_of_u8(g)
    return torch.cat([exposure(g, lin), colour(lin), tilt(ggx, ggy), crop_mean(tilt(cgx, cgy)), crop_mean(compression(cy)),
                      crop_mean(detail(cy, cgx, cgy)), detail(gy, ggx, ggy)], dim=1)  # fmt: skip
