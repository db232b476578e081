"""`fsdd-strings`: connected spoken digit strings joined from the FSDD clips, for CTC and tagging.

A string is 1 to 7 clips of `fsdd-digits` joined end to end in time. Because the joins are made
here, every string comes with two labellings:

- `labels`: the digit of each clip in order, `(N,)` (the unsegmented target of CTC);
- `frame_labels`: the digit of the clip each frame came from, `(T,)` (the target of a tagger).

Joining: clips are concatenated as they are. Each FSDD clip already starts and ends with a short
stretch of near-silence, so the string has a natural short pause between digits; no silence is
added or trimmed, and the frames of a pause are labelled with the digit of the clip they belong
to. Two clips of the same digit side by side are therefore one run of equal frame labels: a
tagger that labels frames with digits only cannot tell "1 1" from "1" (see `models.SequenceTagger`).

Split: `load_fsdd_strings` builds training strings only from the training clips of the fixed
`fsdd-digits` split and test strings only from its test clips, so no recording is in both. The
bundled features carry no speaker ids, so the split is not speaker-independent: the same six
speakers are heard in training and test, and test figures are for known voices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnkit.data._bundled import load_dataset
from rnnkit.data._dataset import DataSplits, SequenceDataset
from rnnkit.data._errors import DataError

FSDD_STRINGS_SEED = 0  # the seed of the published fsdd-strings
# 6,000 training strings as in the reference run (about 24,000 clip uses: each of the 1,500
# training clips appears ~16 times, in different company). 1,000 test strings (~4,000 digits) measure
# a label error rate to about +-0.3 % at 1 %; each test clip appears ~2.7 times.
FSDD_STRINGS_TRAIN = 6000
FSDD_STRINGS_TEST = 1000
MIN_DIGITS, MAX_DIGITS = 1, 7


@dataclass(frozen=True, eq=False)
class LabelledStrings:
    """Sequences with a label sequence each and, where the joins are known, a label per frame.

    Attributes:
        sequences: float32 `(T_i, F)` per string.
        labels: int64 `(N_i,)` per string, class indices into `class_names`, in spoken order.
        frame_labels: int64 `(T_i,)` per string, the class of each frame.
        clip_ids: int64 `(N_i,)` per string, the clips it joins (indices into the clip set it was
            made from; for `load_fsdd_strings`, into the train or test split of `fsdd-digits`).
        class_names: the `C` class names.
        name: a short name for messages and reports.
        source: where the clips came from (source and licence).
    """

    sequences: list[np.ndarray]
    labels: list[np.ndarray]
    frame_labels: list[np.ndarray]
    clip_ids: list[np.ndarray]
    class_names: list[str]
    name: str = "strings"
    source: str = ""

    def __post_init__(self) -> None:
        counts = {len(self.sequences), len(self.labels), len(self.frame_labels), len(self.clip_ids)}
        if len(counts) != 1:
            raise DataError(f"{self.name!r}: sequences, labels, frame_labels and clip_ids differ in number")
        for i, (x, y, f, c) in enumerate(zip(self.sequences, self.labels, self.frame_labels, self.clip_ids)):
            if len(f) != len(x) or len(c) != len(y) or len(y) == 0:
                raise DataError(f"{self.name!r}: string {i} has {len(x)} frames, {len(f)} frame labels, "
                                f"{len(y)} labels and {len(c)} clip ids")

    @property
    def lengths(self) -> np.ndarray:
        """int64 `(n,)` frames of each string."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    @property
    def num_features(self) -> int:
        return int(self.sequences[0].shape[1])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.sequences)

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabelledStrings:
        """The strings at `indices`, in that order (e.g. to hold out a validation part)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        return LabelledStrings([self.sequences[i] for i in idx], [self.labels[i] for i in idx],
                               [self.frame_labels[i] for i in idx], [self.clip_ids[i] for i in idx],
                               list(self.class_names), self.name, self.source)

    def with_sequences(self, sequences: list[np.ndarray]) -> LabelledStrings:
        """The same labels over new frames of the same lengths (e.g. scaled ones)."""
        return LabelledStrings(list(sequences), self.labels, self.frame_labels, self.clip_ids,
                               list(self.class_names), self.name, self.source)


def make_digit_strings(clips: SequenceDataset, count: int, min_digits: int = MIN_DIGITS,
                       max_digits: int = MAX_DIGITS, seed: int = FSDD_STRINGS_SEED,
                       name: str | None = None) -> LabelledStrings:
    """`count` strings, each of `min_digits..max_digits` clips of `clips` joined in time.

    Generator: one `numpy.random.default_rng(seed)` draws every string's number of clips
    (uniform over `min_digits..max_digits`), then every clip (uniform over `clips`, with
    replacement, so a clip may recur and two equal digits may be neighbours). The same clips,
    count, bounds and seed give the same strings, bit for bit.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits} and {max_digits}")
    rng = np.random.default_rng(seed)
    digits = rng.integers(min_digits, max_digits + 1, size=count)  # (n,) clips per string
    picks = rng.integers(len(clips), size=int(digits.sum()))  # (sum N_i,) clip indices
    clip_ids = np.split(picks, np.cumsum(digits)[:-1])  # n x (N_i,)
    sequences = [np.concatenate([clips.sequences[c] for c in ids]) for ids in clip_ids]  # n x (T_i, F)
    labels = [clips.labels[ids] for ids in clip_ids]
    frame_labels = [np.repeat(clips.labels[ids], clips.lengths[ids]) for ids in clip_ids]  # n x (T_i,)
    return LabelledStrings(sequences, labels, frame_labels, clip_ids, list(clips.class_names),
                           name or f"{clips.name}-strings", clips.source)


def load_fsdd_strings(seed: int = FSDD_STRINGS_SEED, train_count: int = FSDD_STRINGS_TRAIN,
                      test_count: int = FSDD_STRINGS_TEST, clips: DataSplits | None = None
                      ) -> tuple[LabelledStrings, LabelledStrings]:
    """`fsdd-strings` as `(train, test)`: strings of 1 to 7 digits, train ones from training clips only.

    `clips` defaults to `load_dataset("fsdd-digits")`; pass scaled splits (`scale_splits`) to get
    scaled strings, since scaling a frame does not depend on its neighbours. The test strings use
    the seed `seed + 1`, so the two draws are independent.
    """
    clips = clips if clips is not None else load_dataset("fsdd-digits")
    if clips.test is None:
        raise DataError("load_fsdd_strings needs clips with a test split")
    train = make_digit_strings(clips.train, train_count, seed=seed, name="fsdd-strings")
    test = make_digit_strings(clips.test, test_count, seed=seed + 1, name="fsdd-strings")
    return train, test
