"""One training run of a character language model, end to end (``rnnkit train --task lm``).

Data: a bundled text (``shakespeare``), the bundled name list (``census-names``) or a UTF-8 file.
A long text is split into contiguous stretches: the last 10 % tests (for ``shakespeare`` the end
of Antony and Cleopatra, the last of its seven plays), 5 % in 20 stretches spread over the rest
validates, and the remaining 85 % trains, as ``B`` parallel streams in windows of ``K`` characters,
the state carried from window to window and detached (truncated BPTT). A list of names is split by name (seeded), one
name per padded sequence, each read after and followed by an end-of-name symbol.

The run directory holds ``config.json`` (settings and the vocabulary), ``metrics.json``
(``test_nats_per_char``, ``test_bits_per_char``, per-epoch history, samples), ``model.safetensors``,
``curves.png`` and ``report.html`` with samples drawn as training went on.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, data, reports, training
from ..models import CharLM, CharLMConfig, generate
from ._study import bad_settings, restore, run_settings

TASK = "lm"
EVAL_STREAMS = 32  # parallel streams when scoring a long text (each starts from a zero state)
EVAL_WINDOW = 500  # characters per evaluation window (no gradient, so longer windows are cheaper)
SAMPLE_CHARACTERS = 400  # length of the samples shown in the report, per text model
SAMPLE_NAMES = 12  # names per sample of a name model
NOVELTY_NAMES = 500  # names generated at the end to count how many are new
SAMPLE_TEMPERATURE = 0.8  # a little below 1: fewer misspellings in the report, still varied
MAX_REPORT_SAMPLES = 6  # samples kept in the report, spread over the epochs


@dataclass(frozen=True)
class LMDataConfig:
    """Where the text comes from and how it is cut up."""

    source: str  # "shakespeare", "census-names" or a path to a UTF-8 text file
    per_line: bool | None = None  # one item (name, word) per line; None: only for census-names
    validation_fraction: float = 0.05  # watched every epoch (spread over the text); the best epoch is kept
    test_fraction: float = 0.10  # held out for the final figure (the end of a long text)
    window: int = 100  # K: characters per training window of a long text (the truncation of BPTT)
    seed: int = 0  # for the split of a name list

    def __post_init__(self) -> None:
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if not 0 < self.validation_fraction < 1 or self.validation_fraction + self.test_fraction >= 1:
            raise ValueError(f"validation_fraction must be in (0, 1) and leave text to train on, "
                             f"got {self.validation_fraction} with test_fraction {self.test_fraction}")
        if self.window < 1:
            raise ValueError(f"window must be at least 1, got {self.window}")

    @property
    def is_per_line(self) -> bool:
        if self.per_line is not None:
            return self.per_line
        return not Path(self.source).exists() and data.is_bundled(self.source) and \
            data.dataset_kind(self.source) == "names"


@dataclass
class Corpus:
    """A text split in three and its vocabulary (built from all of it: the alphabet, not its content)."""

    name: str
    parts: data.TextParts  # strings of a long text, or lists of items
    vocabulary: data.Vocabulary
    per_line: bool

    def ids(self, part: str | list[str]) -> np.ndarray | list[list[int]]:
        if self.per_line:
            return [self.vocabulary.encode(item) for item in part]
        return np.array(self.vocabulary.encode(part), dtype=np.int64)


def load_corpus(config: LMDataConfig) -> Corpus:
    """Read and split the text of ``config.source``."""
    source = config.source
    if Path(source).exists():
        text, name = data.read_text_file(source), Path(source).stem
    elif data.is_bundled(source) and data.dataset_kind(source) in ("text", "names"):
        name = data.canonical_name(source)
        text = "\n".join(n for n, _ in data.load_names()) if data.dataset_kind(source) == "names" \
            else data.load_text(name)
    elif data.is_bundled(source):
        raise data.DataError(f"{source!r} is a {data.dataset_kind(source)} data set; a language model "
                             "trains on text: shakespeare, census-names or a UTF-8 text file")
    else:
        raise data.DataError(f"{source}: no such file, and not a bundled text (shakespeare, census-names)")
    if config.is_per_line:
        items = _items(text)
        parts = data.split_items(items, config.validation_fraction, config.test_fraction, config.seed)
        if min(len(parts.train), len(parts.validation), len(parts.test)) == 0:
            raise data.DataError(f"{source}: {len(set(items))} distinct line(s) are too few to split into "
                                 "training, validation and test items")
        vocabulary = data.Vocabulary.build(items, specials=[data.END])
    else:
        parts = data.split_text(text, config.validation_fraction, config.test_fraction)
        shortest = min(len(parts.train), len(parts.validation), len(parts.test))
        if shortest < 2 * config.window:
            raise data.DataError(f"{source}: {len(text):,} characters are too few: each of the training, "
                                 f"validation and test parts needs at least {2 * config.window} (two windows)")
        vocabulary = data.Vocabulary.build([text])
    return Corpus(name, parts, vocabulary, config.is_per_line)


def batches_per_epoch(corpus: Corpus, batch_size: int, window: int) -> int:
    """Optimiser steps in one epoch over the training part."""
    if corpus.per_line:
        return math.ceil(len(corpus.parts.train) / batch_size)
    return math.ceil((len(corpus.parts.train) - 1) // batch_size / window)


def whole_corpus(source: str, per_line: bool, vocabulary: data.Vocabulary) -> Corpus:
    """All of a text file as the test part, in a trained model's vocabulary (to score other text)."""
    text = data.read_text_file(source)
    if per_line:
        items = _items(text)
        parts = data.TextParts([], [], items)
        vocabulary.encode("".join(items), where=source)
    else:
        parts = data.TextParts("", "", text)
        vocabulary.encode(text, where=source)
    return Corpus(Path(source).stem, parts, vocabulary, per_line)


def unigram_nats(train: str | list[str], test: str | list[str], per_line: bool) -> float:
    """Cross-entropy of the test text under the training text's character frequencies (add-one).

    The baseline a language model must beat: it knows how often each character occurs, but
    nothing of what came before.
    """
    def characters(part):
        return "".join(item + data.END for item in part) if per_line else part
    counts, test_chars = Counter(characters(train)), characters(test)
    alphabet = set(counts) | set(test_chars)
    total = sum(counts.values()) + len(alphabet)
    return -sum(math.log((counts[c] + 1) / total) for c in test_chars) / len(test_chars)


def score_batches(corpus: Corpus, part: str | list[str], batch_size: int) -> list[data.Batch]:
    """The batches that score ``part``: streams of a long text (state carried), or padded items."""
    if corpus.per_line:
        return list(data.item_batches(corpus.ids(part), corpus.vocabulary.id(data.END), batch_size))
    ids = corpus.ids(part)
    streams = max(1, min(EVAL_STREAMS, len(ids) // (2 * EVAL_WINDOW)))
    return data.stream_batches(ids, streams, EVAL_WINDOW)


def nats_per_char(model: CharLM, corpus: Corpus, part: str | list[str]) -> float:
    """Mean cross-entropy (nats) per predicted character of ``part`` (names: end symbols included)."""
    batches = score_batches(corpus, part, 256)
    return training.evaluate(model, batches, carry_state=not corpus.per_line).loss


@dataclass
class LMRunResult:
    directory: Path
    metrics: dict[str, Any]
    model: CharLM
    corpus: Corpus


def train_lm_run(data_config: LMDataConfig, model_settings: dict[str, Any], train_config: training.TrainConfig,
                 directory: str | Path, *, corpus: Corpus | None = None, progress: bool = True,
                 checkpoint: training.Checkpointing | None = None) -> LMRunResult:
    """Train one character language model and write its run directory (``corpus``: already loaded;
    ``checkpoint``: save the training state as it goes, or resume from it)."""
    directory = Path(directory)
    corpus = corpus or load_corpus(data_config)
    model_config = CharLMConfig(vocab_size=len(corpus.vocabulary), **model_settings)
    training.seed_everything(train_config.seed)
    model = CharLM(model_config)
    train_ids, seed, size = corpus.ids(corpus.parts.train), train_config.seed, train_config.batch_size
    end = corpus.vocabulary.id(data.END) if corpus.per_line else None

    def train_batches(epoch: int):
        rng = np.random.default_rng([seed, epoch])  # each epoch its own order (items) or offset (streams)
        if corpus.per_line:
            return data.item_batches(train_ids, end, size, seed=rng)
        # a random start each epoch, so the windows' edges fall on different characters
        return data.stream_batches(train_ids, size, data_config.window, offset=int(rng.integers(data_config.window)))

    sample_epochs = _spread(train_config.epochs, MAX_REPORT_SAMPLES)

    def sample_now(epoch: int, model: CharLM) -> dict[str, str]:  # into the history row: saved with the state
        return {"sample": _sample(model, corpus, seed=epoch)} if epoch in sample_epochs else {}

    start = time.perf_counter()
    result = training.fit(model, train_batches, train_config,
                          val_batches=score_batches(corpus, corpus.parts.validation, 256),
                          progress=progress, epoch_callback=sample_now, checkpoint=checkpoint)
    samples = [{"epoch": row["epoch"], "text": row.pop("sample")} for row in result.history if "sample" in row]
    test_nats = nats_per_char(model, corpus, corpus.parts.test)
    baseline = unigram_nats(corpus.parts.train, corpus.parts.test, corpus.per_line)
    kept_epoch = result.best_epoch if train_config.restores_best else len(result.history)
    for row in result.history:
        row["val_bits_per_char"] = row["val_loss"] / math.log(2)
    metrics: dict[str, Any] = {
        "task": TASK,
        "dataset": corpus.name,
        "cell": model_config.cell,
        "architecture": model_config.architecture,
        "parameters": model.num_parameters(),
        "test_nats_per_char": test_nats,
        "test_bits_per_char": test_nats / math.log(2),
        "baseline_unigram_nats_per_char": baseline,
        "train_loss": result.history[kept_epoch - 1]["train_loss"],
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "kept_epoch": kept_epoch,
        "monitor": result.monitor,
        "seconds": time.perf_counter() - start,
        "characters": {part: _characters(getattr(corpus.parts, part), corpus.per_line)
                       for part in ("train", "validation", "test")},
        "vocabulary_size": len(corpus.vocabulary),
        "history": result.history,
        "samples": samples,
    }
    if corpus.per_line:
        metrics |= novelty(model, corpus, seed=train_config.seed)
    run_config = {
        "task": TASK,
        "rnnkit_version": __version__,
        "data": dataclasses.asdict(data_config),
        "model": model_config.to_dict(),
        "training": train_config.to_dict(),
        "vocabulary": corpus.vocabulary.to_dict(),
    }
    training.save_checkpoint(directory, model, run_config)
    training.write_json_atomic(directory / "metrics.json", metrics)
    write_lm_report(directory, metrics, run_config, f"{model_config.cell.upper()} {model_config.architecture} "
                    f"language model on {corpus.name}")
    return LMRunResult(directory, metrics, model, corpus)


def novelty(model: CharLM, corpus: Corpus, seed: int) -> dict[str, Any]:
    """Generate names and count how many are new (not training names) and how many are held-out names."""
    names = [name for name in (_name(model, corpus, seed=seed * 100_003 + k) for k in range(NOVELTY_NAMES)) if name]
    train, held_out = set(corpus.parts.train), set(corpus.parts.validation) | set(corpus.parts.test)
    new = [name for name in names if name not in train]
    return {"generated_names": len(names),
            "generated_new_fraction": len(new) / max(1, len(names)),
            "generated_held_out_fraction": sum(name in held_out for name in names) / max(1, len(names))}


def write_lm_report(directory: Path, metrics: dict[str, Any], run_config: dict[str, Any], title: str) -> None:
    curves = reports.plot_curves(metrics["history"], directory / "curves.png",
                                 title=f"{title} (loss in nats per character)", monitor=metrics["monitor"])
    figures = [reports.Figure(curves, "Cross-entropy in nats per character (left) and next-character accuracy "
                                      "(right), per epoch, on the training and validation text.")]
    samples = [reports.Preformatted(s["text"], f"after epoch {s['epoch']}") for s in metrics["samples"]]
    kind = "names drawn at temperature 1" if "generated_names" in metrics else \
        f"{SAMPLE_CHARACTERS} characters drawn at temperature {SAMPLE_TEMPERATURE}"
    extra = [reports.Section("Samples as training went on", [
        f"Each sample: {kind} from the model as it was after that epoch, starting at the beginning of a "
        "line.", *samples])] if samples else []
    reports.write_run_report(
        directory / "report.html", title, metrics=metrics, config=run_config, history=metrics["history"],
        figures=figures, monitor=metrics["monitor"], extra_sections=extra,
        subtitle=f"rnnkit {__version__} · {metrics['characters']['train']:,} training, "
                 f"{metrics['characters']['test']:,} test characters · unigram baseline "
                 f"{metrics['baseline_unigram_nats_per_char']:.3f} nats/char")


@dataclass
class SavedLM:
    model: CharLM
    data: LMDataConfig
    vocabulary: data.Vocabulary


def load_lm_run(directory: str | Path) -> SavedLM:
    """Rebuild the language model of a run directory (a clear error for a run of another task)."""
    config, where = run_settings(directory, TASK)
    try:
        model_config = CharLMConfig.from_dict(config["model"])
        data_config = LMDataConfig(**config["data"])
        vocabulary = data.Vocabulary.from_dict(config["vocabulary"])
    except (KeyError, TypeError, ValueError) as err:
        raise bad_settings(where, TASK, err) from None
    if len(vocabulary) != model_config.vocab_size:
        raise training.CheckpointError(f"{where}: a vocabulary of {len(vocabulary)} for a model of "
                                       f"{model_config.vocab_size} characters")
    return SavedLM(restore(directory, CharLM(model_config)), data_config, vocabulary)


def stream_text(model: CharLM, vocabulary: data.Vocabulary, prime: str, length: int, temperature: float,
                top_k: int | None, seed: int | None, stop_at_end: bool) -> Iterator[str]:
    """Characters sampled after ``prime``, one at a time; ``stop_at_end`` ends at the end symbol (names)."""
    prime_ids = vocabulary.encode(prime, where="--prime")
    stop = vocabulary.id(data.END) if stop_at_end and data.END in vocabulary else None
    for token in generate(model, prime_ids, length, temperature, top_k, seed, stop=stop):
        if token != stop:
            yield vocabulary.tokens[token]


def default_prime(vocabulary: data.Vocabulary) -> str:
    """The start of a line (of a name), or the first character of the vocabulary where there are no lines."""
    return data.END if data.END in vocabulary else vocabulary.tokens[0]


def _sample(model: CharLM, corpus: Corpus, seed: int) -> str:
    if corpus.per_line:
        return "\n".join(_name(model, corpus, seed=seed * 1000 + k) for k in range(SAMPLE_NAMES))
    prime = default_prime(corpus.vocabulary)
    return "".join(stream_text(model, corpus.vocabulary, prime, SAMPLE_CHARACTERS, SAMPLE_TEMPERATURE,
                               None, seed, stop_at_end=False))


def _name(model: CharLM, corpus: Corpus, seed: int, longest: int = 40) -> str:
    """One name sampled at temperature 1 (the model as trained, which is what novelty is about)."""
    return "".join(stream_text(model, corpus.vocabulary, data.END, longest, 1.0, None, seed, stop_at_end=True))


def _items(text: str) -> list[str]:
    """The non-empty lines of a line-per-item text, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _characters(part: str | list[str], per_line: bool) -> int:
    return sum(len(item) + 1 for item in part) if per_line else len(part)


def _spread(epochs: int, count: int) -> set[int]:
    """``count`` epochs spread evenly from the first to the last (every epoch when there are fewer)."""
    return {int(round(e)) for e in np.linspace(1, epochs, min(count, epochs))}
