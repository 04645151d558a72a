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
from fgaesq.calibrate.cli import calibrate_cmd, refine_cmd  # noqa: E402
from fgaesq.evaluate.cli import eval_cmd  # noqa: E402
from fgaesq.model.cli import export_cmd  # noqa: E402
from fgaesq.rank.cli import rank_cmd, score_cmd  # noqa: E402
from fgaesq.serve.annotate.cli import annotate_app  # noqa: E402
from fgaesq.train.cli import train_cmd  # noqa: E402

app.command("rank")(rank_cmd)
app.command("score")(score_cmd)
app.command("train", help=train_cmd.__doc__)(train_cmd)
app.command("eval")(eval_cmd)
app.command("calibrate")(calibrate_cmd)
app.command("refine")(refine_cmd)
app.command("export")(export_cmd)
app.add_typer(annotate_app, name="annotate")


if __name__ == "__main__":  # pragma: no cover
    app()
