"""One time step of each recurrent cell, written as the equations: the reference implementation."""
from ._gru import GRUCell, GRUParams, gru_cell
from ._init import INIT_SCHEMES, init_recurrent_parameters
from ._lstm import LSTMCell, LSTMParams, LSTMState, lstm_cell
from ._noise import NO_NOISE, ScanNoise
from ._rnn import RNNCell, RNNParams, rnn_cell

__all__ = [
    "RNNCell", "RNNParams", "rnn_cell",
    "LSTMCell", "LSTMParams", "LSTMState", "lstm_cell",
    "GRUCell", "GRUParams", "gru_cell",
    "INIT_SCHEMES", "init_recurrent_parameters",
    "ScanNoise", "NO_NOISE",
]
