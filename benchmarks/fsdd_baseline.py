"""The yardstick of issue 4: a plain two-layer ``nn.LSTM`` script on fsdd-digits, timed beside ``rnnkit train``.

    python benchmarks/fsdd_baseline.py                 # baseline, then `rnnkit train --data fsdd-digits`
    python benchmarks/fsdd_baseline.py --no-rnnkit     # the baseline only

The baseline is what a person writes without rnnkit: per-feature standardisation fitted on the
training half, ``nn.LSTM(13, 64, num_layers=2)`` over packed sequences, the last layer's final
state into a linear layer, Adam at 1e-3, batch 32, a fixed number of epochs. It uses rnnkit only to
read the bundled split, so both see the same test half. The spans timed are not quite alike, and the
difference is against rnnkit: its seconds also cover a validation pass every epoch and the final
evaluation, while the baseline's cover its training loop only (rnnkit fits on 90% of the training
half and watches the other 10%). Machines differ by 1.5x from day to day, so compare the two times
of one run, not times from different runs.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from rnnkit.data import load_dataset


class LastStateLSTM(nn.Module):
    def __init__(self, features: int, classes: int, hidden: int = 64):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])


def tensors(sequences: list[np.ndarray], mean: np.ndarray, std: np.ndarray):
    scaled = [torch.from_numpy((s - mean) / std) for s in sequences]
    return pad_sequence(scaled, batch_first=True), torch.tensor([len(s) for s in sequences])


def run_baseline(epochs: int, seed: int) -> tuple[float, float]:
    """Train the baseline; return (test accuracy, seconds of training)."""
    torch.manual_seed(seed)
    splits = load_dataset("fsdd-digits")
    frames = np.concatenate(splits.train.sequences)
    mean, std = frames.mean(0), frames.std(0) + 1e-8
    x_train, len_train = tensors(splits.train.sequences, mean, std)
    x_test, len_test = tensors(splits.test.sequences, mean, std)
    y_train, y_test = torch.from_numpy(splits.train.labels), torch.from_numpy(splits.test.labels)

    model = LastStateLSTM(splits.train.num_features, splits.train.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(y_train)).split(32):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x_train[batch], len_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test, len_test).argmax(1) == y_test).float().mean().item()
    return accuracy, seconds


def run_rnnkit(seed: int) -> tuple[float, float]:
    """``rnnkit train --data fsdd-digits`` with its defaults; return (test accuracy, seconds of training)."""
    import json

    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-m", "rnnkit", "train", "--data", "fsdd-digits",
                               "--seed", str(seed), "--out", out], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"rnnkit train failed:\n{done.stderr}")
        metrics = json.loads((Path(out) / "metrics.json").read_text())
    return metrics["test_accuracy"], metrics["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40, help="baseline epochs (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-rnnkit", action="store_true", help="run the baseline only")
    args = parser.parse_args()

    accuracy, seconds = run_baseline(args.epochs, args.seed)
    print(f"nn.LSTM baseline ({args.epochs} epochs): test accuracy {accuracy:.4f}, {seconds:.1f} s")
    if not args.no_rnnkit:
        rk_accuracy, rk_seconds = run_rnnkit(args.seed)
        print(f"rnnkit train defaults:          test accuracy {rk_accuracy:.4f}, {rk_seconds:.1f} s "
              f"({rk_seconds / seconds:.2f}x the baseline's time)")


if __name__ == "__main__":
    main()
