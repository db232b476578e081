"""The ``rnnkit`` command: one subcommand per module, a user's mistake ends in one clear line."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from ..training import TrainingError

# Each command is a module of this package with add_arguments(parser), run(args) and DESCRIPTION.
COMMANDS = {
    "datasets": "list the bundled data sets",
    "train": "train a model: a sequence classifier (--task classify) or a language model (--task lm)",
    "evaluate": "evaluate a trained model on a data set",
    "predict": "classify sample files with a trained model",
    "generate": "sample text or names from a trained language model",
    "compare": "train and compare RNN, LSTM and GRU architectures (the main job)",
    "bench": "time rnnkit's kernels against torch.nn, a naive cell loop and the GEMM roofline",
    "inspect": "look inside a model: gradient flow through time, gates and states, attention",
    "experiment": "the long-dependency experiment: adding problem or copy memory, RNN vs LSTM vs GRU",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnkit", description="Recurrent sequence learning: RNN, LSTM and GRU models, trained, compared and "
                                   "reported. Run 'rnnkit COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        module = _command(name)
        sub = subparsers.add_parser(name, help=summary, description=getattr(module, "DESCRIPTION", None),
                                    epilog=getattr(module, "EPILOG", None),
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed run, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return _command(args.command).run(args)
    except KeyboardInterrupt:
        print("rnnkit: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as error:  # DataError, CheckpointError, bad settings, unreadable files
        if os.environ.get("RNNKIT_DEBUG"):
            raise
        print(f"rnnkit {args.command}: error: {error}", file=sys.stderr)
        return 2
    except TrainingError as error:  # the run diverged (NaN loss ...)
        if os.environ.get("RNNKIT_DEBUG"):
            raise
        print(f"rnnkit {args.command}: failed: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug of ours: still one line, and the way to the traceback
        if os.environ.get("RNNKIT_DEBUG"):
            raise
        print(f"rnnkit {args.command}: internal error: {type(error).__name__}: {error} "
              "(run with RNNKIT_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1


def _command(name: str):
    return importlib.import_module(f".{name}", __package__)
