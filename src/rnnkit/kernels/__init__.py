"""Whole-sequence kernels with hand-derived BPTT (see docs/derivations/).

Each family exports a scan with the signature of its reference in ``rnnkit.layers._reference``;
``RecurrentLayer`` finds them by name (``impl="kernel"``).
"""
from ._lstm import lstm_scan
from ._gru import gru_scan
from ._rnn import rnn_scan

__all__ = ["rnn_scan", "lstm_scan", "gru_scan"]
