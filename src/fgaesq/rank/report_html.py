"""`fgaesq rank --report report.html`: one self-contained HTML contact sheet (images embedded as reduced JPEGs).

Series by series: the best pick large with the regions that decided it against the runner-up, every frame with its
rank and score, near-tie badges. No external files, scripts or fonts: the page opens anywhere, offline.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Callable
from pathlib import Path

from fgaesq.io import load_image

HERO_SIZE, THUMB_SIZE = 640, 220
#: Top two frames within this many points (1-10 scale) are flagged as a near-tie.
NEAR_TIE = 0.1

_CSS = """
body{margin:0;background:#262626;color:#e6e6e6;font:14px/1.4 "DejaVu Sans",system-ui,sans-serif}
header{padding:.8rem 1.2rem;border-bottom:1px solid #474747}h1{font-size:1.2rem;margin:0 0 .2rem}
.muted{color:#9a9a9a}section{padding:.8rem 1.2rem;border-bottom:1px solid #3a3a3a}
h2{font-size:1.05rem;margin:0 0 .5rem;display:flex;gap:.6rem;align-items:center}
.badge{font-size:11.5px;border-radius:10px;padding:1px 8px;background:#f2c14e;color:#1b1b1b;font-weight:normal}
.row{display:flex;gap:1rem;align-items:flex-start;flex-wrap:wrap;margin-bottom:.7rem}.hero{position:relative;display:inline-block;line-height:0}
.hero img{max-width:min(640px,90vw);height:auto}.ov{position:absolute;inset:0}
.imp{position:absolute;background:#ff5a1f}.fine{position:absolute;border:2px solid #35e0ff}
.view{position:absolute;border:2px solid #ffd23f}.frames{display:flex;gap:.5rem;flex-wrap:wrap}
figure{margin:0;background:#313131;border:2px solid #474747;border-radius:6px;padding:4px;width:230px}
figure.best{border-color:#5fcf73}figure img{width:100%;height:auto;display:block}
figcaption{font-size:12px;margin-top:3px}.why{max-width:22rem}.up{color:#5fcf73;font-weight:bold}
.err{color:#ff8a80}
"""


def _img(path: str, size: int) -> str:
    """An <img> with the photo embedded, or a one-line note when it can no longer be read."""
    alt = html.escape(os.path.basename(path))
    try:
        return f'<img src="{_data_uri(path, size)}" alt="{alt}">'
    except Exception as exc:  # noqa: BLE001 - one unreadable photo must not cost the whole report
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        return f'<p class="err">{alt}: {html.escape(str(reason))}</p>'


def _data_uri(path: str, size: int) -> str:
    img = load_image(path, size)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=82, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _pct(b: list[float]) -> str:
    return f"left:{100 * b[0]:.3f}%;top:{100 * b[1]:.3f}%;width:{100 * b[2]:.3f}%;height:{100 * b[3]:.3f}%"


def _overlay(part: dict) -> str:
    out = []
    for c in part.get("cells", []):
        if c[4] > 0.2:
            out.append(f'<div class="imp" style="{_pct(c)};opacity:{0.6 * c[4] * c[4]:.3f}"></div>')
    out += [f'<div class="fine" style="{_pct(c)}"></div>' for c in part.get("fine", [])]
    out += [f'<div class="view" style="{_pct(c)}"></div>' for c in part.get("views", [])]
    return '<div class="ov">' + "".join(out) + "</div>" if out else ""


def _legend(why: dict) -> str:
    if why.get("kind") == "difftoken":
        return ("orange: cells where the two frames differ most (1 − SSIM, DiffToken's importance); "
                "cyan: cells given full-resolution tokens")
    if why.get("kind") == "views":
        return "yellow: the crops fgaesq-lite scored, besides the whole frame"
    return ""


def _series_html(s: dict, explain: Callable[[str, str, str], dict] | None, near_tie: float) -> str:
    e = html.escape
    ranking = s["ranking"]
    best = ranking[0]
    margin = best["score"] - ranking[1]["score"] if len(ranking) > 1 else None
    tie = margin is not None and margin < near_tie
    head = f'<h2>{e(s["series"])} <span class="muted">{len(ranking)} frames · spread ' \
           f'{best["score"] - ranking[-1]["score"]:.2f}</span>{"<span class=badge>near-tie</span>" if tie else ""}</h2>'
    overlay, why_text = "", ""
    if explain is not None and len(ranking) > 1:
        try:
            why = explain(best["path"], ranking[1]["path"], f'{s["series"]}_1_2')
            overlay = _overlay(why.get("a", {}))
            why_text = (f'<p class="why">Against the runner-up {e(os.path.basename(ranking[1]["path"]))}: '
                        f'<span class="up">{why["scores"][0]:.2f} vs {why["scores"][1]:.2f}, margin '
                        f'{why["margin"]:+.2f}</span> in one comparison; series scores margin {margin:+.2f}.<br>'
                        f'<span class="muted">{e(_legend(why))}</span></p>')
        except Exception as exc:  # noqa: BLE001 - a report without regions beats no report
            why_text = f'<p class="why err">regions unavailable: {e(str(exc))}</p>'
    elif margin is not None:
        why_text = f'<p class="why">margin over the runner-up {margin:+.2f}</p>'
    hero = f'<div class="hero">{_img(best["path"], HERO_SIZE)}{overlay}</div>'
    figs = []
    for im in ranking:
        cls = ' class="best"' if im["rank"] == 1 else ""
        figs.append(f'<figure{cls}>{_img(im["path"], THUMB_SIZE)}'
                    f'<figcaption><b>#{im["rank"]}</b> {im["score"]:.2f} · {"★" * int(im.get("rating", 0))} '
                    f'{e(os.path.basename(im["path"]))}</figcaption></figure>')
    return f'<section>{head}<div class="row">{hero}{why_text}</div><div class="frames">{"".join(figs)}</div></section>'


def report_html(doc: dict, *, explain: Callable[[str, str, str], dict] | None = None, title: str = "fgaesq ranking",
                near_tie: float = NEAR_TIE, progress: Callable[[int], None] | None = None) -> str:
    """The contact sheet of a `fgaesq rank` JSON document; `explain(a, b, pair_id)` adds the decisive regions."""
    e = html.escape
    parts = []
    for s in doc["series"]:
        parts.append(_series_html(s, explain, near_tie))
        if progress is not None:
            progress(1)
    errors = "".join(f'<li class="err">{e(x["path"])}: {e(x["error"])}</li>' for x in doc.get("errors", []))
    summary = doc.get("summary", {})
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head><body>'
            f'<header><h1>{e(title)}</h1><div class="muted">{summary.get("images", 0)} photos in '
            f'{summary.get("series", 0)} series · model {e(str(doc.get("model", "?")))} · grouped by '
            f'{e(str(doc.get("series_by", "?")))}</div>{"<ul>" + errors + "</ul>" if errors else ""}</header>'
            f'{"".join(parts)}</body></html>\n')


def write_report(out: str | os.PathLike, doc: dict, *, scorer=None, title: str | None = None,
                 progress: Callable[[int], None] | None = None) -> Path:
    """Write the HTML contact sheet to `out` (atomically); with a scorer, each best pick shows the regions that
    decided it. Raises OutputError naming the file when it cannot be written."""
    explain = None
    if scorer is not None:
        from fgaesq.rank.explain import explain_pair

        def explain(a: str, b: str, pair_id: str) -> dict:
            return explain_pair(scorer, Path(a), Path(b), pair_id)

    from fgaesq.io.atomic import atomic_write_text

    path = Path(out)
    text = report_html(doc, explain=explain, title=title or f"fgaesq ranking: {path.stem}", progress=progress)
    # a unique temporary file in the same folder, renamed on success: no planted link is followed, no partial file
    return atomic_write_text(path, text, errors="backslashreplace", make_parents=True)  # odd name bytes shown escaped
