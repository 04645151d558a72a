"""Fixtures for large-input tests: real photos packed into WebDataset shards and Parquet, and fgaesq-lite."""

from __future__ import annotations

import pytest
from scale_data import make_items, write_folder, write_parquet, write_shards


@pytest.fixture(scope="session")
def items():
    return make_items(n_series=6, per_series=4)


@pytest.fixture(scope="session")
def packed(tmp_path_factory, items):
    root = tmp_path_factory.mktemp("packed")
    return {
        "root": root,
        "shards": write_shards(root / "shards", items, per_shard=8),
        "parquet": write_parquet(root / "images.parquet", items, row_group_size=10),
        "folder": root / "photos",
        "files": write_folder(root / "photos", items),
    }


@pytest.fixture(scope="session")
def lite():
    from fgaesq.scoring import load_scorer

    return load_scorer("fgaesq-lite", device="cpu")
