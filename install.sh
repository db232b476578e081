#!/usr/bin/env bash
# Install rnnkit (and, with "test", what its tests need) into the current Python.
# Where no torch is installed, put the CPU build of torch 2.13 in first: a plain "torch>=2.4"
# lets pip choose a newer CUDA build of several GB.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if ! "$PY" -c "import torch" 2>/dev/null; then
    "$PY" -m pip install --quiet "torch==2.13.0"
fi
if [ "${1:-}" = "test" ]; then
    "$PY" -m pip install --quiet -e ".[test]"
else
    "$PY" -m pip install --quiet -e .
fi
# Optional: compile the C++ step loops of the kernels (about 20 s with g++). If that fails, rnnkit
# runs the same kernels with their PyTorch loops, a little slower; nothing else changes.
"$PY" -m rnnkit.kernels build >/dev/null 2>&1 || echo "note: C++ kernel loops not built; using the PyTorch loops"
