"""The `fgaesq` command line: a thin Typer shell over the library.

Each sub-package that owns a command exposes a Typer command function (or a Typer app) in its own `cli.py`.
This file only names them: a command's module is imported when that command runs or shows its own help, so
`fgaesq --help` and `fgaesq --version` import neither torch nor the web or training stacks. A command whose
optional dependencies are missing ends with one line naming the extra to install (exit code 2).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click
import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """A command registered by name: `target` is "module:attribute", `summary` its line in `fgaesq --help`."""

    target: str
    summary: str


# --- command registrations (one line per command; in the order `fgaesq --help` lists them) ---
COMMANDS: dict[str, LazyCommand] = {
    "rank": LazyCommand("fgaesq.rank.cli:rank_cmd", "Rank near-identical photos within each series and name the best of each."),
    "score": LazyCommand("fgaesq.rank.cli:score_cmd", "Score each image on its own (1-10, higher is better)."),
    "train": LazyCommand("fgaesq.train.cli:train_cmd", "Train or fine-tune FGAesQ (EMD + RankReg/CTAlign, alternating). See docs/training.md."),
    "eval": LazyCommand("fgaesq.evaluate.cli:eval_cmd", "Evaluate a model: pair Acc/F1, s-Acc, s-SRCC per category, or SRCC/PLCC on a CSV."),
    "calibrate": LazyCommand("fgaesq.calibrate.cli:calibrate_cmd", "Calibrate pairwise votes into ranked series with Bradley-Terry probabilities."),
    "refine": LazyCommand("fgaesq.calibrate.cli:refine_cmd", "Flag series to drop or review: dissimilar, indiscernible, defect, crop overlap."),
    "export": LazyCommand("fgaesq.model.cli:export_cmd", "Export a model to ONNX (fixed 512-slot sequences, any batch size)."),
    "annotate": LazyCommand("fgaesq.serve.annotate.cli:annotate_app", "Collect pairwise judgements within series in the browser."),
    "review": LazyCommand("fgaesq.serve.review.cli:review_cmd", "Cull a shoot in the browser: best picks, why, decisions to XMP and training votes."),
}

# top-level module of an optional dependency -> the extra that installs it (pyproject.toml)
EXTRAS = {
    "lightning": "train",
    "tensorboard": "train",
    "yaml": "train",
    "fastapi": "serve",
    "uvicorn": "serve",
    "starlette": "serve",
    "jinja2": "serve",
    "multipart": "serve",
    "python_multipart": "serve",
    "sqlalchemy": "serve",
    "platformdirs": "serve",
    "psycopg": "postgres",
    "cv2": "refine",
    "skimage": "refine",
    "networkx": "calibrate",
    "choix": "calibrate",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "onnxscript": "onnx",
    "ray": "scale",
    "webdataset": "scale",
    "pyarrow": "scale",
    "fsspec": "scale",
}


# a command's own extra installs every optional dependency the command needs
COMMAND_EXTRAS = {"train": "train", "calibrate": "calibrate", "refine": "refine", "annotate": "serve", "review": "serve"}


def missing_extra(exc: ModuleNotFoundError, command: str | None = None) -> str | None:
    """The extra to install for the module `exc` could not import, or None when it is not an optional one."""
    name = (exc.name or "").split(".")[0]
    if name not in EXTRAS:
        return None
    return COMMAND_EXTRAS.get(command or "", EXTRAS[name])


class _Placeholder(click.Command):
    """Stands in for a lazy command in `fgaesq --help`; never invoked (resolve_command loads the real one)."""


def _load(name: str) -> click.Command:
    module, attr = COMMANDS[name].target.split(":")
    obj = getattr(importlib.import_module(module), attr)
    shell = typer.Typer(add_completion=False)
    if isinstance(obj, typer.Typer):
        shell.add_typer(obj, name=name)
        return typer.main.get_command(shell).commands[name]
    shell.command(name, help=obj.__doc__)(obj)
    return typer.main.get_command(shell)  # a single command: Typer returns it as is


class LazyGroup(TyperGroup):
    """A Typer group whose registered commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = [n for n in super().list_commands(ctx) if n not in COMMANDS]
        return eager[:1] + list(COMMANDS) + eager[1:]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return _Placeholder(cmd_name, help=COMMANDS[cmd_name].summary)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, cmd, rest = super().resolve_command(ctx, args)
        if isinstance(cmd, _Placeholder):
            cmd = _load(name)
        return name, cmd, rest

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            command = ctx.invoked_subcommand
            extra = missing_extra(exc, command)
            if extra is None:
                raise
            typer.echo(
                f"error: fgaesq {command} needs {exc.name}, which is not installed: pip install 'fgaesq[{extra}]'",
                err=True,
            )
            raise typer.Exit(2) from None


def _version(value: bool) -> None:
    if value:
        from fgaesq import __version__

        typer.echo(f"fgaesq {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="fgaesq",
    cls=LazyGroup,
    help="Fine-grained image aesthetic assessment: rank near-identical photos, score single images (1-10).",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the fgaesq version and exit."
    ),
) -> None:
    """Fine-grained image aesthetic assessment: rank near-identical photos, score single images (1-10)."""


@app.command()
def version() -> None:
    """Print the fgaesq version."""
    from fgaesq import __version__

    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
