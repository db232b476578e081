"""Parameter initialisation shared by cells and layers.

Two schemes, chosen with ``init=``:

* ``"torch"`` (default): every weight and bias uniform in ``(-1/sqrt(H), 1/sqrt(H))``, exactly as
  ``torch.nn.RNN/LSTM/GRU`` do, so a fresh rnnkit module is distributed like a fresh torch one.
* ``"keras"``: Keras's defaults for recurrent layers: input weights Glorot-uniform, recurrent
  weights orthogonal (per gate block, so every gate starts norm-preserving), biases zero, and the
  LSTM forget-gate bias 1 (Jozefowicz et al. 2015), so the cell remembers by default. Peepholes
  start at zero, the projection Glorot-uniform.

Under both, layer-norm parameters (``ln_*``) start as the identity: gains 1, biases 0.
"""
from __future__ import annotations

import math

import torch
from torch import nn

INIT_SCHEMES = ("torch", "keras")


def check_init_scheme(init: str) -> str:
    if init not in INIT_SCHEMES:
        raise ValueError(f"init must be one of {INIT_SCHEMES}, got {init!r}")
    return init


@torch.no_grad()
def init_recurrent_parameters(
    params: dict[str, nn.Parameter], hidden_size: int, gates: int, scheme: str, forget_gate: int | None = None
) -> None:
    """Initialise one cell's parameters in place.

    ``params`` maps names without layer suffix (``weight_ih``, ``weight_hh``, ``bias_ih``, ...) to
    tensors; ``gates`` is the number of gate blocks stacked in ``weight_ih`` (1 RNN, 3 GRU, 4 LSTM);
    ``forget_gate`` is the index of the forget-gate block whose bias ``"keras"`` sets to 1.
    """
    check_init_scheme(scheme)
    for name, tensor in params.items():  # layer-norm gains 1 and biases 0, whatever the scheme
        if name.startswith("ln_"):
            nn.init.ones_(tensor) if name.endswith("weight") else nn.init.zeros_(tensor)
    params = {name: tensor for name, tensor in params.items() if not name.startswith("ln_")}
    if scheme == "torch":
        bound = 1.0 / math.sqrt(hidden_size)
        for tensor in params.values():
            nn.init.uniform_(tensor, -bound, bound)
        return
    for name, tensor in params.items():
        if name == "weight_ih" or name == "weight_hr":
            nn.init.xavier_uniform_(tensor)
        elif name == "weight_hh":
            for block in tensor.chunk(gates, 0):  # each (H, H|P) gate block orthogonal
                nn.init.orthogonal_(block)
        else:  # biases and peepholes
            nn.init.zeros_(tensor)
    if forget_gate is not None and "bias_ih" in params:
        params["bias_ih"].chunk(gates, 0)[forget_gate].fill_(1.0)
