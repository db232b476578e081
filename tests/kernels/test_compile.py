"""torch.compile over models that run rnnkit's kernels: the scans are custom ops (``kernels/_ops.py``).

The compiler traces a layer whole (``fullgraph=True``: no graph break), runs the scans' fake
versions for shapes, and calls the hand-derived backward; the loss and every gradient equal eager
mode. A padded batch adds graph breaks where the layer checks the lengths' values (data-dependent
Python), and still matches. One variant goes through inductor (code generation, slow to compile); the rest through
``aot_eager``, which runs the same tracing, functionalisation and autograd capture.
"""
from __future__ import annotations

import pytest
import torch

import rnnkit as rk
from rnnkit.models import SequenceClassifier

VARIANTS = {
    "lstm-peephole": dict(cell="lstm", peephole=True),
    "lstmp": dict(cell="lstm", proj_size=3),
    "bi-gru": dict(cell="gru", bidirectional=True),
    "gru-cho": dict(cell="gru", reset_after=False),
    "rnn-relu": dict(cell="rnn", nonlinearity="relu"),
}


def _loss_and_grads(model, x, y, run, lengths=None):
    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(run(x, lengths), y)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_compiled_classifier_matches_eager(name):
    torch.manual_seed(0)
    model = SequenceClassifier(input_size=3, num_classes=4, hidden=(6,), dropout=0.0, impl="kernel", **VARIANTS[name])
    x, y, lengths = torch.randn(2, 5, 3), torch.tensor([1, 3]), torch.tensor([5, 3])
    backend = "inductor" if name == "lstm-peephole" else "aot_eager"
    compiled = torch.compile(model, backend=backend)
    eager_loss, eager_grads = _loss_and_grads(model, x, y, model, lengths)
    compiled_loss, compiled_grads = _loss_and_grads(model, x, y, compiled, lengths)
    torch.testing.assert_close(compiled_loss, eager_loss, atol=1e-6, rtol=1e-5)
    for (param, _), mine, expected in zip(model.named_parameters(), compiled_grads, eager_grads):
        torch.testing.assert_close(mine, expected, atol=1e-6, rtol=1e-5, msg=param)


LAYERS = {
    "lstm-layer-norm": lambda: rk.LSTM(3, 6, layer_norm=True, peephole=True, impl="kernel"),
    "lstmp": lambda: rk.LSTM(3, 6, proj_size=2, num_layers=2, impl="kernel"),
    "gru": lambda: rk.GRU(3, 6, bidirectional=True, impl="kernel"),
    "rnn": lambda: rk.RNN(3, 6, impl="kernel"),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_compiles_whole(name):
    torch.manual_seed(2)
    layer = LAYERS[name]()
    x = torch.randn(5, 2, 3)

    def loss(x):
        return layer(x)[0].pow(2).sum()

    compiled = torch.compile(loss, backend="aot_eager", fullgraph=True)  # a graph break would raise
    grads = {}
    for run in (loss, compiled):
        layer.zero_grad()
        value = run(x)
        value.backward()
        grads[run] = (value.detach(), [p.grad.clone() for p in layer.parameters()])
    torch.testing.assert_close(grads[compiled][0], grads[loss][0])
    for mine, expected in zip(grads[compiled][1], grads[loss][1]):
        torch.testing.assert_close(mine, expected)


def test_scan_ops_pass_torch_library_checks():
    """torch.library.opcheck: schema, fake version, autograd registration and aliasing of each scan op."""
    from rnnkit._types import GRUParams, LSTMParams
    from rnnkit.kernels import _gru, _lstm
    from rnnkit.kernels._common import op_list

    torch.manual_seed(1)
    T, B, I, H = 4, 2, 3, 5
    x = torch.randn(T, B, I, requires_grad=True)
    mask = (torch.arange(T)[:, None] < torch.tensor([4, 2])).float().unsqueeze(-1)
    lstm = LSTMParams(torch.randn(4 * H, I, requires_grad=True), torch.randn(4 * H, H, requires_grad=True),
                      weight_ci=torch.randn(H, requires_grad=True), weight_cf=torch.randn(H, requires_grad=True),
                      weight_co=torch.randn(H, requires_grad=True))
    state = [torch.zeros(B, H), torch.zeros(B, H)]
    no_noise = op_list([None, None, None], x)
    torch.library.opcheck(_lstm.scan_op, (x, state, mask, no_noise, op_list(lstm, x), True, 3.0))
    gru = GRUParams(torch.randn(3 * H, I, requires_grad=True), torch.randn(3 * H, H), torch.randn(3 * H),
                    torch.randn(3 * H))
    torch.library.opcheck(_gru.scan_op, (x, state[:1], None, no_noise, op_list(gru, x), False, True))
