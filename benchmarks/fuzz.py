"""Fuzz the decoder and its neighbours with mutated real photos; prints counts by outcome.

``PYTHONPATH=src python benchmarks/fuzz.py [--n 10000] [--sidecars 2000] [--seed 0] [--slow 3]``

Seeds are real photos (skimage.data) encoded as JPEG (baseline, progressive, with EXIF), PNG (RGB, RGBA,
palette, 16-bit), WebP (lossy, lossless), TIFF (raw, LZW, deflate) and HEIC. Each input is one seed with
one to three mutations (bit flips, interesting bytes, truncation, deleted/duplicated/inserted spans, patched
size fields, splices, hostile EXIF); PNG chunk CRCs are mostly recomputed so the mutations reach the decoder. Every input goes through `load_image` (from a file and as bytes) and
`capture_time`. Outcomes: ``ok`` (decoded), ``image-error`` (the project's ImageError), ``crash`` (any other
exception), ``slow`` (a call over --slow seconds). Done when crashes and slow calls are zero. Lines written to
stderr by C libraries while decoding are counted as ``stderr lines``. Then --sidecars hostile or mutated XMP
sidecars (billion laughs, XXE, deep nesting, UTF-16, bit flips of a darktable sidecar, ...) are updated with
`write_sidecar`: ``ok`` (rewritten, still XML), ``sidecar-error`` (refused and left byte-identical) or ``crash``.

The same corpus (smaller) feeds tests/test_fuzz.py.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import random
import struct
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 96  # seed photos are small: mutations, not pixels, are what is being tested


def _photos() -> list[np.ndarray]:
    from skimage import data

    out = []
    for load in (data.astronaut, data.coffee, data.chelsea, data.rocket):
        img = Image.fromarray(load())
        img.thumbnail((SIDE, SIDE))
        out.append(np.asarray(img.convert("RGB")))
    return out


def _exif(subsec: str = "42") -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    ifd = exif.get_ifd(0x8769)
    ifd[36867] = "2024:06:01 09:30:00"
    ifd[37521] = subsec
    return exif


def seeds() -> list[tuple[str, bytes]]:
    """(extension, bytes) of every seed: each photo in each encoding."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    out: list[tuple[str, bytes]] = []
    for k, arr in enumerate(_photos()):
        img = Image.fromarray(arr)
        encodings = [
            (".jpg", img, {"format": "JPEG", "quality": 85}),
            (".jpg", img, {"format": "JPEG", "quality": 70, "progressive": True}),
            (".jpg", img, {"format": "JPEG", "quality": 90, "exif": _exif()}),
            (".png", img, {"format": "PNG"}),
            (".png", img.convert("RGBA"), {"format": "PNG"}),
            (".png", img.convert("P"), {"format": "PNG"}),
            (".png", Image.fromarray(arr[..., 0].astype(np.uint16) * 257), {"format": "PNG"}),
            (".webp", img, {"format": "WEBP", "quality": 80}),
            (".webp", img, {"format": "WEBP", "lossless": True}),
            (".tif", img, {"format": "TIFF"}),
            (".tif", img, {"format": "TIFF", "compression": "tiff_lzw"}),
            (".tif", img, {"format": "TIFF", "compression": "tiff_adobe_deflate"}),
        ]
        if k < 2:  # HEIC encoding is slow; two photos are enough
            encodings.append((".heic", img, {"format": "HEIF", "quality": 60}))
        for ext, im, kw in encodings:
            buf = io.BytesIO()
            im.save(buf, **kw)
            out.append((ext, buf.getvalue()))
    return out


INTERESTING = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE)


def _patch_size(data: bytearray, rng: random.Random) -> None:
    """Overwrite a width/height field with a small, zero or huge value where the format keeps one."""
    value = rng.choice((0, 1, 65535, 13000, 30000, rng.randrange(1, 70000)))
    if data[:2] == b"\xff\xd8":
        i = data.find(b"\xff\xc0")
        if i < 0:
            i = data.find(b"\xff\xc2")
        if i > 0 and i + 9 < len(data):
            data[i + 5 + 2 * rng.randrange(2) : i + 7 + 2 * rng.randrange(2)] = struct.pack(">H", value & 0xFFFF)
            return
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24:
        off = 16 + 4 * rng.randrange(2)
        data[off : off + 4] = struct.pack(">I", value)
        return
    if data[:2] in (b"II", b"MM") and len(data) > 64:  # TIFF: patch an ImageWidth/ImageLength tag value
        endian = "<" if data[:2] == b"II" else ">"
        ifd = struct.unpack(endian + "I", data[4:8])[0]
        if 0 < ifd < len(data) - 2:
            n = struct.unpack(endian + "H", data[ifd : ifd + 2])[0]
            for e in range(min(n, 40)):
                o = ifd + 2 + 12 * e
                if o + 12 > len(data):
                    break
                tag = struct.unpack(endian + "H", data[o : o + 2])[0]
                if tag in (256, 257) and rng.random() < 0.7:
                    data[o + 8 : o + 12] = struct.pack(endian + "I", value)
            return
    i = rng.randrange(max(1, min(len(data), 64)))
    data[i : i + 2] = struct.pack(">H", value & 0xFFFF)


def _fix_png_crcs(buf: bytearray) -> None:
    """Recompute every PNG chunk CRC that can be found, so that mutations reach the decoder, not the CRC check."""
    import zlib

    pos = 8
    while pos + 12 <= len(buf):
        length = struct.unpack(">I", buf[pos : pos + 4])[0]
        end = pos + 8 + length
        if end + 4 > len(buf):
            return
        buf[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(buf[pos + 4 : end])))
        pos = end + 4


def mutate(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """One to three random mutations of data (deterministic for a given rng state)."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3))):
        if not buf:
            break
        op = rng.randrange(10)
        n = len(buf)
        if op == 0:  # bit flips
            for _ in range(rng.randrange(1, 9)):
                buf[rng.randrange(n)] ^= 1 << rng.randrange(8)
        elif op == 1:  # interesting bytes
            for _ in range(rng.randrange(1, 5)):
                buf[rng.randrange(n)] = rng.choice(INTERESTING)
        elif op == 2:  # truncate
            del buf[rng.randrange(n) :]
        elif op == 3:  # delete a span
            i = rng.randrange(n)
            del buf[i : i + rng.randrange(1, 256)]
        elif op == 4:  # duplicate a span
            i = rng.randrange(n)
            buf[i:i] = buf[i : i + rng.randrange(1, 512)]
        elif op == 5:  # insert random bytes
            i = rng.randrange(n)
            buf[i:i] = rng.randbytes(rng.randrange(1, 64))
        elif op == 6:
            _patch_size(buf, rng)
        elif op == 7:  # splice with another seed
            other = rng.choice(donors)
            cut = rng.randrange(n)
            buf = buf[:cut] + other[rng.randrange(len(other)) :]
        elif op == 8:  # early header bytes (markers, chunk lengths)
            i = rng.randrange(min(n, 128))
            buf[i] = rng.randrange(256)
        else:  # overwrite a span with one byte value
            i = rng.randrange(n)
            buf[i : i + rng.randrange(1, 2048)] = bytes([rng.choice(INTERESTING)]) * min(2048, n - i)
    if buf[:8] == b"\x89PNG\r\n\x1a\n" and rng.random() < 0.7:
        _fix_png_crcs(buf)
    return bytes(buf)


def special_inputs() -> list[tuple[str, bytes]]:
    """Hand-made hostile files: huge EXIF fields, empty EXIF, lying headers, non-images with image names."""
    photo = Image.fromarray(_photos()[0])
    out = []
    for subsec in ("7" * 5000, "\u00b2\u00b3", "-1", ""):
        buf = io.BytesIO()
        photo.save(buf, format="JPEG", exif=_exif(subsec))
        out.append((".jpg", buf.getvalue()))
    buf = io.BytesIO()
    photo.save(buf, format="PNG", exif=b"Exif\x00\x00II")
    out.append((".png", buf.getvalue()))
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=80)
    raw = buf.getvalue()
    i = raw.index(b"\xff\xc0")
    out.append((".jpg", raw[: i + 5] + struct.pack(">HH", 13000, 13000) + raw[i + 9 :]))
    out += [(".jpg", b""), (".png", b"hello world\n"), (".tif", b"II*\x00" + b"\xff" * 60), (".jpg", b"\xff\xd8\xff")]
    return out


def corpus(n: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """n deterministic inputs: the special ones first, then mutations of the seeds."""
    rng = random.Random(seed)
    base = seeds()
    donors = [b for _, b in base]
    specials = special_inputs()
    yield from specials[:n]
    for _ in range(max(0, n - len(specials))):
        ext, data = rng.choice(base)
        yield ext, mutate(data, rng, donors)


SIDECAR = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">\n <!-- darktable -->\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:darktable="http://darktable.sf.net/"'
    ' xmp:Rating="1" darktable:xmp_version="5">\n'
    '   <darktable:history><rdf:Seq><rdf:li darktable:operation="exposure"/></rdf:Seq></darktable:history>\n'
    '  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n' + " " * 200 + '\n<?xpacket end="w"?>'
)
HOSTILE_SIDECARS = [
    b"",
    b"   \n",
    b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF",
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    b"<a>" * 50_000 + b"</a>" * 50_000,
    SIDECAR.encode("utf-16"),
    SIDECAR.encode("utf-8")[:-40] + b"\xff\xfe",
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="urn:other" xmp:Rating="x"/></rdf:RDF></x:xmpmeta>',
]


def sidecar_corpus(n: int, seed: int = 0) -> Iterator[bytes]:
    """n hostile or mutated XMP sidecars (deterministic)."""
    rng = random.Random(seed + 1)
    base = SIDECAR.encode("utf-8")
    yield from HOSTILE_SIDECARS[:n]
    for _ in range(max(0, n - len(HOSTILE_SIDECARS))):
        yield mutate(base, rng, [base, *HOSTILE_SIDECARS[2:5]])


def classify_sidecar(photo: Path, data: bytes) -> tuple[str, str]:
    """Outcome of updating one sidecar: ok (written, still XML), sidecar-error (left untouched), or crash."""
    import defusedxml.minidom

    from fgaesq.io.xmp import SidecarError, sidecar_path, write_sidecar

    side = sidecar_path(photo)
    side.write_bytes(data)
    try:
        write_sidecar(photo, rating=3, label="Green", fields={"Score": "5.0", "Series": "s\n1"})
    except SidecarError as e:
        if side.read_bytes() != data:
            return "crash", f"sidecar changed although refused: {e}"
        return "sidecar-error", e.reason
    except Exception as e:  # noqa: BLE001
        return "crash", f"{type(e).__name__}: {str(e)[:200]}"
    try:
        defusedxml.minidom.parseString(side.read_bytes())
    except Exception as e:  # noqa: BLE001
        return "crash", f"written sidecar is not XML: {type(e).__name__}: {str(e)[:200]}"
    return "ok", ""


class StderrCounter:
    """Counts lines C libraries write to file descriptor 2 (Pillow/libtiff/libjpeg warnings) while active."""

    def __enter__(self) -> StderrCounter:
        sys.stderr.flush()
        self._tmp = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        self.text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()
        self.lines = len([ln for ln in self.text.splitlines() if ln.strip()])


def classify(path: Path, data: bytes, slow: float) -> tuple[str, str]:
    """Outcome of decoding one input (file and bytes) and reading its capture time, with a detail line."""
    from fgaesq.io import ImageError, capture_time, load_image

    outcome, detail = "ok", ""
    t0 = time.perf_counter()
    for source, kw in ((path, {}), (data, {"name": path.name})):
        try:
            load_image(source, 256, **kw)
        except ImageError as e:
            outcome, detail = "image-error", e.reason
        except Exception as e:  # noqa: BLE001 - this is what the fuzzer looks for
            return "crash", f"{type(e).__name__}: {e} | {traceback.format_exc(limit=-3).splitlines()[-3:]}"
    try:
        capture_time(path)
    except Exception as e:  # noqa: BLE001
        return "crash", f"capture_time {type(e).__name__}: {e}"
    if time.perf_counter() - t0 > slow:
        return "slow", f"{time.perf_counter() - t0:.1f} s"
    return outcome, detail


def run(n: int, seed: int, slow: float, folder: Path) -> tuple[collections.Counter, list[str], int, float]:
    """Fuzz n inputs; returns (outcome counts, crash details, stderr lines, slowest call in seconds)."""
    counts: collections.Counter = collections.Counter()
    problems: list[str] = []
    slowest = 0.0
    with StderrCounter() as err:
        for i, (ext, data) in enumerate(corpus(n, seed)):
            path = folder / f"fuzz_{i:06d}{ext}"
            path.write_bytes(data)
            t0 = time.perf_counter()
            outcome, detail = classify(path, data, slow)
            slowest = max(slowest, time.perf_counter() - t0)
            counts[outcome] += 1
            counts[f"{ext} {outcome}"] += 1
            if outcome in ("crash", "slow"):
                problems.append(f"{path.name}: {outcome}: {detail}")
                (folder / "kept").mkdir(exist_ok=True)
                (folder / "kept" / path.name).write_bytes(data)
            path.unlink()
    return counts, problems, err.lines, slowest


def run_sidecars(n: int, seed: int, slow: float, folder: Path) -> tuple[collections.Counter, list[str]]:
    """Fuzz n sidecars through write_sidecar; returns (outcome counts, problem details)."""
    counts: collections.Counter = collections.Counter()
    problems: list[str] = []
    photo = folder / "photo.jpg"
    photo.write_bytes(b"not opened")
    for i, data in enumerate(sidecar_corpus(n, seed)):
        t0 = time.perf_counter()
        outcome, detail = classify_sidecar(photo, data)
        if outcome != "crash" and time.perf_counter() - t0 > slow:
            outcome, detail = "slow", f"{time.perf_counter() - t0:.1f} s"
        counts[outcome] += 1
        if outcome in ("crash", "slow"):
            problems.append(f"sidecar {i}: {outcome}: {detail}")
    return counts, problems


def main() -> None:
    """Run the fuzzer and print counts by outcome and by format."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--sidecars", type=int, default=2_000, help="hostile/mutated XMP sidecars to update")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--slow", type=float, default=3.0, help="seconds after which one input counts as slow")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        counts, problems, stderr_lines, slowest = run(args.n, args.seed, args.slow, Path(tmp))
        side_counts, side_problems = run_sidecars(args.sidecars, args.seed, args.slow, Path(tmp))
    total = sum(counts[k] for k in ("ok", "image-error", "crash", "slow"))
    print(f"fuzzed {total} inputs (seed {args.seed}) in {time.perf_counter() - t0:.0f} s; slowest {slowest:.2f} s")
    for k in ("ok", "image-error", "crash", "slow"):
        print(f"  {k:12s} {counts[k]:6d}")
    print(f"  stderr lines {stderr_lines:6d}")
    exts = sorted({k.split()[0] for k in counts if " " in k})
    for ext in exts:
        parts = ", ".join(f"{o} {counts[f'{ext} {o}']}" for o in ("ok", "image-error", "crash", "slow"))
        print(f"    {ext:6s} {parts}")
    print(f"sidecars: {sum(side_counts.values())} updated: " + ", ".join(
        f"{k} {side_counts[k]}" for k in ("ok", "sidecar-error", "crash", "slow")))
    for p in (problems + side_problems)[:20]:
        print("  " + p)
    bad = counts["crash"] + counts["slow"] + side_counts["crash"] + side_counts["slow"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
