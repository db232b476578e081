"""CTC on fsdd-strings: rnnkit's --task ctc pipeline against a plain PyTorch peer, same wall-clock time.

(a) ``rnnkit.cli._ctc.train_ctc_run`` with its defaults (DEFAULT_MODEL, DEFAULT_TRAIN), what
    ``rnnkit train --task ctc --data fsdd-strings`` runs; with --seconds, the epochs are cut to what
    fits (the cosine schedule then anneals over those epochs);
(b) a plain peer: two-layer bidirectional nn.LSTM of 128, a linear layer, torch's ctc_loss,
    Adam at a constant 2e-3, the same 6,000 scaled training strings in random batches of 32,
    greedy decoding; it trains for the wall-clock time (a) took.

Both print the test label error rate and string accuracy (greedy) on the 1,000 test strings.

    python benchmarks/ctc_fsdd_strings.py                      # the defaults, then the peer as long
    python benchmarks/ctc_fsdd_strings.py --seconds 300 --json out.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnnkit import data
from rnnkit.cli._ctc import DEFAULT_MODEL, DEFAULT_TRAIN, CTCDataConfig, load_string_data, train_ctc_run
from rnnkit.models import ctc_greedy_decode, ctc_metrics


class PeerCTC(nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(features, 128, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(256, classes + 1)

    def forward(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h, _ = self.lstm(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
        return self.head(h).log_softmax(-1)  # (B, T, C + 1), blank 0


def run_peer(strings, seconds: float, seed: int = 0) -> dict[str, float]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = strings.train
    model = PeerCTC(train.num_features, len(strings.class_names))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        for index in np.array_split(rng.permutation(len(train)), len(train) // 32):
            x, lengths, _ = data.collate([train.sequences[i] for i in index])
            targets = torch.cat([torch.as_tensor(train.labels[i]) + 1 for i in index])
            target_lengths = torch.tensor([len(train.labels[i]) for i in index])
            loss = nn.functional.ctc_loss(model(x, lengths).transpose(0, 1), targets, lengths, target_lengths)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            if time.perf_counter() - start >= seconds:
                break
    model.eval()
    hypotheses = []
    with torch.no_grad():
        for start_i in range(0, len(strings.test), 64):
            chunk = strings.test.sequences[start_i:start_i + 64]
            x, lengths, _ = data.collate(chunk)
            hypotheses += [[k - 1 for k in h] for h in ctc_greedy_decode(model(x, lengths), lengths)]
    return ctc_metrics([y.tolist() for y in strings.test.labels], hypotheses) | {"steps": steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=None,
                        help="cut rnnkit's epochs to about this training time (default: the defaults' epochs)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads of both sides (default: torch's, as rnnkit train uses)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--epoch-seconds", type=float, default=28.0,
                        help="time of one rnnkit epoch here (sets how many epochs fit in --seconds)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = CTCDataConfig()
    strings = load_string_data(config)
    epochs = DEFAULT_TRAIN.epochs if args.seconds is None else \
        max(1, min(DEFAULT_TRAIN.epochs, int(args.seconds // args.epoch_seconds)))
    train_config = dataclasses.replace(DEFAULT_TRAIN, epochs=epochs)
    with tempfile.TemporaryDirectory() as directory:
        run = train_ctc_run(config, DEFAULT_MODEL, train_config, directory, strings=strings, progress=False)
    m = run.metrics
    print(f"rnnkit ({epochs} epochs, {m['seconds']:.0f} s): test LER {100 * m['test_label_error_rate']:.2f} %, "
          f"string accuracy {100 * m['test_string_accuracy']:.1f} % (beam {m['beam']}: "
          f"{100 * m['test_label_error_rate_beam']:.2f} %)")
    peer = run_peer(strings, m["seconds"])
    print(f"torch peer ({peer['steps']} steps, {m['seconds']:.0f} s): test LER {100 * peer['label_error_rate']:.2f} %, "
          f"string accuracy {100 * peer['string_accuracy']:.1f} %")
    if args.json:
        keys = ("test_label_error_rate", "test_string_accuracy", "test_label_error_rate_beam",
                "test_string_accuracy_beam", "baseline_label_error_rate", "seconds", "epochs")
        Path(args.json).write_text(json.dumps({"threads": args.threads, "torch": torch.__version__,
                                               "rnnkit": {k: m[k] for k in keys}, "peer": peer}, indent=2))


if __name__ == "__main__":
    main()
