"""Checkpoints: weights as safetensors, settings as JSON, both written atomically.

A checkpoint directory holds

- ``model.safetensors``: the model's ``state_dict`` (parameters and buffers), CPU, contiguous;
- ``config.json``: ``{"format": "rnnkit-checkpoint", "version": 1, "weights": "model.safetensors",
  "weights_sha256": "...", "config": {...}, "extra": {...}}``, where ``config`` is every setting
  needed to rebuild and retrain the model and ``extra`` anything else the caller keeps (class
  names, metrics).

The two files are one unit: ``config.json`` names the digest of the weights it was written with,
and loading a directory checks it, so a crash between the two writes (new weights beside an old
``config.json``) is an error naming both files, never a model built from one run's settings and
another's weights. ``"weights"`` must name a file in the directory itself: a config cannot send
the loader elsewhere.

Nothing here unpickles: no ``pickle``, no ``torch.load``. A weights file from elsewhere is data,
and a pickle is a program. Every file is written to a temporary name in the same directory,
flushed and fsync'ed, then ``os.replace``'d over the target, so a crash leaves either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .._atomic import atomic_path, write_json_atomic

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT = "rnnkit-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A weights or checkpoint file that is missing, unreadable, or does not fit the model."""


def save_checkpoint(
    directory: str | os.PathLike,
    model: torch.nn.Module,
    config: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``directory`` (made if missing).

    Weights are saved first, so a ``config.json`` that exists always describes weights that do.
    Returns the directory.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # clone(): tied weights (an embedding shared with the output layer) share storage, which
    # safetensors refuses to save; separate copies load back into both names.
    tensors = {name: t.detach().to("cpu").contiguous().clone() for name, t in model.state_dict().items()}

    with atomic_path(directory / WEIGHTS_FILE) as tmp:
        # one metadata key: safetensors writes several in hash-map order, and the file must be the same bytes
        # (and sha256) for the same weights every time
        save_file(tensors, str(tmp), metadata={"format": f"{FORMAT}/{VERSION}"})
        digest = _sha256(tmp)
    info = {"format": FORMAT, "version": VERSION, "weights": WEIGHTS_FILE, "weights_sha256": digest,
            "config": config, "extra": extra or {}}
    write_json_atomic(directory / CONFIG_FILE, info)
    return directory


def read_checkpoint(directory: str | os.PathLike) -> dict[str, Any]:
    """The ``config.json`` of a checkpoint directory, with keys ``config`` and ``extra``."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file (is {directory} a checkpoint directory?)")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an rnnkit checkpoint (no \"format\": \"{FORMAT}\")")
    if not isinstance(info.get("config"), dict):
        raise CheckpointError(f"{path}: no \"config\" object with the run's settings")
    if info.get("weights", WEIGHTS_FILE) != WEIGHTS_FILE:
        raise CheckpointError(f"{path}: \"weights\" must be {WEIGHTS_FILE!r}, the file beside it; got "
                              f"{info['weights']!r} (a config never points outside its run folder)")
    if not isinstance(info.get("weights_sha256", ""), str):
        raise CheckpointError(f"{path}: \"weights_sha256\" must be a string")
    return info


def load_weights(path: str | os.PathLike, model: torch.nn.Module) -> torch.nn.Module:
    """Load a safetensors file (or a checkpoint directory's ``model.safetensors``) into ``model``.

    Strict: every tensor of the model must be in the file with the same shape, and the file
    must hold nothing else. Anything wrong is a ``CheckpointError`` naming the file and the
    missing keys, unexpected keys or wrong shapes; values are cast to the model's dtypes.
    Returns the model.
    """
    path = Path(path)
    expected_digest = None
    if path.is_dir():
        if (path / CONFIG_FILE).is_file():
            expected_digest = read_checkpoint(path).get("weights_sha256")
        path = path / WEIGHTS_FILE
    if not path.is_file():
        raise CheckpointError(f"{path}: no such weights file")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError) as err:
        refuse_pickle(path)
        raise CheckpointError(
            f"{path}: not a readable safetensors file ({err}); rnnkit never loads pickled "
            "torch.save files"
        ) from err
    if expected_digest and _sha256(path) != expected_digest:
        raise CheckpointError(f"{path} is not the weights {path.parent / CONFIG_FILE} was written with (another "
                              "save, or a run killed between the two writes); train again, or --resume the run")
    problems = _mismatches(model.state_dict(), tensors)
    if problems:
        raise CheckpointError(f"{path} does not fit {type(model).__name__}: " + "; ".join(problems))
    model.load_state_dict(tensors, strict=True)
    return model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def refuse_pickle(path: Path) -> None:
    """For a file safetensors could not read: name it a pickle if it starts like one (protocol 2 or
    later: 0x80 and the protocol) or like torch.save's zip archive. Only a message; nothing is parsed."""
    with open(path, "rb") as f:
        start = f.read(4)
    if (start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")) or start == b"PK\x03\x04":
        raise CheckpointError(f"{path}: a pickle or torch.save file, not safetensors; rnnkit never loads pickles "
                              "(they can run code). Save the weights with safetensors.torch.save_file")


def _mismatches(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> list[str]:
    problems = []
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    wrong = [
        f"{name}: file {tuple(found[name].shape)} vs model {tuple(expected[name].shape)}"
        for name in sorted(set(expected) & set(found))
        if found[name].shape != expected[name].shape
    ]
    if wrong:
        problems.append("wrong shapes " + ", ".join(wrong))
    return problems
