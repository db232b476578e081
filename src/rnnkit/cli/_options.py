"""Command-line options shared by ``train`` and ``compare``, and the configs they build."""
from __future__ import annotations

import argparse
import re
from typing import Any

from ..models import CELLS, POOLINGS
from ..training import TrainConfig
from ._study import SCALINGS, DataConfig

DEFAULT_MODEL = {"cell": "lstm", "hidden": [64, 64], "dropout": 0.2, "bidirectional": False, "pooling": "attention"}


def hidden_sizes(text: str) -> list[int]:
    """'64-32-32' or '64,32,32' -> [64, 32, 32]."""
    if not re.fullmatch(r"\d+([-,]\d+)*", text):
        raise argparse.ArgumentTypeError(f"expected layer widths like 64-32-32, got {text!r}")
    sizes = [int(part) for part in re.split("[-,]", text)]
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer widths like 64-32-32, got {text!r}")
    return sizes


def batch_size(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}")
    return value


def auto_batch_size(num_sequences: int) -> int:
    """About 16 optimiser steps per epoch, within [8, 32]."""
    return min(32, max(8, num_sequences // 16))


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--scaling", choices=SCALINGS, default="standard",
                       help="per-feature scaling fitted on the training split only: 'standard' (zero mean, "
                            "unit variance), 'minmax' (to [0, 1], as in the course assignment) or 'none' "
                            "(default: %(default)s)")
    group.add_argument("--test-fraction", type=float, default=0.3, metavar="F",
                       help="share of the data held out for testing (stratified) when the source has no test "
                            "split; bundled sets have their own (default: %(default)s)")
    group.add_argument("--validation-fraction", type=float, default=0.1, metavar="F",
                       help="share of the training split set aside for early stopping; 0 for none, then "
                            "early stopping watches the training loss (default: %(default)s)")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--cell", choices=CELLS, default=DEFAULT_MODEL["cell"],
                       help="recurrent cell family (default: %(default)s)")
    group.add_argument("--hidden", type=hidden_sizes, default=DEFAULT_MODEL["hidden"], metavar="W-W-...",
                       help="width of each recurrent layer, first to last, e.g. 64-32-32 (default: 64-64)")
    group.add_argument("--dropout", type=float, default=DEFAULT_MODEL["dropout"],
                       help="dropout between recurrent layers and before the output layer (default: %(default)s)")
    group.add_argument("--bidirectional", action="store_true", help="add a reverse direction to every layer")
    group.add_argument("--pooling", choices=POOLINGS, default=DEFAULT_MODEL["pooling"],
                       help="how the sequence becomes one vector: the final state ('last'), mean or max over "
                            "valid steps, or learned 'attention' (default: %(default)s)")
    group.add_argument("--nonlinearity", choices=("tanh", "relu"), default="tanh",
                       help="rnn cell only: activation (default: %(default)s)")
    group.add_argument("--peephole", action="store_true", help="lstm only: peephole connections from the cell state")
    group.add_argument("--proj-size", type=int, default=0, metavar="P",
                       help="lstm only: recurrent projection to P units (LSTMP); 0 for none (default: 0)")
    group.add_argument("--gru-form", choices=("torch", "cho"), default="torch",
                       help="gru only: torch's form (reset applied after W_hn h) or Cho et al.'s original "
                            "(reset applied to h before W_hn) (default: %(default)s)")
    group.add_argument("--init", choices=("torch", "keras"), default="torch",
                       help="initialisation: torch's uniform, or Keras's (orthogonal recurrent weights, "
                            "forget-gate bias 1) (default: %(default)s)")


def add_training_arguments(parser: argparse.ArgumentParser, epochs: int = 100) -> None:
    defaults = TrainConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=epochs, help="maximum epochs (default: %(default)s)")
    group.add_argument("--batch-size", type=batch_size, default="auto",
                       help="sequences per batch, or 'auto': about 16 updates per epoch, between 8 and 32 "
                            "(small data sets need small batches) (default: %(default)s)")
    group.add_argument("--optimizer", choices=("adam", "sgd", "rmsprop"), default=defaults.optimizer,
                       help="(default: %(default)s)")
    group.add_argument("--lr", type=float, default=defaults.lr, help="learning rate (default: %(default)s)")
    group.add_argument("--momentum", type=float, default=defaults.momentum, help="sgd momentum (default: %(default)s)")
    group.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="(default: %(default)s)")
    group.add_argument("--clip-norm", type=float, default=defaults.clip_norm, metavar="N",
                       help="rescale gradients to global norm <= N; 0 turns it off (default: %(default)s)")
    group.add_argument("--clip-value", type=float, default=None, metavar="V",
                       help="clamp every gradient element to [-V, V] (default: off)")
    group.add_argument("--tbptt", type=int, default=None, metavar="K",
                       help="truncated BPTT over windows of K steps (unidirectional, pooling 'last'; default: off)")
    group.add_argument("--patience", type=int, default=defaults.patience,
                       help="early stopping: epochs without improvement before stopping; 0 never stops early "
                            "(default: %(default)s)")
    group.add_argument("--min-delta", type=float, default=defaults.min_delta,
                       help="early stopping: smallest change that counts (default: %(default)s)")
    group.add_argument("--stop-rule", choices=("best", "successive"), default=defaults.stop_rule,
                       help="early stopping: 'best' (no gain on the best value) or 'successive' (the course "
                            "assignment's rule: successive epochs differ by < min-delta) (default: %(default)s)")
    group.add_argument("--lr-schedule", choices=("none", "plateau", "cosine"), default=defaults.lr_schedule,
                       help="(default: %(default)s)")
    group.add_argument("--seed", type=int, default=0, help="seed of splits, initialisation and batches (default: 0)")
    group.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: %(default)s)")


def model_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "cell": args.cell, "hidden": list(args.hidden), "dropout": args.dropout,
        "bidirectional": args.bidirectional, "pooling": args.pooling, "nonlinearity": args.nonlinearity,
        "peephole": args.peephole, "proj_size": args.proj_size, "reset_after": args.gru_form == "torch",
        "init": args.init,
    }


def train_config(args: argparse.Namespace, num_sequences: int | None = None) -> TrainConfig:
    """The training settings; ``--batch-size auto`` is resolved for ``num_sequences`` training sequences."""
    size = args.batch_size
    if size == "auto":
        size = TrainConfig().batch_size if num_sequences is None else auto_batch_size(num_sequences)
    return TrainConfig(
        epochs=args.epochs, batch_size=size, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, clip_norm=args.clip_norm or None,
        clip_value=args.clip_value, tbptt=args.tbptt, patience=args.patience or None, min_delta=args.min_delta,
        stop_rule=args.stop_rule, lr_schedule=args.lr_schedule, seed=args.seed, device=args.device,
    )


def data_config(args: argparse.Namespace, source: str) -> DataConfig:
    return DataConfig(source=source, scaling=args.scaling, test_fraction=args.test_fraction,
                      validation_fraction=args.validation_fraction, seed=args.seed)
