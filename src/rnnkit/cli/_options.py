"""Command-line options shared by ``train`` and ``compare``, and the configs they build."""
from __future__ import annotations

import argparse
import dataclasses
import math
import re
from typing import Any

from .. import data
from ..models import CELLS, POOLINGS, ClassifierConfig
from ..training import LR_SCHEDULES, OPTIMIZERS, STOP_RULES, TrainConfig
from ._study import SCALINGS, DataConfig

# `rnnkit train` builds ClassifierConfig's default model, made bidirectional: on fsdd-digits the
# reverse direction lifts test accuracy from about 0.98 to 0.99 (closing note of issue 4).
DEFAULT_MODEL = {f.name: f.default for f in dataclasses.fields(ClassifierConfig)
                 if f.default is not dataclasses.MISSING} | {"bidirectional": True}
# --epochs auto: enough epochs for about this many optimiser steps, within EPOCH_RANGE. A set of
# 150 sequences needs many more epochs than one of 1,500 to see the same number of updates.
AUTO_STEPS = 2000
EPOCH_RANGE = (30, 200)


def hidden_sizes(text: str) -> list[int]:
    """'64-32-32' or '64,32,32' -> [64, 32, 32]."""
    if not re.fullmatch(r"\d+([-,]\d+)*", text):
        raise argparse.ArgumentTypeError(f"expected layer widths like 64-32-32, got {text!r}")
    sizes = [int(part) for part in re.split("[-,]", text)]
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer widths like 64-32-32, got {text!r}")
    return sizes


def positive_integer(text: str) -> int:
    """A positive integer."""
    return _integer(text, smallest=1)


def positive_or_auto(text: str) -> int | str:
    """A positive integer, or 'auto'."""
    return _integer_or_auto(text, smallest=1)


def count_or_auto(text: str) -> int | str:
    """A non-negative integer, or 'auto'."""
    return _integer_or_auto(text, smallest=0)


def _integer_or_auto(text: str, smallest: int) -> int | str:
    return text if text == "auto" else _integer(text, smallest, or_auto=" or 'auto'")


def _integer(text: str, smallest: int, or_auto: str = "") -> int:
    if not re.fullmatch(r"\d+", text) or int(text) < smallest:
        kind = "positive" if smallest > 0 else "non-negative"
        raise argparse.ArgumentTypeError(f"expected a {kind} integer{or_auto}, got {text!r}")
    return int(text)


def auto_batch_size(num_sequences: int) -> int:
    """About 16 optimiser steps per epoch, within [8, 32]."""
    return min(32, max(8, num_sequences // 16))


def auto_epochs(num_sequences: int, batch_size: int) -> int:
    """Enough epochs for about AUTO_STEPS optimiser steps, within EPOCH_RANGE."""
    steps_per_epoch = math.ceil(num_sequences / batch_size)
    low, high = EPOCH_RANGE
    return min(high, max(low, math.ceil(AUTO_STEPS / steps_per_epoch)))


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
    group.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=DEFAULT_MODEL["bidirectional"],
                       help="a reverse direction in every layer (default: on; --no-bidirectional for one direction)")
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


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=positive_or_auto, default="auto",
                       help=f"maximum epochs, or 'auto': enough for about {AUTO_STEPS} updates, between "
                            f"{EPOCH_RANGE[0]} and {EPOCH_RANGE[1]} (default: %(default)s)")
    group.add_argument("--batch-size", type=positive_or_auto, default="auto",
                       help="sequences per batch, or 'auto': about 16 updates per epoch, between 8 and 32 "
                            "(small data sets need small batches) (default: %(default)s)")
    group.add_argument("--time-mask", type=count_or_auto, default="auto", metavar="W|auto",
                       help="augmentation: zero one random span of up to W steps in every training sequence "
                            "(SpecAugment's time masking; for spectral frames such as MFCCs, not for positions); "
                            "0 for none; 'auto' takes the bundled data set's setting (fsdd-digits: "
                            f"{data.bundled_time_mask('fsdd-digits')}) and 0 for your own files (default: %(default)s)")
    group.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer,
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
    group.add_argument("--patience", type=int, default=defaults.patience or 0, metavar="N",
                       help="early stopping: stop after N epochs without improvement and keep the best epoch's "
                            "weights; 0 never stops early and keeps the last epoch's, where the cosine schedule "
                            "ends (default: 0)")
    group.add_argument("--min-delta", type=float, default=defaults.min_delta,
                       help="early stopping: smallest change that counts (default: %(default)s)")
    group.add_argument("--stop-rule", choices=STOP_RULES, default=defaults.stop_rule,
                       help="early stopping: 'best' (no gain on the best value) or 'successive' (the course "
                            "assignment's rule: successive epochs differ by < min-delta) (default: %(default)s)")
    group.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=defaults.lr_schedule,
                       help="'cosine' anneals the lr to 0 over the epochs, 'plateau' halves it when the "
                            "monitored loss stalls (default: %(default)s)")
    group.add_argument("--seed", type=int, default=0, help="seed of splits, initialisation and batches (default: 0)")
    group.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: %(default)s)")


def model_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "cell": args.cell, "hidden": list(args.hidden), "dropout": args.dropout,
        "bidirectional": args.bidirectional, "pooling": args.pooling, "nonlinearity": args.nonlinearity,
        "peephole": args.peephole, "proj_size": args.proj_size, "reset_after": args.gru_form == "torch",
        "init": args.init,
    }


def train_config(args: argparse.Namespace, num_sequences: int | None = None, source: str | None = None) -> TrainConfig:
    """The training settings, with every 'auto' resolved for ``num_sequences`` training sequences from ``source``.

    Without ``num_sequences`` (settings checked before any data is read) 'auto' takes TrainConfig's defaults.
    """
    defaults = TrainConfig()
    size, epochs = args.batch_size, args.epochs
    if size == "auto":
        size = defaults.batch_size if num_sequences is None else auto_batch_size(num_sequences)
    if epochs == "auto":
        epochs = defaults.epochs if num_sequences is None else auto_epochs(num_sequences, size)
    mask = args.time_mask
    if mask == "auto":
        mask = 0 if source is None else data.bundled_time_mask(source)
    return TrainConfig(
        epochs=epochs, batch_size=size, time_mask=mask, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, clip_norm=args.clip_norm or None,
        clip_value=args.clip_value, tbptt=args.tbptt, patience=args.patience or None, min_delta=args.min_delta,
        stop_rule=args.stop_rule, lr_schedule=args.lr_schedule, seed=args.seed, device=args.device,
    )


def data_config(args: argparse.Namespace, source: str) -> DataConfig:
    return DataConfig(source=source, scaling=args.scaling, test_fraction=args.test_fraction,
                      validation_fraction=args.validation_fraction, seed=args.seed)
