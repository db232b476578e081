"""``rnnkit predict``: classify sample files with a trained model."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from ..data import read_sample_file
from ._study import load_run, predict_proba

DESCRIPTION = """Classify sequences with a trained model. Each FILE is one sample in the form of the class
folders: rows of numbers, one row per time step, or the pen-stroke line 'N x1 y1 ... xN yN'."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="run directory written by 'rnnkit train'")
    parser.add_argument("files", nargs="+", metavar="FILE", help="sample files to classify")
    parser.add_argument("--top", type=int, default=1, metavar="K", help="show the K most likely classes (default: 1)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def run(args: argparse.Namespace) -> int:
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
