"""Helpers shared by the reports tests: small histories and file checks."""
from __future__ import annotations

import math
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_history(epochs: int = 6, validation: bool = True) -> list[dict]:
    """A plausible history: losses fall, accuracies rise, validation peaks at epoch 4."""
    history = []
    for e in range(1, epochs + 1):
        train_loss = 2.0 * math.exp(-e / 3) + 0.05
        val_accuracy = 0.9 - 0.02 * abs(e - 4) if validation else None
        history.append({
            "epoch": e,
            "train_loss": train_loss,
            "train_accuracy": 1.0 - train_loss / 2.5,
            "val_loss": train_loss + 0.1 if validation else None,
            "val_accuracy": val_accuracy,
            "lr": 1e-3,
            "seconds": 1.5 * e,
        })
    return history


def assert_png(path: Path) -> None:
    """``path`` is a non-empty PNG that matplotlib reads back as an image."""
    from matplotlib.image import imread

    path = Path(path)
    assert path.stat().st_size > 0
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def no_temp_files(folder: Path) -> bool:
    """No leftover temporary files of an atomic write."""
    return not [p for p in Path(folder).iterdir() if p.name.endswith(".tmp")]
