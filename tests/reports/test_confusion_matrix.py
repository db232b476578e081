import numpy as np
import pytest

from rnnkit.reports import accuracy, class_metrics, confusion_matrix

# Counted by hand, rows = true class, columns = predicted class:
#   true 0: predicted 0, 1          -> [1, 1, 0]
#   true 1: predicted 1, 1, 2       -> [0, 2, 1]
#   true 2: predicted 2, 2, 0, 2    -> [1, 0, 3]
Y_TRUE = [0, 0, 1, 1, 1, 2, 2, 2, 2]
Y_PRED = [0, 1, 1, 1, 2, 2, 2, 0, 2]
EXPECTED = np.array([[1, 1, 0],
                     [0, 2, 1],
                     [1, 0, 3]])


def test_hand_counted_example():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3)
    np.testing.assert_array_equal(cm, EXPECTED)
    assert cm.dtype.kind == "i"


def test_numpy_inputs_and_unseen_class():
    cm = confusion_matrix(np.array(Y_TRUE, dtype=np.int32), np.array(Y_PRED, dtype=np.uint8), 4)
    assert cm.shape == (4, 4)
    np.testing.assert_array_equal(cm[:3, :3], EXPECTED)
    assert cm[3].sum() == 0 and cm[:, 3].sum() == 0


def test_integral_floats_are_labels():
    cm = confusion_matrix(np.array(Y_TRUE, dtype=float), Y_PRED, 3)
    np.testing.assert_array_equal(cm, EXPECTED)


def test_empty_inputs_give_zeros():
    np.testing.assert_array_equal(confusion_matrix([], [], 2), np.zeros((2, 2), dtype=int))


@pytest.mark.parametrize("y_true, y_pred, num_classes, message", [
    ([0, 1, 2], [0, 1], 3, "differ in length"),
    ([0, 1, 3], [0, 1, 2], 3, r"y_true holds labels outside \[0, 3\): 3"),
    ([0, 1, 2], [0, -1, 2], 3, r"y_pred holds labels outside \[0, 3\): -1"),
    ([0, 1], [0, 1], 0, "at least 1"),
    ([0, 1], [0, 1], 2.0, "must be an int"),
    ([0, 1], [0, 1], True, "must be an int"),
    ([0.5, 1], [0, 1], 2, "integer class labels"),
    ([[0, 1]], [[0, 1]], 2, "1-D"),
    (["a", "b"], [0, 1], 2, "integer class labels"),
])
def test_bad_inputs_raise(y_true, y_pred, num_classes, message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(y_true, y_pred, num_classes)


def test_accuracy_and_class_metrics_by_hand():
    assert accuracy(EXPECTED) == pytest.approx(6 / 9)
    scores = class_metrics(EXPECTED)
    # precision = diagonal / column sums (2, 3, 4); recall = diagonal / row sums (2, 3, 4)
    np.testing.assert_allclose(scores.precision, [1 / 2, 2 / 3, 3 / 4])
    np.testing.assert_allclose(scores.recall, [1 / 2, 2 / 3, 3 / 4])
    np.testing.assert_allclose(scores.f1, [1 / 2, 2 / 3, 3 / 4])
    np.testing.assert_array_equal(scores.support, [2, 3, 4])


def test_class_metrics_zero_division_is_zero():
    cm = np.array([[2, 0], [0, 0]])  # class 1: never true, never predicted
    scores = class_metrics(cm)
    np.testing.assert_allclose(scores.precision, [1.0, 0.0])
    np.testing.assert_allclose(scores.recall, [1.0, 0.0])
    np.testing.assert_allclose(scores.f1, [1.0, 0.0])
    assert accuracy(np.zeros((3, 3))) == 0.0


def test_non_square_matrix_raises():
    with pytest.raises(ValueError, match="square"):
        accuracy(np.zeros((2, 3)))
