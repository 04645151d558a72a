"""`fgaesq eval`: score a labelled set and print the paper's metrics (Table 2 layout), optionally as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fgaesq.evaluate.runner import MODES


def eval_cmd(
    data: Path = typer.Option(
        ..., "--data", help="series JSONL (fine metrics) or CSV image,score|mos (SRCC/PLCC)"
    ),
    weights: str = typer.Option(
        None, "--weights", help="checkpoint file or folder, registry name, hf-hub:ORG/REPO or fgaesq-lite; "
        "default: cached fgaesq-vit-b-16, else fgaesq-lite"
    ),
    out: Path = typer.Option(
        None, "--out", help="write all metrics (and per-series scores) to this JSON file"
    ),
    mode: str = typer.Option(
        "pair", "--mode", help="pair: each image scored against its partners; single: no reference"
    ),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps"),
    name: str = typer.Option(None, "--name", help="row label in the table (default: the model's name)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Evaluate a model: pair Acc/F1, s-Acc, s-SRCC per category (+ Pair/Series), or SRCC/PLCC on a CSV."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress

    from fgaesq.data.errors import DataFormatError
    from fgaesq.data.fine import read_jsonl_series
    from fgaesq.evaluate.runner import evaluate_coarse, evaluate_fine
    from fgaesq.evaluate.table import table2

    console = Console()
    if mode not in MODES:
        console.print(f"[red]error:[/] --mode {mode}: choose one of {', '.join(MODES)}", soft_wrap=True)
        raise typer.Exit(2)
    if not data.is_file():
        console.print(
            f"[red]error:[/] --data {escape(str(data))}: file not found; give a series .jsonl or a .csv of scores",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    from fgaesq.scoring import ScorerError, load_scorer, weights_message

    try:
        scorer = load_scorer(weights, device=device)
    except ScorerError as e:
        console.print(f"[red]error:[/] {escape(weights_message(weights, e))}", soft_wrap=True)
        raise typer.Exit(2) from None
    label = name or scorer.name
    if not quiet:
        console.print(f"scoring with {scorer.name}")
    try:
        with Progress(console=console, disable=quiet, transient=True) as bar:
            if data.suffix.lower() == ".csv":
                from fgaesq.evaluate.series import read_scores_csv

                task = bar.add_task("scoring images", total=len(read_scores_csv(data)))
                result = {
                    "model": label,
                    "data": str(data),
                    "coarse": evaluate_coarse(scorer, data, progress=lambda k: bar.advance(task, k)),
                }
                console.print(
                    f"{label}: SRCC {result['coarse']['srcc']:.3f}  PLCC {result['coarse']['plcc']:.3f}  (n = {result['coarse']['n']})"
                )
            else:
                series = read_jsonl_series(data)
                task = bar.add_task("scoring series", total=len(series))
                metrics, scored = evaluate_fine(scorer, series, mode, progress=lambda k: bar.advance(task, k))
                result = {
                    "model": label,
                    "data": str(data),
                    "mode": mode,
                    **metrics,
                    "series": [
                        {
                            "series": s.series,
                            "category": s.category,
                            "images": list(s.images),
                            "scores": list(s.scores),
                        }
                        for s in scored
                    ],
                }
                for t in table2({label: metrics}, title=f"{data.name} ({mode} mode)", width=console.width):
                    console.print(t)
    except (DataFormatError, OSError) as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        raise typer.Exit(1) from None
    if out:
        from fgaesq.io.atomic import OutputError, atomic_write_text

        try:
            atomic_write_text(out, json.dumps(result, indent=1) + "\n")
        except OutputError as e:
            console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
            raise typer.Exit(1) from None
        if not quiet:
            console.print(f"wrote {out}")
