"""Attention: each score formula by hand, weights a distribution over the valid source steps only."""
import pytest
import torch

from rnnkit.models import ATTENTIONS, Attention, masked_softmax

LENGTHS = torch.tensor([5, 2, 3])


def make(kind: str, query_size: int = 4, memory_size: int = 4) -> Attention:
    torch.manual_seed(0)
    return Attention(kind, query_size, memory_size, attention_size=3).double()


def padded_memory(memory_size: int = 4) -> torch.Tensor:
    memory = torch.randn(3, 5, memory_size, dtype=torch.float64)
    for b, length in enumerate(LENGTHS.tolist()):
        memory[b, length:] = 0.0  # what an rnnkit layer puts at padded steps
    return memory


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_weights_sum_to_one_over_valid_steps_and_are_zero_on_padding(kind):
    attention = make(kind)
    query = torch.randn(3, 2, 4, dtype=torch.float64)  # (B, Tq, Q)
    context, weights = attention(query, padded_memory(), LENGTHS)
    assert weights.shape == (3, 2, 5) and context.shape == (3, 2, 4)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(3, 2, dtype=torch.float64))
    for b, length in enumerate(LENGTHS.tolist()):
        assert torch.all(weights[b, :, length:] == 0)
        assert torch.all(weights[b, :, :length] > 0)


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_padded_memory_does_not_change_the_context(kind):
    attention = make(kind)
    query = torch.randn(3, 1, 4, dtype=torch.float64)
    memory = padded_memory()
    noisy = memory.clone()
    noisy[1, 2:] = 1e3  # anything in the padding of sequence 1
    torch.testing.assert_close(attention(query, noisy, LENGTHS), attention(query, memory, LENGTHS))


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_scores_by_hand(kind):
    attention = make(kind, query_size=4, memory_size=4)
    s = torch.randn(4, dtype=torch.float64)
    h = torch.randn(3, 4, dtype=torch.float64)  # S = 3 valid steps
    if kind == "additive":  # e_j = v^T tanh(W s + U h_j)  (U carries the bias)
        W, U, v = attention.query_proj.weight, attention.memory_proj.weight, attention.v.weight[0]
        b = attention.memory_proj.bias
        expected = torch.stack([v @ torch.tanh(W @ s + U @ h_j + b) for h_j in h])
    elif kind == "dot":  # e_j = s^T h_j
        expected = torch.stack([s @ h_j for h_j in h])
    else:  # e_j = s^T W h_j
        W = attention.memory_proj.weight
        expected = torch.stack([s @ (W @ h_j) for h_j in h])
    context, weights = attention(s[None, None], h[None], torch.tensor([3]))
    torch.testing.assert_close(weights[0, 0], torch.softmax(expected, dim=0))
    torch.testing.assert_close(context[0, 0], torch.softmax(expected, dim=0) @ h)


def test_masked_softmax_by_hand():
    scores = torch.tensor([[[0.0, torch.log(torch.tensor(3.0)).item(), 7.0]]])  # (B=1, Tq=1, S=3)
    weights = masked_softmax(scores, torch.tensor([2]))  # the 7.0 is padding
    torch.testing.assert_close(weights, torch.tensor([[[0.25, 0.75, 0.0]]]))


def test_dot_attention_needs_equal_widths():
    with pytest.raises(ValueError, match=r"dot attention needs the decoder width \(4\) to equal the encoder output "
                                         r"width \(6\)"):
        Attention("dot", 4, 6)
    with pytest.raises(ValueError, match="attention must be one of"):
        Attention("cosine", 4, 4)
