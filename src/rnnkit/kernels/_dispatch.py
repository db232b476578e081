"""Where rnnkit's kernel beats torch's own fused function for a configuration torch has natively.

Measured with ``rnnkit bench`` on 2 CPU cores (AMD EPYC, torch 2.13): for the GRU (torch form),
torch's CPU module has no fused training kernel, and the kernel with the C++ loops takes 0.55-0.82x
of ``nn.GRU``'s time for a training step and 0.67-0.92x for inference at H = 128 .. 512; for the
Elman RNN the kernel (even its PyTorch loop) takes 0.79-0.86x of ``nn.RNN``'s training step, but
not less for inference at H = 128. torch's LSTM with a projection (``proj_size > 0``) has no oneDNN
kernel on CPU and falls back to a slow loop: the kernel with the C++ loops takes 0.56-0.77x of its
training step and 0.70-0.81x of its inference. The plain LSTM stays with torch (oneDNN's fused LSTM
is as fast or faster). On other devices torch's kernels (cuDNN) are used.

A batch of unequal lengths is another matter: torch runs it through its packed path, which has no
oneDNN kernel on CPU. Measured (2 cores, training step, lengths uniform in [T/2, T]): the LSTM
kernel takes 0.29-0.45x of torch's packed LSTM at T=30 B=32 H=64, T=100 B=32 H=128 and T=100 B=64
H=256 (0.41-0.62x without the C++ loops); the GRU kernel 0.72-0.95x (0.60-0.64x without).
"""
from __future__ import annotations

from torch import Tensor

from . import _extension


def beats_native(family: str, like: Tensor, training: bool) -> bool:
    """Whether ``impl="auto"`` should run rnnkit's kernel rather than torch's fused function.

    family: "gru" (torch form), "rnn", "lstm_projection" (LSTMP without peepholes); like: a weight.
    """
    if like.device.type != "cpu":
        return False
    if family == "gru":
        return _extension.op("gru_forward_loop", like) is not None
    if family == "lstm_projection":
        return _extension.op("lstm_forward_loop", like) is not None
    if family == "rnn":
        return training
    return False


def beats_packed(like: Tensor) -> bool:
    """Whether a batch of unequal lengths should run on rnnkit's kernel rather than torch's packed path."""
    return like.device.type == "cpu"
