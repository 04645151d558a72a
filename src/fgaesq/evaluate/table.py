"""Render metrics in the layout of the paper's Table 2 (per category Acc, F1, s-Acc, s-SRCC) with Rich."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table

COLUMNS = (("acc", "Acc"), ("f1", "F1"), ("s_acc", "s-Acc"), ("s_srcc", "s-SRCC"))
CATS_PER_TABLE = 3


def _fmt(x: float) -> str:
    return "—" if x != x else f"{x:.3f}"


def table2(rows: Mapping[str, dict], title: str = "", width: int | None = None) -> list[Table]:
    """One Rich table per group of categories (3, fewer when ``width`` is narrow): a row per model, 4 columns per
    category, then Pair / Series on the last table."""
    cats = sorted({c for r in rows.values() for c in r["per_category"]})
    per = CATS_PER_TABLE if width is None else max(1, min(CATS_PER_TABLE, (width - 40) // 36))
    groups = [cats[i : i + per] for i in range(0, len(cats), per)] or [[]]
    tables = []
    for g, group in enumerate(groups):
        last = g == len(groups) - 1
        t = Table(title=title if g == 0 else None, show_lines=False)
        t.add_column("Method", max_width=24, overflow="fold")
        for c in group:
            for _, label in COLUMNS:
                t.add_column(f"{c[:8]}\n{label}", justify="right")
        if last:
            t.add_column("Pair", justify="right")
            t.add_column("Series", justify="right")
        for name, r in rows.items():
            cells = [name]
            for c in group:
                m = r["per_category"].get(c, {})
                cells += [_fmt(m.get(k, float("nan"))) for k, _ in COLUMNS]
            if last:
                cells += [_fmt(r["summary"]["pair"]), _fmt(r["summary"]["series"])]
            t.add_row(*cells)
        tables.append(t)
    return tables


def markdown_table2(rows: Mapping[str, dict]) -> str:
    """The same table as Markdown (one wide table)."""
    cats = sorted({c for r in rows.values() for c in r["per_category"]})
    head = ["Method"] + [f"{c} {label}" for c in cats for _, label in COLUMNS] + ["Pair", "Series"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        cells = [name] + [_fmt(r["per_category"][c][k]) for c in cats for k, _ in COLUMNS]
        cells += [_fmt(r["summary"]["pair"]), _fmt(r["summary"]["series"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
