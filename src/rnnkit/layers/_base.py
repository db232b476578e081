"""What RNN, LSTM and GRU layers share: parameters, stacking, directions, padding and dispatch.

Composition, as in pytorch's ``custom_lstms.py`` and flax's ``RNN``/``Bidirectional``: a *scan* runs
one cell over one direction of one layer; a layer runs a forward scan and, if bidirectional, a
reverse scan and concatenates them; the stack feeds each layer's output (with dropout in training)
to the next.

Padding semantics (``lengths=`` or a ``PackedSequence``): outputs at padded steps are zero; the
final state of each sequence is its state after its last valid step; the reverse direction runs
over the valid prefix only, so its final state is the state after step 0; values in the padding
(even NaN) never reach a valid output, a final state or a gradient.

Implementations (``impl=``), all over the same parameters:

* ``"reference"``: the cells stepped by autograd (``_reference.py``), the readable ground truth;
* ``"kernel"``: whole-sequence kernels with hand-derived BPTT (``rnnkit.kernels``); raises
  ``ValueError`` for a configuration that has none;
* ``"auto"`` (default): torch's fused kernel (oneDNN on CPU, cuDNN on GPU) for a configuration
  torch has natively, else the rnnkit kernel, else the reference.

Regularisers (``_regularisers.py``, all off by default, none of them in torch's fused kernels):
``zoneout``, ``input_dropout`` and ``recurrent_dropout`` (variational), ``weight_drop``
(DropConnect on ``W_hh``); the LSTM adds ``layer_norm`` and ``cell_clip``. A configuration that uses
any of them runs the rnnkit kernel under ``"auto"``.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .. import kernels
from ..cells import init_recurrent_parameters
from ..cells._checks import check_sizes
from . import _reference
from ._masking import check_lengths, step_mask
from ._regularisers import Regularisers

IMPLS = ("auto", "kernel", "reference")


class RecurrentLayer(nn.Module):
    """Base of ``RNN``, ``LSTM`` and ``GRU``; a subclass names its gates and its scans."""

    gates: int  # gate blocks stacked in weight_ih: 1 RNN, 3 GRU, 4 LSTM
    scan_name: str  # the scan function, same name in _reference and rnnkit.kernels: "lstm_scan" ...
    forget_gate: int | None = None  # block whose bias init="keras" sets to 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, *,
                 proj_size: int = 0, impl: str = "auto", init: str = "torch", zoneout: float | tuple[float, float] = 0.0,
                 input_dropout: float = 0.0, recurrent_dropout: float = 0.0, weight_drop: float = 0.0,
                 device=None, dtype=None) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be a number in [0, 1], got {dropout!r}")
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size, self.impl, self.init = bidirectional, proj_size, impl, init
        self.num_directions = 2 if bidirectional else 1
        self.zoneout, self.input_dropout, self.recurrent_dropout, self.weight_drop = \
            zoneout, input_dropout, recurrent_dropout, weight_drop
        self.regularisers = Regularisers.checked(zoneout, input_dropout, recurrent_dropout, weight_drop,
                                                 has_cell=self.scan_name == "lstm_scan")
        self.output_size = proj_size if proj_size > 0 else hidden_size  # width of h and of the outputs
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.output_size * self.num_directions
            for direction in range(self.num_directions):
                for name, shape in self.cell_shapes(layer_input).items():
                    self.register_parameter(name + self.suffix(layer, direction),
                                            nn.Parameter(torch.empty(shape, **factory)))
        self.reset_parameters()

    # --- what a subclass provides -------------------------------------------------------------
    def cell_shapes(self, layer_input: int) -> dict[str, tuple[int, ...]]:
        """Parameter names (without layer suffix) and shapes of one cell, torch's first, in torch's order."""
        G, H = self.gates * self.hidden_size, self.hidden_size
        shapes = {"weight_ih": (G, layer_input), "weight_hh": (G, self.output_size)}
        if self.bias:
            shapes |= {"bias_ih": (G,), "bias_hh": (G,)}
        if self.proj_size > 0:
            shapes["weight_hr"] = (self.proj_size, H)
        return shapes

    def cell_params(self, layer: int, direction: int) -> Any:
        """The Params named tuple of one cell."""
        raise NotImplementedError

    def cell_options(self) -> dict[str, Any]:
        """Keyword options of the scan besides the weights (nonlinearity, reset_after)."""
        return {}

    def native_fn(self) -> Any | None:
        """torch's fused function (``torch._VF.lstm`` ...) when this configuration has one, else None."""
        return None

    def has_kernel(self) -> bool:
        return hasattr(kernels, self.scan_name)

    def scan(self, x: Tensor, state: Any, params: Any, mask: Tensor | None, reverse: bool,
             impl: str) -> tuple[Tensor, Any]:
        """Run one direction of one layer with ``impl`` ("reference" or "kernel"), regularised in training."""
        scan = getattr(_reference if impl == "reference" else kernels, self.scan_name)
        options = self.cell_options()
        if self.regularisers.active():
            reg = self.regularisers
            x = reg.drop_input(x, self.training)
            params = reg.drop_weights(params, self.training)
            cell_size = self.hidden_size if self.scan_name == "lstm_scan" else None
            options["noise"] = reg.noise(x.shape[0], x.shape[1], self.output_size, cell_size, x, self.training)
        return scan(x, state, params, mask, reverse, **options)

    # state layout: a tensor (RNN, GRU) or LSTMState; these convert to and from it
    def split_state(self, hx: Any, index: int) -> Any:
        return hx[index]

    def stack_states(self, states: list[Any]) -> Any:
        return torch.stack(states)

    def check_state(self, hx: Any, batch: int, x: Tensor, unbatched: bool) -> Any:
        """Validate a user's initial state (or make zeros); return it batched, (L*D, B, H_out)."""
        return _state_tensor(hx, "hx", (self.num_layers * self.num_directions, batch, self.output_size),
                             x, unbatched)

    # --- shared machinery ---------------------------------------------------------------------
    @staticmethod
    def suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction == 1 else "")

    def reset_parameters(self) -> None:
        layer_inputs = [self.input_size] + [self.output_size * self.num_directions] * (self.num_layers - 1)
        for layer, layer_input in enumerate(layer_inputs):
            for direction in range(self.num_directions):
                suffix = self.suffix(layer, direction)
                params = {name: getattr(self, name + suffix) for name in self.cell_shapes(layer_input)}
                init_recurrent_parameters(params, self.hidden_size, self.gates, self.init, self.forget_gate)

    def flat_weights(self) -> list[Tensor]:
        """Weights in torch's ``_flat_weights`` order, for its fused functions."""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        names += ["weight_hr"] if self.proj_size > 0 else []
        return [getattr(self, name + self.suffix(layer, direction))
                for layer in range(self.num_layers) for direction in range(self.num_directions) for name in names]

    def choose_impl(self, unequal_lengths: bool = False) -> str:
        if self.impl == "kernel" and not self.has_kernel():
            raise ValueError(f"impl='kernel': no rnnkit kernel for this {type(self).__name__} configuration "
                             f"({self.extra_repr()}); use impl='reference' or 'auto'")
        if self.impl != "auto":
            return self.impl
        if self.native_fn() is not None and not self.regularisers.active():
            # torch runs unequal lengths through its packed path, which is slow on CPU (kernels.beats_packed)
            if not (unequal_lengths and self.has_kernel() and kernels.beats_packed(self.weight_hh_l0)):
                return "native"
        return "kernel" if self.has_kernel() else "reference"

    def forward(self, input: Tensor | PackedSequence, hx: Any = None,
                lengths: Tensor | list[int] | None = None) -> tuple[Tensor | PackedSequence, Any]:
        """Run the stack over ``input``; return ``(output, h_n)`` (``(output, (h_n, c_n))`` for the LSTM).

        input: (T, B, I), or (B, T, I) with ``batch_first``, or unbatched (T, I), or a PackedSequence.
        lengths: (B,) valid steps per sequence of a padded batch (see the module docstring).
        """
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("lengths must be None for a PackedSequence input, which carries its own lengths")
            x, lengths = pad_packed_sequence(input)  # (T, B, I) in the caller's batch order
            unbatched = False
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"input must be 3-D ({'B, T' if self.batch_first else 'T, B'}, I) or 2-D "
                                 f"unbatched (T, I), got {input.dim()}-D with shape {tuple(input.shape)}")
            unbatched = input.dim() == 2
            x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input must have input_size={self.input_size} features in its last dimension, "
                             f"got {x.shape[-1]}")
        T, B = x.shape[0], x.shape[1]
        if T == 0:
            raise ValueError("input must have at least one time step, got T=0")
        state = self.check_state(hx, B, x, unbatched)
        if lengths is not None:
            lengths = check_lengths(lengths, T, B, x.device)

        if lengths is not None and int(lengths.min()) == T:
            lengths = None  # every sequence is full length: nothing to mask
        impl = self.choose_impl(unequal_lengths=lengths is not None)
        if impl == "native":
            output, final = self._run_native(x, state, lengths)
        else:
            output, final = self._run_stack(x, state, lengths, impl)

        if packed:
            return _repack(output, input), final
        if unbatched:
            return output.squeeze(1), self._unbatch(final)
        return (output.transpose(0, 1) if self.batch_first else output), final

    def _run_stack(self, x: Tensor, state: Any, lengths: Tensor | None, impl: str) -> tuple[Tensor, Any]:
        mask = None
        if lengths is not None:
            mask = step_mask(lengths, x.shape[0], x.dtype)  # (T, B, 1)
            x = torch.where(mask.bool(), x, 0.0)  # garbage (even NaN) in the padding never enters a cell
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                out, final = self.scan(x, self.split_state(state, index), self.cell_params(layer, direction),
                                       mask, direction == 1, impl)
                outputs.append(out)  # (T, B, H_out)
                finals.append(final)
            x = torch.cat(outputs, dim=2) if self.num_directions == 2 else outputs[0]  # (T, B, D*H_out)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, self.stack_states(finals)

    def _run_native(self, x: Tensor, state: Any, lengths: Tensor | None) -> tuple[Tensor, Any]:
        fn, weights = self.native_fn(), self.flat_weights()
        options = (self.bias, self.num_layers, self.dropout, self.training, self.bidirectional)
        if lengths is None:
            output, *final = fn(x, state, weights, *options, False)
            return output, self._native_state(final)
        packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        sorted_state = _permute_state(state, packed.sorted_indices)
        data, *final = fn(packed.data, packed.batch_sizes, sorted_state, weights, *options)
        output, _ = pad_packed_sequence(packed._replace(data=data), total_length=x.shape[0])
        return output, _permute_state(self._native_state(final), packed.unsorted_indices)

    def _native_state(self, final: list[Tensor]) -> Any:
        return final[0]

    def _unbatch(self, final: Any) -> Any:
        if isinstance(final, tuple):
            return type(final)(*(f.squeeze(1) for f in final))
        return final.squeeze(1)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False,
                    "proj_size": 0, "impl": "auto", "init": "torch", "zoneout": 0.0, "input_dropout": 0.0,
                    "recurrent_dropout": 0.0, "weight_drop": 0.0}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)!r}"
        return text


def _state_tensor(state: Tensor | None, name: str, shape: tuple[int, int, int], x: Tensor,
                  unbatched: bool) -> Tensor:
    """A (L*D, B, H) state: zeros when absent, else checked against the expected shape."""
    if state is None:
        return x.new_zeros(shape)
    expected = (shape[0], shape[2]) if unbatched else shape
    if not isinstance(state, Tensor):
        raise ValueError(f"{name} must be a tensor of shape {expected}, got {type(state).__name__}")
    if tuple(state.shape) != expected:
        raise ValueError(f"{name} must have shape (num_layers * num_directions, {'' if unbatched else 'B, '}H) = "
                         f"{expected}, got {tuple(state.shape)}")
    if state.dtype != x.dtype and not torch.is_autocast_enabled(x.device.type):
        raise ValueError(f"{name} has dtype {state.dtype} but the input has {x.dtype}; give both the same dtype")
    if state.device != x.device:
        raise ValueError(f"{name} is on {state.device} but the input is on {x.device}; move both to one device")
    return state.unsqueeze(1) if unbatched else state


def _permute_state(state: Any, order: Tensor) -> Any:
    if isinstance(state, tuple):
        return type(state)(*(s.index_select(1, order) for s in state))
    return state.index_select(1, order)


def _repack(output: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack a padded (T, B, H) output with the batch order and batch sizes of the input ``like``."""
    if like.sorted_indices is not None:
        output = output.index_select(1, like.sorted_indices.to(output.device))  # longest first
    packed = pack_padded_sequence(output, _lengths_of(like), enforce_sorted=True)
    return PackedSequence(packed.data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def _lengths_of(packed: PackedSequence) -> Tensor:
    """Sorted (descending) lengths of a packed batch, from its batch_sizes."""
    batch_sizes = packed.batch_sizes  # (T,) number of sequences still running at each step
    steps = torch.arange(1, batch_sizes[0] + 1)  # (B,)
    return (batch_sizes[None, :] >= steps[:, None]).sum(dim=1)  # (B,) length of the k-th longest
