"""Pairs of token sequences for sequence-to-sequence learning: a word's letters -> its phonemes.

A `SequencePairs` holds one entry per pronunciation: a word with two pronunciations ("read" ->
R EH D and R IY D) is two pairs. Training uses every pair; scoring uses each distinct word once
and counts a prediction right when it equals any of the word's pronunciations (`references`), as
grapheme-to-phoneme papers do (Bisani and Ney 2008; Yao and Zweig 2015).

The CMUdict split (`load_cmudict_pairs`) is by word, so no word (with any of its pronunciations)
is in two parts. The rule, fixed so that it can be reproduced:

1. keep the words spelled with the letters a-z and the apostrophe only ("'bout" and "aaron's" stay;
   0.9 % of the words go: hyphenated compounds such as "able-bodied", which the dictionary
   pronounces as their parts, and dotted abbreviations such as "a.m.", spelled letter by letter);
2. strip the stress digits from the vowels (AH0 -> AH, 39 phonemes) unless `keep_stress`, and
   merge the pronunciations of a word that become the same;
3. sort the distinct words, shuffle them with `numpy.random.default_rng(seed).permutation`, and
   take the first `test_words` for test, the next `validation_words` for validation and the rest
   for training.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from rnnkit.data._bundled import load_pronunciations
from rnnkit.data._errors import DataError
from rnnkit.data._vocab import Vocabulary

SPECIALS = ("<pad>", "<s>", "</s>")  # ids 0, 1, 2 of every vocabulary built by `pair_vocabularies`
PAD, BOS, EOS = 0, 1, 2  # padding, start of the decoder's input, end of a target sequence

CMUDICT_WORD = re.compile(r"[a-z']+")  # rule 1 of the split
STRESS_DIGITS = "012"  # the stress mark ending a vowel: AH0, EY1, OW2


@dataclass(frozen=True)
class SequencePairs:
    """Source words and their target token sequences, one pair per entry.

    The source tokens of a pair are the characters of its word; a word may occur in several pairs
    (one per pronunciation).
    """

    words: tuple[str, ...]  # the source of each pair
    targets: tuple[tuple[str, ...], ...]  # the target tokens of each pair (e.g. phonemes)
    name: str = ""  # where the pairs came from, for messages

    def __post_init__(self) -> None:
        words, targets = tuple(self.words), tuple(tuple(t) for t in self.targets)
        if len(words) != len(targets):
            raise DataError(f"{self.name or 'pairs'}: {len(words)} words but {len(targets)} targets")
        for word, target in zip(words, targets):
            if not _are_tokens([word]):
                raise DataError(f"{self.name or 'pairs'}: a word must be a non-empty string without spaces, "
                                f"got {word!r}")
            if not _are_tokens(target):
                raise DataError(f"{self.name or 'pairs'}: the target of {word!r} must be one or more "
                                f"non-empty tokens without spaces, got {list(target)}")
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "targets", targets)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def sources(self) -> list[list[str]]:
        """The source tokens of each pair: its word's characters."""
        return [list(word) for word in self.words]

    @functools.cached_property
    def references(self) -> dict[str, list[tuple[str, ...]]]:
        """Every target of each distinct word, in order of first appearance (for multi-reference scoring)."""
        references: dict[str, list[tuple[str, ...]]] = {}
        for word, target in zip(self.words, self.targets):
            known = references.setdefault(word, [])
            if target not in known:
                known.append(target)
        return references

    def distinct_words(self) -> list[str]:
        """The distinct words, in order of first appearance."""
        return list(self.references)

    def with_words(self, words: Iterable[str], name: str | None = None) -> SequencePairs:
        """The pairs of the given words (all their pronunciations), in this object's order."""
        keep = set(words)
        index = [i for i, word in enumerate(self.words) if word in keep]
        subset = object.__new__(SequencePairs)  # entries already checked: skip __post_init__
        for field, value in (("words", tuple(self.words[i] for i in index)),
                             ("targets", tuple(self.targets[i] for i in index)),
                             ("name", self.name if name is None else name)):
            object.__setattr__(subset, field, value)
        return subset


def _are_tokens(tokens: Sequence[object]) -> bool:
    """One or more non-empty strings without white space."""
    try:
        return len(tokens) > 0 and " ".join(tokens).split() == list(tokens)
    except TypeError:  # an item that is not a string
        return False


class PairSplits(NamedTuple):
    """A split by word: no word is in two parts."""

    train: SequencePairs
    validation: SequencePairs
    test: SequencePairs


def split_by_word(pairs: SequencePairs, test_words: int, validation_words: int, seed: int = 0) -> PairSplits:
    """Rule 3 of the module docstring: shuffle the sorted distinct words, cut off test, then validation."""
    words = sorted(pairs.references)
    if test_words < 0 or validation_words < 0 or test_words + validation_words >= len(words):
        raise DataError(f"{pairs.name or 'pairs'}: cannot hold out {test_words} test and {validation_words} "
                        f"validation words from {len(words)} distinct words and keep some for training")
    order = np.random.default_rng(seed).permutation(len(words))
    test = [words[i] for i in order[:test_words]]
    validation = [words[i] for i in order[test_words:test_words + validation_words]]
    train = [words[i] for i in order[test_words + validation_words:]]
    return PairSplits(pairs.with_words(train, f"{pairs.name} train"),
                      pairs.with_words(validation, f"{pairs.name} validation"),
                      pairs.with_words(test, f"{pairs.name} test"))


@functools.cache  # immutable, and read once per process
def cmudict_pairs(keep_stress: bool = False) -> SequencePairs:
    """The whole bundled CMUdict as pairs, after rules 1 and 2 of the module docstring."""
    return pronunciation_pairs(load_pronunciations(), keep_stress, "cmudict")


def pronunciation_pairs(entries: Iterable[tuple[str, Sequence[str]]], keep_stress: bool = False,
                        name: str = "") -> SequencePairs:
    """Rules 1 and 2 of the module docstring applied to CMUdict-style ``(word, phonemes)`` entries."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    words, targets = [], []
    for word, phonemes in entries:
        if not CMUDICT_WORD.fullmatch(word):
            continue
        target = tuple(phonemes if keep_stress else (p.rstrip(STRESS_DIGITS) for p in phonemes))
        if (word, target) not in seen:  # a pronunciation that differed only in stress
            seen.add((word, target))
            words.append(word)
            targets.append(target)
    return SequencePairs(tuple(words), tuple(targets), name)


@functools.cache  # immutable, and the same for the same arguments
def load_cmudict_pairs(keep_stress: bool = False, test_words: int = 12_000, validation_words: int = 2_000,
                       seed: int = 0) -> PairSplits:
    """CMUdict split by word into train / validation / test (the rule is in the module docstring).

    The whole: 124,926 words in 133,667 pairs (stress stripped), of them by default 12,000 test
    (12,829 pairs) and 2,000 validation words; 110,926 words (118,687 pairs) remain for training.
    """
    return split_by_word(cmudict_pairs(keep_stress), test_words, validation_words, seed)


def read_pairs_tsv(path: str | Path) -> SequencePairs:
    """Read ``word<TAB>space-separated tokens`` lines (blank lines are skipped).

    A word on several lines has several references (e.g. pronunciations). A malformed line is a
    `DataError` naming the file and the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    words, targets = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        where = f"{path}, line {number}"
        if len(fields) != 2:
            raise DataError(f"{where}: expected 'word<TAB>space-separated tokens' (one tab), "
                            f"got {len(fields) - 1} tab(s) in {line[:80]!r}")
        word, tokens = fields[0].strip(), fields[1].split()
        if not word or any(c.isspace() for c in word):
            raise DataError(f"{where}: the word before the tab must be non-empty and without spaces, got {word!r}")
        if not tokens:
            raise DataError(f"{where}: no tokens after the tab for {word!r}")
        reserved = sorted(set(tokens) & set(SPECIALS))
        if reserved:
            raise DataError(f"{where}: {', '.join(reserved)} is reserved for the model's own use, not a token")
        words.append(word)
        targets.append(tuple(tokens))
    if not words:
        raise DataError(f"{path}: no pairs (expected lines 'word<TAB>space-separated tokens')")
    return SequencePairs(tuple(words), tuple(targets), str(path))


class PairVocabularies(NamedTuple):
    """The token ids of both sides of a sequence-to-sequence model; saved as JSON with it."""

    source: Vocabulary  # characters of the words, `SPECIALS` first
    target: Vocabulary  # target tokens (e.g. phonemes), `SPECIALS` first

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source.to_dict(), "target": self.target.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PairVocabularies:
        if not isinstance(values, dict) or set(values) != {"source", "target"}:
            raise DataError(f"not a pair of vocabularies: expected keys 'source' and 'target', got {str(values)[:80]}")
        vocabularies = cls(Vocabulary.from_dict(values["source"]), Vocabulary.from_dict(values["target"]))
        for side, vocabulary in zip(cls._fields, vocabularies):
            if vocabulary.tokens[:len(SPECIALS)] != SPECIALS:
                raise DataError(f"the {side} vocabulary must start with {list(SPECIALS)}, "
                                f"got {list(vocabulary.tokens[:3])}")
        return vocabularies


def pair_vocabularies(pairs: SequencePairs) -> PairVocabularies:
    """`SPECIALS` first (ids `PAD`, `BOS`, `EOS`), then each side's distinct tokens, sorted."""
    return PairVocabularies(Vocabulary.build(pairs.words, SPECIALS), Vocabulary.build(pairs.targets, SPECIALS))


def pair_batch_indices(source_lengths: Sequence[int], batch_size: int, *, shuffle: bool = False,
                       seed: int | np.random.Generator | None = None) -> list[np.ndarray]:
    """Batches of pairs whose sources all have the same length, in random order when `shuffle`.

    Why: a batch of equal source lengths needs no masking, so the encoder runs on torch's fused
    kernel (impl="auto"); words of each length are shuffled within their length, then cut into
    batches of at most `batch_size`. Without `shuffle`: shortest first, in data order within a length.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    lengths = np.asarray(source_lengths)
    rng = np.random.default_rng(seed)
    batches = []
    for length in np.unique(lengths):
        members = np.flatnonzero(lengths == length)
        if shuffle:
            members = rng.permutation(members)
        batches += [members[i:i + batch_size] for i in range(0, len(members), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))] if shuffle else batches


class PairBatch(NamedTuple):
    """A padded batch of id sequences (batch first); padding is `PAD` (id 0) on both sides."""

    src: torch.Tensor  # (B, S) source ids
    src_lengths: torch.Tensor  # (B,) valid source steps
    tgt_in: torch.Tensor | None  # (B, T) decoder input: <s> y_1 .. y_n, then PAD
    tgt_out: torch.Tensor | None  # (B, T) decoder target: y_1 .. y_n </s>, then PAD


def collate_pairs(sources: Sequence[Sequence[int]], targets: Sequence[Sequence[int]] | None = None) -> PairBatch:
    """Pad source ids (and the targets, shifted into decoder input and output) into a `PairBatch`."""
    if len(sources) == 0:
        raise ValueError("collate_pairs needs at least one pair")
    src_lengths = np.array([len(s) for s in sources], dtype=np.int64)  # (B,)
    src = np.full((len(sources), int(src_lengths.max())), PAD, dtype=np.int64)  # (B, S)
    for b, s in enumerate(sources):
        src[b, :len(s)] = s
    if targets is None:
        return PairBatch(torch.from_numpy(src), torch.from_numpy(src_lengths), None, None)
    steps = max(len(t) for t in targets) + 1  # one more for <s> (input) and </s> (output)
    tgt_in = np.full((len(targets), steps), PAD, dtype=np.int64)  # (B, T)
    tgt_out = np.full((len(targets), steps), PAD, dtype=np.int64)  # (B, T)
    for b, t in enumerate(targets):
        tgt_in[b, :len(t) + 1] = [BOS, *t]
        tgt_out[b, :len(t) + 1] = [*t, EOS]
    return PairBatch(torch.from_numpy(src), torch.from_numpy(src_lengths), torch.from_numpy(tgt_in),
                     torch.from_numpy(tgt_out))


def pair_batches(pairs: SequencePairs, vocabularies: PairVocabularies, batch_size: int, *, shuffle: bool = False,
                 seed: int | np.random.Generator | None = None) -> Iterator[PairBatch]:
    """`PairBatch`es of ``pairs`` encoded with ``vocabularies``, in `pair_batch_indices`' order."""
    name = pairs.name or "pairs"
    sources = [vocabularies.source.encode(word, where=f"{name}: word {word!r}") for word in pairs.words]
    targets = [vocabularies.target.encode(t, where=f"{name}: target of {w!r}")
               for w, t in zip(pairs.words, pairs.targets)]
    for index in pair_batch_indices([len(s) for s in sources], batch_size, shuffle=shuffle, seed=seed):
        yield collate_pairs([sources[i] for i in index], [targets[i] for i in index])
