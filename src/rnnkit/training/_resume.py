"""The state of a training run in one file, written atomically, so a killed run can go on bitwise.

``checkpoint.safetensors`` holds everything ``fit`` needs to continue exactly where it was:

- tensors: the weights (``model/<name>``), the best epoch's weights when they are kept
  (``best/<name>``), the optimiser's per-parameter state (``optimizer/<index>/<key>``), the random
  generators (``rng/torch``, ``rng/cuda/<device>``, ``rng/numpy``) and a carried recurrent state
  (``carried/<index>``);
- its metadata, one JSON string under ``"rnnkit"``: the position (epochs done, batches done of the
  next epoch, optimiser steps), the epoch's running sums, the history so far, the optimiser's other
  settings, the scheduler and early stopping, Python's generator, and what the caller keeps with it
  (the CLI: the arguments of the run).

One file, so one ``os.replace`` makes the whole state new at once: a kill at any moment leaves the
old state or the new one, never new weights beside an old optimiser. Nothing is unpickled: tensors
are safetensors, the rest JSON, and a state from elsewhere is checked before use.
"""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .. import _types
from .._atomic import atomic_path
from ._checkpoint import CheckpointError, refuse_pickle

STATE_FILE = "checkpoint.safetensors"
STATE_FORMAT = "rnnkit-training-state"
STATE_VERSION = 1


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often ``fit`` saves its state, and whether it starts from the saved one."""

    directory: Path  # the run folder; the state goes to directory / checkpoint.safetensors
    every: int = 0  # also save after every this many optimiser steps; 0: only after each epoch
    resume: bool = False  # continue from the saved state (an error when there is none)
    keep: dict[str, Any] = field(default_factory=dict)  # JSON the caller stores with each state (CLI arguments)

    @property
    def path(self) -> Path:
        return Path(self.directory) / STATE_FILE


@dataclass
class Position:
    """Where training is: epochs done, batches done of the next epoch, and that epoch's running sums."""

    epoch: int = 0  # epochs completed
    batch: int = 0  # batches completed of epoch + 1
    step: int = 0  # optimiser steps in all
    loss_sum: float = 0.0  # sum of loss * valid targets over the batches done of this epoch
    correct_sum: int = 0
    valid_sum: int = 0
    lr: float | None = None  # the rate this epoch started with (its history row's "lr")
    batches_per_epoch: int | None = None  # what a per-batch schedule was made for
    seconds: float = 0.0  # training time before this state was saved
    carried: Any = None  # the detached recurrent state passed from batch to batch (carry_state)


@dataclass
class TrainingState:
    """A loaded ``checkpoint.safetensors``: pieces for ``fit`` to put back in place."""

    position: Position
    history: list[dict[str, Any]]
    model: dict[str, torch.Tensor]
    best: dict[str, torch.Tensor] | None
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] | None
    stopper: dict[str, Any]
    rng: dict[str, Any]
    keep: dict[str, Any]


def save_training_state(path: Path, *, position: Position, history: list[dict[str, Any]], model: torch.nn.Module,
                        best: dict[str, torch.Tensor] | None, optimizer: torch.optim.Optimizer, scheduler: Any,
                        stopper: Any, keep: dict[str, Any]) -> None:
    """Write the whole state to ``path`` in one atomic replace."""
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"best/{k}": v for k, v in (best or {}).items()}
    optim = optimizer.state_dict()
    optim_values: dict[str, dict[str, Any]] = {}
    for index, values in optim["state"].items():
        optim_values[str(index)] = {}
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer/{index}/{key}"] = value
            else:
                optim_values[str(index)][key] = value
    tensors["rng/torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for device, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{device}"] = state
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    tensors["rng/numpy"] = torch.from_numpy(keys.astype(np.int64))
    carried_layout = _flatten_state(position.carried, tensors)
    info = {
        "format": STATE_FORMAT, "version": STATE_VERSION,
        "position": {k: v for k, v in vars(position).items() if k != "carried"} | {"carried": carried_layout},
        "history": history,
        "best": best is not None,
        "optimizer": {"values": optim_values, "param_groups": optim["param_groups"]},
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "stopper": vars(stopper),
        "rng": {"numpy": [kind, int(pos), int(has_gauss), float(cached)], "python": _python_rng(),
                "cuda_devices": torch.cuda.device_count() if torch.cuda.is_available() else 0},
        "keep": keep,
    }
    # clone(): tied weights share storage, which safetensors refuses; contiguous CPU copies for the file
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"rnnkit": json.dumps(info)})


def read_training_state(path: Path) -> TrainingState:
    """The state saved at ``path``; anything that is not one rnnkit wrote is a ``CheckpointError``."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file; there is no saved training state to resume")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            info = json.loads((f.metadata() or {}).get("rnnkit", "null"))
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:  # ValueError: bad JSON (JSONDecodeError)
        refuse_pickle(path)
        raise CheckpointError(f"{path}: not a readable training state ({err}); rnnkit never loads pickled "
                              "torch.save files") from None
    if not isinstance(info, dict) or info.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{path}: not an rnnkit training state (no \"format\": \"{STATE_FORMAT}\")")
    try:
        position = dict(info["position"])
        carried = _unflatten_state(position.pop("carried"), tensors)
        position = Position(**position, carried=carried)
        optimizer = {"state": {}, "param_groups": info["optimizer"]["param_groups"]}
        for index, values in info["optimizer"]["values"].items():
            optimizer["state"][int(index)] = dict(values)
        for key, value in tensors.items():
            if key.startswith("optimizer/"):
                _, index, name = key.split("/", 2)
                optimizer["state"].setdefault(int(index), {})[name] = value
        numpy_kind, pos, has_gauss, cached = info["rng"]["numpy"]
        rng = {"torch": tensors["rng/torch"],
               "cuda": [tensors[f"rng/cuda/{d}"] for d in range(info["rng"]["cuda_devices"])],
               "numpy": (numpy_kind, tensors["rng/numpy"].numpy().astype(np.uint32), pos, has_gauss, cached),
               "python": info["rng"]["python"]}
        return TrainingState(
            position=position, history=list(info["history"]),
            model=_prefixed(tensors, "model/"), best=_prefixed(tensors, "best/") if info["best"] else None,
            optimizer=optimizer, scheduler=info["scheduler"], stopper=dict(info["stopper"]), rng=rng,
            keep=dict(info["keep"]))
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: a damaged training state ({type(err).__name__}: {err})") from None


def read_kept(path: Path) -> dict[str, Any]:
    """Only what the caller kept with the state (the CLI's arguments), without reading the tensors."""
    return read_training_state(path).keep


def restore_rng(rng: dict[str, Any]) -> None:
    """Put every random number generator back as it was saved."""
    torch.set_rng_state(rng["torch"])
    if rng["cuda"]:
        torch.cuda.set_rng_state_all(rng["cuda"])
    np.random.set_state(rng["numpy"])
    version, internal, gauss = rng["python"]
    random.setstate((version, tuple(internal), gauss))


def _python_rng() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _flatten_state(state: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """A JSON layout of a recurrent state (tensors, lists, tuples, rnnkit's named tuples), its tensors
    added to ``tensors`` as ``carried/<n>``."""
    if state is None:
        return None
    if torch.is_tensor(state):
        name = f"carried/{sum(k.startswith('carried/') for k in tensors)}"
        tensors[name] = state
        return {"tensor": name}
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return {"named": type(state).__name__, "items": [_flatten_state(s, tensors) for s in state]}
    if isinstance(state, (tuple, list)):
        return {"list": [_flatten_state(s, tensors) for s in state]}
    raise TypeError(f"cannot save a carried recurrent state of type {type(state).__name__}")


def _unflatten_state(layout: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if layout is None:
        return None
    if "tensor" in layout:
        return tensors[layout["tensor"]]
    if "named" in layout:  # only rnnkit's own state types: a name in a file never picks arbitrary code
        kind = getattr(_types, layout["named"], None)
        if not (isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")):
            raise ValueError(f"unknown state type {layout['named']!r}")
        return kind(*(_unflatten_state(s, tensors) for s in layout["items"]))
    return [_unflatten_state(s, tensors) for s in layout["list"]]


def remove_training_state(directory: str | os.PathLike) -> None:
    """Delete a run folder's saved state (a finished run, or one replaced with --overwrite)."""
    (Path(directory) / STATE_FILE).unlink(missing_ok=True)
