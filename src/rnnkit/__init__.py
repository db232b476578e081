"""rnnkit: recurrent sequence learning in PyTorch."""
from .cells import GRUCell, LSTMCell, LSTMState, RNNCell
from .layers import GRU, LSTM, RNN

__version__ = "0.1.0"

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "LSTMState", "__version__"]
