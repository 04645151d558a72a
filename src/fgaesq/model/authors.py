"""The authors' released checkpoint: a plain state dict in their key layout, mapped onto FGAesQ with checks.

Their layout: ``clip_model.visual.*`` (image tower, OpenAI names), ``clip_model.*``
(text tower, unused here), top-level aliases ``ln_pre.*``, ``transformer.*``, ``ln_post.*``, ``proj`` of the
image tower, and ``scale_embedding``, ``mask_token``, ``iqa_head.{0,3,6}.*``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch

from fgaesq.model.config import ModelConfig, find_config, get_config
from fgaesq.model.network import FGAesQ
from fgaesq.model.statedict import CheckpointError, LoadReport, _preview, read_weight_file, unwrap_state_dict

VISUAL = "clip_model.visual."
TEXT = "clip_model."
_ALIAS_PREFIXES = ("ln_pre.", "transformer.", "ln_post.")
_OWN_TOP = ("scale_embedding", "mask_token")


def _is_alias(name: str) -> bool:
    return name.startswith(_ALIAS_PREFIXES) or name == "proj"


def detect_layout(sd: dict[str, torch.Tensor]) -> str:
    """'authors' (clip_model.visual.*), 'fgaesq' (our visual.* names) or 'foreign'."""
    if any(k.startswith(VISUAL) for k in sd):
        return "authors"
    if "visual.conv1.weight" in sd and "scale_embedding" in sd:
        return "fgaesq"
    if "scale_embedding" in sd and any(k.startswith("iqa_head.") for k in sd):
        return "authors"  # FGAesQ keys without clip_model.visual.*: reported key by key as missing
    return "foreign"


def read_authors_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Load a checkpoint file (weights_only) and unwrap it; returns the state dict and notes on what was done."""
    notes: list[str] = []
    sd = unwrap_state_dict(read_weight_file(path), str(path), notes)
    if detect_layout(sd) == "foreign":
        raise CheckpointError(
            f"{path}: not an FGAesQ checkpoint: none of the expected keys (clip_model.visual.*, scale_embedding, "
            f"mask_token, iqa_head.*) found; its {len(sd)} keys look like {_preview(sorted(sd), 5)}. "
            "Pass the authors' FGAesQ state dict or an fgaesq .safetensors checkpoint"
        )
    return sd, notes


def infer_config(sd: dict[str, torch.Tensor], source: str = "checkpoint") -> ModelConfig:
    """The architecture a state dict (authors' or our layout) was made for, named after a registry entry if any."""
    layout = detect_layout(sd)

    def get(name: str) -> torch.Tensor:
        for key in ((VISUAL + name, name) if layout == "authors" else ("visual." + name,)):
            if key in sd:
                return sd[key]
        raise CheckpointError(f"{source}: cannot infer the architecture: no {name!r} tensor")

    conv = get("conv1.weight")
    width, patch = int(conv.shape[0]), int(conv.shape[-1])
    pat = re.compile(r"(?:clip_model\.visual\.|visual\.)?transformer\.resblocks\.(\d+)\.")
    layers = 1 + max((int(m.group(1)) for k in sd if (m := pat.match(k))), default=-1)
    embed = int(get("proj").shape[1])
    grid = int(round(math.sqrt(get("positional_embedding").shape[0] - 1)))
    head = sorted((int(m.group(1)), sd[k]) for k in sd if (m := re.fullmatch(r"iqa_head\.(\d+)\.weight", k)))
    hidden = [int(w.shape[0]) for _, w in head[:-1]]
    bins = int(head[-1][1].shape[0]) if head else 10
    scales = int(sd["scale_embedding"].shape[1]) if "scale_embedding" in sd else 2
    base = find_config(width=width, layers=layers, patch_size=patch, grid_size=grid, embed_dim=embed)
    if base is not None:
        dropout = base.head_dropout if len(hidden) == len(base.head_hidden) else (0.0,) * len(hidden)
        return get_config(base.name, head_hidden=tuple(hidden), head_dropout=dropout, scales=scales, num_bins=bins)
    return ModelConfig(name=f"custom-w{width}-l{layers}", width=width, layers=layers, heads=max(1, width // 64),
                       patch_size=patch, grid_size=grid, embed_dim=embed, scales=scales, head_hidden=tuple(hidden),
                       head_dropout=(0.0,) * len(hidden), num_bins=bins)


def map_authors_state_dict(
    sd: dict[str, torch.Tensor], model: FGAesQ, *, source: str = "checkpoint", strict: bool = True
) -> tuple[dict[str, torch.Tensor], LoadReport]:
    """Our state dict from the authors' layout; raises CheckpointError on missing, mis-shaped or disagreeing keys."""
    report = LoadReport(source=source, layout="authors")
    target = model.state_dict()
    report.expected = len(target)
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    missing, disagree, from_alias = [], [], 0
    for ours in target:
        if ours.startswith("visual."):
            name = ours[len("visual.") :]
            main, alias = VISUAL + name, (name if _is_alias(name) else None)
        else:
            main, alias = ours, None
        have_main, have_alias = main in sd, alias is not None and alias in sd
        if have_main and have_alias:
            a, b = sd[main], sd[alias]
            if a.shape != b.shape or not torch.equal(a, b):
                disagree.append(f"{main} vs {alias}")
        if have_main:
            out[ours] = sd[main]
        elif have_alias:
            out[ours] = sd[alias]
            from_alias += 1
        else:
            missing.append(main)
        used.update(k for k in (main, alias) if k is not None and k in sd)
    if missing:
        raise CheckpointError(
            f"{source}: {len(missing)} of {len(target)} expected tensors missing from the authors'-layout checkpoint: "
            f"{_preview(missing, 12)}; refusing to load a partial model"
        )
    if disagree:
        raise CheckpointError(
            f"{source}: {len(disagree)} top-level aliases differ from their clip_model.visual.* tensors: "
            f"{_preview(disagree, 6)}; the file is inconsistent"
        )
    bad_shape = [f"{k} {tuple(v.shape)} (model expects {tuple(target[k].shape)})"
                 for k, v in out.items() if v.shape != target[k].shape]
    if bad_shape:
        raise CheckpointError(
            f"{source}: tensor shapes do not fit model {model.config.name}: {_preview(bad_shape, 6)}"
        )
    rest = [k for k in sd if k not in used]
    text = [k for k in rest if k.startswith(TEXT) and not k.startswith(VISUAL)]
    unexpected = [k for k in rest if k not in text]
    report.ignored["text-tower tensors"] = len(text)
    if unexpected:
        if strict:
            raise CheckpointError(
                f"{source}: {len(unexpected)} unexpected tensors {_preview(unexpected, 8)}; not an FGAesQ checkpoint "
                "of this architecture (pass strict=False to ignore them)"
            )
        report.ignored["unexpected tensors"] = len(unexpected)
        report.notes.append(f"ignored unexpected {_preview(unexpected, 4)}")
    if from_alias:
        report.notes.append(f"{from_alias} tensors taken from the top-level aliases")
    n_alias = sum(1 for k in target if k.startswith("visual.") and _is_alias(k[7:]) and k[7:] in sd and VISUAL + k[7:] in sd)
    if n_alias:
        report.notes.append(f"{n_alias} aliases agree with clip_model.visual.*")
    report.loaded = len(out)
    return out, report


def _apply(model: FGAesQ, sd: dict[str, torch.Tensor], notes: list[str], label: str, strict: bool) -> LoadReport:
    if detect_layout(sd) == "fgaesq":
        raise CheckpointError(f"{label}: in fgaesq layout, not the authors'; load it with load_model()")
    mapped, report = map_authors_state_dict(sd, model, source=label, strict=strict)
    with torch.no_grad():
        model.load_state_dict(mapped, strict=True)
    report.notes = notes + report.notes
    model.compat = True
    model.source = f"{model.config.name} (authors' checkpoint, {label})"
    model.load_report = report
    return report


def load_authors_checkpoint(
    model: FGAesQ, source: str | Path | dict[str, torch.Tensor], *, strict: bool = True
) -> LoadReport:
    """Load the authors' checkpoint (a path or a state dict) into `model`, strictly checked; sets compat=True."""
    if isinstance(source, dict):
        notes: list[str] = []
        sd, label = unwrap_state_dict(source, "state dict", notes), "state dict"
    else:
        sd, notes = read_authors_checkpoint(source)
        label = f"local file {source}"
    return _apply(model, sd, notes, label, strict)


def load_authors_model(path: str | Path, *, strict: bool = True) -> FGAesQ:
    """A model built for the architecture in `path` (authors' layout, or our layout saved with torch.save)."""
    sd, notes = read_authors_checkpoint(path)
    cfg = infer_config(sd, str(path))
    model = FGAesQ(cfg)
    label = f"local file {path}"
    if detect_layout(sd) == "fgaesq":
        target = model.state_dict()
        missing = [k for k in target if k not in sd]
        unexpected = [k for k in sd if k not in target]
        if missing or (unexpected and strict):
            raise CheckpointError(
                f"{path}: fgaesq-layout state dict does not fit {cfg.name}: missing {_preview(missing, 8) or 'none'}; "
                f"unexpected {_preview(unexpected, 8) or 'none'}"
            )
        with torch.no_grad():
            model.load_state_dict({k: sd[k] for k in target}, strict=True)
        model.source = f"{cfg.name} (fgaesq state dict, {label})"
        model.load_report = LoadReport(source=label, layout="fgaesq", loaded=len(target), expected=len(target),
                                       notes=notes)
        return model
    _apply(model, sd, notes, label, strict)
    return model


def authors_state_dict(model: FGAesQ, *, aliases: bool = True) -> dict[str, torch.Tensor]:
    """Export `model` in the authors' key layout (image tower, aliases, scale/mask, head; no text tower)."""
    out: dict[str, torch.Tensor] = {}
    for k, v in model.state_dict().items():
        if k.startswith("visual."):
            name = k[len("visual.") :]
            out[VISUAL + name] = v
            if aliases and _is_alias(name):
                out[name] = v
        else:
            out[k] = v
    return out
