"""Train rnnkit's Seq2Seq on the CMUdict split for a fixed time; report PER / WER and throughput.

    python benchmarks/seq2seq_g2p.py --seconds 180 --test-words 2000

A plain loop (Adam, gradient clipping, batches of equal word length), so that the model and
data code are what is measured. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from rnnkit.data import load_cmudict_pairs, pair_batches, pair_vocabularies
from rnnkit.models import Seq2Seq, Seq2SeqConfig, seq2seq_metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--test-words", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--model", default="{}", help="JSON of Seq2SeqConfig settings")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    splits = load_cmudict_pairs()
    vocabularies = pair_vocabularies(splits.train)
    config = Seq2SeqConfig(len(vocabularies.source), len(vocabularies.target), **json.loads(args.model))
    model = Seq2Seq(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(0)
    start, words, steps, epoch, losses = time.perf_counter(), 0, 0, 0, []
    while time.perf_counter() - start < args.seconds:
        epoch += 1
        for batch in pair_batches(splits.train, vocabularies, args.batch_size, shuffle=True, seed=rng):
            loss = model.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            words, steps = words + len(batch.src), steps + 1
            losses.append(loss.item())
            if time.perf_counter() - start >= args.seconds:
                break
    seconds = time.perf_counter() - start
    test = splits.test.with_words(splits.test.distinct_words()[:args.test_words])
    t0 = time.perf_counter()
    metrics = seq2seq_metrics(model, vocabularies, test, beam=args.beam)
    print(json.dumps({"settings": config.to_dict() | {"batch_size": args.batch_size, "lr": args.lr, "beam": args.beam},
                      "train_seconds": round(seconds, 1), "epochs": epoch, "steps": steps,
                      "words_per_second": round(words / seconds), "last_loss": round(float(np.mean(losses[-50:])), 3),
                      "per": round(metrics["per"], 4), "wer": round(metrics["wer"], 4), "test_words": metrics["words"],
                      "decode_seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
