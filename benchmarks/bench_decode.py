"""CPU milliseconds of decoding a 12 MP JPEG the way the scorers do, stage by stage, on one core.

``PYTHONPATH=src python benchmarks/bench_decode.py [--repeat 9] [--photo PATH]``

Prints median CPU ms of: libjpeg's decode, `load_image` at full size, the LANCZOS reduction to 2048 px (Pillow's
own loop against `fgaesq.io.resample`, whose pixels are the same), `load_image` at 2048 px (what DiffToken
models decode), and the page faults of one decode with and without `retain_freed_memory`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def _cpu_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return 1000 * float(np.median(times))


def _faults(path: Path, keep: bool) -> int:
    code = (
        "import resource, sys\n"
        "from fgaesq.io import load_image\n"
        "from fgaesq.scoring.memory import retain_freed_memory\n"
        f"{'retain_freed_memory()' if keep else ''}\n"
        "load_image(sys.argv[1], None)\n"
        "f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "load_image(sys.argv[1], None)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)\n"
    )
    env_keep = "1" if keep else "0"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "FGAESQ_KEEP_MEMORY": env_keep})  # fmt: skip
    return int(out.stdout.split()[-1])


def main() -> None:
    """Time each decoding stage of a 12 MP JPEG."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--photo", type=Path, help="a JPEG to use (default: a scikit-image photo at 4000x3000)")
    args = ap.parse_args()
    from fgaesq.io import load_image
    from fgaesq.io.resample import resize_lanczos
    from fgaesq.scoring.memory import retain_freed_memory

    with tempfile.TemporaryDirectory() as tmp:
        path = args.photo
        if path is None:
            import skimage.data

            path = Path(tmp) / "12mp.jpg"
            Image.fromarray(skimage.data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC).save(path, quality=92)
        faults = (_faults(path, False), _faults(path, True))
        retain_freed_memory()
        full = load_image(path, None)
        target = (2048, round(2048 * full.height / full.width)) if full.width >= full.height else (
            round(2048 * full.width / full.height), 2048)

        def raw() -> None:
            with Image.open(path) as im:
                im.load()

        rows = [
            ("libjpeg decode (Image.open + load)", _cpu_ms(raw, args.repeat)),
            ("load_image, full size (checks, orientation)", _cpu_ms(lambda: load_image(path, None), args.repeat)),
            (f"LANCZOS to {target[0]}x{target[1]}, Pillow", _cpu_ms(
                lambda: full.resize(target, Image.Resampling.LANCZOS), args.repeat)),
            (f"LANCZOS to {target[0]}x{target[1]}, fgaesq.io.resample (same pixels)", _cpu_ms(
                lambda: resize_lanczos(full, target), args.repeat)),
            ("load_image at 2048 px (DiffToken models)", _cpu_ms(lambda: load_image(path, 2048), args.repeat)),
        ]  # fmt: skip
        same = np.array_equal(np.asarray(resize_lanczos(full, target)),
                              np.asarray(full.resize(target, Image.Resampling.LANCZOS)))  # fmt: skip
    print(f"{full.width}x{full.height} JPEG, one core, median CPU ms of {args.repeat}")
    for label, ms in rows:
        print(f"  {label:<62s} {ms:7.1f}")
    print(f"  resample pixels identical to Pillow's: {same}")
    print(f"  page faults of a second full decode: {faults[0]} default allocators, {faults[1]} with "
          "retain_freed_memory")


if __name__ == "__main__":
    main()
