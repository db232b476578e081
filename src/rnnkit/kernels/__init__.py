"""Whole-sequence kernels with hand-derived BPTT (see docs/derivations/).

Each family exports a scan with the signature of its reference in ``rnnkit.layers._reference``;
``RecurrentLayer`` finds them by name (``impl="kernel"``). Each scan is a custom op (``_ops.py``)
over a ``forward`` that returns a cache and a hand-derived ``backward`` (``_rnn.py``, ``_lstm.py``,
``_gru.py``); their time loops run in C++ (``csrc/loops.cpp``) when that optional library has been
built (``python -m rnnkit.kernels build``, ``build_extension()``), else in PyTorch
(``_lstm_loops.py``, ``_gru_loops.py``), with the same results. See ``_extension.py``.
"""
from ._common import register_twin
from ._dispatch import beats_native, beats_packed
from ._extension import build as build_extension
from ._extension import status as extension_status
from ._gru import gru_scan
from ._lstm import lstm_scan
from ._rnn import rnn_scan

__all__ = ["rnn_scan", "lstm_scan", "gru_scan", "beats_native", "beats_packed", "build_extension", "extension_status",
           "register_twin"]
