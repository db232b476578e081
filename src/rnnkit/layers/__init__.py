"""Recurrent layers: stacking, directions, padding and dispatch over the cells and kernels."""
from ._base import IMPLS, RecurrentLayer
from ._gru import GRU
from ._lstm import LSTM
from ._rnn import RNN

__all__ = ["RNN", "LSTM", "GRU", "RecurrentLayer", "IMPLS"]
