"""Locations inside the installed package (configs, shipped weights, web templates)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
