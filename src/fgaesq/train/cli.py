"""`fgaesq train`: every field of the run config is an option; `--config run.yaml` and `--print-config`."""

from __future__ import annotations

import inspect
import json
import types
import typing
from pathlib import Path
from typing import Any, Optional  # noqa: UP035 - Typer reads these annotations

import typer

from fgaesq.train.config import load_config, section_fields

HELP = (
    "Train or fine-tune FGAesQ (EMD on coarse scores + RankReg/CTAlign on fine-grained series, alternating). "
    "Every config field is an option; precedence: defaults < --config YAML < options. See docs/training.md."
)


def _option_type(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        tp = [a for a in typing.get_args(tp) if a is not type(None)][0]
        origin = typing.get_origin(tp)
    if origin is list:
        return Optional[list[str]]  # noqa: UP045
    return Optional[tp]  # noqa: UP045


def _params() -> list[inspect.Parameter]:
    params = [
        inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],  # noqa: UP045
                          default=typer.Option(None, "--config", "-c", help="run config YAML")),
        inspect.Parameter("print_config", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                          default=typer.Option(False, "--print-config", help="print the merged config as YAML and exit")),
    ]
    for sec, f in section_fields():
        flag = "--" + f.name.replace("_", "-")
        tp = _option_type(f.type)
        inner = typing.get_args(tp)[0]
        decl = f"{flag}/--no-{flag[2:]}" if inner is bool else flag
        helptext = f"({sec}) {f.metadata.get('help', '')}"
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=tp,
                                        default=typer.Option(None, decl, help=helptext, show_default=False)))
    return params


def train_cmd(**kwargs: Any) -> None:
    """Train or fine-tune a model (see `fgaesq train --help`)."""
    config = kwargs.pop("config")
    print_config = kwargs.pop("print_config")
    try:
        cfg = load_config(config, kwargs)
    except ValueError as e:
        typer.echo(f"fgaesq train: {e}", err=True)
        raise typer.Exit(2) from None
    if print_config:
        typer.echo(cfg.to_yaml(), nl=False)
        return
    from fgaesq.data.errors import DataFormatError
    from fgaesq.train.run import train

    try:
        result = train(cfg)
    except (DataFormatError, ValueError, FileNotFoundError) as e:
        typer.echo(f"fgaesq train: {e}", err=True)
        raise typer.Exit(2) from None
    except (EOFError, OSError) as e:  # an unreadable file met while training: one line, not click's "Aborted."
        where = getattr(e, "filename", None)
        typer.echo(f"fgaesq train: {where + ': ' if where else ''}{type(e).__name__}: {e}", err=True)
        raise typer.Exit(1) from None
    except RuntimeError as e:  # text tower / weights unavailable: one clear line
        if type(e).__name__ in ("TextTowerError", "OpenAIWeightsError", "CheckpointError"):
            typer.echo(f"fgaesq train: {e}", err=True)
            raise typer.Exit(2) from None
        raise
    if result.get("exported"):
        summary = {k: result.get(k) for k in ("exported", "best_checkpoint", "last_checkpoint")}
        summary["val"] = {k: round(v, 4) for k, v in result["metrics"].items() if k.startswith("val/")}
        typer.echo(json.dumps(summary, indent=2))


train_cmd.__signature__ = inspect.Signature(_params())  # type: ignore[attr-defined]
train_cmd.__doc__ = HELP
