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
TASKS = ("classify", "lm", "ctc", "tag", "seq2seq")

# Options whose default depends on the task: the parser leaves them None ("not given"), and
# with_task_defaults fills in the task's value, so a user's explicit choice is never overwritten.
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "classify": {
        "hidden": list(DEFAULT_MODEL["hidden"]), "dropout": DEFAULT_MODEL["dropout"], "bidirectional": True,
        "pooling": DEFAULT_MODEL["pooling"], "scaling": "standard", "test_fraction": 0.3,
        "validation_fraction": 0.1, "time_mask": "auto", "lr": TrainConfig.lr, "clip_norm": TrainConfig.clip_norm,
    },
    "lm": {
        # The plain-script peer of issue 9 (two layers of 512, embedding 64, windows of 100, batch
        # 64, Adam 2e-3, clipping 1: Karpathy's char-rnn settings); rnnkit adds the per-batch
        # cosine schedule and keeps the epoch of the lowest validation loss.
        "hidden": [512, 512], "dropout": 0.0, "test_fraction": 0.1, "validation_fraction": 0.05,
        "lr": 2e-3, "clip_norm": 1.0, "window": 100, "embedding": 64, "layer_norm": False, "zoneout": 0.0,
    },
    # CTC and the frame tagger on fsdd-strings (cli/_ctc.py says why): a 2 x 128 bidirectional LSTM,
    # Adam 3e-3 annealed by a cosine schedule over 20 epochs, time masking of up to 8 frames.
    "ctc": {
        "hidden": [128, 128], "dropout": 0.2, "bidirectional": True, "scaling": "standard", "test_fraction": 0.15,
        "time_mask": 8, "lr": 3e-3, "clip_norm": TrainConfig.clip_norm,
    },
}
TASK_DEFAULTS["tag"] = TASK_DEFAULTS["ctc"]
# Grapheme-to-phoneme (cli/_seq2seq.py says why): the peer's size (bi-LSTM 256 encoder, LSTM 256
# decoder, Luong "general" attention), Adam 3e-3 annealed per batch, batches of 128.
TASK_DEFAULTS["seq2seq"] = {
    "hidden": [256], "dropout": 0.2, "bidirectional": True, "embedding": 64, "test_fraction": 0.1,
    "validation_fraction": 0.05, "lr": 3e-3, "clip_norm": 5.0, "attention": "general", "decoder_cell": "lstm",
    "decoder_hidden": 256, "keep_stress": False,
}
STRING_TASKS = ("ctc", "tag")  # label strings of fsdd-strings or the user's own
# Options that mean something for some tasks only; given for another task, they are an error.
TASK_ONLY = {"pooling": ("classify",), "bidirectional": ("classify", *STRING_TASKS, "seq2seq"),
             "scaling": ("classify", *STRING_TASKS), "time_mask": ("classify", *STRING_TASKS),
             "tbptt": ("classify",), "validation_fraction": ("classify", "lm", "seq2seq"), "window": ("lm",),
             "embedding": ("lm", "seq2seq"), "per_line": ("lm",), "layer_norm": ("lm",), "zoneout": ("lm",),
             "peephole": ("classify", "lm", *STRING_TASKS), "proj_size": ("classify", "lm", *STRING_TASKS),
             "attention": ("seq2seq",), "decoder_cell": ("seq2seq",), "decoder_hidden": ("seq2seq",),
             "keep_stress": ("seq2seq",)}


def check_task_options(args: argparse.Namespace, task: str) -> None:
    """A ``ValueError`` naming the first option given that ``task`` has no use for."""
    for dest, tasks in TASK_ONLY.items():
        if getattr(args, dest, None) is not None and task not in tasks:
            raise ValueError(f"--{dest.replace('_', '-')} applies to --task {' and '.join(tasks)} only, "
                             f"not to --task {task}")


def with_task_defaults(args: argparse.Namespace, task: str | None = None) -> argparse.Namespace:
    """A copy of ``args`` with every option left unset given its default for ``task`` (or ``args.task``)."""
    task = task or getattr(args, "task", None) or "classify"
    resolved = argparse.Namespace(**vars(args))
    for dest, value in TASK_DEFAULTS[task].items():
        if getattr(resolved, dest, None) is None:
            setattr(resolved, dest, value)
    return resolved
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
    group.add_argument("--scaling", choices=SCALINGS, default=None,
                       help="classify: per-feature scaling fitted on the training split only: 'standard' (zero "
                            "mean, unit variance), 'minmax' (to [0, 1], as in the course assignment) or 'none' "
                            "(default: standard)")
    group.add_argument("--test-fraction", type=float, default=None, metavar="F",
                       help="share of the data held out for testing when the source has no test split: "
                            "stratified for classify (default 0.3; bundled sets have their own), the end of "
                            "the text for lm (default 0.1)")
    group.add_argument("--validation-fraction", type=float, default=None, metavar="F",
                       help="share of the training data set aside and watched every epoch: classify 0.1 (0 for "
                            "none, then early stopping watches the training loss), lm 0.05 (before the test "
                            "text; the epoch of its lowest loss is kept)")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--cell", choices=CELLS, default=DEFAULT_MODEL["cell"],
                       help="recurrent cell family (default: %(default)s)")
    group.add_argument("--hidden", type=hidden_sizes, default=None, metavar="W-W-...",
                       help="width of each recurrent layer, first to last, e.g. 64-32-32 (default: 64-64 for "
                            "classify, 512-512 for lm)")
    group.add_argument("--dropout", type=float, default=None,
                       help="dropout between recurrent layers and before the output layer (default: 0.2 for "
                            "classify, 0 for lm)")
    group.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None,
                       help="classify: a reverse direction in every layer (default: on; --no-bidirectional for "
                            "one direction)")
    group.add_argument("--pooling", choices=POOLINGS, default=None,
                       help="classify: how the sequence becomes one vector: the final state ('last'), mean or "
                            "max over valid steps, or learned 'attention' (default: attention)")
    group.add_argument("--nonlinearity", choices=("tanh", "relu"), default="tanh",
                       help="rnn cell only: activation (default: %(default)s)")
    group.add_argument("--peephole", action="store_true", default=None,
                       help="lstm only: peephole connections from the cell state")
    group.add_argument("--proj-size", type=int, default=None, metavar="P",
                       help="lstm only: recurrent projection to P units (LSTMP); 0 for none (default: 0)")
    group.add_argument("--gru-form", choices=("torch", "cho"), default="torch",
                       help="gru only: torch's form (reset applied after W_hn h) or Cho et al.'s original "
                            "(reset applied to h before W_hn) (default: %(default)s)")
    group.add_argument("--init", choices=("torch", "keras"), default="torch",
                       help="initialisation: torch's uniform, or Keras's (orthogonal recurrent weights, "
                            "forget-gate bias 1) (default: %(default)s)")
    group.add_argument("--embedding", type=positive_integer, default=None, metavar="E",
                       help="lm: size of the learned character embedding (default: 64)")
    group.add_argument("--layer-norm", action="store_true", default=None,
                       help="lm, lstm only: layer-normalised gates and cell state (Ba et al. 2016)")
    group.add_argument("--zoneout", type=float, default=None, metavar="P",
                       help="lm: zoneout, each unit keeps its previous state with probability P in training "
                            "(Krueger et al. 2017) (default: 0)")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=positive_or_auto, default="auto",
                       help=f"maximum epochs, or 'auto': enough for about {AUTO_STEPS} updates, between "
                            f"{EPOCH_RANGE[0]} and {EPOCH_RANGE[1]} (default: %(default)s)")
    group.add_argument("--batch-size", type=positive_or_auto, default="auto",
                       help="sequences per batch, or 'auto': about 16 updates per epoch, between 8 and 32 "
                            "(small data sets need small batches) (default: %(default)s)")
    group.add_argument("--time-mask", type=count_or_auto, default=None, metavar="W|auto",
                       help="augmentation: zero one random span of up to W steps in every training sequence "
                            "(SpecAugment's time masking; for spectral frames such as MFCCs, not for positions); "
                            "0 for none; 'auto' takes the bundled data set's setting (fsdd-digits: "
                            f"{data.bundled_time_mask('fsdd-digits')}) and 0 for your own files (default: auto)")
    group.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer,
                       help="(default: %(default)s)")
    group.add_argument("--lr", type=float, default=None,
                       help=f"learning rate (default: {defaults.lr} for classify, {TASK_DEFAULTS['lm']['lr']} for lm)")
    group.add_argument("--momentum", type=float, default=defaults.momentum, help="sgd momentum (default: %(default)s)")
    group.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="(default: %(default)s)")
    group.add_argument("--clip-norm", type=float, default=None, metavar="N",
                       help=f"rescale gradients to global norm <= N; 0 turns it off (default: {defaults.clip_norm} "
                            f"for classify, {TASK_DEFAULTS['lm']['clip_norm']} for lm)")
    group.add_argument("--clip-value", type=float, default=None, metavar="V",
                       help="clamp every gradient element to [-V, V] (default: off)")
    group.add_argument("--tbptt", type=int, default=None, metavar="K",
                       help="classify: truncated BPTT over windows of K steps (unidirectional, pooling 'last'; "
                            "default: off); for lm see --window")
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
    """The classifier's settings from the model options."""
    args = with_task_defaults(args, "classify")
    return {
        "cell": args.cell, "hidden": list(args.hidden), "dropout": args.dropout,
        "bidirectional": args.bidirectional, "pooling": args.pooling, "nonlinearity": args.nonlinearity,
        "peephole": bool(args.peephole), "proj_size": args.proj_size or 0, "reset_after": args.gru_form == "torch",
        "init": args.init,
    }


def train_config(args: argparse.Namespace, num_sequences: int | None = None, source: str | None = None) -> TrainConfig:
    """The training settings, with every 'auto' resolved for ``num_sequences`` training sequences from ``source``.

    Without ``num_sequences`` (settings checked before any data is read) 'auto' takes TrainConfig's defaults.
    """
    args = with_task_defaults(args, "classify")
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
    args = with_task_defaults(args, "classify")
    return DataConfig(source=source, scaling=args.scaling, test_fraction=args.test_fraction,
                      validation_fraction=args.validation_fraction, seed=args.seed)


# --- the language model (train --task lm) ---------------------------------------------------
# --epochs auto for lm: about this many optimiser steps, within LM_EPOCH_RANGE.
LM_AUTO_STEPS = 1300
LM_EPOCH_RANGE = (1, 100)
LM_BATCH_SIZE = 64  # streams of a long text, or names, per batch


def add_lm_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("language model (--task lm)")
    group.add_argument("--window", type=positive_integer, default=None, metavar="K",
                       help="characters per training window of a long text: truncated BPTT, the state carried "
                            "from window to window and detached (default: 100)")
    group.add_argument("--per-line", action=argparse.BooleanOptionalAction, default=None,
                       help="one item (a name, a word) per line, each its own padded sequence ending in an "
                            "end-of-line symbol (default: on for census-names, off for a text)")


def lm_model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The CharLM's settings from the model options."""
    args = with_task_defaults(args, "lm")
    return {
        "cell": args.cell, "hidden": list(args.hidden), "embedding": args.embedding, "dropout": args.dropout,
        "nonlinearity": args.nonlinearity, "peephole": bool(args.peephole), "proj_size": args.proj_size or 0,
        "layer_norm": bool(args.layer_norm), "zoneout": args.zoneout, "reset_after": args.gru_form == "torch",
        "init": args.init,
    }


def lm_batch_size(args: argparse.Namespace) -> int:
    return LM_BATCH_SIZE if args.batch_size == "auto" else args.batch_size


def lm_train_config(args: argparse.Namespace, batches_per_epoch: int, per_line: bool) -> TrainConfig:
    """The language model's training settings; 'auto' epochs give about LM_AUTO_STEPS updates.

    A long text carries the state from window to window (``carry_state``); the cosine schedule
    anneals after every batch, since a large text trains for a few long epochs; the epoch of
    the lowest validation loss is kept.
    """
    args = with_task_defaults(args, "lm")
    epochs = args.epochs
    if epochs == "auto":
        low, high = LM_EPOCH_RANGE
        epochs = min(high, max(low, math.ceil(LM_AUTO_STEPS / batches_per_epoch)))
    return TrainConfig(
        epochs=epochs, batch_size=lm_batch_size(args), optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
        weight_decay=args.weight_decay, clip_norm=args.clip_norm or None, clip_value=args.clip_value,
        carry_state=not per_line, lr_per_batch=args.lr_schedule == "cosine", restore_best=True,
        patience=args.patience or None, min_delta=args.min_delta, stop_rule=args.stop_rule,
        lr_schedule=args.lr_schedule, seed=args.seed, device=args.device,
    )


# --- CTC and frame tagging (train --task ctc | tag) -----------------------------------------
STRING_EPOCHS = 20  # --epochs auto: about 10 minutes on fsdd-strings on 2 cores (cli/_ctc.py)
STRING_BATCH_SIZE = 32


def string_model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The CTC model's or tagger's settings (a FrameConfig's) from the model options."""
    args = with_task_defaults(args, args.task)
    return {
        "cell": args.cell, "hidden": list(args.hidden), "dropout": args.dropout, "bidirectional": args.bidirectional,
        "nonlinearity": args.nonlinearity, "peephole": bool(args.peephole), "proj_size": args.proj_size or 0,
        "reset_after": args.gru_form == "torch", "init": args.init,
    }


def string_train_config(args: argparse.Namespace) -> TrainConfig:
    """Training settings of --task ctc or tag, 'auto' resolved to the defaults above."""
    args = with_task_defaults(args, args.task)
    time_mask = TASK_DEFAULTS["ctc"]["time_mask"] if args.time_mask == "auto" else args.time_mask
    return TrainConfig(
        epochs=STRING_EPOCHS if args.epochs == "auto" else args.epochs,
        batch_size=STRING_BATCH_SIZE if args.batch_size == "auto" else args.batch_size, time_mask=time_mask,
        optimizer=args.optimizer, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay,
        clip_norm=args.clip_norm or None, clip_value=args.clip_value, patience=args.patience or None,
        min_delta=args.min_delta, stop_rule=args.stop_rule, lr_schedule=args.lr_schedule, seed=args.seed,
        device=args.device,
    )


# --- sequence to sequence (train --task seq2seq) --------------------------------------------
def add_seq2seq_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sequence to sequence (--task seq2seq)")
    group.add_argument("--attention", choices=("additive", "dot", "general"), default=None,
                       help="additive (Bahdanau) or multiplicative (Luong dot or general) attention "
                            "(default: general)")
    group.add_argument("--decoder-cell", choices=("lstm", "gru"), default=None, help="(default: lstm)")
    group.add_argument("--decoder-hidden", type=positive_integer, default=None, metavar="H",
                       help="width of the decoder state (default: 256)")
    group.add_argument("--keep-stress", action="store_true", default=None,
                       help="cmudict: keep the vowels' stress digits (69 phonemes rather than 39)")


def seq2seq_model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Seq2Seq's settings from the model options (--cell and --hidden shape the encoder)."""
    args = with_task_defaults(args, "seq2seq")
    return {
        "embedding": args.embedding, "encoder_cell": args.cell, "encoder_hidden": list(args.hidden),
        "bidirectional": args.bidirectional, "decoder_cell": args.decoder_cell, "decoder_hidden": args.decoder_hidden,
        "attention": args.attention, "dropout": args.dropout, "init": args.init,
    }


def seq2seq_train_config(args: argparse.Namespace, auto_epochs: int) -> TrainConfig:
    """Training settings of --task seq2seq; 'auto' epochs are ``auto_epochs`` (a budget of training words)."""
    args = with_task_defaults(args, "seq2seq")
    return TrainConfig(
        epochs=auto_epochs if args.epochs == "auto" else args.epochs,
        batch_size=128 if args.batch_size == "auto" else args.batch_size, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, clip_norm=args.clip_norm or None,
        clip_value=args.clip_value, patience=args.patience or None, min_delta=args.min_delta,
        stop_rule=args.stop_rule, lr_schedule=args.lr_schedule, lr_per_batch=args.lr_schedule == "cosine",
        seed=args.seed, device=args.device,
    )
