"""Streaming inputs for large runs: folders, WebDataset tar shards and Parquet files, read unit by unit.

An input is split into *units* (one tar shard, one Parquet row group, or a chunk of files in a folder); each
unit is read as a stream of samples ``(key, series, data)`` where ``data`` is encoded image bytes or a path.
Units are the grain of resuming and of distributing work: a finished unit is never read again. Nothing here
decodes pixels (that is `fgaesq.io.load_image`'s job) and memory stays bounded by one unit's samples at a time.

The optional libraries (webdataset, pyarrow, fsspec: ``pip install 'fgaesq[scale]'``) are imported on use.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from fgaesq.io.files import collect_paths, natural_key
from fgaesq.io.image import IMAGE_EXTENSIONS

INSTALL_HINT = "pip install 'fgaesq[scale]'"
FILES_PER_UNIT = 1000
#: Parquet image columns tried in order when --image-column is not given.
IMAGE_COLUMNS = ("image", "jpg", "png", "webp", "img", "image_bytes", "bytes", "path", "image_path", "file")
#: Parquet key columns tried in order when --key-column is not given (else "<file stem>:<row>").
KEY_COLUMNS = ("key", "__key__", "id", "image_id", "uid")
_IMAGE_SUFFIXES = tuple(ext.lstrip(".") for ext in sorted(IMAGE_EXTENSIONS))
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class SourceError(Exception):
    """An input that cannot be read as a whole (missing file, unknown kind, missing column): one line."""


class MissingExtra(SourceError):
    """webdataset / pyarrow / fsspec / ray are not installed."""


def require(module: str):
    """Import an optional dependency of the `scale` extra or raise MissingExtra with the install line."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"reading shards and Parquet needs {module.split('.')[0]}: {INSTALL_HINT}") from None


@dataclass(frozen=True)
class Sample:
    """One image of a stream: a stable key, its series (None when unknown) and encoded bytes or a path."""

    key: str
    series: str | None
    data: bytes | str
    name: str  # label for error messages, e.g. "shards/00001.tar:000042.jpg"


@dataclass(frozen=True)
class Unit:
    """A resumable piece of the input: a tar shard, a Parquet row group or a chunk of image files."""

    kind: str  # "webdataset" | "parquet" | "files"
    url: str = ""
    row_group: int = -1
    paths: tuple[str, ...] = ()

    @property
    def uid(self) -> str:
        """Stable identity across runs (names the output part)."""
        text = f"{self.kind}|{self.url}|{self.row_group}|" + "\n".join(self.paths)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]

    @property
    def label(self) -> str:
        """Short human name for progress and errors."""
        if self.kind == "parquet":
            return f"{self.url} (row group {self.row_group})"
        if self.kind == "files":
            return f"{len(self.paths)} files from {self.paths[0]}" if self.paths else "no files"
        return self.url


@dataclass
class Columns:
    """Which fields hold the image, the key and the series (None = detect)."""

    image: str | None = None
    key: str | None = None
    series: str | None = None


def is_url(spec: str) -> bool:
    """Whether spec names an fsspec URL (s3://, gs://, https://, file://, memory:// ...)."""
    return bool(_URL.match(spec))


def input_kind(spec: str | os.PathLike) -> str:
    """'webdataset' (.tar, brace pattern), 'parquet' (.parquet or a folder of them), or 'files' (images, folders)."""
    s = os.fspath(spec)
    base = s.split("?", 1)[0].rstrip("/")
    if base.endswith((".tar", ".tar.gz", ".tgz")) or (re.search(r"\{[^}]*\.\.[^}]*\}", base) and ".tar" in base):
        return "webdataset"
    if base.endswith(".parquet") or base.endswith(".pq"):
        return "parquet"
    if not is_url(s) and Path(s).is_dir():
        entries = list(Path(s).iterdir())
        if entries and any(p.suffix == ".parquet" for p in entries) and not any(
            p.suffix.lower() in IMAGE_EXTENSIONS for p in entries
        ):
            return "parquet"
        if entries and any(p.name.endswith(".tar") for p in entries) and not any(
            p.suffix.lower() in IMAGE_EXTENSIONS for p in entries
        ):
            return "webdataset"
    return "files"


def is_stream_input(specs: Sequence[str | os.PathLike]) -> bool:
    """True when any input is a shard, a Parquet file or a URL (these go through the streaming path)."""
    return any(input_kind(s) != "files" or is_url(os.fspath(s)) for s in specs)


def _expand(spec: str) -> list[str]:
    """Brace patterns (shards/{00000..00099}.tar) expanded; folders of shards/Parquet listed."""
    braceexpand = require("braceexpand")
    out: list[str] = []
    for s in braceexpand.braceexpand(spec):
        if not is_url(s) and Path(s).is_dir():
            kids = sorted((p for p in Path(s).iterdir() if p.name.endswith((".tar", ".parquet"))), key=natural_key)
            out += [str(p) for p in kids]
        else:
            out.append(s)
    return out


def _exists(url: str) -> bool:
    if not is_url(url):
        return Path(url).is_file()
    fsspec = require("fsspec")
    try:
        fs, path = fsspec.core.url_to_fs(url)
        return fs.exists(path)
    except (ImportError, ValueError) as e:  # unknown protocol, or its fsspec package (s3fs, gcsfs ...) missing
        raise SourceError(f"{url}: cannot open this URL ({str(e).splitlines()[0]})") from None


def plan_units(
    specs: Sequence[str | os.PathLike], *, recursive: bool = False, files_per_unit: int = FILES_PER_UNIT
) -> list[Unit]:
    """The units of all inputs, in input order; raises SourceError for inputs that do not exist."""
    units: list[Unit] = []
    loose: list[str] = []
    for raw in specs:
        spec = os.fspath(raw)
        kind = input_kind(spec)
        if kind == "files":
            if is_url(spec):
                raise SourceError(f"{spec}: URLs must name .tar shards or .parquet files")
            if not Path(spec).exists():
                raise SourceError(f"{spec}: no such file or folder")
            loose += [str(p) for p in collect_paths([spec], recursive=recursive)]
            continue
        urls = _expand(spec)
        missing = [u for u in urls if not _exists(u)]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise SourceError(f"{missing[0]}: no such shard or Parquet file{more}")
        for url in urls:
            if input_kind(url) == "parquet" or url.endswith(".parquet"):
                units += [Unit("parquet", url, rg) for rg in range(_row_groups(url))]
            else:
                units.append(Unit("webdataset", url))
    for start in range(0, len(loose), files_per_unit):
        units.append(Unit("files", paths=tuple(loose[start : start + files_per_unit])))
    return units


def _open(url: str):
    """A binary file object for a local path or any fsspec URL."""
    if not is_url(url):
        return open(url, "rb")
    fsspec = require("fsspec")
    return fsspec.open(url, "rb").open()


def _row_groups(url: str) -> int:
    pq = require("pyarrow.parquet")
    try:
        with _open(url) as f:
            return pq.ParquetFile(f).metadata.num_row_groups
    except Exception as e:  # noqa: BLE001 - ArrowInvalid, OSError ...: one line naming the file
        raise SourceError(f"{url}: not a readable Parquet file ({str(e).splitlines()[0]})") from None


#: on_error(name, reason) is told about every sample or shard that is skipped
OnError = Callable[[str, str], None]


def iter_unit(unit: Unit, columns: Columns | None = None, on_error: OnError | None = None) -> Iterator[Sample]:
    """Stream the samples of one unit; unreadable members/rows are reported through on_error and skipped."""
    columns = columns or Columns()
    report = on_error or (lambda name, reason: None)
    if unit.kind == "files":
        for p in unit.paths:
            yield Sample(p, _folder_series(p) if columns.series == "folder" else None, p, p)
    elif unit.kind == "webdataset":
        yield from _iter_shard(unit.url, columns, report)
    elif unit.kind == "parquet":
        yield from _iter_row_group(unit.url, unit.row_group, columns, report)
    else:
        raise SourceError(f"unknown unit kind {unit.kind!r}")


def _folder_series(path: str) -> str:
    return Path(path).parent.name or "."


# --- WebDataset ------------------------------------------------------------------------------------------


def _shard_image(sample: dict, wanted: str | None) -> tuple[str, bytes] | None:
    """(member suffix, bytes) of the sample's image: --image-column when given, else the first image member."""
    if wanted:
        value = sample.get(wanted.lower())
        return (wanted, value) if isinstance(value, bytes) else None
    for suffix, value in sample.items():
        if suffix.startswith("__") or not isinstance(value, bytes):
            continue
        if suffix.rsplit(".", 1)[-1] in _IMAGE_SUFFIXES:
            return suffix, value
    return None


def _shard_series(sample: dict, column: str | None) -> str | None:
    """The series of a shard sample: member `<key>.<column>` (text), or field `column` of its .json member."""
    import json

    names = [column] if column else ["series", "series.txt"]
    for n in names:
        value = sample.get(n.lower())
        if isinstance(value, bytes):
            return value.decode("utf-8").strip()
    meta = sample.get("json")
    if isinstance(meta, bytes):
        try:
            doc = json.loads(meta)
        except ValueError:
            return None
        value = doc.get(column or "series") if isinstance(doc, dict) else None
        return None if value is None else str(value)
    return None


def _iter_shard(url: str, columns: Columns, report: OnError) -> Iterator[Sample]:
    tariterators = require("webdataset.tariterators")

    def handler(exn: Exception) -> bool:
        msg = str(exn.args[0]) if exn.args else type(exn).__name__
        report(url, f"corrupt tar data ({type(exn).__name__}: {msg.split(' @ ')[0]}); the rest of the shard is skipped")
        return True

    try:
        stream = _open(url)
    except Exception as e:  # noqa: BLE001 - OSError, fsspec errors: the shard is reported and skipped
        report(url, f"cannot open shard ({type(e).__name__}: {e})")
        return
    with stream:
        files = tariterators.tar_file_expander([{"url": url, "stream": stream}], handler=handler)
        for sample in tariterators.group_by_keys(files, handler=handler):
            key = sample["__key__"]
            found = _shard_image(sample, columns.image)
            if found is None:
                want = f"member .{columns.image}" if columns.image else "image member (.jpg, .png, .webp ...)"
                report(f"{url}:{key}", f"no {want} in this sample")
                continue
            suffix, data = found
            yield Sample(key, _shard_series(sample, columns.series), data, f"{url}:{key}.{suffix}")


# --- Parquet ---------------------------------------------------------------------------------------------


def _pick(names: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, url: str) -> str | None:
    if wanted:
        if wanted not in names:
            raise SourceError(f"{url}: no column {wanted!r} for {what} (columns: {', '.join(names)})")
        return wanted
    return next((c for c in candidates if c in names), None)


def _cell_data(cell, base: str) -> bytes | str | None:
    """Encoded bytes or a path from a Parquet cell: binary, string path, or a {bytes, path} struct."""
    if isinstance(cell, dict):
        if cell.get("bytes"):
            return bytes(cell["bytes"])
        cell = cell.get("path")
    if isinstance(cell, bytes | bytearray | memoryview):
        return bytes(cell)
    if isinstance(cell, str) and cell:
        if is_url(cell) or os.path.isabs(cell) or is_url(base):
            return cell
        local = os.path.join(base, cell)
        return local if os.path.exists(local) else cell
    return None


def _iter_row_group(url: str, row_group: int, columns: Columns, report: OnError) -> Iterator[Sample]:
    pq = require("pyarrow.parquet")
    with _open(url) as f:
        pf = pq.ParquetFile(f)
        names = pf.schema_arrow.names
        image = _pick(names, columns.image, IMAGE_COLUMNS, "the image", url)
        if image is None:
            raise SourceError(f"{url}: no image column found; name it with --image-column (columns: {', '.join(names)})")
        key_col = _pick(names, columns.key, KEY_COLUMNS, "the key", url)
        series_col = _pick(names, columns.series, ("series",), "the series", url)
        wanted = [c for c in dict.fromkeys([image, key_col, series_col]) if c]
        offset = sum(pf.metadata.row_group(i).num_rows for i in range(row_group))
        stem = Path(url.split("?", 1)[0]).stem
        base = url.rsplit("/", 1)[0] if is_url(url) else str(Path(url).parent)
        table = pf.read_row_group(row_group, columns=wanted)
        for batch in table.to_batches(max_chunksize=256):
            cols = {c: batch.column(c).to_pylist() for c in wanted}
            for i in range(batch.num_rows):
                row = offset + i
                key = str(cols[key_col][i]) if key_col and cols[key_col][i] is not None else f"{stem}:{row}"
                series = cols[series_col][i] if series_col else None
                data = _cell_data(cols[image][i], base)
                name = f"{url}:{key}"
                if data is None:
                    report(name, f"empty {image!r} cell (no image bytes or path)")
                    continue
                yield Sample(key, None if series is None else str(series), data, name)
            offset += batch.num_rows
