"""``rnnkit train``: train one sequence classifier and write its run directory."""
from __future__ import annotations

import argparse

from rich.console import Console

from ._options import (add_data_arguments, add_model_arguments, add_training_arguments, data_config, model_settings,
                       train_config)
from ._study import prepare_data, train_run

DESCRIPTION = """Train a recurrent sequence classifier on a bundled data set or your own files.

DIR receives config.json (every setting), metrics.json (accuracies, loss per epoch),
model.safetensors, curves.png, confusion.png and report.html (open it in a browser)."""

EPILOG = """examples:
  rnnkit train --data fsdd-digits --out runs/digits
  rnnkit train --data my_strokes/ --cell gru --hidden 64-32-32 --pooling attention --out runs/gru
  rnnkit train --data ECG_TRAIN.ts --cell lstm --peephole --bidirectional --out runs/ecg"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="PATH|NAME",
                        help="a bundled data set (see 'rnnkit datasets'), a folder of class folders (with train/ "
                             "and test/ or without), a UEA .ts file, an .npz (X, lengths, y) or a CSV "
                             "(sequence_id, label, features...)")
    parser.add_argument("--out", required=True, metavar="DIR", help="run directory to write (created if missing)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_data_arguments(parser)
    add_model_arguments(parser)
    add_training_arguments(parser)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    data = data_config(args, args.data)
    prepared = prepare_data(data)
    result = train_run(data, model_settings(args), train_config(args, len(prepared.train), args.data), args.out,
                       prepared=prepared, progress=not args.quiet)
    m = result.metrics
    console.print(f"[bold]{m['cell'].upper()} {m['architecture']}[/] on {m['dataset']}: "
                  f"train accuracy {m['train_accuracy']:.4f}, test accuracy [bold]{m['test_accuracy']:.4f}[/] "
                  f"after {m['epochs']} epochs ({m['seconds']:.1f} s)")
    console.print(f"report: {result.directory / 'report.html'}")
    return 0
