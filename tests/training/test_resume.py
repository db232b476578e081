"""Resume: a fit stopped at any batch and continued from its saved state equals one never stopped, bitwise.

The stop is an exception raised from inside the batches (the state on disk is then what a SIGKILL
at that moment would leave, since every save is one atomic replace); tests/cli/test_resume_cli.py
kills a real process.
"""
import numpy as np
import pytest
import torch

from rnnkit.data import stream_batches
from rnnkit.models import CharLM
from rnnkit.training import (STATE_FILE, CheckpointError, Checkpointing, TrainConfig, TrainingError, fit,
                             read_training_state)

from .toys import GRUClassifier, batches, shuffled, sign_of_sum


class Killed(Exception):
    """Stands for the process dying: nothing after it runs."""


def die_at(model, training_call: int) -> None:
    """Make ``model`` die when it is called for its ``training_call``-th training batch in all."""
    calls = [0]

    def hook(module, inputs):
        if module.training:
            calls[0] += 1
            if calls[0] == training_call:
                raise Killed
    model.register_forward_pre_hook(hook)


def classifier_run(directory, config, kill_at=None, resume=False, every=3):
    torch.manual_seed(0)
    model = GRUClassifier(dropout=0.3)  # dropout and time masks draw from torch's generator: restored too
    x, lengths, y = sign_of_sum(96, seed=0)
    source = shuffled(x, lengths, y, 16, seed=config.seed)  # 6 batches per epoch
    if kill_at is not None:
        die_at(model, kill_at)
    result = fit(model, source, config, val_batches=batches(*sign_of_sum(32, seed=1), 16), progress=False,
                 checkpoint=Checkpointing(directory, every=every, resume=resume),
                 epoch_callback=lambda epoch, model: {"drawn": float(torch.rand(()))})  # the callback's row survives
    return model, result


def lm_run(directory, config, kill_at=None, resume=False, every=2):
    torch.manual_seed(0)
    model = CharLM(vocab_size=9, hidden=[8], embedding=4, cell="lstm", dropout=0.2)
    text = np.random.default_rng(0).integers(0, 9, 801)

    def source(epoch):  # a random offset per epoch, as the language model's training does
        return stream_batches(text, 4, 25, offset=int(np.random.default_rng([0, epoch]).integers(25)))
    if kill_at is not None:
        die_at(model, kill_at)
    result = fit(model, source, config, progress=False, checkpoint=Checkpointing(directory, every=every, resume=resume))
    return model, result


def comparable(result):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.history], result.best_epoch


def assert_same_weights(a, b):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name


CLASSIFIER_CONFIGS = {
    "cosine per epoch, time masks": TrainConfig(epochs=4, lr=2e-2, time_mask=3, seed=3),
    "plateau, early stopping, best restored": TrainConfig(epochs=5, lr=5e-2, lr_schedule="plateau", lr_patience=0,
                                                          patience=2, seed=1),
    "sgd with momentum": TrainConfig(epochs=3, optimizer="sgd", lr=5e-2, lr_schedule="none"),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIER_CONFIGS))
@pytest.mark.parametrize("kill_at", [2, 6, 7, 11, 17])  # mid-epoch, the last batch, the first of an epoch ...
def test_a_classifier_resumed_after_a_kill_ends_bitwise_as_one_never_stopped(name, kill_at, tmp_path):
    config = CLASSIFIER_CONFIGS[name]
    whole, whole_result = classifier_run(tmp_path / "whole", config)
    with pytest.raises(Killed):
        classifier_run(tmp_path / "cut", config, kill_at=kill_at)
    resumed, resumed_result = classifier_run(tmp_path / "cut", config, resume=True)
    assert comparable(resumed_result) == comparable(whole_result)
    assert_same_weights(resumed, whole)


@pytest.mark.parametrize("kill_at", [4, 12, 20])  # 8 windows per epoch, a state saved every 2 steps
def test_a_language_model_with_carried_state_and_per_batch_cosine_resumes_bitwise(kill_at, tmp_path):
    config = TrainConfig(epochs=3, lr=1e-2, carry_state=True, lr_per_batch=True, seed=2)  # 8 windows per epoch
    whole, whole_result = lm_run(tmp_path / "whole", config)
    with pytest.raises(Killed):
        lm_run(tmp_path / "cut", config, kill_at=kill_at)
    state = read_training_state(tmp_path / "cut" / STATE_FILE)
    assert state.position.batch > 0 and len(state.position.carried) == 1  # mid-epoch: the LSTM state carried on
    resumed, resumed_result = lm_run(tmp_path / "cut", config, resume=True)
    assert comparable(resumed_result) == comparable(whole_result)
    assert_same_weights(resumed, whole)


def test_resuming_without_a_saved_state_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match=f"{STATE_FILE}: no such file; there is no saved training state"):
        classifier_run(tmp_path, TrainConfig(epochs=1), resume=True)


def test_a_finished_run_resumes_to_its_end_without_training(tmp_path):
    config = TrainConfig(epochs=2, lr=2e-2)
    done, result = classifier_run(tmp_path, config)
    again, again_result = classifier_run(tmp_path, config, resume=True)
    assert comparable(again_result) == comparable(result)
    assert_same_weights(again, done)


def test_divergence_keeps_the_last_good_state(tmp_path):
    """A learning rate of 1e37 without clipping: the loss is infinite at batch 3; the state on disk is step 2's."""
    config = TrainConfig(epochs=3, lr=1e37, clip_norm=None, lr_schedule="none", optimizer="sgd", momentum=0.0)
    with pytest.raises(TrainingError, match="loss is inf at epoch 1, batch 3: training diverged. Try a lower lr or "
                                            "a clip_norm"):
        classifier_run(tmp_path, config, every=1)
    state = read_training_state(tmp_path / STATE_FILE)
    assert all(torch.isfinite(t).all() for t in state.model.values())
    assert (state.position.epoch, state.position.batch, state.position.step) == (0, 2, 2)


def test_a_damaged_state_is_refused_by_name(tmp_path):
    classifier_run(tmp_path, TrainConfig(epochs=1))
    path = tmp_path / STATE_FILE
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(CheckpointError, match="not a readable training state"):
        read_training_state(path)
    path.write_bytes(b"\x80\x04garbage")  # a pickle's first bytes
    with pytest.raises(CheckpointError, match="a pickle or torch.save file, not safetensors"):
        read_training_state(path)
