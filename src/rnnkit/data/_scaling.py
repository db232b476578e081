"""Per-feature scaling, fitted on training data only and saved with the model as JSON."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.data._dataset import DataSplits, SequenceDataset
from rnnkit.data._errors import DataError

KINDS = ("minmax", "standard")


class Scaler:
    """`x' = (x - offset) / scale` per feature.

    `kind="standard"`: offset = mean, scale = standard deviation (zero mean, unit variance).
    `kind="minmax"`: offset = min, scale = max - min (values in [0, 1]).
    Statistics are taken over every frame of the data passed to `fit` (each frame counts once, so
    long sequences weigh more). A constant feature (max == min) gets scale 1 and so maps to 0
    instead of dividing by zero.
    """

    def __init__(self, kind: str = "standard") -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown scaler kind {kind!r}; choose one of {', '.join(KINDS)}")
        self.kind = kind
        self.offset: np.ndarray | None = None  # (F,) float64
        self.scale: np.ndarray | None = None  # (F,) float64

    def fit(self, dataset: SequenceDataset) -> Scaler:
        """Learn offset and scale from `dataset` (the training split only), return `self`."""
        frames = np.concatenate(dataset.sequences, axis=0).astype(np.float64)  # (N_frames, F)
        low, high = frames.min(axis=0), frames.max(axis=0)
        if self.kind == "minmax":
            offset, scale = low, high - low
        else:
            offset, scale = frames.mean(axis=0), frames.std(axis=0)
        self.offset, self.scale = offset, np.where(high == low, 1.0, scale)
        return self

    def transform_array(self, x: np.ndarray) -> np.ndarray:
        """Scale one array `(..., F)`; returns float32."""
        offset, scale = self._fitted()
        x = np.asarray(x)
        if x.shape[-1] != len(offset):
            raise DataError(f"scaler was fitted on {len(offset)} features, data has {x.shape[-1]}")
        return ((x - offset) / scale).astype(np.float32)

    def transform(self, dataset: SequenceDataset) -> SequenceDataset:
        """A new data set with every sequence scaled; labels, names and groups unchanged."""
        frames = self.transform_array(np.concatenate(dataset.sequences, axis=0))
        return dataset.with_sequences(np.split(frames, np.cumsum(dataset.lengths)[:-1]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: `{"kind", "offset", "scale"}` with plain float lists."""
        offset, scale = self._fitted()
        return {"kind": self.kind, "offset": offset.tolist(), "scale": scale.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Scaler:
        """The scaler that `to_dict` described."""
        try:
            scaler = cls(state["kind"])
            offset = np.asarray(state["offset"], dtype=np.float64)
            scale = np.asarray(state["scale"], dtype=np.float64)
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a saved Scaler: {error}") from None
        if offset.shape != scale.shape or offset.ndim != 1 or (scale == 0).any():
            raise ValueError("not a saved Scaler: offset and scale must be equal-length lists, "
                             "scale without zeros")
        scaler.offset, scaler.scale = offset, scale
        return scaler

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.offset is None or self.scale is None:
            raise RuntimeError("Scaler is not fitted; call fit(train) first")
        return self.offset, self.scale

    def __repr__(self) -> str:
        fitted = "unfitted" if self.offset is None else f"{len(self.offset)} features"
        return f"Scaler(kind={self.kind!r}, {fitted})"


def scale_splits(splits: DataSplits, kind: str = "standard") -> tuple[DataSplits, Scaler]:
    """Fit a `Scaler` on `splits.train` alone and apply it to both parts.

    The test split never informs the statistics, so test accuracy is not flattered by leakage.
    """
    scaler = Scaler(kind).fit(splits.train)
    test = None if splits.test is None else scaler.transform(splits.test)
    return DataSplits(scaler.transform(splits.train), test), scaler
