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
from dataclasses import dataclass, field
from pathlib import Path

from fgaesq.data.jsonl import iter_jsonl


class SeriesFormatError(ValueError):
    """A series JSONL line that does not follow the contract (message names file and line)."""


@dataclass(frozen=True)
class PairRecord:
    """One judged pair of a series: p = P(a ≻ b)."""

    a: str
    b: str
    p: float
    text: str | None = None


@dataclass
class SeriesRecord:
    """One fine-grained series: its images, their calibrated order and the retained pairs."""

    series: str
    images: list[str]
    ranking: list[str] = field(default_factory=list)
    pairs: list[PairRecord] = field(default_factory=list)
    category: str | None = None
    root: str | None = None
    base: Path | None = None  # folder of the JSONL file the record came from (not written)

    def image_path(self, name: str) -> Path:
        """Absolute-or-relative path of one image, resolved against `root` and the JSONL folder."""
        base = self.base if self.base is not None else Path(".")
        if self.root:
            base = base / self.root
        return base / name

    def image_paths(self) -> list[Path]:
        """Paths of all images of the series, in `images` order."""
        return [self.image_path(n) for n in self.images]

    def to_dict(self) -> dict:
        """The JSON object of this record, with optional keys left out when unset."""
        out: dict = {"series": self.series}
        if self.category is not None:
            out["category"] = self.category
        if self.root is not None:
            out["root"] = self.root
        out["images"] = list(self.images)
        out["ranking"] = list(self.ranking)
        pairs = []
        for pr in self.pairs:
            d: dict = {"a": pr.a, "b": pr.b, "p": pr.p}
            if pr.text is not None:
                d["text"] = pr.text
            pairs.append(d)
        out["pairs"] = pairs
        return out


def _str_list(obj: dict, key: str, where: str) -> list[str]:
    val = obj.get(key, [])
    if not isinstance(val, list) or not all(isinstance(x, str) and x for x in val):
        raise SeriesFormatError(f"{where}: '{key}' must be a list of non-empty image names")
    return val


def parse_series(obj: object, where: str = "<record>", base: Path | None = None) -> SeriesRecord:
    """Validate one decoded JSON object and build a SeriesRecord (errors name `where`)."""
    if not isinstance(obj, dict):
        raise SeriesFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    sid = obj.get("series")
    if not isinstance(sid, str) or not sid:
        raise SeriesFormatError(f"{where}: missing or empty 'series' id")
    images = _str_list(obj, "images", where)
    if not images:
        raise SeriesFormatError(f"{where}: series '{sid}' has no 'images'")
    if len(set(images)) != len(images):
        raise SeriesFormatError(f"{where}: series '{sid}' lists an image twice in 'images'")
    known = set(images)
    ranking = _str_list(obj, "ranking", where)
    if set(ranking) - known or len(set(ranking)) != len(ranking):
        raise SeriesFormatError(f"{where}: series '{sid}': 'ranking' must list distinct names from 'images'")
    pairs_raw = obj.get("pairs", [])
    if not isinstance(pairs_raw, list):
        raise SeriesFormatError(f"{where}: series '{sid}': 'pairs' must be a list")
    pairs: list[PairRecord] = []
    for k, pr in enumerate(pairs_raw):
        if not isinstance(pr, dict):
            raise SeriesFormatError(f"{where}: series '{sid}': pair {k} is not an object")
        a, b, p, text = pr.get("a"), pr.get("b"), pr.get("p"), pr.get("text")
        if a not in known or b not in known or a == b:
            raise SeriesFormatError(
                f"{where}: series '{sid}': pair {k} needs two different images from 'images' (got {a!r}, {b!r})"
            )
        if isinstance(p, bool) or not isinstance(p, int | float) or not (0.0 <= p <= 1.0) or math.isnan(p):
            raise SeriesFormatError(f"{where}: series '{sid}': pair {k} needs 'p' in [0, 1] (got {p!r})")
        if text is not None and not isinstance(text, str):
            raise SeriesFormatError(f"{where}: series '{sid}': pair {k} 'text' must be a string")
        pairs.append(PairRecord(a=a, b=b, p=float(p), text=text))
    category, root = obj.get("category"), obj.get("root")
    for key, val in (("category", category), ("root", root)):
        if val is not None and not isinstance(val, str):
            raise SeriesFormatError(f"{where}: series '{sid}': '{key}' must be a string")
    return SeriesRecord(sid, images, ranking, pairs, category=category, root=root, base=base)


def read_series_jsonl(path: str | Path) -> list[SeriesRecord]:
    """Read every series of a JSONL file; blank lines are skipped, errors name the file and line."""
    path = Path(path)
    records: list[SeriesRecord] = []
    seen: set[str] = set()
    for where, _, obj in iter_jsonl(path, SeriesFormatError):
        rec = parse_series(obj, where, base=path.parent)
        if rec.series in seen:
            raise SeriesFormatError(f"{where}: series id '{rec.series}' appears twice in the file")
        seen.add(rec.series)
        records.append(rec)
    return records


def write_series_jsonl(path: str | Path, records: Iterable[SeriesRecord]) -> int:
    """Write records one per line (UTF-8, keys in contract order); returns the number written.

    The file appears only when complete (a temporary file in the same folder is renamed over it).
    """
    from fgaesq.io.atomic import atomic_open

    path = Path(path)
    n = 0
    with atomic_open(path, encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    return n
