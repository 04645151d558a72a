"""The review app (FastAPI + Jinja2): overview of series, series view with loupe/compare/why, a small JSON API."""

from __future__ import annotations

import filecmp
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware

from fgaesq.io import ImageError, natural_key
from fgaesq.serve.review.cache import PreviewCache
from fgaesq.serve.review.shoot import Frame, Shoot, ShootSeries
from fgaesq.serve.review.sidecars import write_decision
from fgaesq.serve.review.store import ACTIONS, FrameState, ReviewStore, SeriesState

SERVE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = Jinja2Templates(directory=str(SERVE_DIR / "templates"))
STATIC_DIR = SERVE_DIR / "static"
PAGE_SIZE = 60
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
FILTERS = ("all", "undecided", "decided")


@dataclass
class ReviewSession:
    """Everything the app serves from: the shoot, its decisions, the preview cache and (lazily) the model."""

    shoot: Shoot
    store: ReviewStore
    cache: PreviewCache
    scorer_factory: object = None  # () -> Scorer, for "why"; None = no model
    xmp: bool = True
    reject_minus_one: bool = False
    picks_to: Path | None = None
    move_picks: bool = False
    db_label: str = ""
    _scorer: object = None
    _why: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def scorer(self):
        """The model, loaded on first use."""
        with self._lock:
            if self._scorer is None and self.scorer_factory is not None:
                self._scorer = self.scorer_factory()
            return self._scorer


class DecisionIn(BaseModel):
    """One key press posted by the series view."""

    frame: int = Field(ge=0)
    action: str = Field(min_length=1, max_length=8)
    stars: int | None = Field(default=None, ge=0, le=5)


def effective_best(series: ShootSeries, state: SeriesState) -> Frame | None:
    """The user's best: the frame named with B, else the best-ranked picked frame; None when nothing is picked."""
    if state.best is not None:
        f = next((f for f in series.frames if f.rel == state.best), None)
        if f is not None:
            return f
    return next((f for f in series.frames if state.frames.get(f.rel, FrameState()).flag == "pick"), None)


def _frame_json(f: Frame, st: FrameState) -> dict:
    return {"id": f.id, "rel": f.rel, "name": f.path.name, "rank": f.rank, "score": round(f.score, 4),
            "rating": f.rating, "flag": st.flag, "stars": st.stars,
            "thumb": f"/thumb/{f.id}.jpg", "preview": f"/preview/{f.id}.jpg", "full": f"/full/{f.id}.jpg"}


def series_json(session: ReviewSession, s: ShootSeries, state: SeriesState | None = None) -> dict:
    """The series view's data: frames in rank order with their decisions."""
    state = state or session.store.series_state(s)
    best = effective_best(s, state)
    n = len(session.shoot.series)
    return {
        "index": s.index, "name": s.name, "count": len(s.frames), "series_total": n,
        "prev": s.index - 1 if s.index > 0 else None, "next": s.index + 1 if s.index + 1 < n else None,
        "near_tie": s.near_tie, "margin": None if s.margin is None else round(s.margin, 4),
        "spread": round(s.spread, 4), "decided": state.decided(s), "override": state.override,
        "best": None if best is None else best.id, "model_best": s.best.id, "model": session.shoot.model,
        "frames": [_frame_json(f, state.frames.get(f.rel, FrameState())) for f in s.frames],
    }


def _pair_id(s: ShootSeries, a: Frame, b: Frame) -> str:
    order = sorted(s.frames, key=lambda f: natural_key(f.rel))
    ia, ib = order.index(a) + 1, order.index(b) + 1
    return f"{s.name}_{min(ia, ib)}_{max(ia, ib)}"


def create_app(session: ReviewSession, *, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The review app over `session`; `allowed_hosts` limits the Host header (DNS-rebinding guard)."""
    app = FastAPI(title="fgaesq review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.session = session
    shoot, store = session.shoot, session.store
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith(("/thumb/", "/preview/", "/full/", "/static/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    def series_at(index: int) -> ShootSeries:
        if not 0 <= index < len(shoot.series):
            raise HTTPException(status_code=404, detail="no such series")
        return shoot.series[index]

    def frame_at(fid: int) -> Frame:
        if not 0 <= fid < len(shoot.frames):
            raise HTTPException(status_code=404, detail="no such frame")
        return shoot.frames[fid]

    # --- pages ---------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request, filter: str = "all", page: int = 1) -> HTMLResponse:
        if filter not in FILTERS:
            filter = "all"
        states = store.all_states()
        cards = []
        for s in shoot.series:
            st = states[s.name]
            decided = st.decided(s)
            if (filter == "undecided" and decided) or (filter == "decided" and not decided):
                continue
            best = effective_best(s, st) or s.best
            cards.append({"s": s, "decided": decided, "best": best, "user_best": effective_best(s, st) is not None,
                          "override": st.override, "rest": [f for f in s.frames if f is not best][:4],
                          "picks": sum(1 for f in s.frames if st.frames.get(f.rel, FrameState()).flag == "pick"),
                          "rejects": sum(1 for f in s.frames if st.frames.get(f.rel, FrameState()).flag == "reject")})
        pages = max(1, (len(cards) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(max(1, page), pages)
        n_decided = sum(1 for s in shoot.series if states[s.name].decided(s))
        return TEMPLATES.TemplateResponse(request, "review_overview.html", {
            "shoot": shoot, "cards": cards[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], "filter": filter,
            "page": page, "pages": pages, "n_decided": n_decided, "n_series": len(shoot.series),
            "picks_to": session.picks_to, "move_picks": session.move_picks, "db_label": session.db_label,
        })

    @app.get("/series/{index}", response_class=HTMLResponse)
    def series_page(request: Request, index: int) -> HTMLResponse:
        s = series_at(index)
        return TEMPLATES.TemplateResponse(request, "review_series.html", {"shoot": shoot, "s": s})

    # --- images --------------------------------------------------------------------------------

    def image(fid: int, kind: str) -> Response:
        f = frame_at(fid)
        try:
            path = session.cache.get(f.path, kind)
        except ImageError as e:
            raise HTTPException(status_code=422, detail=e.reason) from None
        except OSError as e:
            raise HTTPException(status_code=404, detail=f"{f.rel}: {e.strerror or e}") from None
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/thumb/{fid}.jpg")
    def thumb(fid: int) -> Response:
        return image(fid, "thumb")

    @app.get("/preview/{fid}.jpg")
    def preview(fid: int) -> Response:
        return image(fid, "preview")

    @app.get("/full/{fid}.jpg")
    def full(fid: int) -> Response:
        return image(fid, "full")

    # --- JSON API ------------------------------------------------------------------------------

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True, "series": len(shoot.series), "frames": len(shoot.frames)}

    @app.get("/api/series/{index}")
    def api_series(index: int) -> dict:
        return series_json(session, series_at(index))

    @app.get("/api/overview")
    def api_overview() -> dict:
        states = store.all_states()
        return {"series": [{"index": s.index, "name": s.name, "count": len(s.frames), "decided": states[s.name].decided(s),
                            "near_tie": s.near_tie} for s in shoot.series]}

    @app.post("/api/decide")
    def api_decide(body: DecisionIn) -> dict:
        if body.action not in ACTIONS:
            raise HTTPException(status_code=422, detail=f"action must be one of {', '.join(ACTIONS)}")
        if body.action == "stars" and body.stars is None:
            raise HTTPException(status_code=422, detail="stars: give 0-5")
        f = frame_at(body.frame)
        s = shoot.series[f.series]
        changed = store.decide(f.rel, body.action, body.stars)
        state = store.series_state(s)
        warnings = []
        if session.xmp:
            best = effective_best(s, state)
            todo = [shoot.frame_by_rel(rel) for rel in changed]
            if best is not None and best not in todo:  # the best may have moved: refresh its stars
                todo.append(best)
            for fr in todo:
                try:
                    write_decision(shoot, fr, state.frames.get(fr.rel, FrameState()), is_best=best is fr,
                                   reject_minus_one=session.reject_minus_one)
                except Exception as e:  # noqa: BLE001 - the decision is stored; a bad sidecar is only reported
                    warnings.append(f"decision saved, but no sidecar for {fr.rel}: {e}")
        out = series_json(session, s, state)
        out["warnings"] = warnings
        return out

    @app.get("/api/why")
    def api_why(a: int, b: int) -> Response:
        fa, fb = frame_at(a), frame_at(b)
        if fa.series != fb.series or a == b:
            raise HTTPException(status_code=422, detail="why compares two different frames of one series")
        key = (a, b)
        if key not in session._why:
            scorer = session.scorer()
            if scorer is None:
                raise HTTPException(status_code=409, detail="no model loaded; restart with --weights")
            from fgaesq.rank.explain import explain_pair

            s = shoot.series[fa.series]
            try:
                session._why[key] = explain_pair(scorer, fa.path, fb.path, _pair_id(s, fa, fb))
            except ImageError as e:
                raise HTTPException(status_code=422, detail=f"{e.path}: {e.reason}") from None
        out = dict(session._why[key])
        out.update(a_id=a, b_id=b, a_name=fa.path.name, b_name=fb.path.name,
                   series_margin=round(fa.score - fb.score, 4))
        return JSONResponse(out)

    @app.post("/api/export-picks")
    def api_export() -> dict:
        if session.picks_to is None:
            raise HTTPException(status_code=409, detail="start fgaesq review with --copy-picks DIR or --move-picks DIR")
        return export_picks(session)

    return app


def export_picks(session: ReviewSession) -> dict:
    """Copy (or move) every picked photo, with its sidecar, into session.picks_to; returns counts and problems."""
    dest = session.picks_to
    dest.mkdir(parents=True, exist_ok=True)
    states = session.store.all_states()
    done, problems = 0, []
    for s in session.shoot.series:
        st = states[s.name]
        for f in s.frames:
            if st.frames.get(f.rel, FrameState()).flag != "pick" or not f.path.is_file():
                continue
            target = dest / f.rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() and not filecmp.cmp(f.path, target, shallow=False):
                problems.append(f"{f.rel}: {target} exists with other content; not replaced")
                continue
            side = f.path.with_name(f.path.name + ".xmp")
            if session.move_picks:
                shutil.move(f.path, target)
                if side.is_file():
                    shutil.move(side, target.with_name(target.name + ".xmp"))
            else:
                shutil.copy2(f.path, target)
                if side.is_file():
                    shutil.copy2(side, target.with_name(target.name + ".xmp"))
            done += 1
    return {"done": done, "moved": session.move_picks, "to": str(dest), "problems": problems}
