"""``rnnkit train``: train one model (a classifier or a language model) and write its run directory."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from .. import training

from ._ctc import CTCDataConfig, train_ctc_run
from ._lm import LMDataConfig, batches_per_epoch, load_corpus, train_lm_run
from ._options import (TASKS, add_data_arguments, add_lm_arguments, add_model_arguments, add_training_arguments,
                       check_task_options, data_config, lm_batch_size, lm_model_settings, lm_train_config,
                       model_settings, seq2seq_model_settings, seq2seq_train_config, string_model_settings,
                       string_train_config, train_config, with_task_defaults, add_seq2seq_arguments)
from ._seq2seq import Seq2SeqDataConfig, default_epochs, load_pairs, train_seq2seq_run
from ._tag import train_tag_run
from ._study import prepare_data, train_run

DESCRIPTION = """Train a recurrent model on a bundled data set or your own files.

--task classify (the default): a sequence classifier (many-to-one).
--task lm: a character language model (one-to-many) on a text; sample from it with 'rnnkit generate'.
--task ctc: label strings from unsegmented frames (CTC), e.g. spoken digit strings (fsdd-strings).
--task tag: a label for every frame (many-to-many), decoded into segments.
--task seq2seq: an encoder-decoder with attention from one token sequence to another
  (grapheme-to-phoneme on cmudict, or your own pairs as a two-column TSV).

DIR receives config.json (every setting), metrics.json (test figures as test_<metric>, loss per
epoch), model.safetensors, curves.png and report.html (open it in a browser); a classifier also
confusion.png. A DIR that already holds a run is refused unless --overwrite is given.

While it trains, DIR/checkpoint.safetensors holds the whole training state (weights, optimiser,
schedule, random generators, position in the data), replaced in one step after every epoch and
every --checkpoint-every steps. A run that was killed goes on with 'rnnkit train --resume DIR' and
ends with the same weights and metrics as one never stopped (bit for bit on the CPU). The state
is removed once the run's files are written; a run that diverges (NaN or infinite loss) keeps its
last good state, and diverged.json says where it went wrong."""

EPILOG = """examples:
  rnnkit train --data fsdd-digits --out runs/digits
  rnnkit train --data my_strokes/ --cell gru --hidden 64-32-32 --pooling attention --out runs/gru
  rnnkit train --data ECG_TRAIN.ts --cell lstm --peephole --bidirectional --out runs/ecg
  rnnkit train --task lm --data shakespeare --out runs/shakespeare
  rnnkit train --task lm --data census-names --hidden 128 --out runs/names
  rnnkit train --task lm --data my_book.txt --cell gru --window 200 --out runs/book
  rnnkit train --task ctc --data fsdd-strings --out runs/ctc
  rnnkit train --task tag --data my_labelled.npz --out runs/tagger      (docs/ctc_data.md: the formats)
  rnnkit train --task seq2seq --data cmudict --out runs/g2p
  rnnkit train --task seq2seq --data my_pairs.tsv --attention additive --out runs/pairs
  rnnkit train --resume runs/digits        (continue a run that was killed, with its own settings)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", choices=TASKS, default="classify",
                        help="classify: one label per sequence; lm: a character language model; ctc: a label "
                             "string per sequence, unsegmented; tag: a label per frame; seq2seq: a token sequence "
                             "per token sequence (default: %(default)s)")
    parser.add_argument("--data", metavar="PATH|NAME",
                        help="classify: a bundled data set (see 'rnnkit datasets'), a folder of class folders "
                             "(with train/ and test/ or without), a UEA .ts file, an .npz (X, lengths, y) or a CSV "
                             "(sequence_id, label, features...); lm: shakespeare, census-names or a UTF-8 text file; "
                             "ctc, tag: fsdd-strings, an .npz or a folder of label sequences (docs/ctc_data.md); "
                             "seq2seq: cmudict or a TSV of word<TAB>space-separated tokens")
    parser.add_argument("--out", metavar="DIR", help="run directory to write (created if missing)")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into DIR even if it already holds a run (its files are replaced)")
    parser.add_argument("--resume", metavar="DIR",
                        help="continue the killed run in DIR from its saved state, with the settings it was started "
                             "with (give no other options but --quiet)")
    parser.add_argument("--checkpoint-every", type=_steps, default=CHECKPOINT_EVERY, metavar="N",
                        help="save the training state every N optimiser steps as well as after each epoch; 0: "
                             "only after each epoch (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_data_arguments(parser)
    add_model_arguments(parser)
    add_training_arguments(parser)
    add_lm_arguments(parser)
    add_seq2seq_arguments(parser)


# Files that mark a folder as holding a run (what every task writes, the test samples of a classifier, the
# training state of a run under way or killed, the note of one that diverged).
DIVERGED = "diverged.json"
RUN_FILES = ("config.json", "metrics.json", "model.safetensors", "test_samples.json", "report.html",
             training.STATE_FILE, DIVERGED)
CHECKPOINT_EVERY = 200  # optimiser steps between saved training states (and one after each epoch)
# Options that may come with --resume: they change nothing the run computes.
RESUME_OPTIONS = ("command", "resume", "quiet")


def check_out_folder(out: str | Path, overwrite: bool) -> None:
    """Refuse an --out that is a file, or a folder holding a run unless ``overwrite``; touches nothing."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    found = [name for name in RUN_FILES if (out / name).exists()]
    if found and not overwrite:
        hint = "pass --resume to continue it, " if training.STATE_FILE in found else ""
        raise ValueError(f"--out {out}: already holds a run ({', '.join(found)}); {hint}pass --overwrite to replace "
                         "it, or choose another folder")


def run(args: argparse.Namespace) -> int:
    if args.resume is not None:
        args = resumed_arguments(args)
    else:
        for option in ("data", "out"):
            if getattr(args, option) is None:
                raise ValueError(f"--{option} is required (or --resume DIR to continue a run)")
        check_task_options(args, args.task)
        check_out_folder(args.out, args.overwrite)  # before any data is read: a refused run costs nothing
        if args.overwrite:  # a stale state must not be resumed as if it were this run's
            training.remove_training_state(args.out)
            (Path(args.out) / DIVERGED).unlink(missing_ok=True)
    checkpoint = training.Checkpointing(Path(args.out), every=args.checkpoint_every, resume=args.resume is not None,
                                        keep={"arguments": _arguments(args)})
    runs = {"classify": _classify, "lm": _language_model, "ctc": _label_strings, "tag": _label_strings,
            "seq2seq": _sequence_to_sequence}
    try:
        status = runs[args.task](with_task_defaults(args), Console(stderr=True), checkpoint)
    except training.TrainingError as error:
        raise _diverged(error, Path(args.out)) from error
    training.remove_training_state(args.out)  # the run's files are all written: nothing left to resume
    return status


def resumed_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """The arguments the run in ``args.resume`` was started with; other options given now are refused."""
    given = sorted(f"--{key.replace('_', '-')}" for key, value in vars(args).items()
                   if key not in RESUME_OPTIONS and value != _DEFAULTS.get(key))
    if given:
        raise ValueError(f"--resume {args.resume}: continues the run with the settings it was started with; "
                         f"leave out {', '.join(given)}")
    folder = Path(args.resume)
    state = folder / training.STATE_FILE
    if not state.is_file():
        finished = (folder / "config.json").is_file() and (folder / "metrics.json").is_file()
        raise ValueError(f"--resume {folder}: " + ("holds a finished run; there is nothing to resume" if finished
                                                   else f"no saved training state ({training.STATE_FILE}) to resume"))
    kept = training.read_kept(state).get("arguments")
    if not isinstance(kept, dict) or set(kept) != set(_DEFAULTS) - {"command"}:
        raise training.CheckpointError(f"{state}: does not hold the arguments of an 'rnnkit train' run")
    return argparse.Namespace(**(kept | {"command": args.command, "resume": str(folder), "out": str(folder),
                                         "quiet": args.quiet or kept["quiet"]}))


def _arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments as typed (before task defaults), JSON, to start the run again from its state."""
    return {key: value for key, value in vars(args).items() if key != "command"} | {"resume": None}


def _diverged(error: training.TrainingError, out: Path) -> training.TrainingError:
    """Note where a run diverged beside its last good state, and say what to do."""
    state = out / training.STATE_FILE
    note: dict[str, Any] = {"error": str(error), "epoch": error.epoch, "batch": error.batch}
    kept = "no training state was saved before it"
    if state.is_file():
        saved = training.read_training_state(state)
        note |= {"last_good_state": {"file": training.STATE_FILE, "epochs_done": saved.position.epoch,
                                     "batches_done_of_next_epoch": saved.position.batch,
                                     "steps": saved.position.step},
                 "history": saved.history}
        kept = (f"the last good state (epoch {saved.position.epoch} done, then {saved.position.batch} batches) "
                f"is kept in {state}")
    training.write_json_atomic(out / DIVERGED, note)
    return training.TrainingError(f"{error} {kept}; its history is in {out / DIVERGED}. Train again with a lower "
                                  "--lr or a --clip-norm (and check the data for NaN or huge values).",
                                  error.epoch, error.batch)


def _steps(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more steps, got {text!r}")
    return value


def _classify(args: argparse.Namespace, console: Console, checkpoint: training.Checkpointing) -> int:
    data = data_config(args, args.data)
    prepared = prepare_data(data)
    result = train_run(data, model_settings(args), train_config(args, len(prepared.train), args.data), args.out,
                       prepared=prepared, progress=not args.quiet, checkpoint=checkpoint)
    m = result.metrics
    console.print(f"[bold]{m['cell'].upper()} {m['architecture']}[/] on {m['dataset']}: "
                  f"train accuracy {m['train_accuracy']:.4f}, test accuracy [bold]{m['test_accuracy']:.4f}[/] "
                  f"after {m['epochs']} epochs ({m['seconds']:.1f} s)")
    console.print(f"report: {result.directory / 'report.html'}")
    return 0


def _language_model(args: argparse.Namespace, console: Console, checkpoint: training.Checkpointing) -> int:
    data = LMDataConfig(args.data, per_line=args.per_line, validation_fraction=args.validation_fraction,
                        test_fraction=args.test_fraction, window=args.window, seed=args.seed)
    corpus = load_corpus(data)
    steps = batches_per_epoch(corpus, lm_batch_size(args), data.window)
    config = lm_train_config(args, steps, corpus.per_line)
    result = train_lm_run(data, lm_model_settings(args), config, args.out, corpus=corpus, progress=not args.quiet,
                          checkpoint=checkpoint)
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


def _label_strings(args: argparse.Namespace, console: Console, checkpoint: training.Checkpointing) -> int:
    if args.scaling == "none":
        raise ValueError(f"--scaling none: --task {args.task} scales the features with statistics of the training "
                         "frames (standard or minmax); scaled input does no harm")
    data = CTCDataConfig(args.data, seed=args.seed, test_fraction=args.test_fraction, scale=args.scaling)
    run = train_ctc_run if args.task == "ctc" else train_tag_run
    result = run(data, string_model_settings(args), string_train_config(args), args.out, progress=not args.quiet,
                 checkpoint=checkpoint)
    m = result.metrics
    if args.task == "ctc":
        console.print(f"[bold]CTC {m['cell'].upper()}[/] on {m['dataset']}: test label error rate "
                      f"[bold]{m['test_label_error_rate']:.2%}[/] (beam {m['beam']}: {m['test_label_error_rate_beam']:.2%}), "
                      f"string accuracy {m['test_string_accuracy']:.2%}; baseline {m['baseline_label_error_rate']:.2%} "
                      f"after {m['epochs']} epochs ({m['seconds']:.1f} s)")
    else:
        console.print(f"[bold]tagger {m['cell'].upper()}[/] on {m['dataset']}: test frame accuracy "
                      f"[bold]{m['test_frame_accuracy']:.2%}[/], segment error rate {m['test_segment_error_rate']:.2%}; "
                      f"majority baseline {m['baseline_majority_frame_accuracy']:.2%} after {m['epochs']} epochs "
                      f"({m['seconds']:.1f} s)")
    console.print(f"report: {result.directory / 'report.html'}")
    return 0


def _sequence_to_sequence(args: argparse.Namespace, console: Console, checkpoint: training.Checkpointing) -> int:
    data = Seq2SeqDataConfig(args.data, keep_stress=bool(args.keep_stress), test_fraction=args.test_fraction,
                             validation_fraction=args.validation_fraction, seed=args.seed)
    pairs = load_pairs(data)
    config = seq2seq_train_config(args, default_epochs(len(pairs.splits.train.words)))
    result = train_seq2seq_run(data, seq2seq_model_settings(args), config, args.out, pairs=pairs,
                               progress=not args.quiet, checkpoint=checkpoint)
    m = result.metrics
    console.print(f"[bold]seq2seq[/] on {m['dataset']}: test phoneme error rate [bold]{m['test_per']:.2%}[/], "
                  f"word error rate [bold]{m['test_wer']:.2%}[/] (beam: {m['test_per_beam']:.2%} / "
                  f"{m['test_wer_beam']:.2%}) after {m['epochs']} epochs ({m['seconds']:.1f} s)")
    console.print(f"report: {result.directory / 'report.html'}")
    return 0


def _defaults() -> dict[str, Any]:
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    return vars(parser.parse_args([]))


_DEFAULTS = _defaults()  # what each option is when not given (to tell what came with --resume)
