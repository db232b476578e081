"""One call that seeds every random number generator a training run touches."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every CUDA device).

    Same seed, same model initialisation, dropout masks and shuffles (when the caller's batch
    order also comes from the seed), hence the same history on the same machine. GPU kernels
    may still be non-deterministic (cuDNN); this does not switch torch into its slower
    deterministic mode, which would refuse some operations.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy seeding accepts only 32-bit values
    torch.manual_seed(seed)  # also seeds every CUDA device
