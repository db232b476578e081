"""The yardstick of issue 9: ``rnnkit train --task lm --data shakespeare`` beside a plain ``nn.LSTM`` script.

    python benchmarks/charlm_shakespeare.py                  # rnnkit with defaults, then the peer for as long
    python benchmarks/charlm_shakespeare.py --peer-only --seconds 900

Both see the same text: the bundled seven tragedies, the last 10 % held out. The peer trains on
all of the first 90 %; rnnkit on 85 %, as it watches 5 % in stretches spread over it every epoch. Both are scored on
the held-out text by the same function: 32 parallel streams, each read once from a zero state
(rnnkit's ``nats_per_char``).

The peer is what a person writes from Karpathy's char-rnn: an embedding of 64, ``nn.LSTM(64, 512,
num_layers=2)``, windows of 100 characters from 64 parallel streams with the state carried across
windows (detached), Adam at a constant 2e-3, gradient norm clipped to 1. It trains for the wall-clock
time rnnkit took (``--seconds`` to choose), so the two losses compare at equal time on one machine.
Machines differ from day to day: compare the two figures of one run, not figures from two runs.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from rnnkit.cli._lm import LMDataConfig, load_corpus, nats_per_char
from rnnkit.data import load_text, stream_batches


class PlainCharLSTM(nn.Module):
    """Embedding, two-layer nn.LSTM, linear head; the stateful call rnnkit's scoring uses."""

    def __init__(self, vocab: int, embedding: int = 64, hidden: int = 512, layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, lengths=None, state=None, return_state=False):
        out, state = self.lstm(self.embed(x), state)
        logits = self.head(out)
        return (logits, state) if return_state else logits


def run_peer(seconds: float, seed: int = 0) -> dict:
    """Train the peer for ``seconds`` of wall-clock time; return its held-out loss."""
    torch.manual_seed(seed)
    corpus = load_corpus(LMDataConfig("shakespeare"))
    text = corpus.parts.train + corpus.parts.validation
    train = corpus.ids(load_text("shakespeare")[:len(text)])  # the peer trains on all of the first 90 %
    model = PlainCharLSTM(len(corpus.vocabulary))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    start, steps, epochs = time.perf_counter(), 0, 0
    while time.perf_counter() - start < seconds:
        state = None
        for x, _, y in stream_batches(train, 64, 100):
            logits, state = model(x, state=state, return_state=True)
            state = tuple(s.detach() for s in state)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            steps += 1
            if time.perf_counter() - start >= seconds:
                break
        epochs += 1
    trained = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        test = nats_per_char(model, corpus, corpus.parts.test)
    return {"test_nats_per_char": test, "seconds": trained, "steps": steps, "epochs_started": epochs}


def run_rnnkit(out: Path) -> dict:
    command = [sys.executable, "-m", "rnnkit", "train", "--task", "lm", "--data", "shakespeare", "--out", str(out),
               "--quiet"]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["wall_seconds"] = time.perf_counter() - start
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-only", action="store_true", help="train the peer only")
    parser.add_argument("--seconds", type=float, default=None, help="the peer's time (default: rnnkit's)")
    parser.add_argument("--out", default=None, help="rnnkit's run directory (default: a temporary one)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())  # both use every core torch sees
    results = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    if not args.peer_only:
        out = Path(args.out or tempfile.mkdtemp(prefix="charlm_")) / "shakespeare"
        m = run_rnnkit(out)
        results["rnnkit"] = {k: m[k] for k in ("test_nats_per_char", "test_bits_per_char", "epochs", "kept_epoch",
                                               "seconds", "wall_seconds", "parameters", "architecture",
                                               "baseline_unigram_nats_per_char")}
        print(f"rnnkit: {m['test_nats_per_char']:.4f} nats/char after {m['seconds']:.0f} s "
              f"({m['epochs']} epochs, {m['architecture']})", flush=True)
    seconds = args.seconds or results["rnnkit"]["seconds"]
    peer = run_peer(seconds)
    results["peer"] = peer
    print(f"peer (nn.LSTM 2x512, constant Adam 2e-3): {peer['test_nats_per_char']:.4f} nats/char after "
          f"{peer['seconds']:.0f} s ({peer['steps']} steps)", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
