"""A user's own label-sequence data (for CTC and frame tagging), as ``LabelledStrings``.

Two forms (see ``docs/ctc_data.md``):

``.npz`` (read without pickle, so strings must be fixed-width unicode, ``np.array(names)``)::

    X              float (N_frames, F)   the frames of every sample, end to end
    lengths        int (n,)              frames of each sample; they sum to N_frames
    labels         int (N_labels,)       every sample's label sequence, end to end
    label_lengths  int (n,)              labels of each sample (>= 1); they sum to N_labels
    class_names    str (C,)              optional; ``labels`` index into it. Else the distinct
                                         values of ``labels`` are the classes, sorted
    frame_labels   int (N_frames,)       optional; the class of every frame (for ``--task tag``)

A folder with ``train/`` and optionally ``test/``, each holding sample files (rows of numbers, one
row per frame, as ``read_sample_file`` reads them) and beside each sample ``NAME`` (any suffix)
a text file ``NAME.labels`` of space-separated label names (``3 1 4``, ``h e l l o``) and, for the
tagger, ``NAME.frames`` with one label name per frame (whitespace separated, e.g. one per line).

A sample without frame labels gets ``IGNORE_INDEX`` (-100) for each frame: "unknown", which
``has_frame_labels`` tells apart; clip ids, which only joined clips have, are ``0 .. N_i - 1``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnkit.data._collate import IGNORE_INDEX
from rnnkit.data._digit_strings import LabelledStrings
from rnnkit.data._errors import DataError
from rnnkit.data._folder import read_sample_file
from rnnkit.data._labels import natural_key, sort_class_names
from rnnkit.data._npz import _check_finite, _load_arrays, class_codes
from rnnkit.data._parse import read_text

LABELS_SUFFIX = ".labels"
FRAMES_SUFFIX = ".frames"


def read_label_sequences(path: str | Path) -> tuple[LabelledStrings, LabelledStrings | None]:
    """``(train, test)`` from an ``.npz`` (test None) or a folder with ``train/`` (and ``test/``)."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if path.is_file():
        return _read_npz(path), None
    raise DataError(f"{path}: no such file or folder")


def has_frame_labels(strings: LabelledStrings) -> bool:
    """Whether every frame of every sample has a class (the data a tagger trains on)."""
    return all(len(f) == 0 or int(np.min(f)) >= 0 for f in strings.frame_labels)


def _read_npz(path: Path) -> LabelledStrings:
    arrays = _load_arrays(path)
    for key in ("X", "lengths", "labels", "label_lengths"):
        if key not in arrays:
            raise DataError(f"{path}: missing array {key!r} (found: {', '.join(arrays) or 'none'}); a label-"
                            "sequence .npz holds X, lengths, labels and label_lengths")
    frames, lengths = arrays["X"], arrays["lengths"]
    labels, label_lengths = arrays["labels"], arrays["label_lengths"]
    if frames.ndim != 2 or frames.dtype.kind not in "iuf":
        raise DataError(f"{path}: X must be a 2-D numeric array (N_frames, F), got {frames.dtype} {frames.shape}")
    for key, counts, total, what in (("lengths", lengths, len(frames), "X has rows"),
                                     ("label_lengths", label_lengths, len(labels), "labels has entries")):
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise DataError(f"{path}: {key} must be a 1-D integer array, got {counts.dtype} {counts.shape}")
        if (counts < 1).any():
            i = int(np.flatnonzero(counts < 1)[0])
            raise DataError(f"{path}: {key}[{i}] is {counts[i]}; every sample needs at least one")
        if int(counts.sum()) != total:
            raise DataError(f"{path}: {key} sum to {int(counts.sum())} but {what} {total}")
    if len(lengths) == 0 or label_lengths.shape != lengths.shape:
        raise DataError(f"{path}: {len(lengths)} lengths but {len(label_lengths)} label_lengths; "
                        "one of each per sample")
    with np.errstate(over="ignore"):
        frames = frames.astype(np.float32)
    _check_finite(frames, np.cumsum(lengths), path)
    names = arrays.get("class_names")
    codes, class_names = _codes(labels, names, path, "labels")
    frame_codes = None
    if "frame_labels" in arrays:
        if arrays["frame_labels"].shape != (len(frames),):
            raise DataError(f"{path}: frame_labels has shape {arrays['frame_labels'].shape}, expected "
                            f"({len(frames)},), one per row of X")
        frame_codes, _ = _codes(arrays["frame_labels"], np.array(class_names), path, "frame_labels")
    sequences = np.split(frames, np.cumsum(lengths)[:-1])
    label_seqs = np.split(codes, np.cumsum(label_lengths)[:-1])
    frame_seqs = np.split(frame_codes, np.cumsum(lengths)[:-1]) if frame_codes is not None else \
        [np.full(len(x), IGNORE_INDEX, dtype=np.int64) for x in sequences]
    return LabelledStrings(sequences, label_seqs, frame_seqs, [np.arange(len(y)) for y in label_seqs],
                           class_names, name=path.stem, source=str(path))


def _codes(values: np.ndarray, names: np.ndarray | None, path: Path, key: str) -> tuple[np.ndarray, list[str]]:
    """Class indices of ``values`` (indices into ``names``, or ints/strings whose sorted set are the classes)."""
    if values.ndim != 1:
        raise DataError(f"{path}: {key} must be 1-D, got shape {values.shape}")
    return class_codes(values, names, path, key)


def _read_folder(root: Path) -> tuple[LabelledStrings, LabelledStrings | None]:
    train_dir, test_dir = root / "train", root / "test"
    if not train_dir.is_dir():
        raise DataError(f"{root}: a label-sequence folder needs a train/ folder of sample files, each with a "
                        f"sibling NAME{LABELS_SUFFIX} file")
    parts = [_read_part(train_dir)] + ([_read_part(test_dir)] if test_dir.is_dir() else [])
    class_names = sort_class_names(n for part in parts for names in part[1] + part[2] for n in names)
    index = {name: i for i, name in enumerate(class_names)}
    features = {x.shape[1] for part in parts for x in part[0]}
    if len(features) != 1:
        raise DataError(f"{root}: samples have different numbers of features per frame: {sorted(features)}")
    made = []
    for folder, (sequences, labels, frames) in zip((train_dir, test_dir), parts):
        made.append(LabelledStrings(
            sequences, [np.array([index[n] for n in names], dtype=np.int64) for names in labels],
            [np.array([index[n] for n in names], dtype=np.int64) if names else
             np.full(len(x), IGNORE_INDEX, dtype=np.int64) for names, x in zip(frames, sequences)],
            [np.arange(len(names)) for names in labels], class_names, name=root.name, source=str(folder)))
    return made[0], (made[1] if len(made) > 1 else None)


def _read_part(folder: Path) -> tuple[list[np.ndarray], list[list[str]], list[list[str]]]:
    """Sample files of ``folder`` (natural order) with their label names and frame label names ([] if none)."""
    samples = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                      and p.suffix not in (LABELS_SUFFIX, FRAMES_SUFFIX)), key=lambda p: natural_key(p.name))
    if not samples:
        raise DataError(f"{folder}: no sample files")
    sequences, labels, frames = [], [], []
    num_features = None
    for sample in samples:
        x = read_sample_file(sample, num_features)
        num_features = x.shape[1]
        label_file = sample.with_name(sample.name + LABELS_SUFFIX)
        if not label_file.is_file():
            raise DataError(f"{sample}: no label file {label_file.name} beside it (space-separated label names)")
        names = _tokens(label_file)
        if not names:
            raise DataError(f"{label_file} line 1: no labels; a sample needs at least one")
        frame_file = sample.with_name(sample.name + FRAMES_SUFFIX)
        frame_names = _tokens(frame_file) if frame_file.is_file() else []
        if frame_names and len(frame_names) != len(x):
            raise DataError(f"{frame_file}: {len(frame_names)} frame labels, but {sample.name} has {len(x)} frames "
                            "(one label per frame)")
        sequences.append(x)
        labels.append(names)
        frames.append(frame_names)
    return sequences, labels, frames


def _tokens(path: Path) -> list[str]:
    return read_text(path).split()
