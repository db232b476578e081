"""Argument checks shared by the cells: one clear ``ValueError`` naming the argument and what was expected."""
from __future__ import annotations

from torch import Tensor


def check_sizes(input_size: int, hidden_size: int) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_proj_size(proj_size: int, hidden_size: int) -> None:
    if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
        raise ValueError(f"proj_size must be a non-negative int, got {proj_size!r}")
    if proj_size >= hidden_size:
        raise ValueError(f"proj_size must be smaller than hidden_size={hidden_size}, got proj_size={proj_size}")


def check_cell_input(input: Tensor, input_size: int) -> tuple[Tensor, bool]:
    """Validate a cell's input, (B, I) or unbatched (I,); return it as (B, I) and whether it was unbatched."""
    if input.dim() not in (1, 2):
        raise ValueError(f"input must be 1-D (I,) or 2-D (B, I), got {input.dim()}-D with shape {tuple(input.shape)}")
    if input.shape[-1] != input_size:
        raise ValueError(f"input must have input_size={input_size} features in its last dimension, got {input.shape[-1]}")
    unbatched = input.dim() == 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def batched_state(state: Tensor | None, x: Tensor, size: int, name: str, unbatched: bool) -> Tensor:
    """A cell state as (B, size): zeros when absent, checked against the input's batch when given."""
    batch = x.shape[0]
    if state is None:
        return x.new_zeros(batch, size)
    expected = (size,) if unbatched else (batch, size)
    if tuple(state.shape) != expected:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(state.shape)}")
    return state.unsqueeze(0) if unbatched else state
