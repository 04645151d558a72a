"""`fgaesq review PATH`: rank a shoot (or load a ranking) and cull it in the browser."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import webbrowser
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fgaesq.rank.series import DEFAULT_SIMILARITY, DEFAULT_TIME_GAP, SERIES_BY
from fgaesq.serve.review.shoot import DEFAULT_NEAR_TIE

DEFAULT_PORT = 8765


def _console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(2)


@contextlib.contextmanager
def _progress(console: Console, quiet: bool):
    if quiet:
        yield None
        return
    cols = (TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*cols, console=console, transient=True) as prog:

        def factory(description: str, total: int):
            task = prog.add_task(description, total=total)
            return lambda n: prog.advance(task, n)

        yield factory


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def review_cmd(
    path: Path = typer.Argument(..., help="The shoot: a folder of photos (sub-folders are series; a flat folder is grouped)."),
    from_json: Path | None = typer.Option(None, "--from", help="Review an earlier `fgaesq rank --out rank.json` instead of ranking now."),
    weights: str | None = typer.Option(None, "--weights", "-w", help="Model for ranking and 'why' (as `fgaesq rank --weights`)."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps."),
    series_by: str = typer.Option("auto", "--series-by", help=f"{' | '.join(SERIES_BY)}: how photos form series."),
    time_gap: float = typer.Option(DEFAULT_TIME_GAP, "--time-gap", help="Seconds between shots that start a new series."),
    similarity: float = typer.Option(DEFAULT_SIMILARITY, "--similarity", help="Cosine similarity needed to stay in one series."),
    near_tie: float = typer.Option(DEFAULT_NEAR_TIE, "--near-tie", help="Top two within this many points get a near-tie badge."),
    cache: Path | None = typer.Option(None, "--cache", help="Folder for thumbnails, previews and the cached ranking "
                                      "(default: the user cache folder, fgaesq/review/<folder hash>)."),
    db: str | None = typer.Option(None, "--db", help="Decisions database: SQLite file or URL (default: the user state "
                                  "folder, fgaesq/review/<folder hash>/review.sqlite). PostgreSQL: postgresql+psycopg://USER@HOST/DB."),
    annotator: str = typer.Option("review", "--annotator", help="Name stored with your judgements (for `fgaesq calibrate`)."),
    xmp: bool = typer.Option(True, "--xmp/--no-xmp", help="Write each decision to the photo's XMP sidecar (<photo>.xmp)."),
    reject_minus_one: bool = typer.Option(False, "--reject-minus-one", help="Write rejects as xmp:Rating -1 (Lightroom's "
                                          "'rejected'); by default a reject gets Rating 0 and Label Red."),
    copy_picks: Path | None = typer.Option(None, "--copy-picks", help="Offer a button that copies the picks (and sidecars) here."),
    move_picks: Path | None = typer.Option(None, "--move-picks", help="Same, but move them (do it last: moved photos leave the review)."),
    export_votes_to: Path | None = typer.Option(None, "--export-votes", help="Write your judgements as votes.csv/.jsonl for "
                                                "`fgaesq calibrate` and exit (no server)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; the default serves this machine only."),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535, help="TCP port (0 = any free port)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser window."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Cull a shoot in the browser: series with the suggested best, loupe, compare, why, single-key decisions."""
    console = _console()
    if not path.is_dir():
        raise _fail(console, f"{path}: not a folder; `fgaesq review` takes the folder of the shoot")
    if series_by not in SERIES_BY:
        raise _fail(console, f"--series-by must be one of {', '.join(SERIES_BY)}, not {series_by!r}")
    if copy_picks and move_picks:
        raise _fail(console, "give --copy-picks or --move-picks, not both")
    root = path.resolve()
    from fgaesq.serve.annotate.db import DatabaseError, display_url, make_engine, normalise_url
    from fgaesq.serve.annotate.validate import InvalidInput, clean_annotator

    try:
        annotator = clean_annotator(annotator)
    except InvalidInput as e:
        raise _fail(console, f"--annotator: {e}") from None
    from fgaesq.serve.review.cache import PreviewCache, default_cache_dir, default_state_dir

    cache_dir = (cache or default_cache_dir(root)).expanduser()
    if db is None:
        state = default_state_dir(root)
        state.mkdir(parents=True, exist_ok=True)
        db = str(state / "review.sqlite")
    try:
        url = normalise_url(db)
        engine = make_engine(url)
    except DatabaseError as e:
        raise _fail(console, str(e)) from None

    if export_votes_to is not None:
        from fgaesq.serve.annotate.export import export_votes

        try:
            n = export_votes(engine, export_votes_to, bare_names=True)
        except (OSError, ValueError) as e:
            raise _fail(console, f"{export_votes_to}: cannot write ({e}); choose another --export-votes") from None
        console.print(f"{n} judgements written to {export_votes_to}; next: fgaesq calibrate {export_votes_to} --root {root}")
        raise typer.Exit(0)

    scorer_box: dict = {}

    def get_scorer():
        if "s" not in scorer_box:
            from fgaesq.scoring import load_scorer

            scorer_box["s"] = load_scorer(weights, device=device)
        return scorer_box["s"]

    from fgaesq.serve.review.shoot import ShootError, load_rank_json, shoot_from_doc

    try:
        if from_json is not None:
            shoot = load_rank_json(from_json, root, near_tie=near_tie)
        else:
            from fgaesq.scoring import ScorerError, weights_message
            from fgaesq.serve.review.ranking import rank_folder

            try:
                scorer = get_scorer()
            except (ScorerError, ValueError) as e:
                raise _fail(console, weights_message(weights, e)) from None
            if not quiet:
                console.print(f"ranking {root} with {scorer.name}")
            settings = {"series_by": series_by, "time_gap": time_gap, "similarity": similarity,
                        "max_size": scorer.preprocess.max_size}
            with _progress(console, quiet) as progress:
                try:
                    doc, cached = rank_folder(root, scorer, cache_dir=cache_dir, settings=settings, progress=progress)
                except ValueError as e:
                    raise _fail(console, str(e)) from None
            if cached and not quiet:
                console.print("(ranking reused from the cache: no photo changed)")
            shoot = shoot_from_doc(doc, root, near_tie=near_tie)
    except ShootError as e:
        raise _fail(console, str(e)) from None
    for line in shoot.skipped:
        console.print(f"skipped {line}", markup=False)

    import uvicorn

    from fgaesq.serve.review.app import ReviewSession, create_app
    from fgaesq.serve.review.store import ReviewStore

    session = ReviewSession(
        shoot=shoot, store=ReviewStore(engine, shoot, annotator=annotator), cache=PreviewCache(cache_dir),
        scorer_factory=get_scorer, xmp=xmp, reject_minus_one=reject_minus_one,
        picks_to=(copy_picks or move_picks), move_picks=move_picks is not None, db_label=display_url(url),
    )
    loopback = _is_loopback(host)
    if not loopback:
        console.print(f"[yellow]warning:[/yellow] binding to {host}: anyone who can reach it sees the photos and can decide")
    app = create_app(session, allowed_hosts=["127.0.0.1", "localhost"] if loopback else None)
    if port == 0:
        port = _free_port(host)
    address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    console.print(f"{len(shoot.series)} series, {len(shoot.frames)} photos; decisions in {display_url(url)}; "
                  f"cache {cache_dir}; open {address}  (Ctrl+C stops)")
    threading.Thread(target=session.cache.warm, args=(list(f.path for f in shoot.frames),), daemon=True).start()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if not no_browser:
        def _open() -> None:
            import time

            for _ in range(100):
                if server.started:
                    webbrowser.open(address)
                    return
                time.sleep(0.1)

        threading.Thread(target=_open, daemon=True).start()
    try:
        server.run()
    except OSError as e:
        raise _fail(console, f"cannot listen on {host}:{port} ({e.strerror or e}); try --port 0") from None
    finally:  # uvicorn re-raises Ctrl+C / SIGTERM after its shutdown: say where things stand first
        if server.started:
            _summary(console, session, path)


def _summary(console: Console, session, path: Path) -> None:
    """One line on exit: series decided, judgements stored and how to export them."""
    shoot = session.shoot
    states = session.store.all_states()
    decided = sum(1 for s in shoot.series if states[s.name].decided(s))
    judged = len(session.store.judgements())
    console.print(f"{decided} of {len(shoot.series)} series decided; {judged} judgements from your overrides"
                  + (f" (for training: fgaesq review {path} --export-votes votes.csv)" if judged else ""))
