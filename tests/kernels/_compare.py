"""Kernel vs reference: the same call through both, outputs and every gradient compared in float64."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

TOL = dict(atol=1e-10, rtol=1e-10)
T, B, I, H, P = 5, 3, 4, 6, 3  # small shapes: time, batch, input, hidden, projection
LENGTHS = torch.tensor([5, 2, 4])


def leaf(*shape: int) -> Tensor:
    return (0.5 * torch.randn(*shape, dtype=torch.float64)).requires_grad_()


def step_mask(lengths: Tensor | None) -> Tensor | None:
    if lengths is None:
        return None
    return (torch.arange(T)[:, None] < lengths[None, :]).to(torch.float64).unsqueeze(-1)  # (T, B, 1)


def flat_outputs(result) -> list[Tensor]:
    """(out, state) with state a tensor or a named tuple -> [out, *state tensors]."""
    out, state = result
    return [out, *(state if isinstance(state, tuple) else (state,))]


def outputs_and_grads(fn: Callable[[], object], leaves: list[Tensor], seed: int = 7) -> tuple[list[Tensor], list]:
    """Run fn, then differentiate a random weighting of every output w.r.t. every leaf."""
    outputs = flat_outputs(fn())
    generator = torch.Generator().manual_seed(seed)
    loss = sum((o * torch.randn(o.shape, generator=generator, dtype=o.dtype)).sum() for o in outputs)
    return outputs, list(torch.autograd.grad(loss, leaves, allow_unused=True))


def assert_same(reference: Callable[[], object], kernel: Callable[[], object], leaves: list[Tensor],
                names: list[str]) -> None:
    ref_out, ref_grads = outputs_and_grads(reference, leaves)
    ker_out, ker_grads = outputs_and_grads(kernel, leaves)
    for k, (a, b) in enumerate(zip(ref_out, ker_out)):
        torch.testing.assert_close(b, a, **TOL, msg=lambda m, k=k: f"output {k}: {m}")
    for name, a, b in zip(names, ref_grads, ker_grads):
        assert (a is None) == (b is None), f"gradient of {name}: reference {a is not None}, kernel {b is not None}"
        if a is not None:
            torch.testing.assert_close(b, a, **TOL, msg=lambda m, name=name: f"gradient of {name}: {m}")


def assert_layers_same(make_layer: Callable[[str], torch.nn.Module], x: Tensor, hx, lengths: Tensor | None,
                       dtype: torch.dtype = torch.float64, tol: dict = TOL) -> None:
    """A layer with impl="kernel" against the same parameters with impl="reference": outputs, final
    states, and the gradients of the input, the initial state and every parameter."""
    torch.manual_seed(0)
    reference = make_layer("reference").to(dtype)
    torch.manual_seed(0)
    kernel = make_layer("kernel").to(dtype)
    kernel.load_state_dict(reference.state_dict())
    hx_leaves = [h for h in (hx if isinstance(hx, tuple) else (hx,)) if h is not None]
    names = ["input", *(f"h0[{k}]" for k in range(len(hx_leaves)))]
    results = []
    for layer in (reference, kernel):
        leaves = [x, *hx_leaves, *layer.parameters()]
        torch.manual_seed(3)  # the same regulariser masks for both
        results.append(outputs_and_grads(lambda layer=layer: layer(x, hx, lengths=lengths), leaves))
    names += [name for name, _ in reference.named_parameters()]
    (ref_out, ref_grads), (ker_out, ker_grads) = results
    for k, (a, b) in enumerate(zip(ref_out, ker_out)):
        torch.testing.assert_close(b, a, **tol, msg=lambda m, k=k: f"output {k}: {m}")
    for name, a, b in zip(names, ref_grads, ker_grads):
        torch.testing.assert_close(b, a, **tol, msg=lambda m, name=name: f"gradient of {name}: {m}")
