"""The authors' checkpoint layout: strict mapping, unwrapping, refusals with clear messages."""

from __future__ import annotations

import pickle

import pytest
import torch
import torchvision
from model_helpers import random_tokens, tiny_authors_state_dict

from fgaesq.model import (
    CheckpointError,
    authors_state_dict,
    create_model,
    load_authors_checkpoint,
    load_model,
)


def _save(tmp_path, obj, name="best.pt"):
    path = tmp_path / name
    torch.save(obj, path)
    return path


def test_every_key_is_mapped_and_loaded(tmp_path):
    sd = tiny_authors_state_dict()
    model = load_model(_save(tmp_path, sd))
    assert model.config.name == "fgaesq-tiny" and model.compat is True
    report = model.load_report
    assert report.layout == "authors" and report.loaded == report.expected == 40
    assert report.ignored["text-tower tensors"] == 7
    ours = model.state_dict()
    for k, v in sd.items():
        if k.startswith("clip_model.visual."):
            assert torch.equal(ours["visual." + k[len("clip_model.visual.") :]], v), k
        elif k.startswith(("scale_embedding", "mask_token", "iqa_head")):
            assert torch.equal(ours[k], v), k
    assert "authors' checkpoint" in model.source and str(tmp_path) in model.source


def test_text_tower_is_not_confused_with_image_transformer_aliases(tmp_path):
    sd = tiny_authors_state_dict()
    # the text tower's clip_model.transformer.* must never feed the image tower
    assert "clip_model.transformer.resblocks.0.attn.in_proj_weight" in sd
    model = load_model(_save(tmp_path, sd))
    got = model.visual.transformer.resblocks[0].attn.in_proj_weight
    assert torch.equal(got, sd["clip_model.visual.transformer.resblocks.0.attn.in_proj_weight"])


def test_wrapped_and_prefixed_file_is_unwrapped_and_says_so(tmp_path):
    sd = tiny_authors_state_dict()
    wrapped = {"state_dict": {"module." + k: v for k, v in sd.items()}, "epoch": 3, "best_srcc": 0.9}
    model = load_model(_save(tmp_path, wrapped))
    notes = " ".join(model.load_report.notes)
    assert "unwrapped the 'state_dict'" in notes and "'module.' prefix" in notes
    assert torch.equal(model.scale_embedding, sd["scale_embedding"])
    nested = {"model": sd}
    assert "'model'" in " ".join(load_model(_save(tmp_path, nested, "m.pt")).load_report.notes)


def test_missing_keys_are_listed_never_silently_skipped(tmp_path):
    sd = tiny_authors_state_dict()
    del sd["clip_model.visual.transformer.resblocks.1.mlp.c_fc.weight"]
    del sd["transformer.resblocks.1.mlp.c_fc.weight"]
    del sd["mask_token"]
    with pytest.raises(CheckpointError, match=r"2 of 40 expected tensors missing") as err:
        load_model(_save(tmp_path, sd))
    assert "'clip_model.visual.transformer.resblocks.1.mlp.c_fc.weight'" in str(err.value)
    assert "'mask_token'" in str(err.value)


def test_alias_alone_is_accepted_and_reported(tmp_path):
    sd = tiny_authors_state_dict()
    del sd["clip_model.visual.ln_post.weight"]
    model = load_model(_save(tmp_path, sd))
    assert torch.equal(model.visual.ln_post.weight, sd["ln_post.weight"])
    assert "1 tensors taken from the top-level aliases" in model.load_report.summary()


def test_disagreeing_alias_is_an_error(tmp_path):
    sd = tiny_authors_state_dict()
    sd["proj"] = sd["proj"].clone() + 1
    with pytest.raises(CheckpointError, match="aliases differ.*proj"):
        load_model(_save(tmp_path, sd))


def test_unexpected_keys_fail_in_strict_mode(tmp_path):
    sd = tiny_authors_state_dict()
    sd["extra_head.weight"] = torch.zeros(3)
    path = _save(tmp_path, sd)
    with pytest.raises(CheckpointError, match="unexpected tensors.*extra_head"):
        load_model(path)
    assert load_model(path, strict=False).load_report.ignored["unexpected tensors"] == 1


def test_wrong_architecture_is_refused(tmp_path):
    sd = tiny_authors_state_dict()
    model = create_model("fgaesq-tiny", width=32, heads=2)
    with pytest.raises(CheckpointError, match="shapes do not fit model fgaesq-tiny"):
        load_authors_checkpoint(model, sd)


def test_foreign_resnet_state_dict_is_refused(tmp_path):
    resnet = torchvision.models.resnet18(weights=None).state_dict()
    with pytest.raises(CheckpointError, match=r"not an FGAesQ checkpoint.*bn1"):
        load_model(_save(tmp_path, resnet, "resnet18.pth"))


def test_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("these are not weights\n")
    with pytest.raises(CheckpointError, match="notes.pt: not a PyTorch checkpoint"):
        load_model(path)


def test_non_dict_and_pickled_objects_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="holds a list, not a state dict"):
        load_model(_save(tmp_path, [torch.zeros(2)], "list.pt"))

    path = tmp_path / "obj.pt"
    with open(path, "wb") as f:
        pickle.dump({"weights": torch.nn.Linear(2, 2)}, f, protocol=2)  # a module object: never unpickled
    with pytest.raises(CheckpointError, match="refused: the file holds pickled Python objects"):
        load_model(path)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty file"):
        load_model(empty)


def test_torch_saved_module_object_is_refused(tmp_path):
    path = _save(tmp_path, {"net_obj": torch.nn.Linear(2, 2)}, "module.pt")
    with pytest.raises(CheckpointError, match="refused: the file holds pickled Python objects"):
        load_model(path)


def test_export_to_authors_layout_round_trips(tmp_path, tiny):
    sd = authors_state_dict(tiny)
    assert sum(k.startswith("clip_model.visual.") for k in sd) == len(tiny.visual.state_dict())
    assert torch.equal(sd["proj"], sd["clip_model.visual.proj"])
    back = load_model(_save(tmp_path, sd))
    toks = random_tokens(tiny)
    with torch.no_grad():
        assert torch.equal(back(*toks, compat=False).score, tiny(*toks, compat=False).score)


def test_compat_override_and_unregistered_architecture(tmp_path):
    from fgaesq.model import get_config
    from sinhash import sinhash_authors_state_dict

    path = _save(tmp_path, tiny_authors_state_dict())
    assert load_model(path, compat=False).compat is False
    odd = get_config("fgaesq-tiny", width=128, layers=1)
    model = load_model(_save(tmp_path, sinhash_authors_state_dict(odd), "odd.pt"))
    assert model.config.name == "custom-w128-l1" and model.config.heads == 2 and model.config.layers == 1
    assert torch.equal(model.visual.conv1.weight, sinhash_authors_state_dict(odd)["clip_model.visual.conv1.weight"])
