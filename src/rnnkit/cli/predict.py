"""``rnnkit predict``: labels of sample files, label strings, or pronunciations of words."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from ..data import read_sample_file
from ._ctc import load_ctc_run, predict_strings
from ._options import positive_integer
from ._seq2seq import load_seq2seq_run, predict_pronunciations
from ._study import load_run, predict_proba, run_task
from ._tag import load_tag_run

DESCRIPTION = """Predict with a trained model:
- a classifier: the class of each FILE, one sample in the form of the class folders (rows of
  numbers, one row per time step, or the pen-stroke line 'N x1 y1 ... xN yN');
- a CTC model or frame tagger: the label string of each FILE (rows of numbers);
- an encoder-decoder (seq2seq): the pronunciation of each WORD.
A language model generates instead: 'rnnkit generate'."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="run directory written by 'rnnkit train'")
    parser.add_argument("files", nargs="+", metavar="FILE|WORD", help="sample files, or words for a seq2seq model")
    parser.add_argument("--top", type=int, default=1, metavar="K", help="show the K most likely classes (default: 1)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.add_argument("--beam", type=positive_integer, default=1, metavar="N",
                        help="ctc, seq2seq: beam search of width N rather than greedy decoding (default: 1)")


def run(args: argparse.Namespace) -> int:
    task = run_task(args.model)
    if task in ("ctc", "tag"):
        saved = (load_ctc_run if task == "ctc" else load_tag_run)(args.model)
        sequences = [read_sample_file(Path(path), num_features=saved.model.config.input_size) for path in args.files]
        return _print_pairs(args, "file", "labels", predict_strings(saved, sequences, beam=args.beam))
    if task == "seq2seq":
        pronunciations = predict_pronunciations(load_seq2seq_run(args.model), args.files, beam=args.beam)
        return _print_pairs(args, "word", "pronunciation", [" ".join(p) for p in pronunciations])
    saved = load_run(args.model)
    features = saved.model.config.input_size
    sequences = [read_sample_file(Path(path), num_features=features) for path in args.files]
    if saved.scaler is not None:
        sequences = [saved.scaler.transform_array(s) for s in sequences]
    probabilities = predict_proba(saved.model, sequences)  # (N, C)
    top = max(1, min(args.top, len(saved.class_names)))
    ranked = np.argsort(-probabilities, axis=1)[:, :top]  # (N, K)
    if args.json:
        for path, order, p in zip(args.files, ranked, probabilities):
            print(json.dumps({"file": path, "predictions": [
                {"class": saved.class_names[k], "probability": round(float(p[k]), 6)} for k in order]}))
        return 0
    table = Table("file", "prediction", "probability", *(["next"] if top > 1 else []))
    for path, order, p in zip(args.files, ranked, probabilities):
        others = ", ".join(f"{saved.class_names[k]} {p[k]:.3f}" for k in order[1:])
        table.add_row(path, saved.class_names[order[0]], f"{p[order[0]]:.3f}", *([others] if top > 1 else []))
    Console().print(table)
    return 0


def _print_pairs(args: argparse.Namespace, what: str, answer: str, answers: list[str]) -> int:
    if args.json:
        for item, text in zip(args.files, answers):
            print(json.dumps({what: item, answer: text}))
        return 0
    table = Table(what, answer)
    for item, text in zip(args.files, answers):
        table.add_row(item, text)
    Console().print(table)
    return 0
