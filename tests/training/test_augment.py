"""Time masking: one contiguous span per sequence, inside its valid steps, at most a quarter of it;
seeded; applied by ``fit`` to training batches only."""
import pytest
import torch

from rnnkit.training import TrainConfig, fit, time_mask

from .toys import GRUClassifier


def masked_steps(before: torch.Tensor, after: torch.Tensor) -> list[list[int]]:
    """The zeroed time steps of each sequence (inputs are all ones, so a zero is a masked step)."""
    return [torch.nonzero((after[b] == 0).all(-1)).flatten().tolist() for b in range(before.shape[0])]


def test_one_span_inside_the_valid_steps_and_at_most_a_quarter_long():
    lengths = torch.tensor([40, 17, 9, 3, 1])
    x = torch.ones(5, 40, 2)  # padding is ones too, so a masked padding step would show
    for seed in range(50):
        out = time_mask(x, lengths, max_width=6, generator=torch.Generator().manual_seed(seed))
        for steps, length in zip(masked_steps(x, out), lengths.tolist()):
            assert len(steps) <= min(6, length // 4)
            if steps:
                assert steps == list(range(steps[0], steps[-1] + 1)), "one contiguous span"
                assert steps[-1] < length
    assert torch.equal(x, torch.ones(5, 40, 2)), "the input is not changed in place"


def test_widths_cover_zero_to_the_limit():
    x, lengths = torch.ones(1, 100, 1), torch.tensor([100])
    widths = {len(masked_steps(x, time_mask(x, lengths, 4, torch.Generator().manual_seed(s)))[0]) for s in range(200)}
    assert widths == {0, 1, 2, 3, 4}


def test_seeded_and_zero_width_is_identity():
    x, lengths = torch.randn(8, 30, 3), torch.full((8,), 30)
    first = time_mask(x, lengths, 5, torch.Generator().manual_seed(3))
    assert torch.equal(first, time_mask(x, lengths, 5, torch.Generator().manual_seed(3)))
    assert not torch.equal(first, x)
    assert torch.equal(time_mask(x, lengths, 0), x)
    with pytest.raises(ValueError, match="max_width"):
        time_mask(x, lengths, -1)


def test_config_refuses_a_negative_width():
    with pytest.raises(ValueError, match="time_mask"):
        TrainConfig(time_mask=-2)


class Recorder(GRUClassifier):
    """Remembers every input it sees, with whether it was in training mode."""

    def __init__(self):
        super().__init__(input_size=1)
        self.seen: list[tuple[bool, torch.Tensor]] = []

    def forward(self, x, lengths):
        self.seen.append((self.training, x.detach().clone()))
        return super().forward(x, lengths)


def test_fit_masks_training_batches_only():
    x, lengths, y = torch.ones(16, 24, 1), torch.full((16,), 24), torch.arange(16) % 2
    model = Recorder()
    fit(model, [(x, lengths, y)], TrainConfig(epochs=3, time_mask=6, patience=None),
        val_batches=[(x, lengths, y)], progress=False)
    training_inputs = [seen for is_training, seen in model.seen if is_training]
    validation_inputs = [seen for is_training, seen in model.seen if not is_training]
    assert len(training_inputs) == 3 and len(validation_inputs) == 3
    assert any((seen == 0).any() for seen in training_inputs)
    assert all(torch.equal(seen, x) for seen in validation_inputs)
