"""Early stopping as a pure state machine: feed it one number per epoch, it says when to stop.

No torch here, so the rule can be tested with a literal list of losses (keras
``callbacks/early_stopping.py``). Restoring the best weights is the training loop's job; this
class only says which epoch was best and whether the latest one improved on it.

Two rules, both counting "bad" epochs in a row and stopping once there are ``patience`` of them:

``rule="best"`` (keras, the default)
    An epoch is good when it beats the best value so far by more than ``min_delta``
    (``value < best - min_delta`` in mode ``"min"``, ``value > best + min_delta`` in ``"max"``).
    A good epoch becomes the new best and resets the count.

``rule="successive"`` (the course assignment)
    An epoch is bad when it differs from the epoch just before by less than ``min_delta``,
    ``|value - previous| < min_delta``, in either direction; any bigger change resets the count.
    "Stop when the average loss of successive epochs changes by less than 1e-4" is
    ``EarlyStopping(rule="successive", min_delta=1e-4, patience=1)``. The best value is still
    tracked (strictly better, no ``min_delta``) so the best weights can be restored.

``patience=None`` never stops but keeps tracking the best epoch.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class Decision(NamedTuple):
    """What one ``EarlyStopping.update`` concluded about the epoch it was given."""

    improved: bool  # this epoch is the new best: snapshot the weights now
    stop: bool  # the rule has failed `patience` epochs in a row: end training


class EarlyStopping:
    """Stop when a monitored value stops changing; see the module docstring for the rules.

    Example, the assignment's rule over average training losses::

        stopper = EarlyStopping(rule="successive", min_delta=1e-4, patience=1)
        for loss in [0.9, 0.5, 0.40005, 0.40001]:
            if stopper.update(loss).stop:      # stops at the 4th: |0.40001 - 0.40005| < 1e-4
                break
    """

    def __init__(
        self,
        mode: str = "min",
        min_delta: float = 1e-4,
        patience: int | None = 10,
        rule: str = "best",
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping mode={mode!r}: must be 'min' or 'max'")
        if rule not in ("best", "successive"):
            raise ValueError(f"EarlyStopping rule={rule!r}: must be 'best' or 'successive'")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping min_delta={min_delta!r}: must be >= 0")
        if patience is not None and patience < 1:
            raise ValueError(f"EarlyStopping patience={patience!r}: must be >= 1 or None")
        self.mode = mode
        self.min_delta = float(min_delta)
        self.patience = patience
        self.rule = rule
        self.epoch = 0  # number of values seen; epochs are 1-based like the history
        self.best: float | None = None  # best value so far
        self.best_epoch = 0  # epoch of `best` (0 before the first update)
        self.previous: float | None = None  # the value of the epoch before
        self.wait = 0  # bad epochs in a row
        self.should_stop = False

    def update(self, value: float) -> Decision:
        """Take the monitored value of the next epoch and decide."""
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"EarlyStopping got NaN at epoch {self.epoch + 1}")
        self.epoch += 1
        if self.rule == "best":
            improved = self.best is None or self._better(value, self.best, self.min_delta)
            bad = not improved
        else:
            improved = self.best is None or self._better(value, self.best, 0.0)
            bad = self.previous is not None and abs(value - self.previous) < self.min_delta
        if improved:
            self.best, self.best_epoch = value, self.epoch
        self.wait = self.wait + 1 if bad else 0
        self.previous = value
        self.should_stop = self.patience is not None and self.wait >= self.patience
        return Decision(improved=improved, stop=self.should_stop)

    def _better(self, value: float, reference: float, margin: float) -> bool:
        if self.mode == "min":
            return value < reference - margin
        return value > reference + margin

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(mode={self.mode!r}, rule={self.rule!r}, min_delta={self.min_delta}, "
            f"patience={self.patience}, epoch={self.epoch}, best={self.best}, "
            f"best_epoch={self.best_epoch}, wait={self.wait})"
        )
