"""fit on a tiny separable task: it learns, the history keeps the contract, runs repeat exactly."""

import pytest
import torch

from rnnkit.training import TrainConfig, TrainingError, evaluate, fit

from .toys import GRUClassifier, batches, shuffled, sign_of_sum

HISTORY_KEYS = {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
FAST = {"lr": 3e-2, "lr_schedule": "none", "epochs": 6, "patience": None}  # a high lr so the toy task is learnt in a few epochs


@pytest.fixture(scope="module")
def data():
    train = sign_of_sum(256, seed=0)
    val = sign_of_sum(128, seed=1)
    return train, val


def new_model(seed=0, **kwargs):
    torch.manual_seed(seed)
    return GRUClassifier(**kwargs)


def test_learns_sign_of_sum_and_history_has_the_contract_keys(data):
    (x, lengths, y), (xv, lv, yv) = data
    result = fit(new_model(), shuffled(x, lengths, y, 32, seed=0), TrainConfig(**FAST),
                 val_batches=batches(xv, lv, yv, 64), progress=False)
    history = result.history
    assert [row["epoch"] for row in history] == list(range(1, 7))
    assert all(set(row) == HISTORY_KEYS for row in history)
    assert history[-1]["train_accuracy"] > 0.9 and history[-1]["val_accuracy"] > 0.9
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    seconds = [row["seconds"] for row in history]
    assert seconds == sorted(seconds) and result.seconds >= seconds[-1]
    assert all(row["lr"] == 3e-2 for row in history)
    assert result.monitor == "val_loss" and not result.stopped_early
    assert result.best_value == min(row["val_loss"] for row in history)


def test_without_validation_the_val_entries_are_none_and_train_loss_is_monitored(data):
    (x, lengths, y), _ = data
    result = fit(new_model(), batches(x, lengths, y, 64), TrainConfig(lr=3e-2, epochs=2), progress=False)
    assert all(row["val_loss"] is None and row["val_accuracy"] is None for row in result.history)
    assert result.monitor == "train_loss"


def test_same_seed_gives_the_same_history(data):
    (x, lengths, y), (xv, lv, yv) = data

    def run(seed):
        model = new_model(seed, dropout=0.3)  # dropout: fit's own seeding matters too
        config = TrainConfig(lr=3e-2, epochs=3, seed=seed)
        result = fit(model, shuffled(x, lengths, y, 32, seed=seed), config,
                     val_batches=batches(xv, lv, yv, 64), progress=False)
        return [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]

    assert run(0) == run(0)
    assert run(0) != run(1)


def test_restore_best_brings_back_the_best_epochs_weights(data):
    # Validation labels are flipped, so the better the model learns, the worse its val loss:
    # the best epoch is an early one, and the final weights are not the best.
    (x, lengths, y), (xv, lv, yv) = data
    val = batches(xv, lv, 1 - yv, 64)
    for restore in (True, False, None):  # None: patience is None here, so the last epoch's weights
        model = new_model()
        config = TrainConfig(**FAST, restore_best=restore)
        result = fit(model, batches(x, lengths, y, 32), config, val_batches=val, progress=False)
        losses = [row["val_loss"] for row in result.history]
        assert result.best_epoch == losses.index(min(losses)) + 1 < len(losses)
        expected = losses[result.best_epoch - 1] if restore else losses[-1]
        assert evaluate(model, val).loss == pytest.approx(expected, rel=1e-6)


def test_early_stopping_ends_the_run(data):
    (x, lengths, y), _ = data
    # A threshold no change can pass: the assignment's rule fires at epoch 2.
    config = TrainConfig(lr=3e-2, epochs=50, stop_rule="successive", min_delta=10.0, patience=1)
    result = fit(new_model(), batches(x, lengths, y, 64), config, progress=False)
    assert len(result.history) == 2 and result.stopped_early


def test_clip_norm_bounds_the_update(data):
    # Plain SGD moves the weights by exactly lr * (clipped gradient): its norm is lr * clip_norm.
    (x, lengths, y), _ = data
    model = new_model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    config = TrainConfig(optimizer="sgd", lr=1.0, momentum=0.0, clip_norm=1e-3, epochs=1)
    fit(model, batches(x[:32], lengths[:32], y[:32], 32), config, progress=False)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert float((after - before).norm()) == pytest.approx(1e-3, rel=1e-3)


def test_nan_loss_raises_training_error_naming_epoch_and_batch(data):
    (x, lengths, y), _ = data

    def poisoned(epoch):
        out = batches(x, lengths, y, 32)
        if epoch == 2:
            bad_x = out[2][0].clone()
            bad_x[0, 0, 0] = float("nan")
            out[2] = (bad_x, out[2][1], out[2][2])
        return out

    with pytest.raises(TrainingError, match="epoch 2, batch 3") as info:
        fit(new_model(), poisoned, TrainConfig(epochs=3), progress=False)
    assert (info.value.epoch, info.value.batch) == (2, 3)


def test_nan_validation_loss_is_a_training_error(data):
    """A model that diverges only on unseen data stops with the epoch named, not an early-stopping crash."""
    (x, lengths, y), (vx, vlengths, vy) = data
    poisoned_val = vx.clone()
    poisoned_val[0, 0, 0] = float("nan")
    with pytest.raises(TrainingError, match="epoch 1: val_loss is nan") as info:
        fit(new_model(), batches(x, lengths, y, 32), TrainConfig(epochs=2),
            val_batches=batches(poisoned_val, vlengths, vy, 64), progress=False)
    assert info.value.epoch == 1


def test_cosine_schedule_shows_in_history(data):
    (x, lengths, y), _ = data
    config = TrainConfig(lr=1e-2, epochs=3, lr_schedule="cosine", patience=None)
    result = fit(new_model(), batches(x, lengths, y, 128), config, progress=False)
    lrs = [row["lr"] for row in result.history]
    assert lrs[0] == 1e-2 and lrs[0] > lrs[1] > lrs[2]


def test_bad_inputs_are_clear_errors(data):
    (x, lengths, y), _ = data
    with pytest.raises(TypeError, match="re-iterable"):
        fit(new_model(), iter(batches(x, lengths, y, 64)), TrainConfig(epochs=1), progress=False)
    with pytest.raises(ValueError, match="needs val_batches"):
        fit(new_model(), batches(x, lengths, y, 64), TrainConfig(monitor="val_loss"), progress=False)
    with pytest.raises(TrainingError, match="epoch 1 got no training batches"):
        fit(new_model(), [], TrainConfig(epochs=1), progress=False)
    with pytest.raises(ValueError, match="batch lengths"):
        fit(new_model(), [(x, lengths.float(), y)], TrainConfig(epochs=1), progress=False)


def test_progress_bar_renders_on_a_terminal(data, monkeypatch, capsys):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats the captured stderr as a terminal
    (x, lengths, y), _ = data
    fit(new_model(), batches(x[:64], lengths[:64], y[:64], 64), TrainConfig(epochs=2), progress=True)
    err = capsys.readouterr().err
    assert "epoch" in err and "2/2" in err and "loss" in err
