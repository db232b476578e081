"""An Objective (loss and count of output, targets and lengths) trains and scores where a plain
loss of (output, y) cannot: here CTC, whose targets are label strings not aligned with the frames."""
import pytest
import torch
import torch.nn.functional as F

from rnnkit.training import IGNORE_INDEX, TrainConfig, cross_entropy, evaluate, fit

from .toys import StatefulLSTM


class ToyCTC:
    """torch's ctc_loss over (B, T, C) log-probs; a string is correct when best-path decoding gives it."""

    def __init__(self):
        self.seen_lengths = []

    def loss(self, output, y, lengths):
        self.seen_lengths.append(lengths.tolist())
        target_lengths = (y != IGNORE_INDEX).sum(1)
        log_probs = output.log_softmax(-1).transpose(0, 1)  # (T, B, C)
        return F.ctc_loss(log_probs, y.clamp(min=0), lengths, target_lengths)

    def count(self, output, y, lengths):
        correct = 0
        for row, best in enumerate(output.argmax(-1)):
            path = best[:lengths[row]].tolist()
            labels = [k for t, k in enumerate(path) if k != 0 and (t == 0 or path[t - 1] != k)]
            correct += labels == [k for k in y[row].tolist() if k != IGNORE_INDEX]
        return correct, len(y)


def ctc_batch():
    """Label strings of 1-2 labels (1..3, blank 0) over 6-8 frames that spell them out."""
    g = torch.Generator().manual_seed(0)
    y = torch.tensor([[1, 2], [3, IGNORE_INDEX], [2, 2], [1, 3]])
    lengths = torch.tensor([8, 6, 8, 7])
    x = torch.randn(4, 8, 2, generator=g)
    return x, lengths, y


def test_an_objective_trains_label_strings_and_sees_the_frame_counts():
    torch.manual_seed(0)
    model = StatefulLSTM(input_size=2, hidden_size=16, classes=4)
    objective = ToyCTC()
    batch = ctc_batch()
    before = evaluate(model, [batch], objective).loss
    result = fit(model, [batch], TrainConfig(epochs=150, lr=0.03, lr_schedule="none"), loss_fn=objective,
                 progress=False)
    assert objective.seen_lengths[0] == [8, 6, 8, 7]
    after = evaluate(model, [batch], objective)
    assert after.loss < before / 10 and after.accuracy == 1.0 and result.history[-1]["train_accuracy"] == 1.0
    assert len(after.y_true) == 0, "no per-target predictions to tabulate for label strings"


def test_a_plain_loss_function_is_still_scored_by_argmax_accuracy():
    x, lengths, _ = ctc_batch()
    y = torch.tensor([0, 1, 2, 3])
    model = StatefulLSTM(input_size=2, classes=4, per_step=False)
    plain, wrapped = evaluate(model, [(x, lengths, y)]), evaluate(model, [(x, lengths, y)], cross_entropy)
    assert plain.loss == pytest.approx(wrapped.loss) and len(plain.y_pred) == 4


class CopyDecoder(torch.nn.Module):
    """Predicts each target token from the previous one (the decoder input) and the source's mean."""

    def __init__(self, vocab=5):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, 8)
        self.head = torch.nn.Linear(16, vocab)
        self.calls = []

    def forward(self, src, src_lengths, decoder_input):
        self.calls.append(decoder_input)
        context = self.embed(src).mean(1, keepdim=True).expand(-1, decoder_input.shape[1], -1)  # (B, T, 8)
        return self.head(torch.cat([self.embed(decoder_input), context], dim=-1))  # (B, T, V)


def test_a_fourth_batch_element_reaches_the_model_as_the_decoder_input():
    src = torch.tensor([[1, 2, 3], [4, 3, 0]])
    target = torch.tensor([[2, 3, 4], [1, 4, IGNORE_INDEX]])
    decoder_input = torch.tensor([[0, 2, 3], [0, 1, 4]])  # start symbol 0, then the previous targets
    batch = (src, torch.tensor([3, 2]), target, decoder_input)
    torch.manual_seed(0)
    model = CopyDecoder()
    fit(model, [batch], TrainConfig(epochs=80, lr=0.05, lr_schedule="none"), progress=False)
    assert all(torch.equal(call, decoder_input) for call in model.calls)
    assert evaluate(model, [batch]).accuracy == 1.0  # 5 valid targets, each predicted from its input
    with pytest.raises(ValueError, match="truncated BPTT and carried state"):
        fit(model, [batch], TrainConfig(epochs=1, carry_state=True), progress=False)
