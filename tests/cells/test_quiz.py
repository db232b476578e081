"""The worked examples of the lecture quiz (course notes 004): a 1-unit RNN stepped by hand."""
import math

import torch
import torch.nn.functional as F

import rnnkit as rk


def quiz_cell(nonlinearity: str) -> rk.RNNCell:
    """h_t = g(W_I x_t + W_R h_{t-1} + b_h) with W_I = 0.1, W_R = -1.3, b_h = 0.3."""
    cell = rk.RNNCell(1, 1, nonlinearity=nonlinearity, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.fill_(0.1)
        cell.weight_hh.fill_(-1.3)
        cell.bias_ih.fill_(0.3)
        cell.bias_hh.fill_(0.0)
    return cell


def output(h: torch.Tensor) -> torch.Tensor:
    """y_t = ReLU(W_y h_t + b_y) with W_y = 2.25, b_y = -1."""
    return F.relu(2.25 * h - 1.0)


def test_relu_step_gives_034():
    h = quiz_cell("relu")(torch.tensor([[0.4]], dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64))
    assert math.isclose(h.item(), 0.34, abs_tol=1e-12)


def test_tanh_step_gives_03274():
    h = quiz_cell("tanh")(torch.tensor([[0.4]], dtype=torch.float64))
    assert math.isclose(h.item(), math.tanh(0.34), abs_tol=1e-12)
    assert math.isclose(h.item(), 0.3274, abs_tol=1e-4)  # the quiz truncates tanh(0.34) = 0.32748


def test_relu_output_is_zero():
    h = quiz_cell("relu")(torch.tensor([[0.4]], dtype=torch.float64))
    assert output(h).item() == 0.0  # ReLU(0.34 * 2.25 - 1) = ReLU(-0.235)


def test_second_step_output_is_0413():
    cell = quiz_cell("relu")
    h_t = cell(torch.tensor([[0.4]], dtype=torch.float64))
    h_next = cell(torch.tensor([[7.7]], dtype=torch.float64), h_t)  # ReLU(0.77 - 0.442 + 0.3) = 0.628
    assert math.isclose(h_next.item(), 0.628, abs_tol=1e-12)
    assert round(output(h_next).item(), 3) == 0.413


def test_layer_runs_the_same_two_steps():
    layer = rk.RNN(1, 1, nonlinearity="relu", dtype=torch.float64, impl="reference")
    layer.load_state_dict({k + "_l0": v for k, v in quiz_cell("relu").state_dict().items()})
    out, h_n = layer(torch.tensor([[[0.4]], [[7.7]]], dtype=torch.float64))  # (T=2, B=1, I=1)
    torch.testing.assert_close(out.flatten(), torch.tensor([0.34, 0.628], dtype=torch.float64))
    assert math.isclose(h_n.item(), 0.628, abs_tol=1e-12)
