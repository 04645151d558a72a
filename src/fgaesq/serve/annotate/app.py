"""The FastAPI app: server-rendered pages (Jinja2), images from the catalogue only, a small JSON API."""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path
from urllib.parse import quote, unquote

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware

from fgaesq.io.image import browser_safe
from fgaesq.serve.annotate.catalog import CONVERT_EXTS, Catalog
from fgaesq.serve.annotate.db import make_engine, save_series_folders
from fgaesq.serve.annotate.preview import PreviewError, preview_png
from fgaesq.serve.annotate.store import AnnotationStore, Assignment, PairUnavailable, Progress, VoteRejected
from fgaesq.serve.annotate.validate import InvalidInput, clean_annotator, clean_choice, clean_token

SERVE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = Jinja2Templates(directory=str(SERVE_DIR / "templates"))
STATIC_DIR = SERVE_DIR / "static"
COOKIE = "fgaesq_annotator"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: Largest request body accepted (votes and forms are a few hundred bytes); larger ones get 413.
MAX_BODY_BYTES = 64 * 1024
#: Vote ids shown on /judge?saved= are database integers; anything longer is ignored.
MAX_ID_DIGITS = 18
NOTICES = {
    "taken": "That pair was reassigned while you were away and already has its votes; here is the next one."
}


def image_url(series: str, name: str) -> str:
    """The URL path of one catalogue image."""
    return f"/img/{quote(series, safe='')}/{quote(name, safe='')}"


class VoteIn(BaseModel):
    """A vote posted to the JSON API."""

    annotator: str = Field(min_length=1, max_length=64)
    choice: str = Field(min_length=1, max_length=5)
    token: str | None = Field(default=None, max_length=64)
    series: str | None = Field(default=None, max_length=255)
    left: str | None = Field(default=None, max_length=255)
    right: str | None = Field(default=None, max_length=255)


def _progress_json(p: Progress) -> dict:
    return {
        "target": p.target,
        "pairs": p.pairs,
        "pairs_done": p.pairs_done,
        "votes": p.votes,
        "votes_needed": p.votes_needed,
        "votes_total": p.votes_total,
        "annotators": p.annotators,
        "percent": round(p.percent, 2),
        "mine": p.mine,
        "left_for_me": p.left_for_me,
        "series": [
            {
                "name": s.name,
                "images": s.images,
                "pairs": s.pairs,
                "pairs_done": s.pairs_done,
                "votes": s.votes,
                "votes_needed": s.votes_needed,
                "percent": round(s.percent, 2),
            }
            for s in p.series
        ],
    }


def _assignment_json(a: Assignment) -> dict:
    return {
        "done": False,
        "token": a.token,
        "series": a.series,
        "left": a.left,
        "right": a.right,
        "left_url": image_url(a.series, a.left),
        "right_url": image_url(a.series, a.right),
        "votes": a.votes,
        "probability": round(a.probability, 4),
        "expires_at": a.expires_at.isoformat(timespec="seconds") + "Z",
    }


def _annotator_from(request: Request) -> str | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return clean_annotator(unquote(raw))
    except InvalidInput:
        return None


class UnambiguousFraming:
    """ASGI guard: a request carrying both Content-Length and Transfer-Encoding (request smuggling) gets 400."""

    def __init__(self, app) -> None:  # noqa: ANN001 - any ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - ASGI signature
        if scope["type"] == "http":
            names = [k.lower() for k, _ in scope.get("headers", ())]
            lengths = names.count(b"content-length")
            if (lengths and b"transfer-encoding" in names) or lengths > 1:
                response = JSONResponse(
                    {"detail": "ambiguous request framing (Content-Length with Transfer-Encoding); send one"},
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _short_errors(exc: RequestValidationError) -> list[dict]:
    """Validation errors without the posted input (never echoed back) and with short messages."""
    return [
        {"loc": [str(x)[:64] for x in e.get("loc", ())][:6], "msg": str(e.get("msg", "invalid"))[:200]}
        for e in exc.errors()[:5]
    ]


def _vote_id(saved: str | None) -> int | None:
    """The vote id of /judge?saved=…, or None when absent or not a plausible id."""
    text = (saved or "").strip()
    return int(text) if text.isdecimal() and text.isascii() and len(text) <= MAX_ID_DIGITS else None


def create_app(store: AnnotationStore, *, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The annotation app over `store`; `allowed_hosts` limits the Host header (DNS-rebinding guard), None = any."""
    app = FastAPI(
        title="fgaesq annotate", docs_url=None, redoc_url=None, openapi_url=None, max_body_size=MAX_BODY_BYTES
    )
    app.state.store = store
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.add_middleware(UnambiguousFraming)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _short_errors(exc)}, status_code=422)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith(("/judge", "/api/")) or request.url.path == "/":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    def page(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("annotator", _annotator_from(request))
        return TEMPLATES.TemplateResponse(request, name, {"image_url": image_url, **ctx}, status_code=status)

    # --- pages ---------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        who = _annotator_from(request)
        return page(request, "index.html", progress=store.progress(who), error=None)

    @app.post("/login")
    def login(request: Request, name: str = Form("", max_length=200)) -> Response:
        try:
            who = clean_annotator(name)
        except InvalidInput as exc:
            return page(request, "index.html", 400, progress=store.progress(), error=str(exc), annotator=None)
        response = RedirectResponse("/judge", status_code=303)
        response.set_cookie(
            COOKIE, quote(who, safe=""), httponly=True, samesite="strict", max_age=30 * 24 * 3600
        )
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        who = _annotator_from(request)
        if who:
            store.release(who)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/judge", response_class=HTMLResponse)
    def judge(request: Request, saved: str | None = None, notice: str | None = None) -> Response:
        who = _annotator_from(request)
        if who is None:
            return RedirectResponse("/", status_code=303)
        saved = _vote_id(saved)
        if saved is not None and not store.is_vote_of(saved, who):
            saved = None  # confirm only votes that are really stored
        pair = store.next_pair(who)
        progress = store.progress(who)
        message = NOTICES.get(notice or "")
        if pair is None:
            return page(request, "done.html", progress=progress, saved=saved, notice=message)
        series_progress = next(s for s in progress.series if s.name == pair.series)
        return page(
            request,
            "judge.html",
            pair=pair,
            progress=progress,
            series=series_progress,
            saved=saved,
            notice=message,
        )

    @app.post("/vote")
    def vote_form(
        request: Request,
        choice: str = Form("", max_length=10),
        token: str = Form("", max_length=64),
        series: str = Form("", max_length=255),
        left: str = Form("", max_length=255),
        right: str = Form("", max_length=255),
    ) -> Response:
        who = _annotator_from(request)
        if who is None:
            return RedirectResponse("/", status_code=303)
        try:
            receipt = store.record_vote(
                who, clean_choice(choice), token=clean_token(token), series=series, left=left, right=right
            )
        except PairUnavailable:
            return RedirectResponse("/judge?notice=taken", status_code=303)
        except (InvalidInput, VoteRejected) as exc:
            return page(request, "error.html", 400, message=str(exc))
        return RedirectResponse(f"/judge?saved={receipt.id}", status_code=303)

    # --- images --------------------------------------------------------------------------------

    @app.get("/img/{series}/{name}")
    def image(series: str, name: str) -> Response:
        path = store.catalog.image_path(series, name)
        if path is None:
            raise HTTPException(status_code=404, detail="no such image")
        headers = {"Cache-Control": "private, max-age=3600"}
        if path.suffix.lower() in CONVERT_EXTS or not browser_safe(path):
            # decoded by fgaesq.io.load_image (the pixels the model sees), as a bounded-size lossless PNG preview
            try:
                body = preview_png(path)
            except PreviewError as exc:
                raise HTTPException(status_code=422, detail=f"cannot show {name}: {exc.reason}") from None
            return Response(body, media_type="image/png", headers=headers)
        return FileResponse(path, headers=headers)

    # --- JSON API ------------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True, "series": len(store.catalog.series), "pairs": store.catalog.n_pairs}

    @app.get("/api/progress")
    def api_progress(annotator: str | None = None) -> dict:
        try:
            who = clean_annotator(annotator) if annotator else None
        except InvalidInput as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return _progress_json(store.progress(who))

    @app.get("/api/next")
    def api_next(annotator: str) -> dict:
        try:
            who = clean_annotator(annotator)
        except InvalidInput as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        pair = store.next_pair(who)
        return {"done": True} if pair is None else _assignment_json(pair)

    @app.post("/api/vote")
    def api_vote(body: VoteIn) -> Response:
        try:
            who = clean_annotator(body.annotator)
            receipt = store.record_vote(
                who,
                clean_choice(body.choice),
                token=clean_token(body.token),
                series=body.series,
                left=body.left,
                right=body.right,
            )
        except InvalidInput as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except VoteRejected as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        except PairUnavailable as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        return JSONResponse(
            {
                "id": receipt.id,
                "series": receipt.series,
                "image_a": receipt.image_a,
                "image_b": receipt.image_b,
                "choice": receipt.choice,
                "annotator": receipt.annotator,
                "already": receipt.already,
            }
        )

    return app


def build_store(
    root: str | Path, db_url: str, *, target_votes: int = 3, lease_seconds: float = 600.0
) -> AnnotationStore:
    """Scan ROOT and open the database: the store the app runs on."""
    catalog = Catalog.scan(root)  # before the database, so a bad ROOT leaves no database file behind
    engine = make_engine(db_url)
    save_series_folders(engine, {s.name: s.directory for s in catalog.series.values()})
    return AnnotationStore(engine, catalog, target_votes=target_votes, lease_seconds=lease_seconds)


def app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory` and multi-worker runs: FGAESQ_ANNOTATE_{ROOT,DB,TARGET,LEASE,HOSTS}."""
    env = os.environ
    store = build_store(
        env["FGAESQ_ANNOTATE_ROOT"],
        env["FGAESQ_ANNOTATE_DB"],
        target_votes=int(env.get("FGAESQ_ANNOTATE_TARGET", "3")),
        lease_seconds=float(env.get("FGAESQ_ANNOTATE_LEASE", "600")),
    )
    hosts = [h for h in env.get("FGAESQ_ANNOTATE_HOSTS", "").split(",") if h]
    # choix (and scipy under it) takes seconds to import: load it now, not during the first judgement
    threading.Thread(target=importlib.import_module, args=("choix",), daemon=True).start()
    return create_app(store, allowed_hosts=hosts or None)
