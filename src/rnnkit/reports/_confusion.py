"""Confusion matrix and the per-class metrics read from it.

Convention (as in scikit-learn): ``cm[t, p]`` counts samples of true class ``t`` predicted as
class ``p``; rows are true classes, columns predicted classes. So the row sums are the class
supports, the column sums the prediction counts and the diagonal the correct predictions.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike


class ClassMetrics(NamedTuple):
    """Per-class scores, each an array of shape (C,). A 0/0 score is reported as 0."""

    precision: np.ndarray  # (C,) correct / predicted as the class (column sum)
    recall: np.ndarray  # (C,) correct / samples of the class (row sum)
    f1: np.ndarray  # (C,) harmonic mean of precision and recall
    support: np.ndarray  # (C,) int, samples of the class


def _labels(name: str, values: ArrayLike) -> np.ndarray:
    """``values`` as a 1-D int64 array; integral floats are accepted, anything else is an error."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Count (true, predicted) label pairs into a ``(C, C)`` int64 matrix.

    ``y_true`` and ``y_pred`` are 1-D sequences of labels in ``[0, num_classes)`` of equal length
    (lists, numpy arrays or CPU tensors). Rows are true classes, columns predicted classes.

    >>> confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], 3)
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an int, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    t = _labels("y_true", y_true)  # (N,)
    p = _labels("y_pred", y_pred)  # (N,)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} and {p.size}")
    for name, arr in (("y_true", t), ("y_pred", p)):
        bad = arr[(arr < 0) | (arr >= num_classes)]
        if bad.size:
            shown = ", ".join(str(v) for v in np.unique(bad)[:5])
            raise ValueError(f"{name} holds labels outside [0, {num_classes}): {shown}")
    C = int(num_classes)
    counts = np.bincount(t * C + p, minlength=C * C)  # (C*C,)
    return counts.reshape(C, C).astype(np.int64)  # (C, C)


def _square(cm: ArrayLike) -> np.ndarray:
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix must be square (C, C), got shape {cm.shape}")
    return cm


def accuracy(cm: ArrayLike) -> float:
    """Fraction of samples on the diagonal; 0.0 for an empty matrix."""
    cm = _square(cm)
    total = cm.sum()
    return float(np.trace(cm) / total) if total else 0.0


def class_metrics(cm: ArrayLike) -> ClassMetrics:
    """Precision, recall, F1 and support of every class of a confusion matrix."""
    cm = _square(cm).astype(np.float64)
    correct = np.diag(cm)  # (C,)
    support = cm.sum(axis=1)  # (C,) row sums: samples of each true class
    predicted = cm.sum(axis=0)  # (C,) column sums: predictions of each class
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, support, out=np.zeros_like(correct), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return ClassMetrics(precision, recall, f1, support.astype(np.int64))
