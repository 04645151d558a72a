"""Fine-grained series JSONL (docs/contracts.md): one series per line, written by `fgaesq calibrate`.

```json
{"series": "burst-001", "category": "natural", "root": "optional/base/dir",
 "images": ["a.jpg", "b.jpg", "c.jpg"], "ranking": ["b.jpg", "a.jpg", "c.jpg"],
 "pairs": [{"a": "b.jpg", "b": "a.jpg", "p": 0.8, "text": "optional comparative sentence"}]}
```
`p` = P(a ≻ b). Image paths are relative to the JSONL file's folder, or to `root` when given
(a relative `root` is itself relative to the JSONL file's folder). Unknown keys are ignored on reading.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

from fgaesq.data.errors import DataFormatError
from fgaesq.data.jsonl import iter_jsonl
from fgaesq.data.records import PairLabel, SeriesRecord


def _str_list(obj: dict, key: str, path: Path, line: int | None) -> list[str]:
    val = obj.get(key, [])
    if not isinstance(val, list) or not all(isinstance(x, str) and x for x in val):
        raise DataFormatError(path, line, f"'{key}' must be a list of non-empty image names")
    return val


def parse_series(obj: object, path: str | Path = "<record>", line: int | None = None) -> SeriesRecord:
    """Validate one decoded JSON object of the file `path` and build its SeriesRecord (errors: `path:line: …`)."""
    path = Path(path)
    if not isinstance(obj, dict):
        raise DataFormatError(path, line, f"expected a JSON object, got {type(obj).__name__}")
    sid = obj.get("series")
    if not isinstance(sid, str) or not sid:
        raise DataFormatError(path, line, "missing or empty 'series' id")
    images = _str_list(obj, "images", path, line)
    if not images:
        raise DataFormatError(path, line, f"series '{sid}' has no 'images'")
    if len(set(images)) != len(images):
        raise DataFormatError(path, line, f"series '{sid}' lists an image twice in 'images'")
    index = {n: i for i, n in enumerate(images)}
    ranking = _str_list(obj, "ranking", path, line)
    if set(ranking) - set(index) or len(set(ranking)) != len(ranking):
        raise DataFormatError(path, line, f"series '{sid}': 'ranking' must list distinct names from 'images'")
    pairs_raw = obj.get("pairs", [])
    if not isinstance(pairs_raw, list):
        raise DataFormatError(path, line, f"series '{sid}': 'pairs' must be a list")
    pairs: list[PairLabel] = []
    for k, pr in enumerate(pairs_raw):
        if not isinstance(pr, dict):
            raise DataFormatError(path, line, f"series '{sid}': pair {k} is not an object")
        a, b, p, text = pr.get("a"), pr.get("b"), pr.get("p"), pr.get("text")
        if a not in index or b not in index or a == b:
            raise DataFormatError(
                path, line, f"series '{sid}': pair {k} needs two different images from 'images' (got {a!r}, {b!r})"
            )
        if isinstance(p, bool) or not isinstance(p, int | float) or not (0.0 <= p <= 1.0) or math.isnan(p):
            raise DataFormatError(path, line, f"series '{sid}': pair {k} needs 'p' in [0, 1] (got {p!r})")
        if text is not None and not isinstance(text, str):
            raise DataFormatError(path, line, f"series '{sid}': pair {k} 'text' must be a string")
        pairs.append(PairLabel(index[a], index[b], float(p), text or None))
    category, root = obj.get("category"), obj.get("root")
    for key, val in (("category", category), ("root", root)):
        if val is not None and not isinstance(val, str):
            raise DataFormatError(path, line, f"series '{sid}': '{key}' must be a string")
    base = path.parent / root if root else path.parent
    return SeriesRecord(
        sid, [base / n for n in images], pairs, [index[n] for n in ranking] or None, category or "",
        names=list(images), root=root,
    )


def read_series_jsonl(path: str | Path) -> list[SeriesRecord]:
    """Read every series of a JSONL file; blank lines are skipped, errors name the file and line."""
    path = Path(path)
    records: list[SeriesRecord] = []
    seen: set[str] = set()
    for _, line, obj in iter_jsonl(path):
        rec = parse_series(obj, path, line)
        if rec.series in seen:
            raise DataFormatError(path, line, f"series id '{rec.series}' appears twice in the file")
        seen.add(rec.series)
        records.append(rec)
    return records


def series_to_dict(rec: SeriesRecord) -> dict:
    """The JSON object of a record (names as written, optional keys left out when unset)."""
    out: dict = {"series": rec.series}
    if rec.category:
        out["category"] = rec.category
    if rec.root is not None:
        out["root"] = rec.root
    out["images"] = list(rec.names)
    out["ranking"] = [rec.names[i] for i in rec.ranking or []]
    pairs = []
    for pr in rec.pairs:
        d: dict = {"a": rec.names[pr.a], "b": rec.names[pr.b], "p": pr.p}
        if pr.text is not None:
            d["text"] = pr.text
        pairs.append(d)
    out["pairs"] = pairs
    return out


def write_series_jsonl(path: str | Path, records: Iterable[SeriesRecord]) -> int:
    """Write records one per line (UTF-8, keys in contract order); returns the number written.

    The file appears only when complete (a temporary file in the same folder is renamed over it).
    """
    from fgaesq.io.atomic import atomic_open

    path = Path(path)
    n = 0
    with atomic_open(path, encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(series_to_dict(rec), ensure_ascii=False) + "\n")
            n += 1
    return n
