"""Each kernel's scan as a pair of custom ops, ``rnnkit::<family>_scan`` and its backward.

Through ``torch.library`` the scans are opaque to ``torch.compile`` and ``torch.export``: the
compiler sees one op with a fake (shape-only) version, runs no Python of the kernel while tracing,
and calls the hand-derived backward as the op's gradient. One schema for every family::

    <family>_scan(x, state[], mask?, noise[], weights[], reverse, option) -> [out, *state_n, *fresh]

``state`` is ``[h0]`` or ``[h0, c0]``, ``noise`` the three fields of ``ScanNoise``, ``weights`` the
fields of the family's Params, ``option`` the one setting besides the direction (the LSTM's
``cell_clip``, the RNN's ``nonlinearity``, the GRU's ``reset_after``); ``fresh`` are the cache
tensors the forward creates, which the backward op takes back. A None travels as an empty tensor
(``op_list``), since an op's tensor lists hold no None.

Higher-order gradients (``create_graph=True``) go through the registered twin (``twin_grads``).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .._types import ScanNoise
from ._common import TWINS, from_op_list, op_list, twin_grads

# (twin, x, state, mask, noise, weights, reverse, option) -> the twin's outputs as a flat tuple (out, *state_n)
TwinCall = Callable[..., tuple[Tensor, ...]]


def define_scan_op(family: str, option_schema: str, forward: Callable[..., list[Tensor]],
                   backward: Callable[..., list[Tensor]], call_twin: TwinCall) -> Callable[..., list[Tensor]]:
    """Register ``rnnkit::<family>_scan`` (``forward``) and ``<family>_scan_backward`` (``backward``).

    forward(x, state, mask, noise, weights, reverse, option) -> [out, *state_n, *fresh]
    backward(grads, x, mask, noise, weights, fresh, reverse, option, need_dx) -> [dx, *dstate, *dweights]
    Both run as their own fake versions too (every op in them has one). Returns the forward op.
    """
    inputs = "Tensor x, Tensor[] state, Tensor? mask, Tensor[] noise, Tensor[] weights, bool reverse"
    scan_op = torch.library.custom_op(f"rnnkit::{family}_scan", forward, mutates_args=(),
                                      schema=f"({inputs}, {option_schema}) -> Tensor[]")
    scan_op.register_fake(forward)
    backward_op = torch.library.custom_op(
        f"rnnkit::{family}_scan_backward", backward, mutates_args=(),
        schema=f"(Tensor[] grads, Tensor x, Tensor? mask, Tensor[] noise, Tensor[] weights, Tensor[] fresh, "
               f"bool reverse, {option_schema}, bool need_dx) -> Tensor[]")
    backward_op.register_fake(backward)

    def setup_context(ctx, inputs, output):
        x, state, mask, noise, weights, reverse, option = inputs
        ctx.save_for_backward(x, mask, *state, *noise, *weights, *output[1 + len(state):])
        ctx.sizes, ctx.options = (len(state), len(noise), len(weights)), (reverse, option)
        ctx.output_shapes = [o.shape for o in output[:1 + len(state)]]
        ctx.needs = [t.requires_grad for t in (x, *state, *weights)]

    def gradient(ctx, grads):
        (n_state, n_noise, n_weights), (reverse, option) = ctx.sizes, ctx.options
        x, mask, *rest = ctx.saved_tensors
        state, rest = rest[:n_state], rest[n_state:]
        noise, weights, fresh = rest[:n_noise], rest[n_noise:n_noise + n_weights], rest[n_noise + n_weights:]
        grads = [x.new_zeros(shape) if g is None else g.contiguous()  # the cache outputs get no gradient
                 for g, shape in zip(grads, ctx.output_shapes)]
        if torch.is_grad_enabled():  # create_graph=True: the twin's gradients, as a graph
            twin = TWINS.get(family)

            def rerun(x, *tensors):
                return call_twin(twin, x, tensors[:n_state], mask, noise, tensors[n_state:], reverse, option)

            g = twin_grads(twin and rerun, (x, *state, *weights), ctx.needs, tuple(grads))
        else:
            g = from_op_list(backward_op(grads, x, mask, noise, weights, fresh, reverse, option, ctx.needs[0]))
        g = [d if need else None for d, need in zip(g, ctx.needs)]
        return g[0], g[1:1 + n_state], None, [None] * n_noise, g[1 + n_state:], None, None

    scan_op.register_autograd(gradient, setup_context=setup_context)
    return scan_op


def gradients_out(dx: Tensor | None, dstate: list[Tensor], dparams: tuple, like: Tensor) -> list[Tensor]:
    """``[dx, *dstate, *dparams]`` as a backward op returns them. b_ih and b_hh enter only through their
    sum, so the kernels give both one gradient tensor; an op's outputs must not alias, so b_hh gets a copy."""
    if dparams.bias_hh is not None and dparams.bias_hh is dparams.bias_ih:
        dparams = dparams._replace(bias_hh=dparams.bias_hh.clone())
    return op_list([dx, *dstate, *dparams], like)


def tensor_state_twin(params_type: type) -> TwinCall:
    """The twin call of a family whose state is one tensor and whose option is positional (RNN, GRU)."""
    def call_twin(twin, x, state, mask, noise, weights, reverse, option):
        return twin(x, state[0], params_type(*from_op_list(weights)), mask, reverse, option,
                    noise=ScanNoise(*from_op_list(noise)))

    return call_twin
