"""TrainConfig: defaults, JSON round trip, refusal of unknown keys and bad values; device checks."""

import json

import pytest
import torch

from rnnkit.training import TrainConfig, resolve_device


def test_defaults_adam_with_cosine_annealing_and_no_augmentation():
    config = TrainConfig()
    assert (config.optimizer, config.lr, config.lr_schedule, config.min_delta) == ("adam", 3e-3, "cosine", 1e-4)
    assert config.time_mask == 0  # augmentation is asked for, never assumed
    assert config.device == "cpu" and config.clip_norm is not None


def test_best_weights_are_restored_exactly_when_stopping_early_unless_told():
    assert TrainConfig().patience is None and not TrainConfig().restores_best  # the schedule's end is kept
    assert TrainConfig(patience=20).restores_best
    assert TrainConfig(restore_best=True).restores_best and not TrainConfig(patience=5, restore_best=False).restores_best


def test_the_course_assignment_settings_are_expressible():
    config = TrainConfig(lr=1e-3, lr_schedule="none", stop_rule="successive", min_delta=1e-4, patience=1)
    assert config.to_dict()["lr_schedule"] == "none"


def test_frozen():
    with pytest.raises(AttributeError):
        TrainConfig().lr = 0.1


def test_json_round_trip():
    config = TrainConfig(optimizer="sgd", lr=0.05, nesterov=True, tbptt=20, clip_norm=None, patience=None)
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


def test_from_dict_fills_defaults_for_missing_keys():
    assert TrainConfig.from_dict({"lr": 0.01}) == TrainConfig(lr=0.01)


def test_from_dict_rejects_unknown_keys_by_name():
    with pytest.raises(ValueError, match="'learning_rate'"):
        TrainConfig.from_dict({"learning_rate": 0.01})


@pytest.mark.parametrize("field, value", [
    ("epochs", 0), ("optimizer", "adagrad"), ("lr", 0.0), ("clip_norm", -1.0), ("tbptt", 0),
    ("monitor", "val_f1"), ("stop_rule", "plateau"), ("patience", 0), ("lr_schedule", "step"),
    ("device", "gpu"), ("lr_factor", 1.5),
])
def test_bad_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}="):
        TrainConfig(**{field: value})


@pytest.mark.parametrize("field, value", [("epochs", "10"), ("epochs", 2.5), ("epochs", True), ("lr", "0.1")])
def test_wrong_types_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}="):
        TrainConfig(**{field: value})


def test_int_accepted_for_float_fields():
    assert TrainConfig(lr=1).lr == 1  # JSON writes 1.0 as 1 in some tools


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config = TrainConfig(device="cuda")  # building the config is fine: it may run elsewhere
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device(config.device)


def test_cpu_device():
    assert resolve_device("cpu") == torch.device("cpu")
