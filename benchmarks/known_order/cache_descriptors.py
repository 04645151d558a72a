"""Precompute fgaesq-lite descriptors (frozen backbone) for CLIVE and the known-order benchmark.

``python -m benchmarks.known_order.cache_descriptors --data benchmarks/known_order/native [--pairs test]``
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from itertools import permutations
from pathlib import Path

import torch

from benchmarks.data_sources import clive_dir
from fgaesq.model.lite import LiteConfig
from fgaesq.train.lite_inputs import LiteInputs


def main() -> None:
    """Fill the descriptor cache under DATA/cache."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("benchmarks/known_order/native"))
    ap.add_argument(
        "--pairs", nargs="*", default=[], help="splits whose ordered pairs get pair-mode descriptors"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shard", default="0/1", help="k/n: this process handles items k, k+n, ...")
    ap.add_argument("--only", choices=("all", "clive", "series"), default="all", help="which inputs to describe")
    ap.add_argument("--technical", type=int, choices=(0, 1, 2, 3), default=None,
                    help="technical block version of the descriptors (default: the model's default)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = LiteConfig() if args.technical is None else LiteConfig(technical=args.technical)
    inputs = LiteInputs(config, cache_dir=args.data / "cache")
    items: list = []
    clive = clive_dir()
    with (clive / "labels.csv").open(newline="") as fh:
        items += [(clive / "images" / r["image"], None) for r in csv.DictReader(fh)]
    if args.only == "series":
        items = []
    for split in () if args.only == "clive" else ("train", "val", "test"):
        for line in (args.data / split / "series.jsonl").read_text().splitlines():
            rec = json.loads(line)
            paths = [args.data / split / p for p in rec["images"]]
            items += [(p, None) for p in paths]
            if split in args.pairs:
                items += [(a, b) for a, b in permutations(paths, 2)]
    k, n = (int(x) for x in args.shard.split("/"))
    items = items[k::n]
    t0 = time.time()
    for s in range(0, len(items), 64):
        inputs.describe_many(items[s : s + 64])
        done = min(s + 64, len(items))
        print(f"{done}/{len(items)} descriptors, {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
