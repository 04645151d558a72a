"""`fgaesq annotate ROOT --db URL` (serve the app) and `fgaesq annotate export --db URL --out votes.csv`."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import sys
from pathlib import Path

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

DEFAULT_DB = "fgaesq-annotate.sqlite"
err = Console(stderr=True)


class _ServeByDefault(TyperGroup):
    """`fgaesq annotate ROOT …` means `fgaesq annotate serve ROOT …`; `export` stays a sub-command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


annotate_app = typer.Typer(
    cls=_ServeByDefault,
    help="Collect pairwise judgements within series in the browser: `fgaesq annotate ROOT --db URL`.",
    no_args_is_help=True,
)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _port_free(host: str, port: int) -> str | None:
    """None when (host, port) can be bound now, else the reason (checked before anything is created)."""
    import errno

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve --host {host} ({exc.strerror})"
    for family, _, _, _, addr in infos:
        with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(addr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return (f"cannot listen on {host}:{port} ({exc.strerror}); is another server running? "
                            "choose another --port")
                if exc.errno == errno.EACCES:
                    return f"cannot listen on {host}:{port} ({exc.strerror}); choose a --port above 1023"
                # e.g. an IPv6 address on a machine without IPv6: uvicorn reports it if it matters
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@annotate_app.command("serve")
def serve_cmd(
    root: Path = typer.Argument(..., help="Folder whose sub-folders are the series (≥ 2 images each)."),
    db: str = typer.Option(
        DEFAULT_DB, "--db", help="SQLite file or URL (sqlite:///F, postgresql+psycopg://U@H/DB)."
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to bind; the default serves this machine only."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    target_votes: int = typer.Option(3, "--target-votes", min=1, max=100, help="Votes wanted per pair."),
    lease_seconds: float = typer.Option(
        600.0,
        "--lease-seconds",
        min=5.0,
        max=86400.0,
        help="How long a served pair stays reserved for its annotator.",
    ),
    workers: int = typer.Option(
        1, min=1, max=64, help="Server processes (safe: assignments lock the database)."
    ),
) -> None:
    """Serve the annotation app: two images of a series side by side, choose with ← → ↓.

    Exit codes: 0 stopped normally, 2 bad ROOT, --db or port (nothing created), 3 the server failed to start.
    """
    import uvicorn

    from fgaesq.serve.annotate.app import build_store
    from fgaesq.serve.annotate.catalog import CatalogError
    from fgaesq.serve.annotate.db import DatabaseError, display_url, normalise_url

    busy = _port_free(host, port)
    if busy:
        _fail(busy)
    try:
        url = normalise_url(db)
        store = build_store(
            root,
            url.render_as_string(hide_password=False),
            target_votes=target_votes,
            lease_seconds=lease_seconds,
        )
    except (CatalogError, DatabaseError) as exc:
        _fail(str(exc))
    store.engine.dispose()
    hosts = ["127.0.0.1", "localhost"] if _is_loopback(host) else []
    if not _is_loopback(host):
        err.print(
            f"[yellow]warning:[/yellow] binding to {host}: anyone who can reach it can see the images and vote "
            "(there is no authentication)",
            highlight=False,
        )
    cat = store.catalog
    err.print(
        f"{len(cat.series)} series, {cat.n_pairs} pairs, target {target_votes} votes per pair; "
        f"database {display_url(url)}; open http://{host}:{port}/",
        highlight=False,
    )
    os.environ.update(
        FGAESQ_ANNOTATE_ROOT=str(cat.root),
        FGAESQ_ANNOTATE_DB=url.render_as_string(hide_password=False),
        FGAESQ_ANNOTATE_TARGET=str(target_votes),
        FGAESQ_ANNOTATE_LEASE=str(lease_seconds),
        FGAESQ_ANNOTATE_HOSTS=",".join(hosts),
    )
    uvicorn.run(
        "fgaesq.serve.annotate.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@annotate_app.command("export")
def export_cmd(
    db: str = typer.Option(DEFAULT_DB, "--db", help="The database the app wrote (file or URL)."),
    out: str = typer.Option(..., "--out", "-o", help="votes.csv, votes.jsonl, or - for stdout (CSV)."),
    bare_names: bool = typer.Option(
        False, "--bare-names", help="Write image file names only, not series/file paths relative to ROOT."
    ),
) -> None:
    """Write every vote as `series,image_a,image_b,choice,annotator,time` (the `fgaesq calibrate` input)."""
    from fgaesq.serve.annotate.db import DatabaseError, make_engine, normalise_url
    from fgaesq.serve.annotate.export import export_votes

    try:
        url = normalise_url(db)
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
            _fail(f"{db}: no such database file; give the --db the app was started with")
        engine = make_engine(url)
    except DatabaseError as exc:
        _fail(str(exc))
    try:
        n = export_votes(engine, out, bare_names=bare_names)
        if out == "-":
            sys.stdout.flush()
    except BrokenPipeError:  # `--out - | head`: the reader has what it wanted
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except OSError as exc:
        reason = getattr(exc, "reason", None) or f"cannot write ({exc.strerror or exc})"
        _fail(f"{out}: {reason}; choose another --out")
    finally:
        engine.dispose()
    if out != "-":
        err.print(f"{n} votes written to {out}", highlight=False)
