"""One grapheme-to-phoneme training run, end to end (``rnnkit train --task seq2seq``).

Data: the bundled CMUdict (``cmudict``, split by word as `rnnkit.data.load_cmudict_pairs` does:
12,000 test and 2,000 validation words, stress digits stripped unless ``keep_stress``) or a
UTF-8 TSV file of ``word<TAB>space-separated tokens`` lines (`rnnkit.data.read_pairs_tsv`; a
word on several lines has several references), split by word by the same rule with fractions.
Words are lower-cased: spelling, not capitals, says how a word sounds.

Training is `rnnkit.training.fit` on batches ``(src, src_lengths, tgt_out, tgt_in)``: the model
reads ``<s> y_1 .. y_n`` (full teacher forcing, so the decoder runs as one fused sequence) and is
scored by cross-entropy on ``y_1 .. y_n </s>``. After every epoch the validation words are
decoded greedily and their phoneme and word error rates (PER, WER, against the closest of each
word's pronunciations) join the history. Scheduled sampling (``teacher_forcing < 1``) is not
offered here: it needs the decoder stepped one token at a time in training, slower than the fused
whole-sequence decoder that full teacher forcing allows, and the time is better spent on epochs.

The run directory holds ``config.json`` (settings and both vocabularies), ``metrics.json``
(``test_per``, ``test_wer`` greedy and ``test_per_beam``, ``test_wer_beam`` by beam search over
all test words, timings, a nearest-spelling baseline, per-epoch history, sample predictions),
``model.safetensors``, ``curves.png``, ``error_rates.png``, ``attention.png`` and ``report.html``.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__, data, reports, training
from ..data import IGNORE_INDEX, PAD, PairSplits, PairVocabularies, SequencePairs
from ..models import Seq2Seq, Seq2SeqConfig, edit_distance, phoneme_error_rate, seq2seq_predict, word_error_rate
from ._seq2seq_baseline import nearest_spelling_baseline
from ._study import bad_settings, restore, run_settings, same_source

TASK = "seq2seq"
BEAM = 5  # width of the beam search behind test_per_beam / test_wer_beam (and the report's beam column)
# GNMT length normalisation of the beam: 0, plain log-probability. A pronunciation's length is
# fixed by its spelling within a phoneme or two, so the short-output bias that normalisation
# corrects in translation hardly arises here (and 0 keeps beam=1 equal to greedy decoding).
BEAM_ALPHA = 0.0
BASELINE_WORDS = 300  # test words (a seeded sample) scored by the nearest-spelling baseline (~10 s)
TABLE_EXAMPLES = 10  # right and as many wrong test predictions shown in the report
ATTENTION_EXAMPLES = 3  # test words drawn in attention.png
DECODE_BATCH = 256  # words decoded together (equal lengths, so no padding)

# Defaults of `rnnkit train --task seq2seq`, by principle rather than by search:
# - the model is Seq2SeqConfig's: letters embedded in 64, a bidirectional LSTM of 256 per
#   direction, an LSTM decoder of 256 with Luong "general" attention, dropout 0.2; the size of the
#   plain peer of benchmarks/seq2seq_g2p.py, so a difference is the training, not the capacity;
# - Adam from 3e-3 annealed to 0 by a cosine after every batch: the mean rate (1.5e-3) is below
#   the 2e-3 the constant-rate peer trained stably at, and the last epochs at a small rate settle
#   the weights, which a constant rate leaves moving (the peer's WER stalled at 36 %);
# - batches of 128 words of one length (no padding, the encoder on torch's fused kernel);
# - the length of training from a budget of words, not of seconds, so that it is the same run
#   on any machine: 2.2 M training words, ~28 minutes at the 1,300 words/s one thread reaches
#   (benchmarks/seq2seq_g2p.py), leaving ~2 minutes of the 30 for the per-epoch validation
#   decoding; 18 epochs of CMUdict's 118,687 training pairs (`default_epochs`).
TRAINING_WORDS_BUDGET = 2_200_000
MAX_EPOCHS = 100  # a small TSV reaches the budget only in thousands of epochs; it has overfitted long before
DEFAULT_MODEL: dict[str, Any] = {}  # Seq2SeqConfig's defaults (above)
CMUDICT_TRAIN_PAIRS = 118_687  # pairs of the default CMUdict training part (rnnkit.data.load_cmudict_pairs)


def default_epochs(train_pairs: int) -> int:
    """Epochs that spend `TRAINING_WORDS_BUDGET` training words (at least 1, at most `MAX_EPOCHS`)."""
    return max(1, min(MAX_EPOCHS, TRAINING_WORDS_BUDGET // max(1, train_pairs)))


DEFAULT_TRAIN = training.TrainConfig(epochs=default_epochs(CMUDICT_TRAIN_PAIRS), batch_size=128, lr=3e-3,
                                     lr_schedule="cosine", lr_per_batch=True, clip_norm=5.0)


@dataclass(frozen=True)
class Seq2SeqDataConfig:
    """Where the word-pronunciation pairs come from and how they are split (always by word)."""

    source: str = "cmudict"  # "cmudict" (bundled) or a path to a TSV file: word<TAB>space-separated tokens
    keep_stress: bool = False  # cmudict: keep the vowels' stress digits (AH0 ...: 69 phonemes rather than 39)
    test_words: int = 12_000  # cmudict: distinct words held out for the test figures
    validation_words: int = 2_000  # cmudict: distinct words decoded after every epoch (TSV: the most)
    test_fraction: float = 0.10  # a TSV: fraction of its distinct words held out for the test figures
    validation_fraction: float = 0.05  # a TSV: fraction decoded after every epoch (at most validation_words)
    seed: int = 0  # the shuffle of the split by word

    def __post_init__(self) -> None:
        if self.test_words < 1 or self.validation_words < 1:
            raise ValueError(f"test_words and validation_words must be at least 1, got {self.test_words} "
                             f"and {self.validation_words}")
        if not 0 < self.test_fraction < 1 or not 0 < self.validation_fraction < 1 \
                or self.test_fraction + self.validation_fraction >= 1:
            raise ValueError(f"test_fraction and validation_fraction must be in (0, 1) and leave words to "
                             f"train on, got {self.test_fraction} and {self.validation_fraction}")

    @property
    def is_cmudict(self) -> bool:
        return self.source == "cmudict" and not Path(self.source).exists()


@dataclass
class PairData:
    """The pairs split by word, and the vocabularies of both sides (from all the pairs: the alphabets)."""

    name: str
    splits: PairSplits
    vocabularies: PairVocabularies


def load_pairs(config: Seq2SeqDataConfig) -> PairData:
    """Read and split the pairs of ``config.source``."""
    if config.is_cmudict:
        pairs = data.cmudict_pairs(config.keep_stress)
        splits = data.load_cmudict_pairs(config.keep_stress, config.test_words, config.validation_words, config.seed)
        return PairData("cmudict", splits, data.pair_vocabularies(pairs))
    pairs = read_word_pairs(config.source)
    words = len(pairs.references)
    test = max(1, round(config.test_fraction * words))
    validation = max(1, min(config.validation_words, round(config.validation_fraction * words)))
    if words - test - validation < 1:
        raise data.DataError(f"{config.source}: {words} distinct word(s) are too few to split into training, "
                             "validation and test words")
    return PairData(Path(config.source).stem, data.split_by_word(pairs, test, validation, config.seed),
                    data.pair_vocabularies(pairs))


def read_word_pairs(source: str | Path) -> SequencePairs:
    """A TSV of pairs (`rnnkit.data.read_pairs_tsv`), its words lower-cased; a bundled name is refused clearly."""
    if not Path(source).exists() and data.is_bundled(str(source)):
        raise data.DataError(f"{source!r} is a {data.dataset_kind(str(source))} data set; grapheme-to-phoneme "
                             "trains on pairs: cmudict or a TSV file of 'word<TAB>space-separated tokens' lines")
    if not Path(source).exists():
        raise data.DataError(f"{source}: no such file, and not the bundled cmudict")
    pairs = data.read_pairs_tsv(source)
    return SequencePairs(tuple(w.lower() for w in pairs.words), pairs.targets, pairs.name)


# --- batches for training.fit ----------------------------------------------------------------------
def encode_pairs(pairs: SequencePairs, vocabularies: PairVocabularies) -> tuple[list[list[int]], list[list[int]]]:
    """Source and target ids of every pair (once, not every epoch)."""
    name = pairs.name or "pairs"
    sources = [vocabularies.source.encode(w, where=f"{name}: word {w!r}") for w in pairs.words]
    targets = [vocabularies.target.encode(t, where=f"{name}: target of {w!r}")
               for w, t in zip(pairs.words, pairs.targets)]
    return sources, targets


def fit_batches(sources: list[list[int]], targets: list[list[int]], batch_size: int, *, shuffle: bool = False,
                seed: int | np.random.Generator | None = None) -> list[tuple[torch.Tensor, ...]]:
    """``(src, src_lengths, tgt_out, tgt_in)`` batches of equal source length, ``tgt_out`` padded with -100."""
    batches = []
    for index in data.pair_batch_indices([len(s) for s in sources], batch_size, shuffle=shuffle, seed=seed):
        batch = data.collate_pairs([sources[i] for i in index], [targets[i] for i in index])
        tgt_out = batch.tgt_out.masked_fill(batch.tgt_out == PAD, IGNORE_INDEX)  # (B, T)
        batches.append((batch.src, batch.src_lengths, tgt_out, batch.tgt_in))
    return batches


def error_rates(model: Seq2Seq, vocabularies: PairVocabularies, pairs: SequencePairs, beam: int = 1
                ) -> tuple[dict[str, float], list[list[str]]]:
    """PER, WER, words, seconds and words/s over the distinct words of ``pairs``; and the predictions."""
    words = pairs.distinct_words()
    start = time.perf_counter()
    predictions = seq2seq_predict(model, vocabularies, words, beam=beam, alpha=BEAM_ALPHA, batch_size=DECODE_BATCH)
    seconds = time.perf_counter() - start
    references = [pairs.references[w] for w in words]
    return {"per": phoneme_error_rate(references, predictions), "wer": word_error_rate(references, predictions),
            "words": len(words), "seconds": seconds, "words_per_second": len(words) / seconds}, predictions


@dataclass
class Seq2SeqRunResult:
    directory: Path
    metrics: dict[str, Any]
    model: Seq2Seq
    pairs: PairData


def train_seq2seq_run(data_config: Seq2SeqDataConfig, model_settings: dict[str, Any],
                      train_config: training.TrainConfig, directory: str | Path, *,
                      pairs: PairData | None = None, progress: bool = True,
                      checkpoint: training.Checkpointing | None = None) -> Seq2SeqRunResult:
    """Train one grapheme-to-phoneme model and write its run directory (``pairs``: already loaded;
    ``checkpoint``: save the training state as it goes, or resume from it)."""
    directory = Path(directory)
    pairs = pairs or load_pairs(data_config)
    splits, vocabularies = pairs.splits, pairs.vocabularies
    model_config = Seq2SeqConfig(len(vocabularies.source), len(vocabularies.target), **model_settings)
    training.seed_everything(train_config.seed)
    model = Seq2Seq(model_config)
    train_ids = encode_pairs(splits.train, vocabularies)
    seed, size = train_config.seed, train_config.batch_size

    def train_batches(epoch: int):
        return fit_batches(*train_ids, size, shuffle=True, seed=np.random.default_rng([seed, epoch]))

    def validate(epoch: int, model: Seq2Seq) -> dict[str, float]:  # greedy PER / WER of every validation word
        rates, _ = error_rates(model, vocabularies, splits.validation)
        return {"val_per": rates["per"], "val_wer": rates["wer"], "decode_seconds": rates["seconds"]}

    start = time.perf_counter()
    result = training.fit(model, train_batches, train_config,
                          val_batches=fit_batches(*encode_pairs(splits.validation, vocabularies), 256),
                          progress=progress, epoch_callback=validate, checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    decode_seconds = sum(row.get("decode_seconds", 0.0) for row in result.history)
    greedy, predictions = error_rates(model, vocabularies, splits.test)
    beam, beam_predictions = error_rates(model, vocabularies, splits.test, beam=BEAM)
    baseline = nearest_spelling_baseline(splits.train, splits.test, BASELINE_WORDS, seed=data_config.seed)
    kept_epoch = result.best_epoch if train_config.restores_best else len(result.history)
    words = {part: len(getattr(splits, part).references) for part in PairSplits._fields}
    metrics: dict[str, Any] = {
        "task": TASK,
        "dataset": pairs.name,
        "parameters": model.num_parameters(),
        "test_per": greedy["per"],
        "test_wer": greedy["wer"],
        "test_per_beam": beam["per"],
        "test_wer_beam": beam["wer"],
        "beam": BEAM,
        "beam_alpha": BEAM_ALPHA,
        **{f"baseline_nearest_spelling_{k}": v for k, v in baseline.items()},
        "train_loss": result.history[kept_epoch - 1]["train_loss"],
        "epochs": len(result.history),
        "kept_epoch": kept_epoch,
        "monitor": result.monitor,
        "seconds": train_seconds,
        "validation_decode_seconds": decode_seconds,
        # training pairs per second of fit, the per-epoch decoding of the validation words left out
        "train_words_per_second": len(splits.train) * len(result.history) / (result.seconds - decode_seconds),
        "test_seconds_greedy": greedy["seconds"],
        "test_words_per_second_greedy": greedy["words_per_second"],
        "test_seconds_beam": beam["seconds"],
        "test_words_per_second_beam": beam["words_per_second"],
        "words": words,
        "pairs": {part: len(getattr(splits, part)) for part in PairSplits._fields},
        "source_vocabulary_size": len(vocabularies.source),
        "target_vocabulary_size": len(vocabularies.target),
        "history": result.history,
        "samples": sample_predictions(splits.test, predictions, beam_predictions, TABLE_EXAMPLES, data_config.seed),
    }
    run_config = {
        "task": TASK,
        "rnnkit_version": __version__,
        "data": dataclasses.asdict(data_config),
        "model": model_config.to_dict(),
        "training": train_config.to_dict(),
        "vocabularies": vocabularies.to_dict(),
    }
    training.save_checkpoint(directory, model, run_config)
    training.write_json_atomic(directory / "metrics.json", metrics)
    attention = attention_examples(model, vocabularies, [s["word"] for s in metrics["samples"]][:ATTENTION_EXAMPLES])
    write_seq2seq_report(directory, metrics, run_config, attention,
                         f"Grapheme-to-phoneme on {pairs.name}: {model_config.encoder_cell.upper()} encoder, "
                         f"{model_config.decoder_cell.upper()} decoder, {model_config.attention} attention")
    return Seq2SeqRunResult(directory, metrics, model, pairs)


# --- what the report shows ---------------------------------------------------------------------------
def sample_predictions(test: SequencePairs, predictions: list[list[str]], beam_predictions: list[list[str]],
                       count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Up to ``count`` right and ``count`` wrong greedy predictions of test words (seeded), alternating."""
    words = test.distinct_words()
    rng = np.random.default_rng(seed)
    right = [i for i, w in enumerate(words) if tuple(predictions[i]) in test.references[w]]
    wrong = [i for i, w in enumerate(words) if tuple(predictions[i]) not in test.references[w]]
    right, wrong = ([int(i) for i in rng.permutation(part)[:count]] for part in (right, wrong))
    order = [i for pair in zip(right, wrong) for i in pair] + right[len(wrong):] + wrong[len(right):]
    return [{"word": words[i],
             "references": " / ".join(" ".join(r) for r in test.references[words[i]]),
             "greedy": " ".join(predictions[i]),
             f"beam {BEAM}": " ".join(beam_predictions[i]),
             "greedy right": tuple(predictions[i]) in test.references[words[i]],
             "phoneme errors": min(edit_distance(r, predictions[i]) for r in test.references[words[i]])}
            for i in order]


@torch.no_grad()
def attention_examples(model: Seq2Seq, vocabularies: PairVocabularies, words: list[str]
                       ) -> list[tuple[np.ndarray, list[str], list[str]]]:
    """(attention (T, S), letters, greedy phonemes) of each word; words decoded to nothing are left out."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    examples = []
    try:
        for word in words:
            batch = data.collate_pairs([vocabularies.source.encode(word, where=f"word {word!r}")])
            decoded = model.greedy_decode(batch.src.to(device), batch.src_lengths.to(device))
            n = int(decoded.lengths[0])
            if n:
                examples.append((decoded.weights[0, :n, :len(word)].cpu().numpy(), list(word),
                                 vocabularies.target.decode(decoded.tokens[0, :n].tolist())))
    finally:
        model.train(was_training)
    return examples


def write_seq2seq_report(directory: Path, metrics: dict[str, Any], run_config: dict[str, Any],
                         attention: list[tuple[np.ndarray, list[str], list[str]]], title: str) -> None:
    history = metrics["history"]
    curves = reports.plot_curves(history, directory / "curves.png", monitor=metrics["monitor"],
                                 title=f"{title} (teacher-forced loss and token accuracy)")
    figures = [reports.Figure(curves, "Cross-entropy per phoneme (left) and next-phoneme accuracy (right) under "
                                      "teacher forcing, per epoch, on the training and validation words.")]
    rates = {name: [{"epoch": row["epoch"], "error rate": row.get(key)} for row in history]
             for name, key in (("validation PER", "val_per"), ("validation WER", "val_wer"))}
    figures.append(reports.Figure(
        reports.plot_loss_comparison(rates, directory / "error_rates.png", title="Validation error rates (greedy)",
                                     metric="error rate"),
        f"Phoneme and word error rate of the {metrics['words']['validation']:,} validation words, decoded greedily "
        "after every epoch."))
    extra = [reports.Section("Error rates per epoch", [reports.Table(
        [{"epoch": row["epoch"], "validation PER": row.get("val_per"), "validation WER": row.get("val_wer"),
          "lr": row["lr"]} for row in history],
        caption="Greedy decoding of every validation word after each epoch; lr at the epoch's start.")])]
    extra.append(reports.Section("Sample test predictions", [reports.Table(
        metrics["samples"], caption=f"Test words, right and wrong (greedy) in turn, drawn at random; beam width "
                                    f"{BEAM}. A word is right when it equals any of its references.")]))
    if attention:
        weights, letters, phonemes = zip(*attention)
        path = reports.plot_attention_maps(list(weights), list(letters), list(phonemes), directory / "attention.png",
                                           titles=["".join(w) for w in letters])
        extra.append(reports.Section("Attention", [reports.Figure(
            path, "Attention of each predicted phoneme (rows) on the letters (columns) of test words, greedy "
                  "decoding; each row sums to 1.")]))
    reports.write_run_report(
        directory / "report.html", title, metrics=metrics, config=run_config, history=history, figures=figures,
        monitor=metrics["monitor"], extra_sections=extra,
        subtitle=f"rnnkit {__version__} · {metrics['words']['train']:,} training, {metrics['words']['test']:,} test "
                 f"words · test PER {metrics['test_per']:.2%}, WER {metrics['test_wer']:.2%} greedy; beam {BEAM}: "
                 f"PER {metrics['test_per_beam']:.2%}, WER {metrics['test_wer_beam']:.2%} · nearest-spelling "
                 f"baseline WER {metrics['baseline_nearest_spelling_wer']:.2%} "
                 f"({metrics['baseline_nearest_spelling_words']} words)")


# --- a saved run put to use ------------------------------------------------------------------------
@dataclass
class SavedSeq2Seq:
    model: Seq2Seq
    data: Seq2SeqDataConfig
    vocabularies: PairVocabularies


def load_seq2seq_run(directory: str | Path) -> SavedSeq2Seq:
    """Rebuild the model of a run directory (a clear error for a run of another task)."""
    config, where = run_settings(directory, TASK)
    try:
        model_config = Seq2SeqConfig.from_dict(config["model"])
        data_config = Seq2SeqDataConfig(**config["data"])
        vocabularies = PairVocabularies.from_dict(config["vocabularies"])
    except (KeyError, TypeError, ValueError) as err:  # DataError is a ValueError
        raise bad_settings(where, TASK, err) from None
    sizes = (len(vocabularies.source), len(vocabularies.target))
    if sizes != (model_config.source_vocab_size, model_config.target_vocab_size):
        raise training.CheckpointError(f"{where}: vocabularies of {sizes} tokens for a model of "
                                       f"{(model_config.source_vocab_size, model_config.target_vocab_size)}")
    return SavedSeq2Seq(restore(directory, Seq2Seq(model_config)), data_config, vocabularies)


def check_words(words: list[str], vocabularies: PairVocabularies, where: str = "input") -> None:
    """One `DataError` naming every letter the model has never seen, and some words that hold them."""
    if any(not w for w in words):
        raise data.DataError(f"{where}: an empty word has no pronunciation")
    unknown = sorted({c for w in words for c in w if c not in vocabularies.source or c in data.SPECIALS})
    if unknown:
        holding = [w for w in words if set(w) & set(unknown)]
        alphabet = "".join(t for t in vocabularies.source.tokens if t not in data.SPECIALS)
        raise data.DataError(f"{where}: letter(s) {', '.join(map(repr, unknown))} are not in the model's alphabet "
                             f"{alphabet!r} (in {len(holding)} word(s): {', '.join(map(repr, holding[:5]))}"
                             f"{' ...' if len(holding) > 5 else ''})")


def predict_pronunciations(saved: SavedSeq2Seq, words: list[str], beam: int = 1) -> list[list[str]]:
    """The pronunciation of each word (lower-cased first), greedy with ``beam=1``, else by beam search."""
    if beam < 1:
        raise ValueError(f"beam must be at least 1, got {beam}")
    words = [w.strip().lower() for w in words]
    check_words(words, saved.vocabularies)
    return seq2seq_predict(saved.model, saved.vocabularies, words, beam=beam, alpha=BEAM_ALPHA,
                           batch_size=DECODE_BATCH)


def evaluate_run(saved: SavedSeq2Seq, source: str, beam: int = 1) -> dict[str, Any]:
    """PER and WER of a saved run: on its own source, the test words exactly as split in training;
    on ``cmudict`` otherwise, the standard test words; on another TSV file, all its words."""
    if beam < 1:
        raise ValueError(f"beam must be at least 1, got {beam}")
    own = same_source(source, saved.data.source)  # the training file however named
    if own or (source == "cmudict" and not Path(source).exists()):
        config = saved.data if own else Seq2SeqDataConfig(keep_stress=saved.data.keep_stress)
        loaded = load_pairs(config)
        if own and loaded.vocabularies != saved.vocabularies:  # another split altogether
            raise data.DataError(f"{source}: its letters or tokens are not those the model was trained on; has "
                                 "the file changed since?")
        pairs, part = loaded.splits.test, "test"
    else:
        pairs, part = read_word_pairs(source), "all"
    check_words(pairs.distinct_words(), saved.vocabularies, where=str(source))
    never = sorted({t for target in pairs.targets for t in target if t not in saved.vocabularies.target})
    if never:
        raise data.DataError(f"{source}: the references use {len(never)} token(s) the model never emits: "
                             f"{', '.join(never[:10])}{' ...' if len(never) > 10 else ''} (stress digits "
                             "on a model trained without them?)")
    rates, _ = error_rates(saved.model, saved.vocabularies, pairs, beam)
    return {"task": TASK, "source": str(source), "part": part, "beam": beam, **rates}
