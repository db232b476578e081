"""``rnnkit train``: train one model (a classifier or a language model) and write its run directory."""
from __future__ import annotations

import argparse

from rich.console import Console

from ._lm import LMDataConfig, batches_per_epoch, load_corpus, train_lm_run
from ._options import (TASKS, add_data_arguments, add_lm_arguments, add_model_arguments, add_training_arguments,
                       check_task_options, data_config, lm_batch_size, lm_model_settings, lm_train_config,
                       model_settings, train_config, with_task_defaults)
from ._study import prepare_data, train_run

DESCRIPTION = """Train a recurrent model on a bundled data set or your own files.

--task classify (the default): a sequence classifier (many-to-one).
--task lm: a character language model (one-to-many) on a text; sample from it with 'rnnkit generate'.

DIR receives config.json (every setting), metrics.json (test figures as test_<metric>, loss per
epoch), model.safetensors, curves.png and report.html (open it in a browser); a classifier also
confusion.png."""

EPILOG = """examples:
  rnnkit train --data fsdd-digits --out runs/digits
  rnnkit train --data my_strokes/ --cell gru --hidden 64-32-32 --pooling attention --out runs/gru
  rnnkit train --data ECG_TRAIN.ts --cell lstm --peephole --bidirectional --out runs/ecg
  rnnkit train --task lm --data shakespeare --out runs/shakespeare
  rnnkit train --task lm --data census-names --hidden 128 --out runs/names
  rnnkit train --task lm --data my_book.txt --cell gru --window 200 --out runs/book"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", choices=TASKS, default="classify",
                        help="classify: one label per sequence; lm: a character language model (default: "
                             "%(default)s)")
    parser.add_argument("--data", required=True, metavar="PATH|NAME",
                        help="classify: a bundled data set (see 'rnnkit datasets'), a folder of class folders "
                             "(with train/ and test/ or without), a UEA .ts file, an .npz (X, lengths, y) or a CSV "
                             "(sequence_id, label, features...); lm: shakespeare, census-names or a UTF-8 text file")
    parser.add_argument("--out", required=True, metavar="DIR", help="run directory to write (created if missing)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_data_arguments(parser)
    add_model_arguments(parser)
    add_training_arguments(parser)
    add_lm_arguments(parser)


def run(args: argparse.Namespace) -> int:
    check_task_options(args, args.task)
    return {"classify": _classify, "lm": _language_model}[args.task](with_task_defaults(args), Console(stderr=True))


def _classify(args: argparse.Namespace, console: Console) -> int:
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


def _language_model(args: argparse.Namespace, console: Console) -> int:
    data = LMDataConfig(args.data, per_line=args.per_line, validation_fraction=args.validation_fraction,
                        test_fraction=args.test_fraction, window=args.window, seed=args.seed)
    corpus = load_corpus(data)
    steps = batches_per_epoch(corpus, lm_batch_size(args), data.window)
    config = lm_train_config(args, steps, corpus.per_line)
    result = train_lm_run(data, lm_model_settings(args), config, args.out, corpus=corpus, progress=not args.quiet)
    m = result.metrics
    console.print(f"[bold]{m['cell'].upper()} {m['architecture']}[/] language model on {m['dataset']}: "
                  f"test [bold]{m['test_nats_per_char']:.4f}[/] nats/char ({m['test_bits_per_char']:.4f} bits; "
                  f"unigram baseline {m['baseline_unigram_nats_per_char']:.4f}) after {m['epochs']} epochs "
                  f"({m['seconds']:.1f} s)")
    if "generated_new_fraction" in m:
        console.print(f"{m['generated_new_fraction']:.1%} of {m['generated_names']} generated names are new "
                      f"(not training names); {m['generated_held_out_fraction']:.1%} are held-out real names")
    console.print(f"report: {result.directory / 'report.html'}")
    return 0
