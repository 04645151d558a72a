"""`fgaesq export`: write a model as an ONNX graph for ONNX Runtime (or any ONNX runtime)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def export_cmd(
    out: Path = typer.Argument(..., help="The .onnx file to write."),
    weights: str | None = typer.Option(None, "--weights", "-w", help="Checkpoint file or folder, registry name "
                                       "(fgaesq-vit-b-16, fgaesq-tiny), hf-hub:ORG/REPO, or fgaesq-lite. "
                                       "Default: as for `fgaesq score`."),
    fmt: str = typer.Option("onnx", "--format", help="onnx (the only format for now)."),
    int8: bool = typer.Option(False, "--int8", help="Quantize the weights to int8 (ONNX Runtime dynamic "
                              "quantization): smaller and faster on CPUs, scores move slightly."),
) -> None:
    """Export a model to ONNX: DiffToken models take (patches, pos, scale, pad) for B x 512 slots, fgaesq-lite
    its views; outputs score and features; the batch size is free."""
    from fgaesq.model.onnx_export import FORMATS, export_onnx
    from fgaesq.scoring import ScorerError, load_scorer

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if fmt not in FORMATS:
        console.print(f"error: --format must be one of {', '.join(FORMATS)}, not {fmt!r}", markup=False)
        raise typer.Exit(2)
    if out.suffix.lower() != ".onnx":
        console.print(f"error: {out}: use a .onnx file name", markup=False)
        raise typer.Exit(2)
    try:
        scorer = load_scorer(weights, device="cpu", workers=0)
    except ScorerError as e:
        console.print(f"error: {e}", markup=False)
        raise typer.Exit(2) from None
    try:
        path = export_onnx(scorer.model, out, int8=int8)
    except ImportError as e:
        console.print(f"error: {e} (pip install 'fgaesq[onnx]')", markup=False)
        raise typer.Exit(2) from None
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) from {scorer.name}", markup=False)
