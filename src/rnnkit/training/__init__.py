"""Training: fit loop, optimisers, clipping, truncated BPTT, early stopping, checkpoints, metrics.

Trains any ``torch.nn.Module`` called as ``model(x, lengths) -> logits`` on batches
``(x, lengths, y)`` that the caller supplies; imports nothing else from rnnkit but the data
layer's ``IGNORE_INDEX``, the target of a padded step.
"""

from ._augment import time_mask
from ._batch import Batch, BatchSource, epoch_batches, unpack_batch
from ._checkpoint import (
    CheckpointError,
    load_weights,
    read_checkpoint,
    save_checkpoint,
    write_json_atomic,
)
from ._config import LR_SCHEDULES, MONITORS, OPTIMIZERS, STOP_RULES, TrainConfig, resolve_device
from ._early_stopping import Decision, EarlyStopping
from ._fit import FitResult, TrainingError, fit
from ._metrics import (
    IGNORE_INDEX,
    EvalResult,
    Objective,
    PerTarget,
    as_objective,
    accuracy,
    count_correct,
    cross_entropy,
    evaluate,
)
from ._optim import clip_gradients, gradient_norm, make_optimizer, make_scheduler
from ._resume import STATE_FILE, Checkpointing, read_kept, read_training_state, remove_training_state
from ._seed import seed_everything
from ._tbptt import StepStats, bptt_step, detach_state, tbptt_step

__all__ = [
    "IGNORE_INDEX",
    "LR_SCHEDULES",
    "MONITORS",
    "OPTIMIZERS",
    "STOP_RULES",
    "STATE_FILE",
    "Batch",
    "Checkpointing",
    "BatchSource",
    "CheckpointError",
    "Decision",
    "EarlyStopping",
    "EvalResult",
    "Objective",
    "PerTarget",
    "as_objective",
    "FitResult",
    "StepStats",
    "TrainConfig",
    "TrainingError",
    "accuracy",
    "bptt_step",
    "clip_gradients",
    "count_correct",
    "cross_entropy",
    "detach_state",
    "epoch_batches",
    "evaluate",
    "fit",
    "gradient_norm",
    "load_weights",
    "make_optimizer",
    "make_scheduler",
    "read_checkpoint",
    "read_kept",
    "read_training_state",
    "remove_training_state",
    "resolve_device",
    "save_checkpoint",
    "seed_everything",
    "tbptt_step",
    "time_mask",
    "unpack_batch",
    "write_json_atomic",
]
