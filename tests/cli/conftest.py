import numpy as np
import pytest

from rnnkit import data


@pytest.fixture(scope="session")
def stroke_folder(tmp_path_factory):
    """A user's own data: a folder of class folders in the pen-stroke form, three easy classes."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 30)[:, None]
    shapes = {"arc": np.hstack([np.cos(3 * t), np.sin(3 * t)]), "line": np.hstack([t, t]),
              "zigzag": np.hstack([t, np.abs(np.sin(12 * t))])}  # sorted: folder classes come back sorted
    sequences, labels = [], []
    for label, shape in enumerate(shapes.values()):
        for _ in range(24):
            length = int(rng.integers(20, 31))
            sequences.append((shape[:length] + rng.normal(0, 0.02, (length, 2))).astype(np.float32))
            labels.append(label)
    dataset = data.SequenceDataset(sequences, np.array(labels), list(shapes), name="strokes")
    root = tmp_path_factory.mktemp("strokes", numbered=False)
    data.write_folder(dataset, root, pen_strokes=True)
    return root
