"""The `fgaesq` command line: a thin Typer shell over the library.

Each sub-package that owns a command exposes a Typer app or a function in its own `cli.py`
module; this file only wires them together.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="fgaesq",
    help="Fine-grained image aesthetic assessment: rank near-identical photos, score single images (1-10).",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print the fgaesq version."""
    from fgaesq import __version__

    typer.echo(__version__)


# --- command registrations (one line per command; keep sorted) ---
from fgaesq.rank.cli import rank_cmd, score_cmd  # noqa: E402

app.command("rank")(rank_cmd)
app.command("score")(score_cmd)


if __name__ == "__main__":  # pragma: no cover
    app()
