"""EarlyStopping as a state machine over literal lists of numbers (no torch)."""

import pytest

from rnnkit.training import EarlyStopping


def run(stopper, values):
    """Feed values until the stopper says stop; return the 1-based epoch it stopped at (None if never)."""
    for epoch, value in enumerate(values, start=1):
        if stopper.update(value).stop:
            return epoch
    return None


def test_best_rule_waits_patience_epochs_without_improvement():
    stopper = EarlyStopping(mode="min", min_delta=0.0, patience=2)
    assert run(stopper, [1.0, 0.8, 0.9, 0.85, 0.7]) == 4
    assert stopper.best == 0.8 and stopper.best_epoch == 2 and stopper.should_stop


def test_best_rule_resets_on_improvement():
    stopper = EarlyStopping(mode="min", min_delta=0.0, patience=2)
    assert run(stopper, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.9]) == 7
    assert stopper.best_epoch == 5


def test_min_delta_ignores_tiny_gains():
    stopper = EarlyStopping(mode="min", min_delta=0.01, patience=2)
    # 0.995 and 0.99 improve on 1.0 by less than (or exactly) 0.01: not improvements.
    assert run(stopper, [1.0, 0.995, 0.99]) == 3
    assert stopper.best == 1.0 and stopper.best_epoch == 1


def test_improved_flag_marks_each_new_best():
    stopper = EarlyStopping(mode="min", min_delta=0.0, patience=10)
    flags = [stopper.update(v).improved for v in [3.0, 2.0, 2.5, 1.0, 1.0]]
    assert flags == [True, True, False, True, False]


def test_mode_max_for_accuracy():
    stopper = EarlyStopping(mode="max", min_delta=0.0, patience=1)
    assert run(stopper, [0.5, 0.7, 0.9, 0.85]) == 4
    assert stopper.best == 0.9 and stopper.best_epoch == 3


def test_assignment_rule_successive_epochs_within_1e_4():
    # "Stop when the average loss of successive epochs changes by less than 1e-4."
    stopper = EarlyStopping(rule="successive", min_delta=1e-4, patience=1)
    losses = [0.9, 0.5, 0.4002, 0.40005, 0.40001, 0.3]
    # changes: 0.4, 0.0998, 1.5e-4 (still learning), 4e-5 (< 1e-4: stop at epoch 5)
    assert run(stopper, losses) == 5
    assert stopper.best == 0.40001 and stopper.best_epoch == 5


def test_successive_rule_compares_with_previous_not_best():
    stopper = EarlyStopping(rule="successive", min_delta=1e-4, patience=1)
    # 0.7 then 0.70005: unchanged against the previous epoch, although worse than the best 0.5.
    assert run(stopper, [0.5, 0.7, 0.70005]) == 3
    assert stopper.best == 0.5 and stopper.best_epoch == 1


def test_successive_rule_counts_a_rise_as_a_change():
    stopper = EarlyStopping(rule="successive", min_delta=1e-4, patience=1)
    assert run(stopper, [0.5, 0.6, 0.7, 0.8]) is None


def test_successive_rule_with_patience_needs_a_run_of_small_changes():
    stopper = EarlyStopping(rule="successive", min_delta=1e-4, patience=2)
    assert run(stopper, [1.0, 1.00001, 0.9, 0.90001, 0.90002]) == 5


def test_patience_none_never_stops_but_tracks_best():
    stopper = EarlyStopping(mode="min", patience=None)
    assert run(stopper, [1.0, 0.5] + [0.6] * 50) is None
    assert stopper.best_epoch == 2


def test_nan_and_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="NaN at epoch 2"):
        run(EarlyStopping(), [1.0, float("nan")])
    for kwargs in [{"mode": "up"}, {"rule": "plateau"}, {"patience": 0}, {"min_delta": -1.0}]:
        with pytest.raises(ValueError):
            EarlyStopping(**kwargs)
