"""Grapheme-to-phoneme on the CMUdict split: rnnkit's run pipeline beside a plain training loop.

    python benchmarks/seq2seq_g2p.py --mode peer --seconds 180 --test-words 2000
    python benchmarks/seq2seq_g2p.py --mode both --out /tmp/g2p        # ~30 min + ~30 min, 2 cores

``peer``: a plain loop (Adam at a constant rate, gradient clipping, batches of equal word length)
on rnnkit's Seq2Seq for a fixed time, so that the model and data code are what is measured.
``rnnkit``: `train_seq2seq_run` with the task's defaults (`DEFAULT_MODEL`, `DEFAULT_TRAIN`: the
length of training is a budget of words, not of seconds) writing a full run directory.
``both``: the pipeline first, then the peer for the same wall-clock time as the pipeline's fit,
both scored greedily on the same test words. Prints one JSON line per model.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch

from rnnkit.data import load_cmudict_pairs, pair_batches, pair_vocabularies
from rnnkit.models import Seq2Seq, Seq2SeqConfig, seq2seq_metrics


def train_peer(args: argparse.Namespace, seconds: float) -> None:
    torch.manual_seed(0)
    splits = load_cmudict_pairs()
    vocabularies = pair_vocabularies(splits.train)
    config = Seq2SeqConfig(len(vocabularies.source), len(vocabularies.target), **json.loads(args.model))
    model = Seq2Seq(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(0)
    start, words, steps, epoch, losses = time.perf_counter(), 0, 0, 0, []
    while time.perf_counter() - start < seconds:
        epoch += 1
        for batch in pair_batches(splits.train, vocabularies, args.batch_size, shuffle=True, seed=rng):
            loss = model.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            words, steps = words + len(batch.src), steps + 1
            losses.append(loss.item())
            if time.perf_counter() - start >= seconds:
                break
    seconds = time.perf_counter() - start
    test = _test_words(splits.test, args.test_words)
    t0 = time.perf_counter()
    metrics = seq2seq_metrics(model, vocabularies, test, beam=args.beam)
    print(json.dumps({"model": "peer", "settings": config.to_dict() | {"batch_size": args.batch_size, "lr": args.lr,
                                                                       "beam": args.beam},
                      "train_seconds": round(seconds, 1), "epochs": epoch, "steps": steps,
                      "words_per_second": round(words / seconds), "last_loss": round(float(np.mean(losses[-50:])), 3),
                      "per": round(metrics["per"], 4), "wer": round(metrics["wer"], 4), "test_words": metrics["words"],
                      "decode_seconds": round(time.perf_counter() - t0, 1)}), flush=True)


def train_rnnkit(args: argparse.Namespace) -> float:
    """rnnkit's pipeline with its defaults (``--epochs`` only shortens it); returns the seconds of its fit."""
    from rnnkit.cli._seq2seq import DEFAULT_MODEL, DEFAULT_TRAIN, Seq2SeqDataConfig, error_rates, train_seq2seq_run

    train_config = dataclasses.replace(DEFAULT_TRAIN, epochs=args.epochs or DEFAULT_TRAIN.epochs)
    result = train_seq2seq_run(Seq2SeqDataConfig(), DEFAULT_MODEL, train_config, args.out, progress=False)
    m = result.metrics
    test = _test_words(result.pairs.splits.test, args.test_words)
    same, _ = error_rates(result.model, result.pairs.vocabularies, test, beam=args.beam)  # the peer's test words
    fit_seconds = m["history"][-1]["seconds"]
    print(json.dumps({"model": "rnnkit", "train_seconds": round(fit_seconds, 1), "epochs": m["epochs"],
                      "words_per_second": round(m["train_words_per_second"]),
                      "per": round(same["per"], 4), "wer": round(same["wer"], 4), "test_words": same["words"],
                      "all_test": {k: round(m[k], 4) for k in ("test_per", "test_wer", "test_per_beam", "test_wer_beam",
                                                               "baseline_nearest_spelling_per",
                                                               "baseline_nearest_spelling_wer")},
                      "run_directory": str(args.out)}), flush=True)
    return fit_seconds


def _test_words(test, count: int):
    return test.with_words(test.distinct_words()[:count]) if count else test


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("peer", "rnnkit", "both"), default="peer")
    parser.add_argument("--seconds", type=float, default=180, help="peer: training time (both: the pipeline's)")
    parser.add_argument("--test-words", type=int, default=2000, help="test words scored; 0 for all 12,000")
    parser.add_argument("--batch-size", type=int, default=128, help="peer")
    parser.add_argument("--lr", type=float, default=2e-3, help="peer: constant learning rate")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--model", default="{}", help="peer: JSON of Seq2SeqConfig settings")
    parser.add_argument("--epochs", type=int, default=0, help="rnnkit: fewer epochs than the default, for a quick check")
    parser.add_argument("--out", default="g2p-run", help="rnnkit: run directory")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seconds = args.seconds
    if args.mode in ("rnnkit", "both"):
        seconds = train_rnnkit(args)
    if args.mode in ("peer", "both"):
        train_peer(args, seconds)


if __name__ == "__main__":
    main()
