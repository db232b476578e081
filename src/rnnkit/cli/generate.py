"""``rnnkit generate``: sample text (or names) from a trained character language model."""
from __future__ import annotations

import argparse
import sys

from rich.console import Console

from .. import data
from ._lm import default_prime, load_corpus, load_lm_run, stream_text
from ._options import positive_integer

DESCRIPTION = """Sample from a language model trained with 'rnnkit train --task lm', printing each
character as it is drawn. A model of names (one per line) prints --count names, one per line,
and says how many are new (not in its training list); a model of text prints --count samples
of --length characters after --prime."""

EPILOG = """examples:
  rnnkit generate --model runs/shakespeare --prime "ROMEO." --length 600
  rnnkit generate --model runs/shakespeare --temperature 0 --length 200     (greedy: the arg-max each step)
  rnnkit generate --model runs/names --count 20 --temperature 0.8 --seed 1"""


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="run directory written by 'rnnkit train --task lm'")
    parser.add_argument("--prime", default=None, metavar="TEXT",
                        help="text the sample continues (default: the start of a line); a model of names "
                             "continues it into a name")
    parser.add_argument("--length", type=positive_integer, default=None, metavar="N",
                        help="characters per sample, at most (default: 500 for text, 40 per name)")
    parser.add_argument("--count", type=positive_integer, default=None, metavar="K",
                        help="samples to draw (default: 1 for text, 10 names)")
    parser.add_argument("--temperature", type=non_negative_float, default=1.0, metavar="T",
                        help="below 1 sharper and safer, above 1 wilder; 0 is greedy decoding (default: 1)")
    parser.add_argument("--top-k", type=positive_integer, default=None, metavar="K",
                        help="draw only among the K most likely characters (default: all)")
    parser.add_argument("--seed", type=int, default=None, help="the same seed gives the same sample (default: random)")


def run(args: argparse.Namespace) -> int:
    saved = load_lm_run(args.model)
    names = saved.data.is_per_line
    prime = default_prime(saved.vocabulary) if args.prime is None else args.prime.replace("\\n", "\n")
    if not prime:
        raise ValueError("--prime is empty; give at least one character, or leave it out to start a line")
    saved.vocabulary.encode(prime, where="--prime")  # unknown characters: one clear error before any output
    length = args.length or (40 if names else 500)
    count = args.count or (10 if names else 1)
    generated = []
    for k in range(count):
        seed = None if args.seed is None else args.seed + k
        head = "" if prime == data.END else (prime.strip("\n") if names else prime)
        sys.stdout.write(head)
        text = head + "".join(_echo(stream_text(saved.model, saved.vocabulary, prime, length, args.temperature,
                                                 args.top_k, seed, stop_at_end=names)))
        sys.stdout.write("\n" if names or k == count - 1 else "\n\n")
        sys.stdout.flush()
        generated.append(text)
    if names:
        _report_novelty(saved, generated)
    return 0


def _echo(characters):
    """Pass characters through, writing each to the terminal as it is drawn."""
    for character in characters:
        sys.stdout.write(character)
        sys.stdout.flush()
        yield character


def _report_novelty(saved, generated: list[str]) -> None:
    """How many generated names are not training names (when the training list can still be read)."""
    try:
        training_names = set(load_corpus(saved.data).parts.train)
    except (OSError, ValueError):
        return  # the user's file has moved: the names stand on their own
    new = sum(name not in training_names for name in generated)
    Console(stderr=True).print(f"{new} of {len(generated)} names are new (not in the training list)")
