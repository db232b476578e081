"""Checkpoints: safetensors + JSON round trip, atomic writes, clear errors, never unpickling."""

import json
import os
import pickle

import pytest
import torch
from torch import nn

from rnnkit.training import (
    CheckpointError,
    load_weights,
    read_checkpoint,
    save_checkpoint,
    write_json_atomic,
)

from .toys import GRUClassifier


def new_model(seed=0, hidden_size=16):
    torch.manual_seed(seed)
    return GRUClassifier(hidden_size=hidden_size)


def test_round_trip(tmp_path):
    model = new_model(seed=0)
    directory = save_checkpoint(tmp_path / "run", model, {"hidden_size": 16}, {"classes": ["a", "b"]})
    assert sorted(os.listdir(directory)) == ["config.json", "model.safetensors"]  # no temp files left
    info = read_checkpoint(directory)
    assert info["config"] == {"hidden_size": 16} and info["extra"] == {"classes": ["a", "b"]}
    fresh = new_model(seed=1)
    load_weights(directory / "model.safetensors", fresh)
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    load_weights(directory, new_model(seed=2))  # a directory means its model.safetensors


def test_tied_weights_are_saved(tmp_path):
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 5, bias=False))
    model[1].weight = model[0].weight  # tied, one storage under two names
    save_checkpoint(tmp_path, model, {})
    torch.manual_seed(3)
    fresh = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 5, bias=False))
    load_weights(tmp_path, fresh)
    assert torch.equal(fresh[1].weight, model[0].weight)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="nope.safetensors: no such weights file"):
        load_weights(tmp_path / "nope.safetensors", new_model())


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\xff" * 100])
def test_corrupt_file_names_the_file(tmp_path, content):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"model\.safetensors: not a readable safetensors file"):
        load_weights(path, new_model())


def test_truncated_file(tmp_path):
    save_checkpoint(tmp_path, new_model(), {})
    path = tmp_path / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_weights(path, new_model())


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_pickle_is_refused_without_being_unpickled(writer, tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    if writer == "torch.save":
        torch.save(new_model().state_dict(), path)
    else:
        path.write_bytes(pickle.dumps(new_model().state_dict()))

    def forbidden(*args, **kwargs):
        raise AssertionError("nothing may be unpickled")

    for module, name in [(torch, "load"), (pickle, "load"), (pickle, "loads"), (pickle, "Unpickler")]:
        monkeypatch.setattr(module, name, forbidden)
    with pytest.raises(CheckpointError, match=r"model\.pt: a pickle or torch\.save file, not safetensors; rnnkit never"):
        load_weights(path, new_model())
    path.rename(tmp_path / "model.safetensors")  # the name does not matter: the content is refused
    with pytest.raises(CheckpointError, match="a pickle or torch.save file"):
        load_weights(tmp_path, new_model())


def test_weights_of_another_save_beside_the_config_are_refused(tmp_path):
    """A crash between the two writes leaves new weights beside an old config.json: caught, not loaded."""
    save_checkpoint(tmp_path / "a", new_model(seed=0), {"run": "a"})
    save_checkpoint(tmp_path / "b", new_model(seed=1), {"run": "b"})
    (tmp_path / "a" / "model.safetensors").write_bytes((tmp_path / "b" / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match=r"is not the weights .*config\.json was written with"):
        load_weights(tmp_path / "a", new_model())
    load_weights(tmp_path / "b", new_model())  # the pair written together loads


def test_a_config_cannot_point_outside_its_folder(tmp_path):
    save_checkpoint(tmp_path / "run", new_model(), {})
    path = tmp_path / "run" / "config.json"
    info = json.loads(path.read_text())
    for elsewhere in ("../other/model.safetensors", "/etc/passwd"):
        path.write_text(json.dumps(info | {"weights": elsewhere}))
        with pytest.raises(CheckpointError, match="never points outside its run folder"):
            load_weights(tmp_path / "run", new_model())


def test_mismatching_model_names_keys_and_shapes(tmp_path):
    save_checkpoint(tmp_path, new_model(hidden_size=16), {})
    with pytest.raises(CheckpointError, match=r"wrong shapes .*head\.weight: file \(2, 16\) vs model \(2, 8\)"):
        load_weights(tmp_path, new_model(hidden_size=8))
    other = nn.Sequential(nn.Linear(1, 2))
    with pytest.raises(CheckpointError) as info:
        load_weights(tmp_path, other)
    message = str(info.value)
    assert "model.safetensors" in message and "missing keys ['0.bias', '0.weight']" in message
    assert "unexpected keys" in message and "gru.weight_ih_l0" in message


def test_read_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="config.json: no such file"):
        read_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        read_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text('{"lr": 0.1}')
    with pytest.raises(CheckpointError, match="not an rnnkit checkpoint"):
        read_checkpoint(tmp_path)


def test_files_get_the_usual_permissions(tmp_path):
    # Not tempfile's owner-only 0600: results are written to be read by others.
    umask = os.umask(0)
    os.umask(umask)
    save_checkpoint(tmp_path, new_model(), {})
    for name in ("config.json", "model.safetensors"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
