"""``rnnkit evaluate``: the accuracy of a trained model on a data set's test split."""
from __future__ import annotations

import argparse

from rich.console import Console

from .. import data, reports, training
from ._study import DataConfig, EVAL_BATCH_SIZE, load_run, prepare_data

DESCRIPTION = """Evaluate a trained model (a directory written by 'rnnkit train') on the test split of a
data set, prepared exactly as in training (same split seed, the scaler fitted then)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="run directory written by 'rnnkit train'")
    parser.add_argument("--data", required=True, metavar="PATH|NAME", help="data set, as for 'rnnkit train'")
    parser.add_argument("--split", choices=("test", "train", "all"), default="test",
                        help="which part to evaluate (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    saved = load_run(args.model)
    settings = {**saved.config["data"], "source": args.data}
    prepared = prepare_data(DataConfig(**settings), scaler=saved.scaler)
    parts = {"test": [prepared.test], "train": [prepared.train, prepared.validation],
             "all": [prepared.train, prepared.validation, prepared.test]}[args.split]
    parts = [part for part in parts if part is not None]
    if parts[0].class_names != saved.class_names:
        raise data.DataError(f"{args.data}: classes {parts[0].class_names} differ from the model's "
                             f"{saved.class_names}")
    batches = [b for part in parts for b in data.batches(part, EVAL_BATCH_SIZE)]
    result = training.evaluate(saved.model, batches)
    cm = reports.confusion_matrix(result.y_true, result.y_pred, len(saved.class_names))
    console = Console()
    console.print(f"{args.split} accuracy {result.accuracy:.4f}, loss {result.loss:.4f} "
                  f"on {len(result.y_true)} sequences of {parts[0].name}")
    worst = sorted(reports.class_metrics_rows(cm, saved.class_names)[:-1], key=lambda row: row["recall"])[:3]
    console.print("lowest recall: " + ", ".join(f"{row['class']} {row['recall']:.2f}" for row in worst))
    return 0
