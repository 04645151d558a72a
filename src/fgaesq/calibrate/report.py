"""Human-readable (Markdown) and machine-readable (JSON) reports of a calibration run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from fgaesq.calibrate.calibration import CalibrationResult


def summary(res: CalibrationResult) -> dict:
    """Headline counts of a run."""
    pairs = [p for s in res.series for p in s.pairs]
    return {
        "votes_in": res.votes_in,
        "votes_used": res.votes_used,
        "series_in": len(res.series),
        "series_out": sum(not s.dropped for s in res.series),
        "series_dropped": {
            reason: sum(s.dropped == reason for s in res.series)
            for reason in sorted({s.dropped for s in res.series if s.dropped})
        },
        "pairs_judged": len(pairs),
        "pairs_kept": sum(p.kept for p in pairs),
        "pairs_indistinguishable": sum(p.reason == "indistinguishable" for p in pairs),
        "pairs_few_votes": sum(p.reason == "few votes" for p in pairs),
        "series_with_cycles": sum(bool(s.cycles) for s in res.series),
        "series_disconnected": sum(s.components > 1 for s in res.series),
        "annotators": len(res.annotators),
        "careless_annotators": [a.annotator for a in res.annotators if a.careless],
        "excluded_annotators": res.excluded_annotators,
    }


def report_dict(res: CalibrationResult) -> dict:
    """The full report as plain JSON-serialisable data."""
    return {
        "settings": asdict(res.settings),
        "summary": summary(res),
        "annotators": [asdict(a) for a in res.annotators],
        "series": [
            {
                "series": s.series,
                "images": s.images,
                "ranking": s.ranking,
                "strengths": {k: round(v, 4) for k, v in s.strengths.items()},
                "votes": s.votes,
                "components": s.components,
                "cycles": s.cycles,
                "dropped": s.dropped,
                "pairs": [
                    {
                        "a": p.a,
                        "b": p.b,
                        "votes": p.votes,
                        "wins_a": p.wins_a,
                        "wins_b": p.wins_b,
                        "ties": p.ties,
                        "fraction": round(p.fraction, 4),
                        "p": round(p.p, 4),
                        "kept": p.kept,
                        "reason": p.reason,
                    }
                    for p in s.pairs
                ],
            }
            for s in res.series
        ],
    }


def _fmt(x: float | None, nd: int = 3) -> str:
    return "–" if x is None else f"{x:.{nd}f}"


def report_markdown(res: CalibrationResult) -> str:
    """The report as Markdown: summary, annotators, cycles, per-series table."""
    sm = summary(res)
    st = res.settings
    lines = [
        "# Rank calibration report",
        "",
        f"Settings: threshold |P − 0.5| < {st.threshold} dropped; BT alpha {st.alpha}; min votes per pair "
        f"{st.min_votes}; careless when agreement < {st.careless_below} over ≥ {st.min_scored} scored votes.",
        "",
        "## Summary",
        "",
        f"- votes: {sm['votes_in']} read, {sm['votes_used']} used",
        f"- series: {sm['series_in']} in, {sm['series_out']} written"
        + "".join(f", {n} dropped ({r})" for r, n in sm["series_dropped"].items()),
        f"- pairs: {sm['pairs_judged']} judged, {sm['pairs_kept']} kept, "
        f"{sm['pairs_indistinguishable']} indistinguishable, {sm['pairs_few_votes']} with too few votes",
        f"- series with intransitive cycles: {sm['series_with_cycles']}; "
        f"with disconnected judgements: {sm['series_disconnected']}",
        f"- careless annotators: {', '.join(sm['careless_annotators']) or 'none'}"
        + (f" (votes excluded: {', '.join(sm['excluded_annotators'])})" if sm["excluded_annotators"] else ""),
        "",
        "## Annotators",
        "",
        "| annotator | votes | scored | agreement | tie rate | p (vs chance) | median s | careless |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a in res.annotators:
        lines.append(
            f"| {a.annotator} | {a.votes} | {a.scored} | {_fmt(a.agreement)} | {_fmt(a.tie_rate, 2)} | "
            f"{'–' if a.p_value is None else f'{a.p_value:.2g}'} | {_fmt(a.median_seconds, 1)} | "
            f"{'**yes**' if a.careless else 'no'} |"
        )
    cyc = [s for s in res.series if s.cycles]
    lines += ["", "## Intransitive cycles (majority votes)", ""]
    if not cyc:
        lines.append("none")
    for s in cyc:
        for c in s.cycles:
            lines.append(f"- {s.series}: " + " ≻ ".join([*c, c[0]]))
    lines += [
        "",
        "## Series",
        "",
        "| series | images | votes | ranking | pairs kept/judged | note |",
        "|---|---|---|---|---|---|",
    ]
    for s in res.series:
        note = "; ".join(
            x
            for x in (
                f"dropped: {s.dropped}" if s.dropped else "",
                "cycle" if s.cycles else "",
                f"{s.components} disconnected groups" if s.components > 1 else "",
            )
            if x
        )
        lines.append(
            f"| {s.series} | {len(s.images)} | {s.votes} | {' ≻ '.join(s.ranking)} | "
            f"{len(s.kept_pairs)}/{len(s.pairs)} | {note} |"
        )
    return "\n".join(lines) + "\n"


def write_report(res: CalibrationResult, path: str | Path) -> None:
    """Write the report; JSON when the suffix is .json, Markdown otherwise."""
    from fgaesq.io.atomic import atomic_write_text

    path = Path(path)
    if path.suffix.lower() == ".json":
        atomic_write_text(path, json.dumps(report_dict(res), indent=2, ensure_ascii=False) + "\n")
    else:
        atomic_write_text(path, report_markdown(res))
