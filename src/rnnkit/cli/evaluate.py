"""``rnnkit evaluate``: the accuracy of a trained model on a data set's test split."""
from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

from rich.console import Console

from .. import data, reports, training
from ..data import DataError
from ._ctc import evaluate_run as ctc_evaluate_run
from ._ctc import load_ctc_run
from ._lm import load_corpus, load_lm_run, nats_per_char, whole_corpus
from ._options import positive_integer
from ._seq2seq import evaluate_run as seq2seq_evaluate_run
from ._seq2seq import load_seq2seq_run
from ._tag import load_tag_run
from ._study import EVAL_BATCH_SIZE, load_run, prepare_data, run_task, same_source

DESCRIPTION = """Evaluate a trained model (a directory written by 'rnnkit train') on a data set.

On the data it was trained on (known by its resolved path, however it is named), the test split is
rebuilt exactly as in training (same split seed, the scaler fitted then), so the figure matches
metrics.json; if the data has changed since (samples added or removed, so the split would be drawn
anew), a classifier's evaluation stops and says so. On other data (same classes
and features), its own test split is scored if it has one, else all of it.

A language model is scored in nats and bits per character: on its training source, the held-out
test text (or --split train / all); on another text file, all of it. A CTC model: label error
rate and string accuracy (greedy and beam); a tagger: frame accuracy and segment error rate; an
encoder-decoder: phoneme (token) and word error rate."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="run directory written by 'rnnkit train'")
    parser.add_argument("--data", required=True, metavar="PATH|NAME", help="data set, as for 'rnnkit train'")
    parser.add_argument("--split", choices=("test", "train", "all"), default="test",
                        help="classify, lm: on the training data, which part to score (default: %(default)s)")
    parser.add_argument("--beam", type=positive_integer, default=1, metavar="N",
                        help="seq2seq: beam search of width N rather than greedy decoding (default: 1); a CTC "
                             "model is scored both ways")


def run(args: argparse.Namespace) -> int:
    task = run_task(args.model)
    if task == "lm":
        return _evaluate_language_model(args)
    if task in ("ctc", "tag"):
        saved = (load_ctc_run if task == "ctc" else load_tag_run)(args.model)
        return _print_figures(args, ctc_evaluate_run(saved, args.data))
    if task == "seq2seq":
        return _print_figures(args, seq2seq_evaluate_run(load_seq2seq_run(args.model), args.data, beam=args.beam))
    saved = load_run(args.model)
    parts = _parts(args, saved)
    parts = [data.align_classes(part, saved.class_names, args.data) for part in parts]
    batches = [b for part in parts for b in data.batches(part, EVAL_BATCH_SIZE)]
    result = training.evaluate(saved.model, batches)
    cm = reports.confusion_matrix(result.y_true, result.y_pred, len(saved.class_names))
    console = Console()
    console.print(f"{args.split} accuracy {result.accuracy:.4f}, loss {result.loss:.4f} "
                  f"on {len(result.y_true)} sequences of {parts[0].name}")
    worst = sorted(reports.class_metrics_rows(cm, saved.class_names)[:-1], key=lambda row: row["recall"])[:3]
    console.print("lowest recall: " + ", ".join(f"{row['class']} {row['recall']:.2f}" for row in worst))
    return 0


def _parts(args: argparse.Namespace, saved) -> list[data.SequenceDataset]:
    """The scaled sequences to score."""
    if same_source(args.data, saved.data.source, saved.source_path):
        # read through the path resolved at training (else the name given): the one typed then may be relative
        # to another folder, and a symlink's name would rename the data set in the messages
        recorded = saved.source_path if saved.source_path and Path(saved.source_path).exists() else args.data
        prepared = prepare_data(dataclasses.replace(saved.data, source=recorded), scaler=saved.scaler)
        _check_test_samples(args.data, saved, prepared.test_ids)
        parts = {"test": [prepared.test], "train": [prepared.train, prepared.validation],
                 "all": [prepared.train, prepared.validation, prepared.test]}[args.split]
        return [part for part in parts if part is not None]
    splits = data.load(args.data)
    parts = [splits.test] if splits.test is not None and args.split == "test" else [
        part for part in (splits.train, splits.test) if part is not None]
    return [part if saved.scaler is None else saved.scaler.transform(part) for part in parts]


def _check_test_samples(source: str, saved, test_ids: list[str]) -> None:
    """Refuse a training source whose test split is no longer the one of training; note when unknown."""
    if saved.test_ids is None:  # a run from before the ids were stored
        Console(stderr=True).print(f"note: the run does not record its test samples; the test "
                                   f"split is drawn again with seed {saved.data.seed}, the same one only if "
                                   f"{source} is unchanged since training")
        return
    if sorted(test_ids) == sorted(saved.test_ids):
        return
    missing, new = len(set(saved.test_ids) - set(test_ids)), len(set(test_ids) - set(saved.test_ids))
    raise DataError(f"{source}: changed since training: of the {len(saved.test_ids)} test samples of the run, "
                    f"{missing} are gone, and the split now draws {new} others, so it would not be the "
                    "test split; evaluate on the data as trained, or on a separate test set")


def _evaluate_language_model(args: argparse.Namespace) -> int:
    saved = load_lm_run(args.model)
    if same_source(args.data, saved.data.source):  # the held-out text exactly as in training
        corpus = load_corpus(saved.data)
        if corpus.vocabulary != saved.vocabulary:  # ids would mean other characters
            raise DataError(f"{args.data}: its characters are not those the model was trained on; has the "
                            "file changed since?")
        split = args.split
    else:
        corpus, split = whole_corpus(args.data, saved.data.is_per_line, saved.vocabulary), "all"
    parts = corpus.parts
    chosen = {"test": [parts.test], "train": [parts.train], "all": [parts.train, parts.validation, parts.test]}[split]
    chosen = [part for part in chosen if len(part)]
    characters = sum(len(part) for part in chosen)
    nats = sum(nats_per_char(saved.model, corpus, part) * len(part) for part in chosen) / characters
    Console().print(f"{split}: {nats:.4f} nats per character ({nats / math.log(2):.4f} bits) on "
                    f"{characters:,} {'names' if corpus.per_line else 'characters'} of {corpus.name}")
    return 0


def _print_figures(args: argparse.Namespace, figures: dict) -> int:
    """The scalar figures of a CTC, tagger or seq2seq evaluation, one per line."""
    console = Console()
    for name, value in figures.items():
        if isinstance(value, float):
            console.print(f"{name}: {value:.4f}")
        elif isinstance(value, (int, str)):
            console.print(f"{name}: {value}")
    return 0
