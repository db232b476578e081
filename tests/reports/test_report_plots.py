import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnkit.reports import (best_epoch, confusion_matrix, plot_confusion, plot_curves,
                            plot_gradient_flow, plot_loss_comparison)
from rnnkit.reports._curves import _log_scale_helps

from ._support import assert_png, make_history, no_temp_files


def test_curves_png(tmp_path, history):
    path = plot_curves(history, tmp_path / "curves.png", title="LSTM")
    assert Path(path) == tmp_path / "curves.png"
    assert_png(path)
    assert no_temp_files(tmp_path)


def test_curves_without_validation(tmp_path):
    assert_png(plot_curves(make_history(validation=False), tmp_path / "none.png"))
    bare = [{"epoch": e, "train_loss": 1.0 / e, "train_accuracy": 0.5} for e in (1, 2, 3)]
    assert_png(plot_curves(bare, tmp_path / "bare.png"))  # val keys absent altogether


def test_curves_single_epoch_and_nested_folder(tmp_path):
    path = plot_curves(make_history(epochs=1), tmp_path / "a" / "b" / "curves.png")
    assert_png(path)


def test_curves_empty_history_raises(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        plot_curves([], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_best_epoch(history):
    assert best_epoch(history) == 4  # val accuracy peaks at epoch 4
    assert best_epoch(history, monitor="val_loss") == 6  # val loss keeps falling
    assert best_epoch(make_history(validation=False)) is None
    assert best_epoch([]) is None
    tied = [{"epoch": 1, "val_accuracy": 0.8}, {"epoch": 2, "val_accuracy": 0.8}]
    assert best_epoch(tied) == 1


def test_confusion_png_counts_and_normalized(tmp_path):
    cm = confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)
    assert_png(plot_confusion(cm, ["a", "b", "c"], tmp_path / "counts.png"))
    assert_png(plot_confusion(cm, None, tmp_path / "norm.png", normalize=True))


def test_confusion_thirty_classes_long_names(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 30, 500)
    p = np.where(rng.random(500) < 0.7, y, rng.integers(0, 30, 500))
    names = [f"a rather long class name {i}" for i in range(30)]
    assert_png(plot_confusion(confusion_matrix(y, p, 30), names, tmp_path / "cm30.png"))


def test_confusion_empty_row_normalizes_without_warning(tmp_path):
    cm = np.array([[3, 1], [0, 0]])
    with np.errstate(all="raise"):
        assert_png(plot_confusion(cm, ["x", "y"], tmp_path / "cm.png", normalize=True))


def test_confusion_wrong_names_raise(tmp_path):
    with pytest.raises(ValueError, match="2 class names for a 3x3"):
        plot_confusion(np.eye(3, dtype=int), ["a", "b"], tmp_path / "cm.png")


def test_loss_comparison_png(tmp_path):
    histories = {"RNN": make_history(8), "LSTM": make_history(5), "GRU": make_history(8, False)}
    assert_png(plot_loss_comparison(histories, tmp_path / "loss.png"))
    many = {f"arch {i}": make_history(4) for i in range(12)}
    assert_png(plot_loss_comparison(many, tmp_path / "many.png"))
    with pytest.raises(ValueError):
        plot_loss_comparison({}, tmp_path / "none.png")


def test_log_scale_only_for_positive_wide_ranges():
    assert _log_scale_helps([np.array([2.0, 0.5, 0.05])])
    assert not _log_scale_helps([np.array([2.0, 1.0, 0.5])])
    assert not _log_scale_helps([np.array([2.0, -1.0, 0.01])])
    assert not _log_scale_helps([np.array([np.nan])])


def test_gradient_flow_png(tmp_path):
    mean = {"layer0.weight_ih": 1e-2, "layer0.weight_hh": 3e-4, "fc.bias": 0.0}
    assert_png(plot_gradient_flow(mean, tmp_path / "grad.png", max_abs={"layer0.weight_ih": 0.5}))
    with pytest.raises(ValueError):
        plot_gradient_flow({}, tmp_path / "none.png")


def test_no_matplotlib_on_import_and_no_pyplot_when_plotting(tmp_path):
    code = (
        "import sys, rnnkit.reports as r\n"
        "assert 'matplotlib' not in sys.modules, 'imported matplotlib eagerly'\n"
        f"r.plot_curves([{{'epoch': 1, 'train_loss': 1.0, 'train_accuracy': 0.5}}], "
        f"{str(tmp_path / 'c.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'used pyplot'\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
