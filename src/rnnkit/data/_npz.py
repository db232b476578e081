"""`.npz` data sets: all frames joined in one array, cut by `lengths`.

Arrays (read without pickle, so strings must be stored as fixed-width unicode, `np.array(names)`):
    X            float (N_frames, F)  the frames of every sample, end to end
    lengths      int (n,)             steps of each sample; they sum to N_frames
    y            int or str (n,)      class indices into `class_names`, else any ints or strings
    class_names  str (C,)             optional; else the distinct values of `y` are the classes
    groups       int (n,)             optional group of each sample (a speaker, a demo)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from rnnkit.data._dataset import SequenceDataset
from rnnkit.data._errors import DataError
from rnnkit.data._labels import encode_labels


def read_npz(path: str | Path) -> SequenceDataset:
    """Read an `.npz` data set (see the module docstring for its arrays)."""
    path = Path(path)
    arrays = _load_arrays(path)
    for key in ("X", "lengths", "y"):
        if key not in arrays:
            raise DataError(f"{path}: missing array {key!r} (found: {', '.join(arrays) or 'none'})")
    frames, lengths, y = arrays["X"], arrays["lengths"], arrays["y"]
    if frames.ndim != 2 or frames.dtype.kind not in "iuf":
        raise DataError(f"{path}: X must be a 2-D numeric array (N_frames, F), got "
                        f"{frames.dtype} {frames.shape}")
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise DataError(f"{path}: lengths must be a 1-D integer array, got "
                        f"{lengths.dtype} {lengths.shape}")
    if y.shape != lengths.shape:
        raise DataError(f"{path}: y has shape {y.shape} but lengths has {lengths.shape}")
    if len(lengths) == 0:
        raise DataError(f"{path}: no samples (lengths is empty)")
    if (lengths < 1).any():
        i = int(np.flatnonzero(lengths < 1)[0])
        raise DataError(f"{path}: lengths[{i}] is {lengths[i]}; every sample needs >= 1 step")
    if int(lengths.sum()) != len(frames):
        raise DataError(f"{path}: lengths sum to {int(lengths.sum())} but X has {len(frames)} rows")
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
        frames = frames.astype(np.float32)
    ends = np.cumsum(lengths)
    _check_finite(frames, ends, path)
    labels, class_names = class_codes(y, arrays.get("class_names"), path)
    groups = arrays.get("groups")
    if groups is not None and (groups.shape != lengths.shape or groups.dtype.kind not in "iu"):
        raise DataError(f"{path}: groups must be integers of shape {lengths.shape}, got "
                        f"{groups.dtype} {groups.shape}")
    return SequenceDataset(
        np.split(frames, ends[:-1]), labels, class_names,
        name=path.stem, groups=groups, source=str(path),
    )


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    if path.is_file() and not zipfile.is_zipfile(path):  # else numpy answers with advice to unpickle
        raise DataError(f"{path}: not an .npz (zip) archive")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a single .npy array saved under .npz
        raise DataError(f"{path}: not an .npz archive (holds a single array)")
    arrays = {}
    with npz:
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError:  # an object array: would need pickle, which rnnkit never loads
                raise DataError(
                    f"{path}: array {key!r} holds Python objects (needs pickle, which rnnkit "
                    "never loads); store strings as a unicode array, e.g. np.array(names, str)"
                ) from None
    return arrays


def _check_finite(frames: np.ndarray, ends: np.ndarray, path: Path) -> None:
    bad = np.flatnonzero(~np.isfinite(frames).all(axis=1))
    if bad.size:
        row = int(bad[0])
        sample = int(np.searchsorted(ends, row, side="right"))
        step = row - (int(ends[sample - 1]) if sample else 0)
        raise DataError(f"{path}: X row {row} (sample {sample}, step {step}) is not finite "
                        "(NaN, infinite or beyond the float32 range)")


def class_codes(values: np.ndarray, names: np.ndarray | None, path: Path, key: str = "y") -> tuple[np.ndarray, list[str]]:
    """Class indices and names of the labels ``values`` (the array ``key`` of ``path``): indices into
    the optional ``class_names``, or integers / strings whose sorted distinct values are the classes."""
    if names is not None:
        if names.ndim != 1 or names.dtype.kind != "U":
            raise DataError(f"{path}: class_names must be a 1-D unicode string array, got "
                            f"{names.dtype} {names.shape}")
        if values.dtype.kind not in "iu":
            raise DataError(f"{path}: with class_names, {key} must hold integer class indices, got {values.dtype}")
        bad = np.flatnonzero((values < 0) | (values >= len(names)))
        if bad.size:
            raise DataError(f"{path}: {key}[{bad[0]}] is {values[bad[0]]}, not an index into the "
                            f"{len(names)} class_names")
        return values.astype(np.int64), names.tolist()
    if values.dtype.kind not in "iuU":
        raise DataError(f"{path}: {key} must hold integers or strings, got {values.dtype}")
    return encode_labels([str(v) for v in values.tolist()])


def write_npz(dataset: SequenceDataset, path: str | Path) -> None:
    """Write `dataset` as a compressed `.npz` that `read_npz` reads back exactly."""
    arrays = {
        "X": np.concatenate(dataset.sequences, axis=0),
        "lengths": dataset.lengths,
        "y": dataset.labels,
        "class_names": np.array(dataset.class_names, dtype=str),
    }
    if dataset.groups is not None:
        arrays["groups"] = dataset.groups
    np.savez_compressed(path, **arrays)
