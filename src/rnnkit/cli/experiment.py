"""``rnnkit experiment adding | copy``: the long-dependency experiment, measured and reported."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from .. import reports
from ..insight import VARIANTS, ExperimentConfig, experiment_summary, run_experiment
from ._options import positive_integer

DESCRIPTION = """Train RNN, LSTM and GRU variants on a synthetic long-dependency task at several lengths.

adding: two marked numbers in U[0, 1] among LENGTH steps, predict their sum (Le et al. 2015's form;
        always answering 1 scores MSE 0.167).
copy:   remember SYMBOLS symbols over a delay of LENGTH steps and repeat them (Arjovsky et al. 2016;
        guessing scores log 8 = 2.08 nats per symbol).

Models: rnn (tanh, no clipping), rnn-clip, rnn-orth (orthogonal W_hh), irnn (ReLU, W_hh = I, Le et al.
2015), lstm, lstm-fb1 (forget-gate bias 1), gru; every model but rnn clips the gradient norm.
Every run gets the same budget of Adam steps on fresh batches. DIR receives results.csv,
results.json (with the learning curves), length_sweep.png (score reached against length per
model), curves.png and report.html."""

EPILOG = """examples:
  rnnkit experiment adding --out runs/adding
  rnnkit experiment adding --lengths 10 25 50 100 --models rnn irnn lstm gru --steps 1500 --out runs/adding
  rnnkit experiment copy --lengths 10 25 50 --symbols 5 --jobs 2 --out runs/copy"""

DEFAULTS = ExperimentConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", choices=("adding", "copy"), help="the synthetic task")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (new or empty)")
    parser.add_argument("--lengths", type=positive_integer, nargs="+", default=list(DEFAULTS.lengths), metavar="N",
                        help="sequence lengths (copy: delays) (default: %(default)s)")
    parser.add_argument("--models", nargs="+", default=list(DEFAULTS.models), metavar="NAME",
                        help=f"model variants, from {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--steps", type=positive_integer, default=DEFAULTS.steps, metavar="N",
                        help="Adam steps per run (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_integer, default=DEFAULTS.batch_size, metavar="B",
                        help="sequences per step (default: %(default)s)")
    parser.add_argument("--hidden", type=positive_integer, default=DEFAULTS.hidden, metavar="H",
                        help="units of the recurrent layer (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=DEFAULTS.lr, help="Adam's learning rate (default: %(default)s)")
    parser.add_argument("--clip", type=float, default=DEFAULTS.clip_norm, metavar="NORM",
                        help="gradient-norm bound of the clipping variants (default: %(default)s)")
    parser.add_argument("--eval-every", type=positive_integer, default=DEFAULTS.eval_every, metavar="N",
                        help="steps between held-out scores (default: %(default)s)")
    parser.add_argument("--symbols", type=positive_integer, default=DEFAULTS.symbols, metavar="S",
                        help="copy: symbols to remember (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="(default: %(default)s)")
    parser.add_argument("--jobs", type=positive_integer, default=1, metavar="N",
                        help="runs at once, each in its own process on one thread (default: %(default)s)")
    parser.add_argument("--threads", type=positive_integer, metavar="N",
                        help="torch threads with --jobs 1 (default: torch's; 1 when other jobs share the machine)")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out} exists and is not an empty folder; give a new one")
    config = ExperimentConfig(task=args.task, lengths=tuple(args.lengths), models=tuple(args.models),
                              steps=args.steps, batch_size=args.batch_size, hidden=args.hidden, lr=args.lr,
                              clip_norm=args.clip, eval_every=args.eval_every, symbols=args.symbols, seed=args.seed,
                              jobs=args.jobs)
    if args.threads:
        torch.set_num_threads(args.threads)
    total = len(config.models) * len(config.lengths)
    done = 0

    def report(result) -> None:
        nonlocal done
        done += 1
        state = "diverged" if result.diverged else (f"solved at step {result.solved_at}" if result.solved_at
                                                    else "not solved")
        print(f"[{done}/{total}] {result.model:9s} length {result.length:5d}: {result.metric} {result.final:.4g} "
              f"(best {result.best:.4g}), {state}, {result.seconds:.1f} s", file=sys.stderr, flush=True)

    results = run_experiment(config, on_result=report)
    summary = experiment_summary(results)
    paths = reports.write_experiment_files(
        out, [r.row() for r in results], [r.curve for r in results], dataclasses.asdict(config), summary,
        title=f"{args.task}: {' vs '.join(config.models)}")
    print(f"longest length solved: " + ", ".join(f"{m} {n or '-'}" for m, n in summary["longest_solved"].items()))
    print(f"report: {paths['report']}")
    return 0
