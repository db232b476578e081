"""What every kernel shares: activation derivatives from outputs, the time layout of the state
buffers, masking weights, and layer normalisation (``docs/derivations/masking.md``, ``lstm.md``).

Time layout. A scan keeps its states in one buffer ``S`` of shape (T+1, B, ·), written in time
order whatever the direction, so that the states before every step form one contiguous slice
(for the weight-gradient GEMM after the loop):

    forward  (t = 0 .. T-1):   state before step t = S[t],     after it = S[t+1],  h0 = S[0]
    reverse  (t = T-1 .. 0):   state before step t = S[t+1],   after it = S[t],    h0 = S[T]
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

LN_EPS = 1e-5  # layer-norm epsilon, torch's default


def sigmoid_grad(y: Tensor) -> Tensor:
    """σ'(a) from y = σ(a): y (1 - y)."""
    return torch.addcmul(y, y, y, value=-1)  # y - y*y in one op


def tanh_grad(y: Tensor) -> Tensor:
    """tanh'(a) from y = tanh(a): 1 - y²."""
    return torch.addcmul(torch.ones_like(y), y, y, value=-1)


def relu_grad(y: Tensor) -> Tensor:
    """relu'(a) from y = relu(a): 1 where y > 0."""
    return (y > 0).to(y.dtype)


class Steps(NamedTuple):
    """Where step t reads and writes in a (T+1, ...) state buffer (see the module docstring)."""

    order: range  # processing order of the forward scan
    offset: int  # 1 for the reverse direction: S[t + offset] is the state before step t, S[t + 1 - offset] after it
    prev: slice  # S[prev] = the states before steps 0..T-1, in time order
    next: slice  # S[next] = the states after them
    first: int  # index of the initial state
    last: int  # index of the final state


def steps(T: int, reverse: bool) -> Steps:
    if reverse:
        return Steps(range(T - 1, -1, -1), 1, slice(1, None), slice(0, T), T, 0)
    return Steps(range(T), 0, slice(0, T), slice(1, None), 0, T)


def blend_weight(mask: Tensor | None, zoneout: Tensor | None) -> Tensor | None:
    """μ_t = m_t (1 - d_t): the weight of the new state in (M) ``s_t = μ_t s_new + (1 - μ_t) s_{t-1}``.

    m_t (T, B, 1) is the lengths mask, d_t (T, B, ·) the zoneout mask (1 keeps the old state);
    None when neither is given (μ = 1 everywhere).
    """
    if zoneout is None:
        return mask
    keep_new = 1 - zoneout
    return keep_new if mask is None else mask * keep_new


def bias_sum(b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    """b_ih + b_hh: both biases enter the gates only through their sum (None: no bias)."""
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _has_onednn_linear() -> bool:
    try:
        return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


_ONEDNN_LINEAR = _has_onednn_linear()


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b over the last dimension, one GEMM: oneDNN's matmul for CPU float32 (markedly faster than
    MKL's sgemm on AMD CPUs; torch's own fused RNNs use it), else torch's. For use inside the kernels'
    forward and backward only (no autograd)."""
    if (_ONEDNN_LINEAR and x.dtype == torch.float32 and x.device.type == "cpu" and torch.backends.mkldnn.enabled
            and not torch.compiler.is_compiling()):  # the compiler has no lowering for oneDNN's op; it fuses its own
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
    return torch.nn.functional.linear(x, weight, bias)


def input_projection(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """x W^T + b for all T*B rows in one GEMM: (T, B, I) -> (T, B, G), contiguous (the loops walk it)."""
    return linear(x, weight, bias).contiguous()


class LayerNormCache(NamedTuple):
    z_hat: Tensor  # (..., N) normalised input (z - mean) * rstd
    rstd: Tensor  # (..., 1) 1 / sqrt(var + eps)


def layer_norm_backward(dy: Tensor, cache: LayerNormCache, weight: Tensor) -> Tensor:
    """dz from dy for y = γ ⊙ ẑ + β, ẑ = (z - mean) rstd (``lstm.md``, (L)):

        dẑ = γ ⊙ dy
        dz = rstd (dẑ - mean(dẑ) - ẑ ⊙ mean(dẑ ⊙ ẑ))
    """
    z_hat, rstd = cache
    dz_hat = dy * weight
    mean_dz_hat = dz_hat.mean(-1, keepdim=True)
    mean_dz_hat_z_hat = (dz_hat * z_hat).mean(-1, keepdim=True)
    return (dz_hat - mean_dz_hat).sub_(z_hat * mean_dz_hat_z_hat).mul_(rstd)


def layer_norm_grads(dy: Tensor, z: Tensor, mean: Tensor, rstd: Tensor, weight: Tensor, need_dz: bool,
                     need_dbias: bool) -> tuple[Tensor | None, Tensor, Tensor | None]:
    """(dz, dγ, dβ) of y = γ ⊙ ẑ + β over all rows of (..., N): (L) and ``dγ = Σ dy ⊙ ẑ``, ``dβ = Σ dy``.

    The PyTorch twin of the C++ op ``rnnkit::layer_norm_grads`` (one fused pass over the rows).
    """
    z_hat = (z - mean).mul_(rstd)
    dz = layer_norm_backward(dy, LayerNormCache(z_hat, rstd), weight) if need_dz else None
    return dz, sum_rows(dy * z_hat), sum_rows(dy) if need_dbias else None


def sum_rows(x: Tensor) -> Tensor:
    """Σ over every leading dimension: (..., N) -> (N,), for bias and diagonal-weight gradients."""
    return x.reshape(-1, x.shape[-1]).sum(0)


# The differentiable twin of each kernel's scan (the reference cells), registered by rnnkit.layers, which
# sits above both: "rnn", "lstm", "gru" -> a scan with the kernel's arguments. See twin_grads.
TWINS: dict[str, Callable[..., tuple]] = {}


def register_twin(family: str, scan: Callable[..., tuple]) -> None:
    TWINS[family] = scan


def twin_grads(twin: Callable[..., tuple[Tensor, ...]] | None, inputs: tuple[Tensor | None, ...],
               needs: tuple[bool, ...], grad_outputs: tuple[Tensor, ...]) -> tuple[Tensor | None, ...]:
    """The gradients of ``twin(*inputs)`` by autograd, with their own graph: the double-backward route.

    A kernel's hand-derived backward is not itself differentiable. When a higher-order gradient is
    asked for (``create_graph=True``: gradient penalties, Hessian-vector products), its backward
    runs with grad mode on and calls this instead: ``twin`` recomputes the same scan by differentiable
    ops (the reference cells), and the gradients come out as a graph. ``needs`` marks the inputs
    that want a gradient (None for the others).
    """
    if twin is None:
        raise RuntimeError("create_graph=True through an rnnkit kernel needs its twin, the reference scan, which "
                           "rnnkit.layers registers (import rnnkit)")
    wanted = [t for t, need in zip(inputs, needs) if need]
    with torch.enable_grad():
        outputs = twin(*inputs)
        grads = iter(torch.autograd.grad(outputs, wanted, grad_outputs, create_graph=True, allow_unused=True))
    return tuple(next(grads) if need else None for need in needs)


def op_list(tensors: Sequence[Tensor | None], like: Tensor) -> list[Tensor]:
    """Tensors as a custom op returns them (``Tensor[]``, no None): None becomes an empty (0,) tensor."""
    return [like.new_empty(0) if t is None else t for t in tensors]


def from_op_list(tensors: Sequence[Tensor]) -> list[Tensor | None]:
    """The inverse of ``op_list`` (no real tensor of a scan is empty: every size is at least 1)."""
    return [None if t.dim() == 1 and t.shape[0] == 0 else t for t in tensors]
