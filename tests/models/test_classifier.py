"""SequenceClassifier: pooling excludes padding, the stateful protocol, settings and their errors."""
import pytest
import torch

from rnnkit.models import AttentionPooling, ClassifierConfig, SequenceClassifier, max_pool, mean_pool

LENGTHS = torch.tensor([6, 2, 4])


def make(**settings) -> SequenceClassifier:
    torch.manual_seed(0)
    model = SequenceClassifier(input_size=3, num_classes=4, hidden=[5, 4], dropout=0.0, **settings).double()
    return model.eval()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_classifies_each_sequence_as_alone(cell, pooling, bidirectional):
    model = make(cell=cell, pooling=pooling, bidirectional=bidirectional)
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    x[1, 2:] = float("nan")  # garbage in the padding
    x[2, 4:] = 1e6
    logits = model(x, LENGTHS)
    assert logits.shape == (3, 4)
    for b, length in enumerate(LENGTHS.tolist()):
        alone = model(x[b:b + 1, :length], torch.tensor([length]))
        torch.testing.assert_close(logits[b:b + 1], alone)


def test_pooling_functions_by_hand():
    outputs = torch.tensor([[[1.0], [3.0], [0.0]], [[-2.0], [-4.0], [0.0]]])  # (B=2, T=3, D=1), zero padded
    lengths = torch.tensor([2, 2])
    torch.testing.assert_close(mean_pool(outputs, lengths), torch.tensor([[2.0], [-3.0]]))
    torch.testing.assert_close(max_pool(outputs, lengths), torch.tensor([[3.0], [-2.0]]))  # padding's 0 ignored


def test_attention_weights_are_a_distribution_over_valid_steps():
    torch.manual_seed(0)
    pool = AttentionPooling(4)
    outputs = torch.randn(3, 6, 4)
    pooled = pool(outputs, LENGTHS)
    a = pool.last_weights
    torch.testing.assert_close(a.sum(dim=1), torch.ones(3))
    for b, length in enumerate(LENGTHS.tolist()):
        assert torch.all(a[b, length:] == 0)
        torch.testing.assert_close(pooled[b], (a[b, :, None] * outputs[b]).sum(0))
    # (A1)-(A2) by hand for sequence 1
    u = torch.tanh(outputs[1, :2] @ pool.key.weight.T + pool.key.bias)
    torch.testing.assert_close(a[1, :2], torch.softmax(u @ pool.context, dim=0))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_state_carried_across_windows_equals_one_pass(cell):
    model = make(cell=cell, pooling="last")
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 6, 6])
    first, state = model(x[:, :4], torch.tensor([4, 4, 4]), return_state=True)
    second, _ = model(x[:, 4:], torch.tensor([2, 2, 2]), state=state, return_state=True)
    torch.testing.assert_close(second, model(x, lengths))


def test_state_needs_a_unidirectional_last_pooling_model():
    with pytest.raises(ValueError, match="unidirectional model with pooling='last'"):
        make(pooling="mean")(torch.randn(2, 3, 3, dtype=torch.float64), return_state=True)


def test_config_round_trip_and_architecture_names():
    config = ClassifierConfig(input_size=3, num_classes=4, cell="lstm", hidden=[64, 32, 32], peephole=True,
                              proj_size=16, bidirectional=True, pooling="attention")
    assert ClassifierConfig.from_dict(config.to_dict()) == config
    assert config.architecture == "bi-64-32-32 peephole proj16 attention"
    assert ClassifierConfig(input_size=3, num_classes=2, cell="gru", reset_after=False, pooling="last"
                            ).architecture == "64-64 cho"


@pytest.mark.parametrize("settings,message", [
    (dict(cell="transformer"), "cell must be one of"),
    (dict(pooling="sum"), "pooling must be one of"),
    (dict(num_classes=1), "num_classes must be at least 2"),
    (dict(hidden=[]), "hidden must be one or more"),
    (dict(cell="lstm", hidden=[8, 4], proj_size=4), "proj_size must be smaller than every hidden width"),
])
def test_bad_settings(settings, message):
    base = dict(input_size=3, num_classes=4)
    with pytest.raises(ValueError, match=message):
        ClassifierConfig(**{**base, **settings})


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"unknown model setting\(s\) \['hiden'\]"):
        ClassifierConfig.from_dict({"input_size": 3, "num_classes": 2, "hiden": [4]})


def test_variant_options_reach_the_layers():
    model = SequenceClassifier(input_size=3, num_classes=2, cell="lstm", hidden=[8], peephole=True, proj_size=4)
    names = dict(model.named_parameters())
    assert "stack.layers.0.weight_ci_l0" in names and names["stack.layers.0.weight_hr_l0"].shape == (4, 8)
    gru = SequenceClassifier(input_size=3, num_classes=2, cell="gru", hidden=[8], reset_after=False)
    assert gru.stack.layers[0].reset_after is False
